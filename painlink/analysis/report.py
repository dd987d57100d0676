"""All the per-person analyses of a diary, run together (``painlink analyze``).

The day table is built once (with migraine days by the default definition) and
handed to each analysis; results keep their own objects, and this report only
arranges them for people (``text``/``summary``) and programs (``as_dict``/``to_dict``),
itself a :class:`~painlink.analysis.results.Results`.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from painlink.analysis.forecast import ForecastResults, forecast
from painlink.analysis.outcome_results import OutcomeResults, outcomes
from painlink.analysis.plotting import PICTURES
from painlink.analysis.results import Results, json_rows, one_patient, patients_of
from painlink.analysis.spine_link import SpineLinkResults, spine_link
from painlink.analysis.threads import one_blas_thread
from painlink.analysis.triggers import TriggerAnalysis, TriggerResults
from painlink.clinical.day_counts import classify_days
from painlink.days.day_table import ANALYSIS_WINDOW_DAYS
from painlink.diary.frames import DiaryFrames

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class AnalysisReport(Results):
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
        return {
            "triggers": json_rows(self.triggers.to_frame()),
            "triggers_shrunk_toward_cohort": self.triggers.shrunk,
            "neck_and_back": json_rows(self.spine.to_frame()),
            "treatment_outcomes": json_rows(self.outcomes.table),
            "forecast": json_rows(self.forecast.per_patient),
            "message": self.message,
            "analysed_periods": json_rows(self.periods),
            "note": "Associations in diaries, not proof of cause.",
        }

    def to_dict(self) -> dict[str, Any]:
        """The results contract's name for :meth:`as_dict` (the web API's answer)."""
        return self.as_dict()

    def text(self, patient_id: str) -> str:
        lines = [
            f"── {patient_id} ──",
            *([self.messages[patient_id]] if patient_id in self.messages else []),
            *([note] if (note := self.period_note(patient_id)) else []),
            *self.triggers.lines(patient_id),
        ]
        if self.messages.get(patient_id) == NOTHING_YET:
            return "\n".join(lines[:2])  # no headings over nothing
        lines += self.spine.lines(patient_id)
        lines += self.outcomes.lines(patient_id)
        lines += self.forecast.lines(patient_id)
        return "\n".join(lines)

    def _people(self) -> list[str]:
        return list(dict.fromkeys([*patients_of(self.periods), *self.messages]))

    def summary(self, patient_id: str | None = None) -> str:
        """:meth:`text` of one person, or of everyone (each under their own heading)."""
        people = [patient_id] if patient_id is not None else self._people()
        return "\n\n".join(self.text(pid) for pid in people)

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """Every verdict in one long table: which analysis, about what, and what it found."""
        t = self.triggers.to_frame(patient_id)
        s = self.spine.to_frame(patient_id)
        o = self.outcomes.to_frame(patient_id)
        f = self.forecast.to_frame(patient_id)
        shown = (
            pl.when(pl.col("show_to_patient")).then(pl.lit("shown")).otherwise(pl.lit("not shown"))
        )
        return pl.concat(
            [
                pl.DataFrame(schema=VERDICTS),
                t.select(
                    "patient_id",
                    pl.lit("triggers").alias("analysis"),
                    pl.col("factor").alias("about"),
                    "verdict",
                ),
                s.select(
                    "patient_id",
                    pl.lit("spine").alias("analysis"),
                    pl.col("region").alias("about"),
                    "verdict",
                ),
                o.select(
                    "patient_id",
                    pl.lit("outcomes").alias("analysis"),
                    pl.format("{}: {}", "treatment", "endpoint").alias("about"),
                    "verdict",
                ),
                f.select(
                    "patient_id",
                    pl.lit("forecast").alias("analysis"),
                    pl.lit("tomorrow's attack risk").alias("about"),
                    shown.alias("verdict"),
                ),
            ],
            how="vertical_relaxed",
        )

    def plot(
        self, patient_id: str | None = None, path: str | None = None, part: str = "triggers"
    ) -> Figure:
        """The picture of one ``part`` (``PICTURES``: triggers, spine, outcomes, forecast)."""
        if part not in PICTURES:
            raise ValueError(f"no picture {part!r}: one of {', '.join(PICTURES)}")
        if patient_id is None:
            patient_id = one_patient(pl.DataFrame({"patient_id": self._people()}), None)
        chosen: Results = getattr(self, part)
        return chosen.plot(patient_id, path)


#: the columns of ``AnalysisReport.to_frame``
VERDICTS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "analysis": pl.String(),
    "about": pl.String(),
    "verdict": pl.String(),
}


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


#: run the trigger fit on a second thread beside the other analyses (see :func:`analyze`);
#: False runs everything on the caller's thread (the benchmark's ``--one-thread``)
SECOND_THREAD: bool = True


@one_blas_thread
def analyze(diary: DiaryFrames) -> AnalysisReport:
    """Every per-person analysis of ``diary``, from one day table.

    The trigger fit (about 60% of the work) runs on a second thread while this one does
    the neck/back, outcome and forecast analyses: the heavy steps are NumPy kernels and
    Polars queries, which let go of the GIL, so on the brief's two cores the two halves
    overlap. The analyses share no mutable state (the day table is immutable, every
    random draw is seeded per call), so the report is the same as on one thread
    (``tests/test_analysis_threads.py``); the measured gain is in docs/validation.md,
    "Speed". A thread is made per call, not pooled, so one person's analysis never
    queues behind another's on a server.
    """
    days = _days(diary)
    fit = functools.partial(TriggerAnalysis().fit, days, case_crossover=True)
    if SECOND_THREAD:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="painlink-triggers") as beside:
            fitting = beside.submit(fit)
            spine, outcome, ahead = spine_link(days), outcomes(diary, days), forecast(days)
            triggers = fitting.result()
    else:
        triggers = fit()
        spine, outcome, ahead = spine_link(days), outcomes(diary, days), forecast(days)
    return AnalysisReport(
        triggers=triggers,
        spine=spine,
        outcomes=outcome,
        forecast=ahead,
        messages=_messages(diary, days),
        periods=_periods(diary, days),
    )


def fit(diary: DiaryFrames) -> AnalysisReport:
    """Every per-person analysis of the diary (:func:`analyze`, under the contract's name)."""
    return analyze(diary)
