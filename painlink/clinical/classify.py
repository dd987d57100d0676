"""ICHD-3 (2018) classification of one patient's diary, criterion by criterion.

Every diagnosis lists every criterion letter as met / not met / not evaluable with
the evidence behind it (which attacks, how many days, which window). Each group of
diagnoses has its module (:mod:`~painlink.clinical.migraine_diagnoses`,
:mod:`~painlink.clinical.tension_type`, :mod:`~painlink.clinical.medication_overuse`,
:mod:`~painlink.clinical.other_headaches`); this one screens, runs them, applies
ICHD-3's coding hierarchy and answers. Diagnoses are
"met", "probable", "not met" or "not evaluable"; a criterion that only a clinician
can judge (ICHD-3's "not better accounted for by another diagnosis") is reported as
not evaluable and does not block "met" — painlink's "met" means "the diary fulfils
every criterion a diary can show". Red flags are screened first and every primary
diagnosis carries them while they are open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from painlink.clinical.attack_criteria import evaluate_attacks
from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Diagnosis,
)
from painlink.clinical.day_counts import classify_days, monthly_counts
from painlink.clinical.medication_overuse import medication_overuse
from painlink.clinical.migraine_diagnoses import (
    chronic_migraine,
    migraine_with_aura,
    migraine_without_aura,
)
from painlink.clinical.other_headaches import cervicogenic, cluster
from painlink.clinical.screening import ScreenResult, screen
from painlink.clinical.tension_type import tension_type
from painlink.diary.frames import DiaryFrames
from painlink.rules.day_definitions import DEFAULT_DEFINITION
from painlink.rules.ichd3 import (
    HIERARCHY_NOTES,
    SOURCE,
    Ichd3Rules,
)
from painlink.rules.medications import DrugClass


@dataclass
class Classification:
    patient_id: str
    screen: ScreenResult
    diagnoses: list[Diagnosis]
    excluded: list[Diagnosis] = field(default_factory=list)  # kept to explain the hierarchy
    months: list[dict[str, Any]] = field(default_factory=list)
    day_definition: str = DEFAULT_DEFINITION
    window: tuple[str, str] | None = None
    source: str = SOURCE

    @property
    def labels(self) -> list[str]:
        return [d.code for d in self.diagnoses if d.status in (MET, "probable")]

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "red_flags": self.screen.as_dict(),
            "diagnoses": [asdict(d) for d in self.diagnoses],
            "excluded_by_hierarchy": [asdict(d) for d in self.excluded],
            "months": self.months,
            "day_definition": self.day_definition,
            "window": self.window,
            "source": self.source,
        }

    def summary(self) -> str:
        lines = []
        if self.screen.flags:
            lines.append("RED FLAGS FIRST — " + self.screen.summary())
        for d in self.diagnoses:
            lines.append(f"{d.code} {d.name}: {d.status.upper()}")
            for c in d.criteria:
                lines.append(f"   {c.letter} [{c.status}] {c.requirement} — {c.evidence}")
            lines += [f"   note: {n}" for n in d.notes]
        return "\n".join(lines)


def _apply_hierarchy(found: list[Diagnosis]) -> tuple[list[Diagnosis], list[Diagnosis]]:
    """ICHD-3 coding rules, each citing its note (``HIERARCHY_NOTES``).

    Probable codes were already counted from attacks that fulfil no other disorder
    (1.5 B, 2.4 B); here a probable code yields to a definite one of its own group,
    1.3 excludes every TTH code, 2.3 excludes the episodic TTH forms for the same
    period, and probable migraine goes before probable TTH. Definite 1.1/1.2 and
    definite 2.x from separate attacks are both coded (2.2 note: they often coexist).
    """
    codes = {d.code for d in found if d.status == MET}
    migraine = codes & {"1.1", "1.2", "1.3"}
    tth = codes & {"2.1", "2.2", "2.3"}
    probable_migraine = {
        d.code for d in found if d.status == "probable" and d.code.startswith("1.5")
    }
    keep, drop = [], []
    for d in found:
        reason = None
        if d.code.startswith("2.") and "1.3" in codes:
            reason = HIERARCHY_NOTES["1.3 excludes 2"]
        elif d.code in ("2.1", "2.2", "2.4.1", "2.4.2", "2.4.3") and "2.3" in codes:
            reason = HIERARCHY_NOTES["2.3 excludes 2.1 2.2"]
        elif d.code.startswith("1.5") and migraine:
            reason = HIERARCHY_NOTES["definite migraine"]
        elif d.code.startswith("2.4") and tth:
            reason = HIERARCHY_NOTES["definite TTH"]
        elif d.code.startswith("2.4") and probable_migraine:
            reason = HIERARCHY_NOTES["migraine before TTH"]
        if reason and d.status in (MET, "probable"):
            drop.append(
                Diagnosis(
                    d.code,
                    d.name,
                    d.status,
                    d.criteria,
                    (*d.notes, f"not coded: {reason}"),
                    d.refer,
                )
            )
        else:
            keep.append(d)
    return keep, drop


def presentation_from_diary(diary: DiaryFrames, rules_age: int | None = None) -> dict[str, Any]:
    """What the diary itself tells the red-flag screen (history items, onset speed)."""
    return _presentation(diary.patients.row(0, named=True), diary.attacks, rules_age)


def _presentation(
    p: dict[str, Any], attacks: pl.DataFrame, rules_age: int | None = None
) -> dict[str, Any]:
    """One person's screen answers from their patients row and their attacks."""
    fastest = attacks["onset_to_peak_min"].min() if attacks.height else None
    latest: dt.datetime | None = (
        attacks.select(pl.col("start").max()).item() if attacks.height else None
    )
    age = (
        (latest.year if latest else dt.date.today().year) - p["birth_year"]
        if p["birth_year"]
        else None
    )
    return {
        "age": age if rules_age is None else rules_age,
        "headache_onset_age": p["headache_onset_age"],
        "onset_to_peak_min": fastest,
        "pregnant_or_postpartum": p["pregnant_or_postpartum"],
        "history_cancer": p["history_cancer"],
        "history_immunosuppression": p["history_immunosuppression"],
        "anticoagulants": p["anticoagulants"],
    }


@dataclass(frozen=True)
class _Evaluated:
    """Every patient's attacks with their criteria, classified days and monthly counts:
    computed once for a whole cohort (each step groups by patient), then read per person."""

    attacks: pl.DataFrame
    days: pl.DataFrame
    months: pl.DataFrame


def _evaluate(
    diary: DiaryFrames, rules: Ichd3Rules, day_definition: str, as_of: dt.date | None
) -> _Evaluated:
    attacks = evaluate_attacks(diary, rules)
    days = classify_days(diary, day_definition, rules=rules, as_of=as_of)
    acute = [
        f"med_{c.value}"
        for c in (
            DrugClass.ergotamine,
            DrugClass.triptan,
            DrugClass.non_opioid_analgesic,
            DrugClass.opioid,
            DrugClass.combination_analgesic,
        )
    ]
    if rules.moh_count_gepants_ditans:
        acute += ["med_gepant", "med_ditan"]
    days = days.with_columns(
        pl.any_horizontal([pl.col(c) > 0 for c in acute]).alias("med_acute_any")
    )
    months = monthly_counts(days, rules.month_days).rename({"med_acute_any_days": "acute_any_days"})
    return _Evaluated(attacks, days, months)


def _diagnose(
    patient_id: str,
    answers: dict[str, Any],
    evaluated: _Evaluated,
    findings: pl.DataFrame | None,
    rules: Ichd3Rules,
    day_definition: str,
) -> Classification:
    """One person's classification from their part of the evaluated tables."""
    result = screen(answers)
    attacks, days, months = evaluated.attacks, evaluated.days, evaluated.months
    span_days = days.height  # first to last diary day, check-ins included
    found: list[Diagnosis] = []
    first_day = days["date"].min() if days.height else None
    tth = tension_type(attacks, months, rules, span_days, first_day)  # type: ignore[arg-type]
    tth_definite = any(d.status == MET and d.code in ("2.1", "2.2", "2.3") for d in tth)
    m11, p151 = migraine_without_aura(attacks.filter(pl.col("a_B") != MET), rules, tth_definite)
    found += [
        m11,
        *migraine_with_aura(attacks, rules),
        chronic_migraine(attacks, months, rules, span_days),
        p151,
    ]
    found += tth
    found.append(cluster(attacks, rules))
    primary = any(d.status in (MET, "probable") for d in found)
    found += medication_overuse(months, rules, primary, span_days)
    found.append(cervicogenic(findings))
    keep, drop = _apply_hierarchy(found)
    if result.flags:
        keep = [
            Diagnosis(
                d.code,
                d.name,
                d.status,
                d.criteria,
                (*d.notes, f"red flag open ({result.urgency}): {result.advice}"),
                d.refer,
            )
            if d.status in (MET, "probable") and not d.code.startswith(("8.", "11."))
            else d
            for d in keep
        ]
    order = {MET: 0, "probable": 1, NE: 2, NOT_MET: 3}
    keep.sort(key=lambda d: (order[d.status], d.code))
    window = (str(days["date"].min()), str(days["date"].max())) if days.height else None
    return Classification(
        patient_id=patient_id,
        screen=result,
        diagnoses=keep,
        excluded=drop,
        months=months.to_dicts(),
        day_definition=day_definition,
        window=window,
    )


def classify(
    diary: DiaryFrames,
    *,
    rules: Ichd3Rules | None = None,
    day_definition: str = DEFAULT_DEFINITION,
    presentation: dict[str, Any] | None = None,
    findings: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> Classification:
    """Classify one patient's diary (``diary`` must hold exactly one patient)."""
    rules = rules or Ichd3Rules()
    ids = diary.patient_ids()
    if len(ids) != 1:
        raise ValueError(f"classify takes one patient's diary, got {len(ids)}")
    answers = presentation_from_diary(diary)
    answers.update({k: v for k, v in (presentation or {}).items() if v is not None})
    return _diagnose(
        ids[0],
        answers,
        _evaluate(diary, rules, day_definition, as_of),
        findings if findings is not None else diary.clinical_findings,
        rules,
        day_definition,
    )


def _by_patient(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {str(k[0]): v for k, v in frame.partition_by("patient_id", as_dict=True).items()}


def classify_many(
    diary: DiaryFrames,
    *,
    rules: Ichd3Rules | None = None,
    day_definition: str = DEFAULT_DEFINITION,
    presentations: dict[str, dict[str, Any]] | None = None,
    findings: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Classification]:
    """Classify every patient in ``diary``: patient id → the answer :func:`classify` gives
    for that patient alone.

    The attack criteria, the classified days and the monthly counts group by patient,
    so they are computed once for the whole cohort and split afterwards; only the
    diagnosis logic (a few dozen comparisons per person) runs per patient. A cohort of
    hundreds then costs little more than its largest diary, where one call per patient
    would rebuild every table each time. ``presentations`` holds extra screen answers
    per patient id; ``findings`` (clinical findings of any patients) replaces the
    diary's own.
    """
    return classify_cohort(
        diary,
        rules=rules,
        day_definition=day_definition,
        presentations=presentations,
        findings=findings,
        as_of=as_of,
    )[0]


def classify_cohort(
    diary: DiaryFrames,
    *,
    rules: Ichd3Rules | None = None,
    day_definition: str = DEFAULT_DEFINITION,
    presentations: dict[str, dict[str, Any]] | None = None,
    findings: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> tuple[dict[str, Classification], pl.DataFrame]:
    """:func:`classify_many`, plus the classified days it counted from (every patient's
    ``migraine_day``, ``headache_day_def``, ``med_acute_any`` …): the clinic list
    keeps recent day counts beside the diagnoses without classifying the days twice."""
    rules = rules or Ichd3Rules()
    evaluated = _evaluate(diary, rules, day_definition, as_of)
    parts = {
        name: _by_patient(frame)
        for name, frame in (
            ("attacks", evaluated.attacks),
            ("days", evaluated.days),
            ("months", evaluated.months),
            ("raw_attacks", diary.attacks),
            ("findings", findings if findings is not None else diary.clinical_findings),
        )
    }
    empty = {
        "attacks": evaluated.attacks.clear(),
        "days": evaluated.days.clear(),
        "months": evaluated.months.clear(),
        "raw_attacks": diary.attacks.clear(),
        "findings": (findings if findings is not None else diary.clinical_findings).clear(),
    }

    def part(name: str, pid: str) -> pl.DataFrame:
        return parts[name].get(pid, empty[name])

    out: dict[str, Classification] = {}
    for patient in diary.patients.iter_rows(named=True):
        pid = str(patient["patient_id"])
        answers = _presentation(patient, part("raw_attacks", pid))
        extra = (presentations or {}).get(pid) or {}
        answers.update({k: v for k, v in extra.items() if v is not None})
        out[pid] = _diagnose(
            pid,
            answers,
            _Evaluated(part("attacks", pid), part("days", pid), part("months", pid)),
            part("findings", pid),
            rules,
            day_definition,
        )
    return out, evaluated.days
