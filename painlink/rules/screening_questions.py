"""The screening questions, declared once: what a red-flag screen may be answered.

Every other list of the questions is derived from this model: the stored vocabulary
(:data:`painlink.diary.vocabulary.ScreeningQuestion`, the database's CHECK constraint
and the CSV validator), which answers are numbers, and the screen itself
(:func:`painlink.clinical.screening.screen`). It sits in the lowest layer because the
rules read these answers and the diary stores them.
"""

from __future__ import annotations

import typing
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from painlink.rules.plausibility import MAX_DURATION_MIN

#: Physical bounds of a measured blood pressure (mmHg): below them a reading is an error,
#: not a patient (:class:`Presentation` refuses it).
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (20, 200)

Answer = bool | None


class Presentation(BaseModel):
    """Answers to the screening questions; every field is optional (None = not asked)."""

    # NaN and infinity are no answer; durations end within a month (rules/plausibility.py)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    age: Annotated[int, Field(ge=0, le=120)] | None = None
    headache_onset_age: Annotated[int, Field(ge=0, le=120)] | None = None
    onset_to_peak_min: Annotated[float, Field(ge=0, le=MAX_DURATION_MIN)] | None = None
    thunderclap: Answer = None
    new_headache: Answer = None
    pattern_change: Answer = None
    progressive: Answer = None
    atypical: Answer = None
    positional: Answer = None
    precipitated_by_valsalva: Answer = None
    after_head_trauma: Answer = None
    fever: Answer = None
    neck_stiffness: Answer = None
    rash: Answer = None
    confusion: Answer = None
    weight_loss: Answer = None
    night_sweats: Answer = None
    neuro_deficit: Answer = None
    decreased_consciousness: Answer = None
    seizure: Answer = None
    papilloedema: Answer = None
    transient_visual_obscurations: Answer = None
    painful_eye_autonomic: Answer = None
    jaw_claudication: Answer = None
    scalp_tenderness: Answer = None
    visual_disturbance: Answer = None
    pregnant_or_postpartum: Answer = None
    history_cancer: Answer = None
    history_immunosuppression: Answer = None
    anticoagulants: Answer = None
    painkiller_overuse: Answer = None
    new_drug_at_onset: Answer = None
    recent_neck_manipulation: Answer = None
    neck_trauma: Answer = None
    new_neck_pain: Answer = None
    dizziness: Answer = None
    diplopia: Answer = None
    dysarthria: Answer = None
    dysphagia: Answer = None
    ataxia: Answer = None
    drop_attack: Answer = None
    nystagmus: Answer = None
    facial_numbness: Answer = None
    spinal_pain: Answer = None
    spinal_trauma: Answer = None
    night_pain: Answer = None
    iv_drug_use: Answer = None
    saddle_anaesthesia: Answer = None
    bladder_bowel_dysfunction: Answer = None
    bilateral_leg_weakness: Answer = None
    # Added with issue 10 (measured values, split and directional questions).
    systolic_bp: Annotated[int, Field(ge=SYSTOLIC_RANGE[0], le=SYSTOLIC_RANGE[1])] | None = None
    diastolic_bp: Annotated[int, Field(ge=DIASTOLIC_RANGE[0], le=DIASTOLIC_RANGE[1])] | None = None
    weeks_since_birth: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    deficit_minutes: Annotated[float, Field(ge=0, le=44640, allow_inf_nan=False)] | None = None
    hypertension_before_pregnancy: Answer = None
    ruq_epigastric_pain: Answer = None
    worst_ever: Answer = None
    vomiting: Answer = None
    wakes_from_sleep: Answer = None
    worse_upright: Answer = None
    worse_lying_or_straining: Answer = None
    deficit_still_present: Answer = None
    motor_weakness: Answer = None
    minor_spinal_trauma: Answer = None
    osteoporosis: Answer = None
    long_term_steroids: Answer = None
    fever_or_meningism: Answer = None  # the old combined attack-time answer, kept readable

    @model_validator(mode="after")
    def _diastolic_below_systolic(self) -> Presentation:
        """A diastolic pressure at or above the systolic is a mistyped reading."""
        if (
            self.systolic_bp is not None
            and self.diastolic_bp is not None
            and self.diastolic_bp >= self.systolic_bp
        ):
            raise ValueError("diastolic_bp: must be lower than systolic_bp")
        return self


def _number_type(name: str) -> type | None:
    """``int`` or ``float`` for a question answered with a number, ``None`` for yes/no."""
    for arg in typing.get_args(Presentation.model_fields[name].annotation):
        base = typing.get_args(arg)[0] if typing.get_origin(arg) is Annotated else arg
        if base in (int, float):
            return base  # type: ignore[no-any-return]  # narrowed by the test above
    return None


#: every question, in the order of :class:`Presentation`; stored answers use these names
QUESTIONS: tuple[str, ...] = tuple(Presentation.model_fields)
#: questions answered with a number (ages, minutes, weeks, mmHg); the others are yes/no,
#: stored as 1/0
NUMERIC: tuple[str, ...] = tuple(q for q in QUESTIONS if _number_type(q) is not None)
#: numeric answers that are whole numbers (ages, mmHg)
INTEGER: tuple[str, ...] = tuple(q for q in QUESTIONS if _number_type(q) is int)
