"""Red flags for secondary headache, serious spinal pathology and cervical artery dissection.

Sources
- SNNOOP10: Do TP, Remmers A, Schytz HW, et al. Red and orange flags for secondary
  headaches in clinical practice: SNNOOP10 list. Neurology 2019;92(3):134–144.
- Thunderclap = maximum intensity in under 1 minute: ICHD-3 (2018) 4.4
  (https://ichd-3.org/other-primary-headache-disorders/4-4-primary-thunderclap-headache/).
- Age at onset: the published SNNOOP10 abstract says after 65; earlier versions and
  SNOOP4 use 50, the age from which giant cell arteritis occurs. painlink defaults to
  50 (more sensitive); ``ScreeningSettings.older_onset_age`` changes it.
- Spinal red flags (cauda equina, fracture, malignancy, infection): Finucane LM et al.,
  International framework for red flags for potential serious spinal pathologies,
  JOSPT 2020;50(7):350–372.
- Cervical artery dissection after neck manipulation or trauma ("5 Ds and 3 Ns":
  dizziness, diplopia, dysarthria, dysphagia, drop attacks, ataxia, nystagmus, nausea,
  numbness): Rushton A et al., International framework for examination of the cervical
  region for potential of vascular pathologies … prior to OMT intervention,
  JOSPT 2023;53(1):7–22.
- Urgency levels are painlink's triage proposal (clinical-standards.md §3, marked as
  needing clinical sign-off): each flag states its level and the level is data, not code.

Each rule names the presentation fields it reads; the screen reports a rule whose
fields were not answered as "not asked", never as "absent".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Urgency(IntEnum):
    none = 0
    soon = 1  # see a doctor within days
    urgent = 2  # see a doctor today
    emergency = 3  # call emergency services now


NOT_SCREENED = "Not screened: none of the warning-sign questions was answered."

ADVICE: dict[Urgency, str] = {
    Urgency.emergency: (
        "Call emergency services now (112 in Europe, 911 in North America, 999 in the UK). "
        "Do not wait for this diary to be analysed."
    ),
    Urgency.urgent: "See a doctor today. If you cannot, go to an emergency department.",
    Urgency.soon: (
        "Book an appointment with your doctor within the next few days and show them this."
    ),
    Urgency.none: "No warning sign was reported. This does not rule out every cause: "
    "if something feels different or worse, see a doctor.",
}


@dataclass(frozen=True)
class ScreeningSettings:
    """Thresholds that sources disagree on; defaults documented in docs/clinical.md."""

    older_onset_age: int = 50  # SNNOOP10 O: new headache after this age (65 in the 2019 abstract)
    thunderclap_minutes: float = 1.0  # ICHD-3 4.4: maximum intensity in under 1 minute
    recent_onset_months: int = 6  # "recent onset" of a new headache, for the P flag


Presentation = dict[str, Any]
Test = Callable[[Presentation, ScreeningSettings], bool | None]


@dataclass(frozen=True)
class RedFlag:
    code: str
    name: str
    urgency: Urgency
    points_to: tuple[str, ...]
    message: str
    fields: tuple[str, ...]
    test: Test
    source: str


def _yes(p: Presentation, *names: str) -> bool | None:
    """True if any field is true; None if none is true and some were not answered."""
    values = [p.get(n) for n in names]
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _all(*parts: bool | None) -> bool | None:
    if any(p is False for p in parts):
        return False
    return None if any(p is None for p in parts) else True


def _thunderclap(p: Presentation, s: ScreeningSettings) -> bool | None:
    if p.get("thunderclap") is True:
        return True
    minutes = p.get("onset_to_peak_min")
    if minutes is not None:
        return minutes < s.thunderclap_minutes
    return p.get("thunderclap")


def _older_onset(p: Presentation, s: ScreeningSettings) -> bool | None:
    onset = p.get("headache_onset_age")
    if onset is None:
        new = p.get("new_headache")
        age = p.get("age")
        if new is None or age is None:
            return None
        return bool(new and age >= s.older_onset_age)
    return onset >= s.older_onset_age


def _gca(p: Presentation, s: ScreeningSettings) -> bool | None:
    return _all(
        _older_onset(p, s), _yes(p, "jaw_claudication", "scalp_tenderness", "visual_disturbance")
    )


def _dissection(p: Presentation, _s: ScreeningSettings) -> bool | None:
    return _all(
        _yes(p, "recent_neck_manipulation", "neck_trauma"),
        _yes(p, "new_neck_pain", "new_headache"),
        _yes(
            p,
            "dizziness",
            "diplopia",
            "dysarthria",
            "dysphagia",
            "ataxia",
            "drop_attack",
            "nystagmus",
            "facial_numbness",
        ),
    )


_SNNOOP = "Do et al., Neurology 2019;92:134–144 (SNNOOP10)"
_SPINE = "Finucane et al., JOSPT 2020;50:350–372"
_CAD = "Rushton et al., JOSPT 2023;53:7–22"

RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "thunderclap",
        "Sudden (thunderclap) onset: worst pain within a minute",
        Urgency.emergency,
        (
            "subarachnoid haemorrhage",
            "other bleeding or vascular causes (RCVS, dissection, venous thrombosis)",
        ),
        "A headache that reaches full strength within a minute needs emergency care.",
        ("thunderclap", "onset_to_peak_min"),
        _thunderclap,
        f"{_SNNOOP}, O; ICHD-3 4.4",
    ),
    RedFlag(
        "fever_meningism",
        "Fever with neck stiffness, rash or confusion",
        Urgency.emergency,
        ("meningitis", "encephalitis"),
        "Headache with fever and a stiff neck, rash or confusion needs emergency care.",
        ("fever", "neck_stiffness", "rash", "confusion"),
        lambda p, s: _all(_yes(p, "fever"), _yes(p, "neck_stiffness", "rash", "confusion")),
        f"{_SNNOOP}, S",
    ),
    RedFlag(
        "neuro_deficit",
        "New weakness, numbness, speech or vision loss, or reduced consciousness",
        Urgency.emergency,
        ("stroke", "haemorrhage", "brain abscess", "tumour"),
        "New neurological symptoms with headache need emergency care.",
        ("neuro_deficit", "decreased_consciousness", "seizure"),
        lambda p, s: _yes(p, "neuro_deficit", "decreased_consciousness", "seizure"),
        f"{_SNNOOP}, N",
    ),
    RedFlag(
        "head_injury",
        "Headache after a head injury",
        Urgency.emergency,
        ("subdural or other intracranial bleeding",),
        "Headache after a head injury — above all on blood thinners — needs emergency care.",
        ("after_head_trauma",),
        lambda p, s: _yes(p, "after_head_trauma"),
        f"{_SNNOOP}, P (post-traumatic)",
    ),
    RedFlag(
        "painful_red_eye",
        "Painful red eye, or eye pain with watering/drooping and vision change",
        Urgency.emergency,
        ("acute angle-closure glaucoma", "cavernous sinus or pituitary disease"),
        "A painful red eye with blurred vision or halos needs emergency care.",
        ("painful_eye_autonomic",),
        lambda p, s: _yes(p, "painful_eye_autonomic"),
        f"{_SNNOOP}, P (painful eye with autonomic features)",
    ),
    RedFlag(
        "cervical_artery_dissection",
        "After neck manipulation or neck injury: new neck pain or headache with dizziness, "
        "double vision, speech or swallowing trouble, unsteadiness or numbness",
        Urgency.emergency,
        ("cervical artery dissection", "stroke"),
        "These symptoms after neck treatment or injury need emergency care. "
        "Do not have further neck manipulation.",
        (
            "recent_neck_manipulation",
            "neck_trauma",
            "new_neck_pain",
            "new_headache",
            "dizziness",
            "diplopia",
            "dysarthria",
            "dysphagia",
            "ataxia",
            "drop_attack",
            "nystagmus",
            "facial_numbness",
        ),
        _dissection,
        _CAD,
    ),
    RedFlag(
        "cauda_equina",
        "Back pain with numbness in the saddle area, bladder or bowel change, "
        "or weakness in both legs",
        Urgency.emergency,
        ("cauda equina syndrome",),
        "Numbness around the genitals or bottom, new bladder or bowel trouble, or weak legs "
        "with back pain need emergency care.",
        ("saddle_anaesthesia", "bladder_bowel_dysfunction", "bilateral_leg_weakness"),
        lambda p, s: _yes(
            p, "saddle_anaesthesia", "bladder_bowel_dysfunction", "bilateral_leg_weakness"
        ),
        _SPINE,
    ),
    RedFlag(
        "pregnancy",
        "Headache in pregnancy or in the weeks after giving birth",
        Urgency.urgent,
        ("pre-eclampsia", "cerebral venous thrombosis", "pituitary apoplexy"),
        "A new or different headache in pregnancy or after birth needs a doctor today "
        "(emergency care if severe, with high blood pressure or vision change).",
        ("pregnant_or_postpartum",),
        lambda p, s: _yes(p, "pregnant_or_postpartum"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "older_onset_gca",
        "New headache at an older age with jaw pain on chewing, scalp tenderness or vision change",
        Urgency.urgent,
        ("giant cell arteritis",),
        "This combination needs a doctor today to protect your sight.",
        (
            "headache_onset_age",
            "new_headache",
            "age",
            "jaw_claudication",
            "scalp_tenderness",
            "visual_disturbance",
        ),
        _gca,
        f"{_SNNOOP}, O",
    ),
    RedFlag(
        "papilloedema",
        "Swelling of the optic disc, or brief greying-out of vision",
        Urgency.urgent,
        (
            "raised intracranial pressure",
            "tumour",
            "idiopathic intracranial hypertension",
            "venous thrombosis",
        ),
        "Signs of raised pressure in the head need a doctor today.",
        ("papilloedema", "transient_visual_obscurations"),
        lambda p, s: _yes(p, "papilloedema", "transient_visual_obscurations"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "cancer_or_immunosuppression",
        "New headache with a history of cancer, HIV or immunosuppression",
        Urgency.urgent,
        ("metastasis", "opportunistic infection", "lymphoma"),
        "A new headache with this history needs a doctor today.",
        ("new_headache", "pattern_change", "history_cancer", "history_immunosuppression"),
        lambda p, s: _all(
            _yes(p, "new_headache", "pattern_change"),
            _yes(p, "history_cancer", "history_immunosuppression"),
        ),
        f"{_SNNOOP}, N and P (immune system)",
    ),
    RedFlag(
        "valsalva",
        "Headache brought on by coughing, sneezing, straining or exercise",
        Urgency.urgent,
        ("posterior fossa lesion", "Chiari malformation", "bleeding or dissection with exertion"),
        "Headache set off by coughing, straining or exertion needs a doctor today the first time.",
        ("precipitated_by_valsalva",),
        lambda p, s: _yes(p, "precipitated_by_valsalva"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "positional",
        "Headache that changes with lying down or standing up",
        Urgency.urgent,
        ("raised or low pressure in the head (CSF leak)",),
        "A new headache that depends on posture needs a doctor today.",
        ("positional",),
        lambda p, s: _yes(p, "positional"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "systemic",
        "Fever, weight loss or night sweats with the headache",
        Urgency.urgent,
        ("infection", "systemic disease"),
        "Headache with fever or unexplained weight loss needs a doctor today.",
        ("fever", "weight_loss", "night_sweats"),
        lambda p, s: _yes(p, "fever", "weight_loss", "night_sweats"),
        f"{_SNNOOP}, S",
    ),
    RedFlag(
        "spine_fracture",
        "Back or neck pain after significant trauma, or minor trauma with "
        "osteoporosis or long-term steroids",
        Urgency.urgent,
        ("vertebral fracture",),
        "Spinal pain after a fall or injury needs a doctor today.",
        ("spinal_trauma",),
        lambda p, s: _yes(p, "spinal_trauma"),
        _SPINE,
    ),
    RedFlag(
        "spine_malignancy",
        "Spinal pain with a history of cancer, unexplained weight loss "
        "or pain at night that does not ease",
        Urgency.urgent,
        ("spinal metastasis",),
        "Spinal pain with this history needs a doctor soon — today if it is getting worse.",
        ("spinal_pain", "history_cancer", "weight_loss", "night_pain"),
        lambda p, s: _all(
            _yes(p, "spinal_pain"), _yes(p, "history_cancer", "weight_loss", "night_pain")
        ),
        _SPINE,
    ),
    RedFlag(
        "spine_infection",
        "Spinal pain with fever, injected drug use or immunosuppression",
        Urgency.urgent,
        ("spinal infection (discitis, epidural abscess)",),
        "Spinal pain with fever or this history needs a doctor today.",
        ("spinal_pain", "fever", "iv_drug_use", "history_immunosuppression"),
        lambda p, s: _all(
            _yes(p, "spinal_pain"), _yes(p, "fever", "iv_drug_use", "history_immunosuppression")
        ),
        _SPINE,
    ),
    RedFlag(
        "older_onset",
        "New headache starting at an older age",
        Urgency.soon,
        ("giant cell arteritis", "tumour", "vascular disease"),
        "A headache that first started at this age should be checked by a doctor.",
        ("headache_onset_age", "new_headache", "age"),
        _older_onset,
        f"{_SNNOOP}, O",
    ),
    RedFlag(
        "pattern_change",
        "Recent onset of a new headache, or a change in the usual pattern",
        Urgency.soon,
        ("tumour", "other intracranial disorders"),
        "A new or changed headache pattern should be checked by a doctor.",
        ("new_headache", "pattern_change"),
        lambda p, s: _yes(p, "new_headache", "pattern_change"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "progressive",
        "Headache getting steadily worse, or unlike any before",
        Urgency.soon,
        ("tumour", "medication overuse"),
        "A steadily worsening or unusual headache should be checked by a doctor.",
        ("progressive", "atypical"),
        lambda p, s: _yes(p, "progressive", "atypical"),
        f"{_SNNOOP}, P",
    ),
    RedFlag(
        "painkiller_overuse",
        "Painkillers on many days, or a new drug when the headache began",
        Urgency.soon,
        ("medication-overuse headache", "side effect of a drug"),
        "Frequent painkillers can themselves cause headache; talk to your doctor.",
        ("painkiller_overuse", "new_drug_at_onset"),
        lambda p, s: _yes(p, "painkiller_overuse", "new_drug_at_onset"),
        f"{_SNNOOP}, P",
    ),
)

RULES_VERSION = "painlink-redflags-2026.1"
