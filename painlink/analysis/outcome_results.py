"""Every treatment's outcomes in one results object: diary rates and questionnaire scores.

The two kinds of row answer the same question ("did it change?") with different
evidence — a rate ratio with an interval from many days, or one score each side
against the instrument's important change — so they share a table and a picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from painlink.analysis.outcomes import treatment_outcomes
from painlink.analysis.plotting import figure, finish, for_patient
from painlink.analysis.questionnaire_outcomes import questionnaire_outcomes
from painlink.clinical.day_counts import classify_days
from painlink.diary.frames import DiaryFrames


@dataclass
class OutcomeResults:
    table: pl.DataFrame

    @property
    def height(self) -> int:
        return self.table.height

    def summary(self, patient_id: str | None = None) -> pl.DataFrame:
        return for_patient(self.table, patient_id)

    def plot(self, patient_id: str, path: str | None = None):  # type: ignore[no-untyped-def]
        """Rate ratios with 95% intervals (log scale; ≤0.5 is a 50% reduction), and each
        questionnaire's change in units of its important change (beyond ±1 is a change
        the instrument can tell from measurement error)."""
        s = self.summary(patient_id)
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
        for i, r in enumerate(rates.iter_rows(named=True)):
            top.plot([r["ci_low"], r["ci_high"]], [i, i], color="#2471a3", lw=2)
            top.plot(r["rate_ratio"], i, "o", color="#2471a3")
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
        return finish(fig, path)


def outcomes(diary: DiaryFrames, days: pl.DataFrame | None = None) -> OutcomeResults:
    """Every treatment's outcome rows: diary rates and questionnaire scores together."""
    if days is None:
        days = classify_days(diary).with_columns(pl.col("headache_day_def").alias("headache_day"))
    return OutcomeResults(
        pl.concat(
            [
                treatment_outcomes(days, diary.treatments, diary.attacks),
                questionnaire_outcomes(diary.questionnaire_items, diary.treatments),
            ],
            how="diagonal_relaxed",
        )
    )
