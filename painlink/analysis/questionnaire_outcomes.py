"""Did a treatment change MIDAS, HIT-6, ODI or NDI? One score before against one during.

A questionnaire is filled in rarely, so a person has one or two scores per period,
not a series: there is nothing to fit a model to, and no interval comes from the data.
The honest yardstick is the instrument's own published minimal important (or
detectable) change from :mod:`painlink.rules.questionnaires`; a change smaller than it
cannot be told from measurement error. MIDAS has none, so the clinical ≥50% reduction
is used. Higher is worse on all four instruments.

Windows: the **baseline** is the latest response on or before the start, at most
``BASELINE_DAYS`` before it; the **follow-up** is the latest response from
``MIN_FOLLOW_UP_DAYS`` after the start until ``AFTER_END_DAYS`` after the end
(questionnaires are often given at the last visit or soon after).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from painlink.analysis.outcomes import treatment_columns
from painlink.clinical.questionnaires import StoredScore, score_stored
from painlink.rules.questionnaires import INSTRUMENTS, only_by_chance

BASELINE_DAYS = 90
MIN_FOLLOW_UP_DAYS = 14  # earlier than two weeks a preventive cannot be judged
AFTER_END_DAYS = 28
MIDAS_RESPONDER = 0.5  # ≥50% reduction, as for monthly migraine days

NOTE = (
    "two single measurements, no interval: a change smaller than the instrument's "
    "important change cannot be told from measurement error; uncontrolled before/after"
)


def _pick(scores: list[StoredScore], low: dt.date, high: dt.date | None) -> StoredScore | None:
    inside = [
        s
        for s in scores
        if s.score.computable and s.completed_on >= low and (high is None or s.completed_on <= high)
    ]
    return max(inside, key=lambda s: s.completed_on) if inside else None


def _verdict(key: str, before: float, after: float) -> str:
    rules = INSTRUMENTS[key]
    change = after - before
    if rules.important_change is None:  # MIDAS
        if before > 0 and after <= (1 - MIDAS_RESPONDER) * before:
            return "≥50% reduction"
        return "more disability" if change > 0 else "less than a 50% reduction"
    chance = rules.change_error_95
    if only_by_chance(change, rules.important_change, chance):
        return (
            f"{'improved' if change < 0 else 'worse'} by the {rules.important_change_kind}, "
            f"but within the measurement error of two single scores (±{chance:.1f})"
        )
    if -change >= rules.important_change:
        return f"improved by at least the {rules.important_change_kind}"
    if change >= rules.important_change:
        return f"worse by at least the {rules.important_change_kind}"
    return f"change within the {rules.important_change_kind}"


def questionnaire_outcomes(items: pl.DataFrame, treatments: pl.DataFrame) -> pl.DataFrame:
    """One row per patient × treatment × instrument with a response in either period."""
    by_key: dict[tuple[str, str], list[StoredScore]] = {}
    for s in score_stored(items, skip_invalid=True):
        by_key.setdefault((s.patient_id, s.score.instrument), []).append(s)
    rows: list[dict[str, Any]] = []
    for t in treatments.iter_rows(named=True):
        start, end = t["start"], t["end"]
        for (pid, key), scores in by_key.items():
            if pid != t["patient_id"]:
                continue
            before = _pick(scores, start - dt.timedelta(days=BASELINE_DAYS), start)
            after = _pick(
                scores,
                start + dt.timedelta(days=MIN_FOLLOW_UP_DAYS),
                end + dt.timedelta(days=AFTER_END_DAYS) if end is not None else None,
            )
            base = {
                **treatment_columns(t),
                "endpoint": key,
                "instrument": INSTRUMENTS[key].name,
                "score_unit": INSTRUMENTS[key].unit,
                "important_change": INSTRUMENTS[key].important_change,
                "before_on": before.completed_on if before else None,
                "before_score": before.score.score if before else None,
                "during_on": after.completed_on if after else None,
                "during_score": after.score.score if after else None,
            }
            if before is None or after is None:
                missing = "before the start" if before is None else "during the treatment"
                if before is None and after is None:
                    continue
                rows.append(
                    {
                        **base,
                        "verdict": "not enough data",
                        "note": f"no scored response {missing}",
                    }
                )
                continue
            rows.append(
                {
                    **base,
                    "score_change": after.score.score - before.score.score,  # type: ignore[operator]
                    "verdict": _verdict(key, before.score.score, after.score.score),  # type: ignore[arg-type]
                    "note": NOTE,
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
