"""painlink's calls on a simulated diary in the scorer's contract (score_calls.py),
shared by the two validation benchmarks. Kept apart from the scorer, which must not
import painlink's analyses (tests/test_simulate_independent.py checks that)."""

from __future__ import annotations

import argparse

import polars as pl
from score_calls import spine_interval

from painlink.analysis.report import _days
from painlink.analysis.spine_link import spine_link
from painlink.analysis.triggers import TriggerAnalysis
from painlink.diary.frames import DiaryFrames
from painlink.rules.triggers import TriggerSettings


def painlink_calls(
    diary: DiaryFrames,
    shrink: bool,
    regions: dict[str, str],
    settings: TriggerSettings | None = None,
) -> pl.DataFrame:
    """painlink's trigger and neck/back verdicts on ``diary`` in the scorer's contract.

    The day table is built as ``painlink analyze`` builds it; ``shrink`` picks the
    cohort route (True) or each person alone (False); the trigger rows carry their
    variable, form, lag and the direction of "more of it"; the neck/back rows of the
    regions in ``regions`` (region → the variable the simulator's truth names) carry
    the verdict's estimate and interval (:func:`spine_interval`). ``settings``: the
    trigger settings (default: painlink's own)."""
    days = _days(diary)
    trig = TriggerAnalysis(settings).fit(days, shrink=shrink).to_frame()
    rows = trig.select(
        "patient_id", "variable", "verdict", "odds_ratio", "ci_low", "ci_high", "form",
        pl.col("lag").cast(pl.String), "direction",
    )  # fmt: skip
    spine = spine_link(days).to_frame().filter(pl.col("region").is_in(list(regions)))
    if spine.height:
        spine_rows = spine.select(
            "patient_id",
            pl.col("region").replace_strict(regions, default=None).alias("variable"),
            "verdict",
            *spine_interval(spine),
            pl.lit("neck/back timing").alias("form"),
            pl.lit(None, pl.String).alias("lag"),
            pl.lit(None, pl.Int64).alias("direction"),
        )
        rows = pl.concat([rows, spine_rows], how="vertical_relaxed")
    return rows


def add_cohort_options(parser: argparse.ArgumentParser) -> None:
    """``--cohort-model`` and ``--cohort-s``: the cohort route's model and level
    (:class:`TriggerSettings`; default painlink's), for both validation benchmarks."""
    parser.add_argument(
        "--cohort-model",
        choices=["weighted", "single_effect"],
        default=TriggerSettings().cohort_model,
        help="the cohort route's model (docs/validation.md)",
    )
    parser.add_argument(
        "--cohort-s",
        type=float,
        default=TriggerSettings().cohort_s,
        help="the cohort route's largest s-value called (docs/validation.md)",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--attack-history-days`` and ``--trend-days``: the days of the person's own
    attack history, and the days per slow (seasonal) term, in every trigger model
    (:class:`TriggerSettings`; default painlink's)."""
    parser.add_argument(
        "--attack-history-days",
        type=int,
        default=TriggerSettings().attack_history_days,
        help="days back of 'inside an attack' in every trigger model (docs/validation.md)",
    )
    parser.add_argument(
        "--trend-days",
        type=int,
        default=TriggerSettings().trend_days,
        help="days of diary per slow cosine term in every trigger model (docs/analysis.md)",
    )
