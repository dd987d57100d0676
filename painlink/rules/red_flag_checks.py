"""What a red-flag rule is, and the checks the rules run on the answers.

A rule (:class:`RedFlag`) carries its urgency, wording and source and a *check*: a
function of the answers and the :class:`ScreeningSettings` that says True, False or
None (not asked). The checks and the thresholds they compare against live here, each
threshold with its source, so the rule lists (:mod:`painlink.rules.red_flags_emergency`,
``red_flags_urgent``, ``red_flags_soon``) read as data; :mod:`painlink.rules.red_flags`
gathers them and names every source in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast


class Urgency(IntEnum):
    none = 0
    soon = 1  # see a doctor within days
    urgent = 2  # see a doctor today
    emergency = 3  # call emergency services now


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


@dataclass(frozen=True)
class ScreeningSettings:
    """Thresholds that sources disagree on; defaults documented in docs/clinical.md."""

    older_onset_age: int = 50  # SNNOOP10 O: new headache after this age (65 in the 2019 abstract)
    thunderclap_minutes: float = 1.0  # ICHD-3 4.4: maximum intensity in under 1 minute
    recent_onset_months: int = 6  # "recent onset" of a new headache, for the P flag


Answers = dict[str, Any]
Test = Callable[[Answers, ScreeningSettings], bool | None]


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


def _answer(p: Answers, name: str) -> bool | None:
    """A yes/no answer as given (``Presentation`` has made it True, False or None)."""
    return cast("bool | None", p.get(name))


def yes(p: Answers, *names: str) -> bool | None:
    """True if any field is true; None if none is true and some were not answered."""
    values = [p.get(n) for n in names]
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def all_of(*parts: bool | None) -> bool | None:
    if any(p is False for p in parts):
        return False
    return None if any(p is None for p in parts) else True


def any_of(*parts: bool | None) -> bool | None:
    if any(p is True for p in parts):
        return True
    return None if any(p is None for p in parts) else False


def not_(part: bool | None) -> bool | None:
    return None if part is None else not part


def at_least(p: Answers, name: str, limit: float) -> bool | None:
    value = p.get(name)
    return None if value is None else value >= limit


def legacy_sign(p: Answers, name: str) -> bool | None:
    """Fever, neck stiffness, rash or confusion; an old combined "no" is "no" to each.

    Before they were asked apart, the attack-time check stored one answer to "fever,
    stiff neck, rash or confusion?" (kept as ``fever_or_meningism``): its "no" denies
    all four, its "yes" says only that one of them was present.
    """
    value = p.get(name)
    if value is None and p.get("fever_or_meningism") is False:
        return False
    return value


def signs(p: Answers, *names: str) -> bool | None:
    return any_of(*(legacy_sign(p, n) for n in names))


def thunderclap(p: Answers, s: ScreeningSettings) -> bool | None:
    if p.get("thunderclap") is True:
        return True
    minutes = p.get("onset_to_peak_min")
    if minutes is not None:
        return bool(minutes < s.thunderclap_minutes)
    return _answer(p, "thunderclap")


def abrupt(p: Answers, s: ScreeningSettings) -> bool | None:
    """Peak reached in 1 to 5 minutes: abrupt, though not thunderclap (NICE CG150)."""
    minutes = p.get("onset_to_peak_min")
    if minutes is None:
        return None
    return bool(s.thunderclap_minutes <= minutes <= ABRUPT_ONSET_MINUTES)


def older_onset(p: Answers, s: ScreeningSettings) -> bool | None:
    onset = p.get("headache_onset_age")
    if onset is None:
        new = p.get("new_headache")
        age = p.get("age")
        if new is None or age is None:
            return None
        return bool(new and age >= s.older_onset_age)
    return bool(onset >= s.older_onset_age)


def gca(p: Answers, s: ScreeningSettings) -> bool | None:
    return all_of(
        older_onset(p, s), yes(p, "jaw_claudication", "scalp_tenderness", "visual_disturbance")
    )


def dissection(p: Answers, _s: ScreeningSettings) -> bool | None:
    return all_of(
        yes(p, "recent_neck_manipulation", "neck_trauma"),
        yes(p, "new_neck_pain", "new_headache"),
        yes(
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


def pregnant(p: Answers) -> bool | None:
    """Pregnant, or within the puerperium (≤ 6 weeks after birth, 6.0 included)."""
    weeks = p.get("weeks_since_birth")
    if weeks is None:
        return p.get("pregnant_or_postpartum")
    return any_of(p.get("pregnant_or_postpartum"), weeks <= PUERPERIUM_WEEKS)


def bp_severe(p: Answers) -> bool | None:
    return any_of(
        at_least(p, "systolic_bp", SEVERE_SYSTOLIC_MMHG),
        at_least(p, "diastolic_bp", SEVERE_DIASTOLIC_MMHG),
    )


def bp_new_high(p: Answers) -> bool | None:
    """≥140/90 in someone not known to have had high blood pressure before pregnancy.

    "New" is read conservatively: unless high blood pressure before pregnancy is
    answered yes, a reading of 140/90 or more counts as new.
    """
    high = any_of(
        at_least(p, "systolic_bp", HYPERTENSION_SYSTOLIC_MMHG),
        at_least(p, "diastolic_bp", HYPERTENSION_DIASTOLIC_MMHG),
    )
    if high is not True:
        return high
    return p.get("hypertension_before_pregnancy") is not True


def pre_eclampsia(p: Answers, _s: ScreeningSettings) -> bool | None:
    return all_of(
        pregnant(p),
        any_of(
            bp_severe(p),
            bp_new_high(p),
            yes(p, "visual_disturbance", "ruq_epigastric_pain", "seizure", "worst_ever"),
            legacy_sign(p, "confusion"),
        ),
    )


def crisis(p: Answers, _s: ScreeningSettings) -> bool | None:
    return any_of(
        at_least(p, "systolic_bp", CRISIS_SYSTOLIC_MMHG),
        at_least(p, "diastolic_bp", CRISIS_DIASTOLIC_MMHG),
    )


def aura_like(p: Answers) -> bool | None:
    """A deficit that is gone, lasted ≤ 60 min and had no weakness: what aura can be."""
    minutes = p.get("deficit_minutes")
    short = None if minutes is None else minutes <= AURA_MAX_MINUTES
    return all_of(not_(p.get("deficit_still_present")), short, not_(p.get("motor_weakness")))


def deficit_emergency(p: Answers, _s: ScreeningSettings) -> bool | None:
    """A deficit still present, longer than 60 min, with weakness, or of unknown course;
    or reduced consciousness, confusion or a seizure."""
    deficit = p.get("neuro_deficit")
    if deficit is True or p.get("motor_weakness") is True:
        course = aura_like(p)
        dangerous: bool | None = True if course is None else not course
    else:
        dangerous = deficit
    return any_of(
        dangerous,
        yes(p, "motor_weakness", "decreased_consciousness", "seizure"),
        legacy_sign(p, "confusion"),
    )


def transient_deficit(p: Answers, _s: ScreeningSettings) -> bool | None:
    """An aura-like deficit, unless it is the person's usual pattern: TIA is excluded
    once (ICHD-3 1.2.1 D), so only a first, new or changed one needs a doctor. Without
    an answer about a new or changed pattern it is taken as possibly the first."""
    usual = all_of(not_(p.get("new_headache")), not_(p.get("pattern_change")))
    return all_of(p.get("neuro_deficit"), aura_like(p), usual is not True)


def new_or_changed(p: Answers) -> bool | None:
    return yes(p, "new_headache", "pattern_change")


def spine_fracture(p: Answers, _s: ScreeningSettings) -> bool | None:
    return any_of(
        p.get("spinal_trauma"),
        all_of(p.get("minor_spinal_trauma"), yes(p, "osteoporosis", "long_term_steroids")),
    )


SNNOOP = "Do et al., Neurology 2019;92:134–144 (SNNOOP10)"
SPINE = "Finucane et al., JOSPT 2020;50:350–372"
CAD = "Rushton et al., JOSPT 2023;53:7–22"
CG150 = "NICE CG150 (headaches in over 12s)"
ACOG = "ACOG Practice Bulletin 222 (2020)"
NG133 = "NICE NG133 (hypertension in pregnancy)"
NG232 = "NICE NG232 (head injury, 2023) and QS74 statement 2"
CANCER_2005 = "NICE referral guidelines for suspected cancer (2005), brain and CNS"
