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

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from oracle_independent import CALLS_SCHEMA, oracle_calls
from score_calls import NESTED, markdown, nested_markdown, score

from painlink.diary.frames import DiaryFrames
from painlink.simulate.independent import simulate_independent

START = dt.date(2025, 1, 1)

#: painlink's factor names today → the day column they are read from (not 1:1: two
#: stress factors read one column; TODO(lead): replace when the analysis names its
#: variables by column)
FACTOR_TO_VARIABLE = {
    "alcohol": "alcohol_units",
    "caffeine_drop": "caffeine_mg",
    "exercise": "exercise_min",
    "high_steps": "steps",
    "high_stress": "stress",
    "stress_letdown": "stress",
    "menstrual_window": "menstruation",
    "pill_free": "contraceptive_phase",
    "pressure_drop": "pressure_hpa",
    "short_sleep": "sleep_hours",
    "skipped_meal": "skipped_meals",
    "neck_pain": "neck_pain",
}
REGION_TO_VARIABLE = {"neck": "neck_pain", "back": "low_back_pain"}


# ---------------------------------------------------------------------------------
# TODO(lead): painlink's side. Fill this with the new analysis's calls in the scorer's
# contract (benchmarks/score_calls.py): patient_id, variable, verdict, odds_ratio,
# ci_low, ci_high, form, lag. Today it runs the whole report (the entry point
# `painlink analyze` uses) and maps its trigger and neck/back rows by name.
# ---------------------------------------------------------------------------------
def painlink_calls(diary: DiaryFrames) -> pl.DataFrame:
    """painlink's calls on ``diary``, mapped onto day-column names."""
    from painlink.analysis.report import analyze  # TODO(lead): the new trigger analysis

    report = analyze(diary).as_dict()
    rows = []
    for t in report.get("triggers", []):
        factor = str(t.get("factor"))
        rows.append(
            {
                "patient_id": t.get("patient_id"),
                "variable": FACTOR_TO_VARIABLE.get(factor, factor),
                "verdict": t.get("verdict"),
                "odds_ratio": t.get("odds_ratio"),
                "ci_low": t.get("ci_low"),
                "ci_high": t.get("ci_high"),
                "form": f"painlink:{factor}",  # never mistaken for a truth form
                "lag": None if t.get("lag") is None else str(t.get("lag")),
            }
        )
    for n in report.get("neck_and_back", []):
        rows.append(
            {
                "patient_id": n.get("patient_id"),
                "variable": REGION_TO_VARIABLE.get(str(n.get("region")), str(n.get("region"))),
                "verdict": n.get("verdict"),
                "odds_ratio": n.get("odds_ratio_day_before"),
                "ci_low": n.get("ci_low"),
                "ci_high": n.get("ci_high"),
                "form": "neck/back timing",
                "lag": None,
            }
        )
    schema = {k: v for k, v in CALLS_SCHEMA.items() if k != "p_value"}
    return pl.DataFrame(rows, schema=schema, strict=False)


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
    args = parser.parse_args()
    for days in args.days:
        scored: dict[str, list[dict]] = {"oracle": [], "painlink": []}
        for seed in args.seeds:
            t0 = time.perf_counter()
            diary, truth = simulate_independent(args.patients, days, seed, START)
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
