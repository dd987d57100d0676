"""All the per-person analyses of a diary, run together (``painlink analyze``).

The day table is built once (with migraine days by the default definition) and
handed to each analysis; results keep their own objects, and this report only
arranges them for people (``text``) and programs (``as_dict``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from painlink.analysis.forecast import ForecastResults, forecast
from painlink.analysis.outcome_results import OutcomeResults, outcomes
from painlink.analysis.spine_link import SpineLinkResults, spine_link
from painlink.analysis.triggers import TriggerAnalysis, TriggerResults
from painlink.clinical.day_counts import classify_days
from painlink.days.day_table import ANALYSIS_WINDOW_DAYS
from painlink.diary.frames import DiaryFrames


@dataclass
class AnalysisReport:
    triggers: TriggerResults
    spine: SpineLinkResults
    outcomes: OutcomeResults
    forecast: ForecastResults
    #: per person, what to read first when the diary is too small for any analysis
    messages: dict[str, str] = field(default_factory=dict)
    #: per person: the period analysed, and a note when older entries were left out
    periods: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PERIODS))

    @property
    def message(self) -> str | None:
        """The message of a one-person report (the web app's and the API's case); with
        several people, each has their own (``messages``, and in ``text``)."""
        return next(iter(self.messages.values())) if len(self.messages) == 1 else None

    def period_note(self, patient_id: str) -> str | None:
        """Plain words for a diary longer than the analysis window, else None."""
        row = self.periods.filter(pl.col("patient_id") == patient_id)
        return row["note"][0] if row.height else None

    def as_dict(self) -> dict[str, Any]:
        def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in frame.to_dicts()
            ]

        return {
            "triggers": rows(self.triggers.summary()),
            "triggers_shrunk_toward_cohort": self.triggers.shrunk,
            "neck_and_back": rows(self.spine.summary()),
            "treatment_outcomes": rows(self.outcomes.table),
            "forecast": rows(self.forecast.per_patient),
            "message": self.message,
            "analysed_periods": rows(self.periods),
            "note": "Associations in diaries, not proof of cause.",
        }

    def text(self, patient_id: str) -> str:
        lines = [
            f"── {patient_id} ──",
            *([self.messages[patient_id]] if patient_id in self.messages else []),
            *([note] if (note := self.period_note(patient_id)) else []),
            "Possible triggers and protectors (associations, not causes):",
        ]
        if self.messages.get(patient_id) == NOTHING_YET:
            return "\n".join(lines[:2])  # no headings over nothing
        summary = self.triggers.summary(patient_id)
        shown = summary.filter(pl.col("verdict") != "no association")
        for r in shown.sort("verdict").iter_rows(named=True):
            if r["verdict"] == "not enough data":
                lines.append(
                    f"  {r['factor']}: not enough data yet"
                    + (f" — {r['power_note']}" if r["power_note"] else "")
                )
            else:
                lines.append(
                    f"  {r['factor']} ({r['definition']}, {r['lag']} day(s) before): "
                    f"{r['verdict']}, odds ratio {r['odds_ratio']:.2f} "
                    f"(95% CI {r['ci_low']:.2f}–{r['ci_high']:.2f})"
                )
        quiet = summary.filter(pl.col("verdict") == "no association")["factor"].to_list()
        if quiet:
            lines.append(f"  no association found for: {', '.join(quiet)}")
        for r in self.spine.summary(patient_id).iter_rows(named=True):
            rise = r["rise_with_attacks"]
            lines.append(
                f"{r['region'].capitalize()} pain: {r['verdict']}"
                + (
                    f" (rises {rise:+.1f} points with attacks, 95% CI {r['rise_ci_low']:+.1f} to "
                    f"{r['rise_ci_high']:+.1f})"
                    if rise is not None and not math.isnan(rise)
                    else ""
                )
            )
        outcomes = self.outcomes.summary(patient_id)
        for r in outcomes.iter_rows(named=True):
            if r.get("score_change") is not None:
                lines.append(
                    f"{r['treatment']} — {r['instrument']}: {r['before_score']:g} "
                    f"({r['before_on']}) → {r['during_score']:g} ({r['during_on']}) "
                    f"{r['score_unit']}: {r['verdict']}"
                )
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
        f = self.forecast.per_patient.filter(pl.col("patient_id") == patient_id)
        if f.height:
            r = f.row(0, named=True)
            if r["show_to_patient"]:
                lines.append(
                    f"Tomorrow's attack risk: {r['tomorrow_risk']:.0%} "
                    f"(forecast AUC {r['auc']:.2f}, better than your usual rate)"
                )
            else:
                lines.append(
                    "Forecast: not shown — it does not yet predict better than your usual "
                    "attack rate."
                )
        return "\n".join(lines)


def _days(diary: DiaryFrames) -> pl.DataFrame:
    return classify_days(diary).with_columns(pl.col("headache_day_def").alias("headache_day"))


NOTHING_YET = (
    "Nothing recorded yet: log attacks and daily check-ins (headache-free days too) "
    "and patterns will show here."
)
NO_ATTACKS_YET = (
    "No attacks recorded yet: triggers, treatment outcomes and the forecast compare "
    "days with and without attacks, so they wait for the first ones."
)


def _messages(diary: DiaryFrames, days: pl.DataFrame) -> dict[str, str]:
    """Plain words for each diary too small for any analysis (an empty table is not an
    error: a new patient opens the insights page on the day they register)."""
    onsets = dict(days.group_by("patient_id").agg(pl.col("onset").any()).iter_rows())
    out = {}
    for pid in diary.patient_ids():
        if pid not in onsets:
            out[pid] = NOTHING_YET
        elif not onsets[pid]:
            out[pid] = NO_ATTACKS_YET
    return out


PERIODS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "first_date": pl.Date(),
    "last_date": pl.Date(),
    "earliest_entry": pl.Date(),
    "note": pl.String(),
}


def _periods(diary: DiaryFrames, days: pl.DataFrame) -> pl.DataFrame:
    """The period each person's analyses looked at (``ANALYSIS_WINDOW_DAYS`` at most),
    the earliest entry of the diary, and a note when that lies before the period."""
    earliest = pl.concat(
        [
            diary.days.select("patient_id", "date"),
            diary.attacks.select("patient_id", pl.col("start").dt.date().alias("date")),
            diary.medications.select("patient_id", pl.col("taken_at").dt.date().alias("date")),
            diary.spine_pain.select("patient_id", pl.col("start").dt.date().alias("date")),
            diary.factor_values.select("patient_id", "date"),
        ]
    )
    if not days.height:
        return pl.DataFrame(schema=PERIODS)
    years = ANALYSIS_WINDOW_DAYS // 365
    span = days.group_by("patient_id").agg(
        pl.col("date").min().alias("first_date"), pl.col("date").max().alias("last_date")
    )
    out = span.join(
        earliest.group_by("patient_id").agg(pl.col("date").min().alias("earliest_entry")),
        on="patient_id",
        how="left",
    )
    left_out = pl.col("earliest_entry") < pl.col("first_date")
    note = (
        pl.when(left_out)
        .then(
            pl.format(
                "Insights look at the last {} years of the diary, from {} to {}; "
                "entries since {} before that are kept but not analysed.",
                pl.lit(years),
                pl.col("first_date").cast(pl.String),
                pl.col("last_date").cast(pl.String),
                pl.col("earliest_entry").cast(pl.String),
            )
        )
        .otherwise(None)
    )
    return out.with_columns(note.alias("note")).select(list(PERIODS)).sort("patient_id")


def analyze(diary: DiaryFrames) -> AnalysisReport:
    days = _days(diary)
    return AnalysisReport(
        triggers=TriggerAnalysis().fit(days, case_crossover=True),
        spine=spine_link(days),
        outcomes=outcomes(diary, days),
        forecast=forecast(days),
        messages=_messages(diary, days),
        periods=_periods(diary, days),
    )
