"""Every treatment's outcomes in one results object: diary rates and questionnaire scores.

The two kinds of row answer the same question ("did it change?") with different
evidence — a rate ratio with an interval from many days, or one score each side
against the instrument's important change — so they share a table and a picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from painlink.analysis.outcomes import treatment_outcomes
from painlink.analysis.plotting import figure, finish, for_patient, nothing_yet
from painlink.analysis.questionnaire_outcomes import questionnaire_outcomes
from painlink.analysis.results import (
    Results,
    json_rows,
    one_patient,
    patients_of,
    per_patient_text,
    signed,
)
from painlink.clinical.day_counts import classify_days
from painlink.diary.frames import DiaryFrames

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class OutcomeResults(Results):
    table: pl.DataFrame

    @property
    def height(self) -> int:
        return self.table.height

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        return for_patient(self.table, patient_id)

    def summary(self, patient_id: str | None = None) -> str:
        """Per person and treatment: rates before and during, or the two scores."""
        return per_patient_text(patients_of(self.table), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's treatments in the analysis report's wording, notes last."""
        lines = []
        outcomes = self.to_frame(patient_id)
        for r in outcomes.iter_rows(named=True):
            if r.get("score_change") is not None:
                lines.append(
                    f"{r['treatment']} — {r['instrument']}: {r['before_score']:g} "
                    f"({r['before_on']}) → {r['during_score']:g} ({r['during_on']}) "
                    f"{r['score_unit']}: {r['verdict']}"
                )
                continue
            if r.get("change") is not None:
                lines.append(f"{r['treatment']} — {attack_change_words(r)}: {r['verdict']}")
                continue
            if r.get("rate_ratio") is None:
                lines.append(
                    f"{r['treatment']} — {r['endpoint']}: {r['verdict']} ({r.get('note')})"
                )
                continue
            lines.append(
                f"{r['treatment']} — {r['endpoint'].replace('_', ' ')}: "
                f"{r['before_per_28d']:.1f} → {r['during_per_28d']:.1f} per 28 days, "
                f"rate ratio {r['rate_ratio']:.2f} (95% CI {r['ci_low']:.2f}–{r['ci_high']:.2f}); "
                f"P(≥50% fewer) {r['p_reduction_50']:.0%}"
            )
        for note in dict.fromkeys(outcomes["note"].to_list() if outcomes.height else []):
            lines.append(f"  note: {note}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"rows": json_rows(self.table)}

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """Rate ratios with 95% intervals (log scale; ≤0.5 is a 50% reduction), and each
        questionnaire's change in units of its important change (beyond ±1 is a change
        the instrument can tell from measurement error)."""
        patient_id = one_patient(self.table, patient_id)
        s = self.to_frame(patient_id)
        rates = (
            s.filter(pl.col("rate_ratio").is_not_null()) if "rate_ratio" in s.columns else s.clear()
        )
        scores = (
            s.filter(
                pl.col("score_change").is_not_null() & pl.col("important_change").is_not_null()
            )
            if "score_change" in s.columns
            else s.clear()
        )
        fig, axes = figure(rates.height + scores.height, width=9, panels=2)
        top, bottom = axes[0, 0], axes[1, 0]
        positive = [v for v in (rates["ci_low"].to_list() if rates.height else []) if v and v > 0]
        floor = min([0.05, *[v / 2 for v in positive]])  # where a ratio of 0 is drawn
        for i, r in enumerate(rates.iter_rows(named=True)):
            low, ratio = max(r["ci_low"], floor), r["rate_ratio"]
            top.plot([low, r["ci_high"]], [i, i], color="#2471a3", lw=2)
            if ratio > 0:
                top.plot(ratio, i, "o", color="#2471a3")
            else:  # no events during: the ratio is 0, off a log scale — an arrow to the left
                top.plot(low, i, "<", color="#2471a3")
        top.axvline(1.0, color="black", lw=1, ls="--")
        top.axvline(0.5, color="#27ae60", lw=1, ls=":")
        top.set_xscale("log")
        ticks = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0]
        top.set_xticks(ticks, [f"{t:g}" for t in ticks])
        top.minorticks_off()
        top.set_yticks(
            range(rates.height),
            [
                f"{r['treatment']}: {r['endpoint'].replace('_', ' ')}"
                for r in rates.iter_rows(named=True)
            ],
        )
        top.set_xlabel("rate ratio, during / before (95% interval; log scale)")
        top.set_title(f"{patient_id}: before and during treatment (no control group)")
        for i, r in enumerate(scores.iter_rows(named=True)):
            bottom.barh(i, r["score_change"] / r["important_change"], color="#7f8c8d")
        for x in (-1, 1):
            bottom.axvline(x, color="black", lw=1, ls=":")
        bottom.axvline(0, color="black", lw=1)
        bottom.set_yticks(
            range(scores.height),
            [f"{r['treatment']}: {r['endpoint']}" for r in scores.iter_rows(named=True)],
        )
        bottom.set_xlabel("questionnaire change ÷ its important change (negative: better)")
        if not rates.height and not scores.height:
            nothing_yet(top, NOT_YET)
        return finish(fig, path)


def attack_change_words(r: dict[str, Any]) -> str:
    """An attack-duration or -intensity row in words, with its numbers and interval."""
    n = f"{r['attacks_before']} attacks before, {r['attacks_during']} during"
    if r["endpoint"] == "attack_duration":
        return (
            f"attack duration: typically {r['before_value']:.1f} h → {r['during_value']:.1f} h, "
            f"{r['change']:.2f} times as long (95% CI {r['change_low']:.2f}–"
            f"{r['change_high']:.2f}; {n})"
        )
    low, change, high = (signed(r[k]) for k in ("change_low", "change", "change_high"))
    return (
        f"attack intensity (0–3): mean {r['before_value']:.1f} → {r['during_value']:.1f}, "
        f"change {change} (95% CI {low} to {high}; {n})"
    )


NOT_YET = (
    "Not enough data yet: a treatment needs 28 days of diary before it\n"
    "and 28 days during it, or a questionnaire on each side"
)
#: every outcome row carries these (null where they do not apply), so a page or a
#: report can ask any row for them: a diary with only "not enough data" rows, or only
#: questionnaire rows, still has them
COLUMNS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "treatment": pl.String(),
    "kind": pl.String(),
    "start": pl.Date(),
    "end": pl.Date(),
    "endpoint": pl.String(),
    "verdict": pl.String(),
    "note": pl.String(),
    "before_per_28d": pl.Float64(),
    "during_per_28d": pl.Float64(),
    "rate_ratio": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_reduction_50": pl.Float64(),
    "regression_to_mean_warning": pl.Boolean(),
    "instrument": pl.String(),
    "score_unit": pl.String(),
    "important_change": pl.Float64(),
    "before_on": pl.Date(),
    "before_score": pl.Float64(),
    "during_on": pl.Date(),
    "during_score": pl.Float64(),
    "score_change": pl.Float64(),
    #: attack duration and intensity (outcomes.attack_changes): the change, its interval,
    #: the scale it is on and each period's level
    "change": pl.Float64(),
    "change_low": pl.Float64(),
    "change_high": pl.Float64(),
    "change_scale": pl.String(),
    "before_value": pl.Float64(),
    "during_value": pl.Float64(),
    "attacks_before": pl.Int64(),
    "attacks_during": pl.Int64(),
}


def outcomes(diary: DiaryFrames, days: pl.DataFrame | None = None) -> OutcomeResults:
    """Every treatment's outcome rows: diary rates and questionnaire scores together."""
    if days is None:
        days = classify_days(diary).with_columns(pl.col("headache_day_def").alias("headache_day"))
    return OutcomeResults(
        pl.concat(
            [
                pl.DataFrame(schema=COLUMNS),
                treatment_outcomes(days, diary.treatments, diary.attacks),
                questionnaire_outcomes(diary.questionnaire_items, diary.treatments),
            ],
            how="diagonal_relaxed",
        )
    )


def fit(diary: DiaryFrames, days: pl.DataFrame | None = None) -> OutcomeResults:
    """Every treatment's outcomes (``days``: the classified day table, when already built)."""
    return outcomes(diary, days)
