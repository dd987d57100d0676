"""Validate trigger findings on diaries painlink did not write: the independent
simulator, its per-person oracle, and painlink's calls, scored side by side.

    python benchmarks/validate_independent.py --patients 300 --days 180 365 --seeds 1 2 3

For every diary length and seed: simulate (painlink.simulate.independent), call with
the oracle (benchmarks/oracle_independent.py) and with painlink
(:func:`painlink_calls`), score both against the truth (benchmarks/score_calls.py)
and print one markdown table per length with the mean over seeds (and each seed with
``--each``). ``--save DIR`` keeps each run's truth and calls as CSV for the scorer's
own CLI. Every figure comes from the diaries simulated in this run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from oracle_independent import oracle_calls
from painlink_calls import add_trigger_options, trigger_settings
from painlink_calls import painlink_calls as shared_calls
from score_calls import NESTED, markdown, nested_markdown, score

from painlink.diary.frames import DiaryFrames
from painlink.rules.triggers import TriggerSettings
from painlink.simulate.independent import simulate_independent

START = dt.date(2025, 1, 1)

REGION_TO_VARIABLE = {"neck": "neck_pain", "back": "low_back_pain"}
#: which trigger route to score: "cohort" (the default with 20+ patients: the cohort
#: model's posterior) or "own" (each person's own data, as one person in the app)
ROUTE = {"shrink": True}
#: the trigger settings (``--q`` changes the false-discovery rate; default painlink's)
SETTINGS: dict[str, TriggerSettings] = {"trigger": TriggerSettings()}


def painlink_calls(diary: DiaryFrames) -> pl.DataFrame:
    """painlink's calls on ``diary`` with the route chosen by ``--route`` (score_calls)."""
    return shared_calls(diary, ROUTE["shrink"], REGION_TO_VARIABLE, SETTINGS["trigger"])


#: the day columns a person may leave empty on a bad day (--missing-on-attack-days)
RECORDED_BY_HAND = (
    "stress", "sleep_hours", "sleep_quality", "caffeine_mg", "alcohol_units",
    "screen_hours", "exercise_min", "skipped_meals",
)  # fmt: skip


def missing_on_attack_days(diary: DiaryFrames, share: float, seed: int) -> DiaryFrames:
    """``diary`` with each hand-recorded value on a day an attack is going on left empty
    with probability ``share``: people record less on their worst days, so values go
    missing *because of* the outcome (not at random), which a per-day analysis of the
    recorded days must survive."""
    spans = diary.attacks.select(
        "patient_id",
        pl.date_ranges(
            pl.col("start").dt.date(), pl.col("end").dt.date().fill_null(pl.col("start").dt.date())
        ).alias("date"),
    ).explode("date")
    marked = diary.days.join(
        spans.unique().with_columns(pl.lit(True).alias("_attack")),
        on=["patient_id", "date"],
        how="left",
    )
    draw = np.random.default_rng([seed, 0x5EED]).random(marked.height) < share
    blank = pl.Series(marked["_attack"].fill_null(False).to_numpy() & draw)
    days = marked.with_columns(
        pl.when(blank).then(None).otherwise(pl.col(c)).alias(c)
        for c in RECORDED_BY_HAND
        if c in marked.columns
    ).select(diary.days.columns)
    return DiaryFrames.from_tables(**{**dict(diary.items()), "days": days})


def _mean(results: list[dict]) -> dict:
    out: dict = {}
    for key, value in results[0].items():
        if isinstance(value, dict):
            rows = {k for r in results for k in r[key]}
            out[key] = {
                k: _mean([{"v": r[key].get(k, math.nan)} for r in results])["v"] for k in rows
            }
            continue
        vals = [r[key] for r in results if not (isinstance(r[key], float) and math.isnan(r[key]))]
        out[key] = sum(vals) / len(vals) if vals else math.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, nargs="+", default=[180, 365])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-painlink", action="store_true", help="the oracle only")
    parser.add_argument("--each", action="store_true", help="a table per seed too")
    parser.add_argument("--save", type=Path, help="write truth and calls CSVs here")
    parser.add_argument(
        "--route",
        choices=["cohort", "own"],
        default="cohort",
        help="painlink's trigger route: the cohort model (default) or each person alone",
    )
    parser.add_argument(
        "--missing-on-attack-days",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="leave this share of hand-recorded values empty on attack days (not at random)",
    )
    parser.add_argument(
        "--q",
        type=float,
        default=TriggerSettings().q,
        help="painlink's false-discovery rate over a person's variables (what the false-call "
        "budget buys: docs/validation.md)",
    )
    add_trigger_options(parser)
    args = parser.parse_args()
    ROUTE["shrink"] = args.route == "cohort"
    SETTINGS["trigger"] = trigger_settings(args, q=args.q)
    for days in args.days:
        scored: dict[str, list[dict]] = {"oracle": [], "painlink": []}
        for seed in args.seeds:
            t0 = time.perf_counter()
            diary, truth = simulate_independent(args.patients, days, seed, START)
            if args.missing_on_attack_days:
                diary = missing_on_attack_days(diary, args.missing_on_attack_days, seed)
            t1 = time.perf_counter()
            calls = {"oracle": oracle_calls(diary, truth, START, days)}
            t2 = time.perf_counter()
            timing = f"simulate {t1 - t0:.1f} s, oracle {t2 - t1:.1f} s"
            if not args.no_painlink:
                try:
                    calls["painlink"] = painlink_calls(diary)
                    timing += f", painlink {time.perf_counter() - t2:.1f} s"
                except Exception as exc:
                    print(f"painlink_calls failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            print(f"{args.patients} patients × {days} days, seed {seed}: {timing}", file=sys.stderr)
            results = {name: score(frame, truth) for name, frame in calls.items()}
            for name, result in results.items():
                scored[name].append(result)
            if args.each:
                print(f"\n### {days} days, seed {seed}\n\n{markdown(results)}")
            if args.save:
                folder = args.save / f"d{days}-s{seed}"
                folder.mkdir(parents=True, exist_ok=True)
                truth.write_csv(folder / "truth.csv")
                for name, frame in calls.items():
                    frame.write_csv(folder / f"calls-{name}.csv")
        means = {name: _mean(rs) for name, rs in scored.items() if rs}
        print(
            f"\n### {args.patients} patients × {days} days, mean of seeds "
            f"{', '.join(map(str, args.seeds))}\n\n{markdown(means)}"
        )
        for key in NESTED:
            print("\n" + nested_markdown(means, key))


if __name__ == "__main__":
    main()
