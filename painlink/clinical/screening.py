"""Red-flag screening: is this dangerous? Asked before anything else is shown.

A presentation is what a person or clinician answers (see :class:`Presentation`);
the screen returns every flag raised, what each may point to, the most urgent
level and plain advice. Answers left empty are listed as not asked: the screen
never reads a missing answer as "no".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from painlink.rules.red_flag_checks import RedFlag, ScreeningSettings, Urgency
from painlink.rules.red_flags import ADVICE, NOT_SCREENED, RED_FLAGS, RULES_VERSION
from painlink.rules.screening_questions import INTEGER, NUMERIC, Presentation


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
    out: dict[str, Any] = {}
    for question, answer in rows:
        out[question] = (
            (int(answer) if question in INTEGER else answer)
            if question in NUMERIC
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
