"""Pydantic models of every diary record: the one place where ranges are declared.

The CSV importer validates whole columns at once, but it reads its ranges and
vocabularies from these models (see :mod:`painlink.diary.fields`), so a form in the
web app, the REST API and a CSV file accept exactly the same values.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from painlink.diary.vocabulary import (
    AuraType,
    BodySide,
    CervicogenicItem,
    ContraceptivePhase,
    FactorKind,
    Location,
    MenstrualFlow,
    PainQuality,
    Relief,
    ScreeningContext,
    ScreeningQuestion,
    Sex,
    Side,
    SpineRegion,
    Stoplight,
    TreatmentKind,
    VisitKind,
)
from painlink.rules import plausibility as plausible
from painlink.rules.cervical import FRT_MEASURES, FRT_RANGE_DEG
from painlink.rules.medications import DrugClass
from painlink.rules.questionnaires import INSTRUMENTS


def _plausible_time(value: dt.date) -> dt.date:
    """Zone-free bounds (1900 .. tomorrow in UTC+14); the patient's own zone is checked
    where the patient is known. An offset is refused: a diary keeps local time."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        raise ValueError("a diary keeps local wall-clock time: give it without a UTC offset")
    if problem := plausible.date_problem_anywhere(value):
        raise ValueError(problem)
    return value


def _plausible_birth_year(value: int) -> int:
    if problem := plausible.birth_year_problem(value):
        raise ValueError(problem)
    return value


DiaryDate = Annotated[dt.date, AfterValidator(_plausible_time), plausible.Plausible("date")]
DiaryTime = Annotated[dt.datetime, AfterValidator(_plausible_time), plausible.Plausible("date")]
BirthYear = Annotated[
    int,
    Field(ge=plausible.EARLIEST_BIRTH_YEAR),
    AfterValidator(_plausible_birth_year),
    plausible.Plausible("birth_year"),
]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Score10 = Annotated[float, Field(ge=0, le=10)]
Intensity03 = Annotated[int, Field(ge=0, le=3)]
Minutes = Annotated[float, Field(ge=0, le=plausible.MAX_DURATION_MIN)]
Text = Annotated[str, Field(max_length=10_000)]


class _Record(BaseModel):
    # NaN and infinity are no measurement: refused everywhere (rules/plausibility.py)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A NUL character is no text anyone typed, and PostgreSQL cannot store it."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("holds a NUL character")
        return value


class _Period(_Record):
    """A record with a start and an optional end (open while it goes on)."""

    @model_validator(mode="after")
    def _end_after_start(self) -> _Period:
        end, start = getattr(self, "end", None), getattr(self, "start", None)
        if end is not None and start is not None and end < start:
            raise ValueError("end is before start")
        return self


class PatientIn(_Record):
    """A person keeping a diary, with the history items the red-flag screen asks about."""

    patient_id: Identifier
    display_name: Annotated[str, Field(max_length=200)] | None = None
    birth_year: BirthYear | None = None
    sex: Sex = Sex.unknown
    time_zone: Annotated[str, Field(max_length=64)] = "UTC"
    headache_onset_age: Annotated[int, Field(ge=0, le=120)] | None = None
    family_history_migraine: bool | None = None
    history_cancer: bool | None = None
    history_immunosuppression: bool | None = None  # includes HIV
    pregnant_or_postpartum: bool | None = None
    anticoagulants: bool | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in plausible.known_zones():  # "localtime" is the server's, not a place
            raise ValueError(f"unknown IANA time zone {value!r}")
        return value


class AttackIn(_Period):
    """One headache attack. Times are the patient's local wall-clock time."""

    patient_id: Identifier
    attack_id: Identifier
    start: DiaryTime
    end: DiaryTime | None = None  # open while the attack is ongoing
    intensity: Intensity03 | None = None  # IHS 0 none … 3 severe, at its worst
    intensity_nrs: Score10 | None = None  # 0–10 numeric rating; never derived from the 0–3 scale
    onset_to_peak_min: Minutes | None = None
    side: Side | None = None
    location: list[Location] = Field(default_factory=list)
    quality: PainQuality | None = None
    aggravated_by_activity: bool | None = None
    nausea: bool | None = None
    vomiting: bool | None = None
    photophobia: bool | None = None
    phonophobia: bool | None = None
    cranial_autonomic: bool | None = None
    restlessness: bool | None = None
    neck_pain: bool | None = None
    aura: bool | None = None
    aura_succession: bool | None = None  # two or more aura symptoms, one after another
    notes: Text | None = None


class IntensityReadingIn(_Record):
    """A pain rating taken during an attack, so its course can be drawn."""

    patient_id: Identifier
    attack_id: Identifier
    at: DiaryTime
    intensity: Intensity03 | None = None
    intensity_nrs: Score10 | None = None

    @model_validator(mode="after")
    def _some_rating(self) -> IntensityReadingIn:
        if self.intensity is None and self.intensity_nrs is None:
            raise ValueError("a reading needs intensity or intensity_nrs")
        return self


class AuraSymptomIn(_Record):
    """One aura symptom, with the features ICHD-3 1.2.1 criterion C asks about."""

    patient_id: Identifier
    attack_id: Identifier
    type: AuraType
    start: DiaryTime | None = None
    duration_min: Minutes | None = None
    positive: bool | None = None
    unilateral: bool | None = None
    gradual_spread: bool | None = None


class MedicationIn(_Record):
    patient_id: Identifier
    taken_at: DiaryTime
    drug: Annotated[str, Field(min_length=1, max_length=200)]
    drug_class: DrugClass | None = Field(default=None, alias="class")
    dose: Annotated[float, Field(ge=0, le=plausible.MAX_DOSE)] | None = None
    dose_unit: Annotated[str, Field(max_length=20)] | None = None
    relief_2h: Relief | None = None
    attack_id: Identifier | None = None

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, populate_by_name=True, allow_inf_nan=False
    )


class SpinePainIn(_Period):
    """Neck or back pain: an episode (start and end) or a rating at one moment (no end)."""

    patient_id: Identifier
    region: SpineRegion
    side: BodySide | None = None
    start: DiaryTime
    end: DiaryTime | None = None
    nrs: Score10


class DayIn(_Record):
    """The daily check-in, kept on headache-free days too: without those, no trigger
    analysis can tell exposure on attack days from exposure on ordinary days."""

    patient_id: Identifier
    date: DiaryDate
    sleep_hours: Annotated[float, Field(ge=0, le=24)] | None = None
    sleep_quality: Score10 | None = None
    stress: Score10 | None = None
    skipped_meals: Annotated[int, Field(ge=0, le=10)] | None = None
    alcohol_units: Annotated[float, Field(ge=0, le=100)] | None = None
    caffeine_mg: Annotated[float, Field(ge=0, le=5000)] | None = None
    menstruation: MenstrualFlow | None = None
    contraceptive_phase: ContraceptivePhase | None = None
    exercise_min: Annotated[float, Field(ge=0, le=1440)] | None = None
    screen_hours: Annotated[float, Field(ge=0, le=24)] | None = None
    allergy_symptoms: bool | None = None
    pressure_hpa: Annotated[float, Field(ge=850, le=1100)] | None = None
    temperature_c: Annotated[float, Field(ge=-70, le=60)] | None = None
    neck_pain: Score10 | None = None
    low_back_pain: Score10 | None = None
    stoplight: Stoplight | None = None  # the day rated green / yellow / red (Mayo Clinic)


#: a person's own name for a factor, in any script ("Käse", "partner's cooking"): it
#: starts with a letter or digit (so a spreadsheet never reads it as a formula: no
#: leading = + - @) and holds no control characters; pages escape it on output. The
#: old ASCII-only pattern is a subset, so every stored name stays valid.
FactorName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[^\W_][^\x00-\x1f\x7f]*$")
]


class FactorIn(_Record):
    """A factor a person chose to track themselves: yes/no ("red wine") or a number."""

    patient_id: Identifier
    name: FactorName
    kind: FactorKind


class FactorValueIn(_Record):
    """A value of a person's own factor (e.g. "red wine", "screen glare") on one day."""

    patient_id: Identifier
    date: DiaryDate
    name: FactorName
    value: Annotated[
        float, Field(ge=-plausible.MAX_OWN_FACTOR_VALUE, le=plausible.MAX_OWN_FACTOR_VALUE)
    ]


class TreatmentIn(_Period):
    patient_id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: TreatmentKind
    start: DiaryDate
    end: DiaryDate | None = None  # open while the treatment goes on


class VisitIn(_Record):
    patient_id: Identifier
    at: DiaryTime
    kind: VisitKind
    clinician: Annotated[str, Field(max_length=200)] | None = None
    notes: Text | None = None


class ExamMeasurementIn(_Record):
    """One measurement taken in a clinic: FRT degrees, range of motion, an atlas angle.

    ``repeat`` numbers repeated measurements of the same thing at the same visit
    (trials or examiners), from which the measurement error is estimated.
    """

    patient_id: Identifier
    at: DiaryTime
    measure: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
    value: Annotated[float, Field(ge=-plausible.MAX_EXAM_VALUE, le=plausible.MAX_EXAM_VALUE)]
    unit: Annotated[str, Field(max_length=20)] | None = None
    method: Annotated[str, Field(max_length=100)] | None = (
        None  # goniometer, CROM device, radiograph …
    )
    examiner: Annotated[str, Field(max_length=200)] | None = None
    repeat: Annotated[int, Field(ge=1, le=100)] = 1
    notes: Text | None = None

    @model_validator(mode="after")
    def _frt_in_range(self) -> ExamMeasurementIn:
        # the FRT's analysis refuses other values, so they are refused on the way in
        low, high = FRT_RANGE_DEG
        if self.measure in FRT_MEASURES and not low <= self.value <= high:
            raise ValueError(f"{self.measure}: degrees from {low:g} to {high:g}")
        return self


class ClinicalFindingIn(_Record):
    """Evidence a clinician documents for ICHD-3 11.2.1; painlink never infers it."""

    patient_id: Identifier
    at: DiaryTime
    item: CervicogenicItem
    present: bool
    clinician: Annotated[str, Field(min_length=1, max_length=200)]
    notes: Text | None = None


#: Instruments painlink can score (their rules live in painlink.rules.questionnaires).
QuestionnaireKey = StrEnum(  # type: ignore[misc]  # members from INSTRUMENTS, unseen by mypy
    "QuestionnaireKey", {key: key for key in INSTRUMENTS}
)


class QuestionnaireItemIn(_Record):
    """One answered item of a questionnaire, by its FHIR linkId ("hit6-3").

    A response is the items sharing (patient, instrument, completed_on); its score is
    derived when read, never stored, so a corrected scoring rule applies to old answers.
    """

    patient_id: Identifier
    completed_on: DiaryDate
    instrument: QuestionnaireKey
    item: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+-[0-9]+$")]
    value: Annotated[float, Field(ge=0, le=90)]  # MIDAS day counts reach 90
    recorded_by: Annotated[str, Field(max_length=200)] | None = None


class ScreeningAnswerIn(_Record):
    """One answer of a red-flag screen; a question not asked has no row (never "no")."""

    patient_id: Identifier
    at: DiaryTime
    context: ScreeningContext
    question: ScreeningQuestion
    answer: Annotated[
        float, Field(ge=0, le=plausible.MAX_DURATION_MIN)
    ]  # yes 1 / no 0, or ages, minutes
    attack_id: Identifier | None = None  # the attack it was answered for
    answered_by: Annotated[str, Field(max_length=200)] | None = None
