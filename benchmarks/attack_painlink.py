"""painlink's trigger and neck/back calls on generator_three's diaries, story by story.

Each story of ``generator_three`` alone, all of a–f together, and all together with
nothing acting (``abcdefg``), each at the given sizes and seeds. Every diary is written
as a CSV folder and read back the way ``painlink import`` / ``painlink analyze`` read a
folder (``read_diary_folder``); painlink's calls come from ``painlink_calls`` (both
routes: ``shrink=True``, the cohort model; ``shrink=False``, each person alone) and are
scored by ``score_calls.score``. One JSON line per (story, days, seed, route) goes to
``--out`` as soon as it is done (a run that stops keeps what it finished), the calls
themselves to ``--calls-dir`` for the diagnosis; ``--table`` prints the markdown table
of a results file.

    python benchmarks/attack_painlink.py --patients 300 --days 365 180 --seeds 1 2 3 \\
        --out /tmp/g3/results.jsonl --calls-dir /tmp/g3/calls
    python benchmarks/attack_painlink.py --table /tmp/g3/results.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from generator_three import SPINE_REGIONS, Cohort, generate
from painlink_calls import add_trigger_options, trigger_settings
from score_calls import breakdown, mean_span, score

from painlink.rules.triggers import TriggerSettings

#: every story alone, all of a–f, and all with nothing acting; "base" has no story
STORIES = ("base", "a", "b", "c", "d", "e", "f", "g", "abcdef", "abcdefg")
ROUTES = {"cohort": True, "alone": False}
#: painlink's trigger settings for every run (painlink_calls.add_trigger_options)
SETTINGS: dict[str, TriggerSettings] = {"trigger": TriggerSettings()}


def _label(stories: str, effect_lag: int) -> str:
    return stories + (f" (stress, sleep at lag {effect_lag})" if effect_lag else "")


def _scored(
    calls: pl.DataFrame,
    cohort: Cohort,
    stories: str,
    effect_lag: int,
    days: int,
    seed: int,
    route: str,
) -> dict:
    """One run's scores (score_calls and the extras) with what the run was."""
    result = score(calls, cohort.truth.drop("kind", "recording"))
    result.update(breakdown(calls, cohort.truth))
    result.update(
        story=_label(stories, effect_lag),
        days=days,
        seed=seed,
        route=route,
        patients=cohort.truth["patient_id"].n_unique(),
        attack_days_share=cohort.attacks.height / cohort.days.height,
    )
    return result


def _cohort(stories: str, patients: int, days: int, seed: int, effect_lag: int) -> Cohort:
    """The cohort one run scores: painlink and the oracle read the same one."""
    return generate(
        patients, days, seed, "" if stories == "base" else stories, effect_lag=effect_lag
    )


def run_one(
    stories: str, patients: int, days: int, seed: int, calls_dir: Path | None, effect_lag: int = 0
) -> list:
    """Generate, write, read back, call (both routes) and score one cohort."""
    from painlink_calls import painlink_calls

    from painlink.interop.csv_diary import read_diary_folder

    cohort = _cohort(stories, patients, days, seed, effect_lag)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = cohort.write(Path(tmp) / "diary")
        diary = read_diary_folder(folder)
        for route, shrink in ROUTES.items():
            started = time.perf_counter()
            calls = painlink_calls(diary, shrink, SPINE_REGIONS, SETTINGS["trigger"])
            seconds = time.perf_counter() - started
            result = _scored(calls, cohort, stories, effect_lag, days, seed, route)
            result.update(seconds=round(seconds, 1))
            out.append(result)
            if calls_dir is not None:
                calls_dir.mkdir(parents=True, exist_ok=True)
                name = f"{stories}-{days}-{seed}-{route}" + (
                    f"-lag{effect_lag}" if effect_lag else ""
                )
                calls.write_parquet(calls_dir / f"{name}.parquet")
                cohort.truth.write_parquet(calls_dir / f"{name}.truth.parquet")
    return out


def run_oracle(
    stories: str, patients: int, days: int, seed: int, _: Path | None, effect_lag: int = 0
) -> list:
    """oracle_three's rates on the same cohort ``run_one`` scores (same seed, same data)."""
    from oracle_three import oracle, rates

    cohort = _cohort(stories, patients, days, seed, effect_lag)
    result = rates(oracle(cohort))
    result.update(
        story=_label(stories, effect_lag),
        days=days,
        seed=seed,
        route="oracle",
        patients=patients,
        seconds=0.0,
        attack_days_share=cohort.attacks.height / cohort.days.height,
    )
    return [result]


def rescore(calls_dir: Path) -> list[dict]:
    """Score every kept calls file again against the truth the current generator writes
    for the same cohort (same seed, same data: checked on the recorded pairs), so a
    corrected truth label does not need painlink run again."""
    out = []
    for path in sorted(calls_dir.glob("*.parquet")):
        if path.name.endswith(".truth.parquet"):
            continue
        parts = path.stem.split("-")
        stories, days, seed, route = parts[0], int(parts[1]), int(parts[2]), parts[3]
        effect_lag = int(parts[4][3:]) if len(parts) > 4 else 0
        kept = pl.read_parquet(path.with_name(path.stem + ".truth.parquet"))
        patients = kept["patient_id"].n_unique()
        cohort = generate(
            patients, days, seed, "" if stories == "base" else stories, effect_lag=effect_lag
        )
        # the stress effect is per SD of the recorded stress: a different cohort shows there
        key = ["patient_id", "variable", "recorded", "role", "true_log_or"]
        other = pl.col("variable") != "sleep_hours"
        if not cohort.truth.filter(other).select(key).equals(kept.filter(other).select(key)):
            raise ValueError(f"{path.name}: the generator no longer makes the same cohort")
        calls = pl.read_parquet(path)
        result = _scored(calls, cohort, stories, effect_lag, days, seed, route)
        result.update(seconds=math.nan)
        out.append(result)
    return out


def table(lines: list[dict]) -> str:
    """Markdown: story × days × route, each figure the mean (min–max) over seeds."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in lines:
        groups[(r["story"], r["days"], r["route"])].append(r)
    head = (
        "| story | days | route | seeds | false calls, null pairs "
        "| worst 3 variables (false-call rate) | neck/back null false "
        "| displayed calls with CI excluding 1 | sensitivity (trigger verdict) "
        "| sensitivity (right 'more' direction) | sensitivity (any call) "
        "| premonitory called trigger |"
    )
    out = [head, "|---" * 12 + "|"]
    order = {s: i for i, s in enumerate(STORIES)}
    for (story, days, route), rows in sorted(
        groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][0], -kv[0][1], kv[0][2])
    ):
        worst: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            for var, rate in r["false calls by variable"].items():
                worst[var].append(rate)
        top = sorted(worst.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))[:3]
        cells = [
            story,
            str(days),
            route,
            ",".join(str(r["seed"]) for r in sorted(rows, key=lambda r: r["seed"])),
            mean_span(rows, "false calls on null pairs"),
            ", ".join(f"{v} {sum(x) / len(x):.3f}" for v, x in top),
            mean_span(rows, "false calls, neck/back null pairs"),
            mean_span(rows, "displayed calls whose interval excludes 1"),
            mean_span(rows, "sensitivity (right direction)"),
            mean_span(rows, "sensitivity (right direction of 'more')"),
            mean_span(rows, "sensitivity (any positive call)"),
            mean_span(rows, "premonitory called likely trigger"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, nargs="+", default=[365])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--stories", nargs="+", default=list(STORIES))
    parser.add_argument("--out", help="append one JSON line per scored run")
    parser.add_argument("--calls-dir", help="keep each run's calls and truth (Parquet)")
    parser.add_argument("--table", nargs="+", help="only print the table of these results files")
    add_trigger_options(parser)
    parser.add_argument(
        "--effect-lag", type=int, default=0, help="stress and sleep act on the row before (1)"
    )
    parser.add_argument(
        "--oracle", action="store_true", help="score oracle_three instead of painlink (fast)"
    )
    parser.add_argument(
        "--rescore", help="score the calls kept in this folder against the current truth"
    )
    args = parser.parse_args()
    SETTINGS["trigger"] = trigger_settings(args)
    if args.rescore:
        lines = rescore(Path(args.rescore))
        if args.out:
            with open(args.out, "a") as handle:
                handle.writelines(json.dumps(r, default=str) + "\n" for r in lines)
        print(table(lines))
        return
    if args.table:
        lines = [json.loads(x) for f in args.table for x in Path(f).read_text().splitlines() if x]
        print(table(lines))
        return
    lines = []
    calls_dir = Path(args.calls_dir) if args.calls_dir else None
    for days in args.days:
        for seed in args.seeds:
            for stories in args.stories:
                run = run_oracle if args.oracle else run_one
                for result in run(stories, args.patients, days, seed, calls_dir, args.effect_lag):
                    lines.append(result)
                    if args.out:
                        with open(args.out, "a") as handle:
                            handle.write(json.dumps(result, default=str) + "\n")
                    print(
                        f"{stories:8} {days} seed {seed} {result['route']:6} "
                        f"false {result['false calls on null pairs']:.3f} "
                        f"ci {result.get('displayed calls whose interval excludes 1', 1):.3f} "
                        f"sens {result['sensitivity (any positive call)']:.3f} "
                        f"({result['seconds']} s)",
                        flush=True,
                    )
    print(table(lines))


if __name__ == "__main__":
    main()
