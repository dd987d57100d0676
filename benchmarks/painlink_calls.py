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


def add_trigger_options(parser: argparse.ArgumentParser) -> None:
    """The trigger settings the validation benchmarks vary (default painlink's, from
    :class:`TriggerSettings`): the cohort route's model and level (``--cohort-model``,
    ``--cohort-s``), and in every trigger model the days of the person's own attack
    history (``--attack-history-days``) and the days per slow (seasonal) term
    (``--trend-days``). :func:`trigger_settings` reads them back."""
    default = TriggerSettings()
    parser.add_argument(
        "--cohort-model",
        choices=["weighted", "single_effect"],
        default=default.cohort_model,
        help="the cohort route's model (docs/validation.md)",
    )
    parser.add_argument(
        "--cohort-s",
        type=float,
        default=default.cohort_s,
        help="the cohort route's largest s-value called (docs/validation.md)",
    )
    parser.add_argument(
        "--attack-history-days",
        type=int,
        default=default.attack_history_days,
        help="days back of 'inside an attack' in every trigger model (docs/validation.md)",
    )
    parser.add_argument(
        "--trend-days",
        type=int,
        default=default.trend_days,
        help="days of diary per slow cosine term in every trigger model (docs/analysis.md)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other TriggerSettings field, e.g. --set serial_lag_share=0 (repeatable; "
        "for measuring what one part of the analysis costs or buys)",
    )


def _setting(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` as a TriggerSettings field and a value of the field's type (the
    default's type: a misspelt name or a value of the wrong kind is refused here, not
    silently ignored)."""
    name, sep, value = text.partition("=")
    default = TriggerSettings()
    if not sep or not hasattr(default, name):
        raise SystemExit(f"--set {text!r}: not NAME=VALUE of a TriggerSettings field")
    current = getattr(default, name)
    if isinstance(current, bool):
        if value not in ("true", "false"):
            raise SystemExit(f"--set {text!r}: true or false")
        return name, value == "true"
    if isinstance(current, tuple):
        return name, tuple(int(v) for v in value.split(",") if v)
    return name, type(current)(value)


def trigger_settings(args: argparse.Namespace, **more: float) -> TriggerSettings:
    """The :class:`TriggerSettings` of :func:`add_trigger_options`' arguments, with
    ``more`` (another setting a benchmark takes, e.g. ``q``) and any ``--set``."""
    chosen: dict[str, object] = dict(
        cohort_model=args.cohort_model,
        cohort_s=args.cohort_s,
        attack_history_days=args.attack_history_days,
        trend_days=args.trend_days,
        **more,
    )
    chosen.update(_setting(text) for text in getattr(args, "set", []))
    return TriggerSettings(**chosen)  # type: ignore[arg-type]
