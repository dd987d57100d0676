"""Red flags for secondary headache, serious spinal pathology and cervical artery dissection.

Every rule carries its level, its wording, the source and the sentence of the source it
rests on (``quote``); ``docs/clinical.md`` lists them from this data (a test keeps the
two equal). Thresholds are the named constants below, each with its source.

Sources
- SNNOOP10: Do TP, Remmers A, Schytz HW, et al. Red and orange flags for secondary
  headaches in clinical practice: SNNOOP10 list. Neurology 2019;92(3):134–144.
- Thunderclap = maximum intensity in under 1 minute: ICHD-3 (2018) 4.4
  (https://ichd-3.org/other-primary-headache-disorders/4-4-primary-thunderclap-headache/).
- NICE CG150, Headaches in over 12s: diagnosis and management (2012, updated 2021),
  recommendations 1.1.1 and 1.1.2.
- ACOG Practice Bulletin No. 222, Gestational hypertension and preeclampsia (2020),
  Box 2 (diagnostic criteria) and Box 3 (severe features); NICE NG133, Hypertension in
  pregnancy (2019, updated 2023).
- NICE NG232, Head injury: assessment and early management (2023) and its quality
  standard QS74 statement 2 (CT within 8 hours on anticoagulants).
- ICHD-3 1.2.1 (typical aura: each symptom 5–60 min, no motor symptoms, TIA excluded),
  7.2 (low CSF pressure) and 10.3 (arterial hypertension ≥180/120 mmHg).
- Age at onset: the published SNNOOP10 abstract says after 65; earlier versions and
  SNOOP4 use 50, the age from which giant cell arteritis occurs. painlink defaults to
  50 (more sensitive); ``ScreeningSettings.older_onset_age`` changes it.
- Spinal red flags (cauda equina, fracture, malignancy, infection): Finucane LM et al.,
  International framework for red flags for potential serious spinal pathologies,
  JOSPT 2020;50(7):350–372.
- Cervical artery dissection after neck manipulation or trauma ("5 Ds and 3 Ns"):
  Rushton A et al., JOSPT 2023;53(1):7–22.
- Urgency levels are painlink's triage proposal (clinical-standards.md §3, marked as
  needing clinical sign-off): each flag states its level and the level is data, not code.

Each rule names the presentation fields it reads; the screen reports a rule whose
fields were not answered as "not asked", never as "absent". Where a missing detail
decides between emergency and a lower level (how long a deficit lasted), the rule
takes the more urgent reading and says so in its wording.
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


NOT_SCREENED = (
    "Not screened: the answers given are too few to check any warning sign. "
    "This is not an all-clear."
)

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

# --- thresholds, each with its source -------------------------------------------------
#: ACOG PB 222 Box 3 / NICE NG133 "severe hypertension": 160/110 mmHg or more.
SEVERE_SYSTOLIC_MMHG = 160
SEVERE_DIASTOLIC_MMHG = 110
#: ACOG PB 222 Box 2 / NICE NG133: hypertension in pregnancy is 140/90 mmHg or more.
HYPERTENSION_SYSTOLIC_MMHG = 140
HYPERTENSION_DIASTOLIC_MMHG = 90
#: ICHD-3 10.3: headache attributed to arterial hypertension needs ≥180 and/or ≥120 mmHg.
CRISIS_SYSTOLIC_MMHG = 180
CRISIS_DIASTOLIC_MMHG = 120
#: The puerperium: the 6 weeks after birth (SNNOOP10 "pregnancy or puerperium").
PUERPERIUM_WEEKS = 6.0
#: ICHD-3 1.2.1 C: each typical aura symptom lasts 5–60 minutes; longer is not typical.
AURA_MAX_MINUTES = 60.0
#: NICE CG150 1.1.1: "sudden-onset headache reaching maximum intensity within 5 minutes".
ABRUPT_ONSET_MINUTES = 5.0

#: Physical bounds of a measured blood pressure (mmHg): below them a reading is an error,
#: not a patient (the Presentation model refuses it).
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (20, 200)


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
    quote: str = ""  # the sentence of the source the rule rests on


# --- three-valued logic: True, False, or None (not asked) -------------------------------


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


def _any(*parts: bool | None) -> bool | None:
    if any(p is True for p in parts):
        return True
    return None if any(p is None for p in parts) else False


def _not(part: bool | None) -> bool | None:
    return None if part is None else not part


def _at_least(p: Presentation, name: str, limit: float) -> bool | None:
    value = p.get(name)
    return None if value is None else value >= limit


def _legacy_sign(p: Presentation, name: str) -> bool | None:
    """Fever, neck stiffness, rash or confusion; an old combined "no" is "no" to each.

    Before they were asked apart, the attack-time check stored one answer to "fever,
    stiff neck, rash or confusion?" (kept as ``fever_or_meningism``): its "no" denies
    all four, its "yes" says only that one of them was present.
    """
    value = p.get(name)
    if value is None and p.get("fever_or_meningism") is False:
        return False
    return value


def _signs(p: Presentation, *names: str) -> bool | None:
    return _any(*(_legacy_sign(p, n) for n in names))


def _thunderclap(p: Presentation, s: ScreeningSettings) -> bool | None:
    if p.get("thunderclap") is True:
        return True
    minutes = p.get("onset_to_peak_min")
    if minutes is not None:
        return minutes < s.thunderclap_minutes
    return p.get("thunderclap")


def _abrupt(p: Presentation, s: ScreeningSettings) -> bool | None:
    """Peak reached in 1 to 5 minutes: abrupt, though not thunderclap (NICE CG150)."""
    minutes = p.get("onset_to_peak_min")
    if minutes is None:
        return None
    return s.thunderclap_minutes <= minutes <= ABRUPT_ONSET_MINUTES


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


def _pregnant(p: Presentation) -> bool | None:
    """Pregnant, or within the puerperium (≤ 6 weeks after birth, 6.0 included)."""
    weeks = p.get("weeks_since_birth")
    if weeks is None:
        return p.get("pregnant_or_postpartum")
    return _any(p.get("pregnant_or_postpartum"), weeks <= PUERPERIUM_WEEKS)


def _bp_severe(p: Presentation) -> bool | None:
    return _any(
        _at_least(p, "systolic_bp", SEVERE_SYSTOLIC_MMHG),
        _at_least(p, "diastolic_bp", SEVERE_DIASTOLIC_MMHG),
    )


def _bp_new_high(p: Presentation) -> bool | None:
    """≥140/90 in someone not known to have had high blood pressure before pregnancy.

    "New" is read conservatively: unless high blood pressure before pregnancy is
    answered yes, a reading of 140/90 or more counts as new.
    """
    high = _any(
        _at_least(p, "systolic_bp", HYPERTENSION_SYSTOLIC_MMHG),
        _at_least(p, "diastolic_bp", HYPERTENSION_DIASTOLIC_MMHG),
    )
    if high is not True:
        return high
    return p.get("hypertension_before_pregnancy") is not True


def _pre_eclampsia(p: Presentation, _s: ScreeningSettings) -> bool | None:
    return _all(
        _pregnant(p),
        _any(
            _bp_severe(p),
            _bp_new_high(p),
            _yes(p, "visual_disturbance", "ruq_epigastric_pain", "seizure", "worst_ever"),
            _legacy_sign(p, "confusion"),
        ),
    )


def _crisis(p: Presentation, _s: ScreeningSettings) -> bool | None:
    return _any(
        _at_least(p, "systolic_bp", CRISIS_SYSTOLIC_MMHG),
        _at_least(p, "diastolic_bp", CRISIS_DIASTOLIC_MMHG),
    )


def _aura_like(p: Presentation) -> bool | None:
    """A deficit that is gone, lasted ≤ 60 min and had no weakness: what aura can be."""
    minutes = p.get("deficit_minutes")
    short = None if minutes is None else minutes <= AURA_MAX_MINUTES
    return _all(_not(p.get("deficit_still_present")), short, _not(p.get("motor_weakness")))


def _deficit_emergency(p: Presentation, _s: ScreeningSettings) -> bool | None:
    """A deficit still present, longer than 60 min, with weakness, or of unknown course;
    or reduced consciousness, confusion or a seizure."""
    deficit = p.get("neuro_deficit")
    if deficit is True or p.get("motor_weakness") is True:
        course = _aura_like(p)
        dangerous: bool | None = True if course is None else not course
    else:
        dangerous = deficit
    return _any(
        dangerous,
        _yes(p, "motor_weakness", "decreased_consciousness", "seizure"),
        _legacy_sign(p, "confusion"),
    )


def _transient_deficit(p: Presentation, _s: ScreeningSettings) -> bool | None:
    """An aura-like deficit, unless it is the person's usual pattern: TIA is excluded
    once (ICHD-3 1.2.1 D), so only a first, new or changed one needs a doctor. Without
    an answer about a new or changed pattern it is taken as possibly the first."""
    usual = _all(_not(p.get("new_headache")), _not(p.get("pattern_change")))
    return _all(p.get("neuro_deficit"), _aura_like(p), usual is not True)


def _new_or_changed(p: Presentation) -> bool | None:
    return _yes(p, "new_headache", "pattern_change")


def _spine_fracture(p: Presentation, _s: ScreeningSettings) -> bool | None:
    return _any(
        p.get("spinal_trauma"),
        _all(p.get("minor_spinal_trauma"), _yes(p, "osteoporosis", "long_term_steroids")),
    )


_SNNOOP = "Do et al., Neurology 2019;92:134–144 (SNNOOP10)"
_SPINE = "Finucane et al., JOSPT 2020;50:350–372"
_CAD = "Rushton et al., JOSPT 2023;53:7–22"
_CG150 = "NICE CG150 (headaches in over 12s)"
_ACOG = "ACOG Practice Bulletin 222 (2020)"
_NG133 = "NICE NG133 (hypertension in pregnancy)"
_NG232 = "NICE NG232 (head injury, 2023) and QS74 statement 2"
_CANCER_2005 = "NICE referral guidelines for suspected cancer (2005), brain and CNS"

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
        "SNNOOP10: '(4) sudden or abrupt onset'. ICHD-3 4.4 B: 'Abrupt onset, reaching "
        "maximum intensity in <1 minute'.",
    ),
    RedFlag(
        "fever_meningism",
        "Fever with neck stiffness, rash or confusion",
        Urgency.emergency,
        ("meningitis", "encephalitis"),
        "Headache with fever and a stiff neck, rash or confusion needs emergency care.",
        ("fever", "neck_stiffness", "rash", "confusion", "fever_or_meningism"),
        lambda p, s: _all(_signs(p, "fever"), _signs(p, "neck_stiffness", "rash", "confusion")),
        f"{_SNNOOP}, S; {_CG150} 1.1.1",
        "SNNOOP10: '(1) systemic symptoms including fever'. NICE CG150 1.1.1: 'worsening "
        "headache with fever'.",
    ),
    RedFlag(
        "neuro_deficit",
        "Weakness, or numbness, speech or vision loss still present or lasting over an hour; "
        "confusion, reduced consciousness or a seizure",
        Urgency.emergency,
        ("stroke", "transient ischaemic attack", "haemorrhage", "encephalitis", "tumour"),
        "New weakness, or numbness, speech or vision trouble that has not gone or lasted more "
        "than an hour, confusion or a fit need emergency care. If you are not sure how long "
        "it lasted, treat it as an emergency.",
        (
            "neuro_deficit",
            "deficit_still_present",
            "deficit_minutes",
            "motor_weakness",
            "decreased_consciousness",
            "seizure",
            "confusion",
            "fever_or_meningism",
        ),
        _deficit_emergency,
        f"{_SNNOOP}, N; ICHD-3 1.2.1; {_CG150} 1.1.1",
        "SNNOOP10: '(3) neurologic deficit (including decreased consciousness)'. ICHD-3 "
        "1.2.1: aura has 'no motor, brainstem or retinal symptoms', 'each individual aura "
        "symptom lasts 5-60 min', and D: 'transient ischaemic attack has been excluded'. "
        "NICE CG150 1.1.1: 'new-onset cognitive dysfunction', 'impaired level of "
        "consciousness'.",
    ),
    RedFlag(
        "head_injury",
        "Headache after a head injury",
        Urgency.emergency,
        ("subdural or other intracranial bleeding",),
        "Headache after a head injury — above all on blood thinners — needs emergency care.",
        ("after_head_trauma",),
        lambda p, s: _yes(p, "after_head_trauma"),
        f"{_SNNOOP}, P (post-traumatic); {_CG150} 1.1.1",
        "SNNOOP10: '(13) posttraumatic onset of headache'. NICE CG150 1.1.1: 'recent "
        "(typically within the past 3 months) head trauma'.",
    ),
    RedFlag(
        "head_injury_anticoagulated",
        "Head injury while taking blood thinners (anticoagulants or antiplatelets)",
        Urgency.emergency,
        ("intracranial bleeding",),
        "A head injury on blood thinners needs a brain scan within hours, even if you feel "
        "well: call emergency services.",
        ("after_head_trauma", "anticoagulants"),
        lambda p, s: _all(_yes(p, "after_head_trauma"), _yes(p, "anticoagulants")),
        _NG232,
        "QS74 statement 2: 'People attending an emergency department with a head injury "
        "have a CT head scan within 8 hours of the injury if they are taking anticoagulants "
        "but have no other risk factors for brain injury.' Rationale: 'Some people who have "
        "no other risk factors for brain injury have an increased risk of bleeding after a "
        "head injury because they are taking anticoagulants.'",
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
        "SNNOOP10: '(12) painful eye with autonomic features'. NICE CG150 1.1.1: 'symptoms "
        "and signs of acute narrow-angle glaucoma'.",
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
        "Rushton 2023: the '5 Ds and 3 Ns' (dizziness, diplopia, dysarthria, dysphagia, drop "
        "attacks; ataxia, nystagmus, nausea, numbness) after trauma or manipulation point to "
        "cervical arterial dysfunction [paraphrase: source text not retrieved verbatim].",
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
        "Finucane 2020: saddle anaesthesia, bladder or bowel disturbance and bilateral leg "
        "neurological symptoms are the signs of cauda equina syndrome, an emergency "
        "[paraphrase: source text not retrieved verbatim].",
    ),
    RedFlag(
        "pre_eclampsia",
        "In pregnancy or up to 6 weeks after birth: blood pressure 160/110 or more, new "
        "140/90 or more, vision change, pain below the right ribs, a fit, confusion or the "
        "worst headache ever",
        Urgency.emergency,
        ("pre-eclampsia with severe features", "eclampsia", "cerebral venous thrombosis"),
        "Headache in pregnancy or after birth with high blood pressure, vision change, pain "
        "below the ribs, a fit or confusion needs emergency care now.",
        (
            "pregnant_or_postpartum",
            "weeks_since_birth",
            "systolic_bp",
            "diastolic_bp",
            "hypertension_before_pregnancy",
            "visual_disturbance",
            "ruq_epigastric_pain",
            "seizure",
            "confusion",
            "worst_ever",
            "fever_or_meningism",
        ),
        _pre_eclampsia,
        f"{_ACOG} Boxes 2–3; {_NG133}; {_SNNOOP}, P",
        "ACOG PB 222 Box 3 (severe features): 'Systolic blood pressure of 160 mm Hg or "
        "more, or diastolic blood pressure of 110 mm Hg or more'; 'New-onset headache "
        "unresponsive to medication'; 'Visual disturbances'; 'severe persistent right upper "
        "quadrant or epigastric pain'. Box 2: 'Systolic blood pressure of 140 mm Hg or more "
        "or diastolic blood pressure of 90 mm Hg or more ... in a woman with a previously "
        "normal blood pressure'. NICE NG133: severe hypertension is 'blood pressure of "
        "160/110 mmHg or more'.",
    ),
    RedFlag(
        "pregnancy",
        "Headache in pregnancy or in the 6 weeks after giving birth",
        Urgency.urgent,
        ("pre-eclampsia", "cerebral venous thrombosis", "pituitary apoplexy"),
        "A headache in pregnancy or after birth needs a doctor or midwife today; measure "
        "your blood pressure if you can.",
        ("pregnant_or_postpartum", "weeks_since_birth"),
        lambda p, s: _pregnant(p),
        f"{_SNNOOP}, P; {_NG133}",
        "SNNOOP10: '(11) pregnancy or puerperium'. NICE NG133 advises pregnant women to "
        "seek immediate advice for 'severe headache' [paraphrase].",
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
        f"{_SNNOOP}, O; {_CG150} 1.1.1",
        "SNNOOP10: '(5) older age (onset after 65 years)' (after 50 in an earlier version). "
        "NICE CG150 1.1.1: 'symptoms suggestive of giant cell arteritis'.",
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
        "SNNOOP10: '(9) papilledema'.",
    ),
    RedFlag(
        "cancer_or_immunosuppression",
        "New, changed or worsening headache with a history of cancer, HIV or immunosuppression",
        Urgency.urgent,
        ("metastasis", "opportunistic infection", "lymphoma"),
        "A new or worsening headache with this history needs a doctor today.",
        (
            "new_headache",
            "pattern_change",
            "progressive",
            "history_cancer",
            "history_immunosuppression",
        ),
        lambda p, s: _all(
            _yes(p, "new_headache", "pattern_change", "progressive"),
            _yes(p, "history_cancer", "history_immunosuppression"),
        ),
        f"{_SNNOOP}, N and P (immune system); {_CG150} 1.1.2; {_CANCER_2005}",
        "SNNOOP10: '(2) neoplasm history', '(10) progressive headache', '(14) pathology of "
        "the immune system such as HIV'. NICE CG150 1.1.2: 'new-onset headache and ... "
        "compromised immunity, caused, for example, by HIV or immunosuppressive drugs'. "
        "NICE 2005: 'Refer urgently patients previously diagnosed with any cancer who "
        "develop ... persistent headaches'.",
    ),
    RedFlag(
        "anticoagulated_new_headache",
        "New or changed headache while taking blood thinners",
        Urgency.urgent,
        ("intracranial bleeding (subdural, intracerebral)",),
        "A new or different headache on blood thinners needs a doctor today.",
        ("new_headache", "pattern_change", "worst_ever", "anticoagulants"),
        lambda p, s: _all(
            _yes(p, "new_headache", "pattern_change", "worst_ever"), _yes(p, "anticoagulants")
        ),
        _NG232,
        "QS74 statement 2 rationale: people taking anticoagulants 'have an increased risk of "
        "bleeding'; painlink applies that raised risk to a new headache without injury "
        "(painlink proposal, needs clinical sign-off).",
    ),
    RedFlag(
        "abrupt_onset",
        "Headache reaching its worst within 1 to 5 minutes",
        Urgency.urgent,
        ("subarachnoid haemorrhage", "other vascular causes"),
        "A headache that became severe within a few minutes needs a doctor today; if it is "
        "the worst ever, call emergency services.",
        ("onset_to_peak_min",),
        _abrupt,
        f"{_CG150} 1.1.1; {_SNNOOP}, O",
        "NICE CG150 1.1.1: 'sudden-onset headache reaching maximum intensity within 5 minutes'.",
    ),
    RedFlag(
        "worst_ever",
        "The worst headache of your life",
        Urgency.urgent,
        ("subarachnoid haemorrhage", "other secondary headache"),
        "The worst headache of your life needs a doctor today; if it came on suddenly, call "
        "emergency services.",
        ("worst_ever",),
        lambda p, s: _yes(p, "worst_ever"),
        f"{_SNNOOP}, P (atypical presentations); {_ACOG} Box 3",
        "SNNOOP10: '(10) progressive headache and atypical presentations'. ACOG PB 222 "
        "names a severe headache ('the worst headache I've ever had') among the cerebral "
        "features [paraphrase of the severe-features text].",
    ),
    RedFlag(
        "transient_deficit",
        "Numbness, speech or vision trouble that lasted an hour or less and has gone, "
        "not known to be the usual pattern",
        Urgency.urgent,
        ("migraine aura", "transient ischaemic attack"),
        "Symptoms like these that have gone still need a doctor today the first time, to tell "
        "migraine aura from a mini-stroke.",
        (
            "neuro_deficit",
            "deficit_still_present",
            "deficit_minutes",
            "motor_weakness",
            "new_headache",
            "pattern_change",
        ),
        _transient_deficit,
        "ICHD-3 1.2.1 C–D",
        "ICHD-3 1.2.1 C: 'each individual aura symptom lasts 5-60 min'; D: 'transient "
        "ischaemic attack has been excluded'.",
    ),
    RedFlag(
        "severe_hypertension",
        "Blood pressure 180/120 or more with the headache",
        Urgency.urgent,
        ("hypertensive crisis", "hypertensive encephalopathy"),
        "A blood pressure this high with a headache needs a doctor today; call emergency "
        "services if you are confused, have chest pain or vision loss.",
        ("systolic_bp", "diastolic_bp"),
        _crisis,
        "ICHD-3 10.3",
        "ICHD-3 10.3 (headache attributed to arterial hypertension): hypertension 'with "
        "systolic pressure ≥180 mmHg and/or diastolic pressure ≥120 mmHg'.",
    ),
    RedFlag(
        "valsalva",
        "Headache brought on by coughing, sneezing, straining or exercise",
        Urgency.urgent,
        ("posterior fossa lesion", "Chiari malformation", "bleeding or dissection with exertion"),
        "Headache set off by coughing, straining or exertion needs a doctor today the first time.",
        ("precipitated_by_valsalva",),
        lambda p, s: _yes(p, "precipitated_by_valsalva"),
        f"{_SNNOOP}, P; {_CG150} 1.1.1",
        "SNNOOP10: '(8) precipitated by sneezing, coughing, or exercise'. NICE CG150 1.1.1: "
        "'headache triggered by cough, valsalva ... or sneeze', 'headache triggered by "
        "exercise'.",
    ),
    RedFlag(
        "positional",
        "Headache that changes with lying down or standing up",
        Urgency.urgent,
        ("raised or low pressure in the head (CSF leak)",),
        "A new headache that depends on posture needs a doctor today.",
        ("positional",),
        lambda p, s: _yes(p, "positional"),
        f"{_SNNOOP}, P; {_CG150} 1.1.1",
        "SNNOOP10: '(7) positional headache'. NICE CG150 1.1.1: 'orthostatic headache "
        "(headache that changes with posture)'.",
    ),
    RedFlag(
        "low_csf_pressure",
        "Headache worse when upright, better lying down",
        Urgency.urgent,
        ("low pressure in the head (spinal CSF leak)",),
        "A headache that comes on when you sit or stand up and eases lying down needs a "
        "doctor today.",
        ("worse_upright",),
        lambda p, s: _yes(p, "worse_upright"),
        f"{_SNNOOP}, P; ICHD-3 7.2",
        "SNNOOP10: '(7) positional headache'. ICHD-3 7.2 (low CSF pressure): the headache "
        "is 'usually but not invariably orthostatic' [paraphrase].",
    ),
    RedFlag(
        "raised_pressure",
        "Headache worse lying down or straining, or waking you with vomiting",
        Urgency.urgent,
        ("raised pressure in the head", "tumour", "idiopathic intracranial hypertension"),
        "A headache worse lying down or on straining, or one that wakes you and makes you "
        "sick, needs a doctor today.",
        ("worse_lying_or_straining", "wakes_from_sleep", "vomiting"),
        lambda p, s: _any(
            _yes(p, "worse_lying_or_straining"),
            _all(
                _yes(
                    p,
                    "wakes_from_sleep",
                ),
                _yes(p, "vomiting"),
            ),
        ),
        f"{_SNNOOP}, P; {_CANCER_2005}",
        "SNNOOP10: '(7) positional headache'. NICE 2005: 'headaches of recent onset "
        "accompanied by features suggestive of raised intracranial pressure, for example: "
        "vomiting, drowsiness, posture-related headache'.",
    ),
    RedFlag(
        "new_headache_vomiting",
        "New or changed headache with vomiting",
        Urgency.urgent,
        ("raised pressure in the head", "intracranial lesion"),
        "A new headache with vomiting needs a doctor today.",
        ("new_headache", "pattern_change", "vomiting"),
        lambda p, s: _all(_new_or_changed(p), _yes(p, "vomiting")),
        f"{_CG150} 1.1.2; {_CANCER_2005}",
        "NICE CG150 1.1.2: 'Consider further investigations and/or referral for people who "
        "present with new-onset headache and any of the following: ... vomiting without "
        "other obvious cause'.",
    ),
    RedFlag(
        "systemic",
        "Fever, weight loss or night sweats with the headache",
        Urgency.urgent,
        ("infection", "systemic disease"),
        "Headache with fever or unexplained weight loss needs a doctor today.",
        ("fever", "weight_loss", "night_sweats", "fever_or_meningism"),
        lambda p, s: _any(_signs(p, "fever"), _yes(p, "weight_loss", "night_sweats")),
        f"{_SNNOOP}, S",
        "SNNOOP10: '(1) systemic symptoms including fever'.",
    ),
    RedFlag(
        "fever_or_meningism_combined",
        "Fever, stiff neck, rash or confusion (one earlier combined answer)",
        Urgency.urgent,
        ("infection", "meningitis"),
        "An earlier answer said yes to fever, stiff neck, rash or confusion without saying "
        "which: a doctor must check this today.",
        ("fever_or_meningism",),
        lambda p, s: _yes(p, "fever_or_meningism"),
        f"{_SNNOOP}, S",
        "SNNOOP10: '(1) systemic symptoms including fever'.",
    ),
    RedFlag(
        "spine_fracture",
        "Back or neck pain after significant trauma, or minor trauma with "
        "osteoporosis or long-term steroids",
        Urgency.urgent,
        ("vertebral fracture",),
        "Spinal pain after a fall or injury needs a doctor today.",
        ("spinal_trauma", "minor_spinal_trauma", "osteoporosis", "long_term_steroids"),
        _spine_fracture,
        _SPINE,
        "Finucane 2020: for fracture, a history of significant trauma, or of minor trauma in "
        "someone with osteoporosis or on prolonged corticosteroids, raises suspicion "
        "[paraphrase: source text not retrieved verbatim].",
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
        "Finucane 2020: a past history of cancer is the strongest risk factor for spinal "
        "malignancy [paraphrase: source text not retrieved verbatim].",
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
        "Finucane 2020: fever, intravenous drug use and immunosuppression raise suspicion of "
        "spinal infection [paraphrase: source text not retrieved verbatim].",
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
        "SNNOOP10: '(5) older age (onset after 65 years)'; the earlier version: 'older age "
        "(onset after 50 years)'.",
    ),
    RedFlag(
        "pattern_change",
        "Recent onset of a new headache, or a change in the usual pattern",
        Urgency.soon,
        ("tumour", "other intracranial disorders"),
        "A new or changed headache pattern should be checked by a doctor.",
        ("new_headache", "pattern_change"),
        lambda p, s: _new_or_changed(p),
        f"{_SNNOOP}, P; {_CG150} 1.1.1",
        "SNNOOP10: '(6) pattern change or recent onset of new headache'. NICE CG150 1.1.1: "
        "'a substantial change in the characteristics of their headache'.",
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
        "SNNOOP10: '(10) progressive headache and atypical presentations'.",
    ),
    RedFlag(
        "wakes_from_sleep",
        "Headache that wakes you, or is worst on waking",
        Urgency.soon,
        ("raised pressure in the head", "sleep apnoea", "medication overuse"),
        "A headache that wakes you or is worst on waking should be checked by a doctor.",
        ("wakes_from_sleep",),
        lambda p, s: _yes(p, "wakes_from_sleep"),
        f"{_SNNOOP}, P; {_CANCER_2005}",
        "SNNOOP10: '(7) positional headache' (raised pressure is worse lying down). NICE "
        "2005 lists features 'suggestive of raised intracranial pressure' for headaches of "
        "recent onset [paraphrase for waking].",
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
        "SNNOOP10: '(15) painkiller overuse or new drug at onset of headache'.",
    ),
)

RULES_VERSION = "painlink-redflags-2026.2"


def rules_table() -> str:
    """Every rule as a Markdown table (level, wording, source, quoted basis) for the docs.

    docs/clinical.md carries this table between markers and a test compares them, so the
    documentation cannot drift from the rules.
    """
    rows = [
        "| flag | level | when | what it says | source | rests on |",
        "|---|---|---|---|---|---|",
    ]
    for r in RED_FLAGS:
        cells = (
            f"`{r.code}`",
            r.urgency.name,
            r.name,
            r.message,
            r.source,
            r.quote,
        )
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m painlink.rules.red_flags > table for docs/clinical.md
    print(rules_table())
