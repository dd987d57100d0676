"""Red-flag screening: is this dangerous? Asked before anything else is shown.

A presentation is what a person or clinician answers (see :class:`Presentation`);
the screen returns every flag raised, what each may point to, the most urgent
level and plain advice. Answers left empty are listed as not asked: the screen
never reads a missing answer as "no".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from painlink.rules.plausibility import MAX_DURATION_MIN
from painlink.rules.red_flags import (
    ADVICE,
    DIASTOLIC_RANGE,
    NOT_SCREENED,
    RED_FLAGS,
    RULES_VERSION,
    SYSTOLIC_RANGE,
    RedFlag,
    ScreeningSettings,
    Urgency,
)

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


@dataclass(frozen=True)
class RaisedFlag:
    code: str
    name: str
    urgency: str
    may_point_to: tuple[str, ...]
    message: str
    source: str


@dataclass(frozen=True)
class ScreenResult:
    urgency: str
    advice: str
    flags: tuple[RaisedFlag, ...]
    not_asked: tuple[str, ...]  # rules that could not be checked for want of answers
    rules_version: str = RULES_VERSION
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> Urgency:
        return Urgency[self.urgency]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"{self.urgency.upper()}: {self.advice}"]
        lines += [f"  - {f.name} ({f.urgency}): {f.message}" for f in self.flags]
        if self.not_asked:
            lines.append(f"  Not asked, so not checked: {', '.join(self.not_asked)}")
        return "\n".join(lines)


def screen(
    presentation: Presentation | dict[str, Any], settings: ScreeningSettings | None = None
) -> ScreenResult:
    """Check every rule; raise the most urgent advice first."""
    settings = settings or ScreeningSettings()
    p = presentation if isinstance(presentation, Presentation) else Presentation(**presentation)
    answers = p.model_dump()
    raised: list[RedFlag] = []
    unknown: list[str] = []
    for rule in RED_FLAGS:
        outcome = rule.test(answers, settings)
        if outcome is True:
            raised.append(rule)
        elif outcome is None:
            unknown.append(rule.code)
    raised.sort(key=lambda r: -r.urgency)
    level = max((r.urgency for r in raised), default=Urgency.none)
    return ScreenResult(
        urgency=level.name,
        advice=NOT_SCREENED if len(unknown) == len(RED_FLAGS) else ADVICE[level],
        flags=tuple(
            RaisedFlag(r.code, r.name, r.urgency.name, r.points_to, r.message, r.source)
            for r in raised
        ),
        not_asked=tuple(unknown),
        settings=asdict(settings),
    )


@dataclass(frozen=True)
class StoredScreen:
    """One screen as it was answered, re-checked against today's rules."""

    patient_id: str
    at: Any  # datetime.datetime
    context: str
    attack_id: str | None
    answered_by: str | None
    answers: dict[str, Any]
    result: ScreenResult


def answers_of(rows: Any) -> dict[str, Any]:
    """Stored (question, answer) rows → screen answers: 1/0 as yes/no, numbers as numbers."""
    from painlink.diary.vocabulary import SCREENING_INTEGER, SCREENING_NUMERIC

    out: dict[str, Any] = {}
    for question, answer in rows:
        out[question] = (
            (int(answer) if question in SCREENING_INTEGER else answer)
            if question in SCREENING_NUMERIC
            else bool(answer)
        )
    return out


def screens_stored(answers: Any, settings: ScreeningSettings | None = None) -> list[StoredScreen]:
    """Every screen in a ``screening_answers`` table (a polars frame), newest first."""
    if answers.is_empty():
        return []
    keys = ["patient_id", "at", "context"]
    out = []
    for (pid, at, context), group in answers.sort(keys).group_by(keys, maintain_order=True):
        given = answers_of(zip(group["question"], group["answer"], strict=True))
        attack = group["attack_id"].drop_nulls()
        by = group["answered_by"].drop_nulls()
        out.append(
            StoredScreen(
                str(pid),
                at,
                str(context),
                attack[0] if attack.len() else None,
                by[0] if by.len() else None,
                given,
                screen(given, settings),
            )
        )
    return out[::-1]
