"""painlink's trigger and neck/back calls on generator_four's diaries, story by story,
beside oracle_four (the true exposure definitions, per-person logistic regression).

Each story of ``generator_four`` alone, all of h–m together and all with nothing
acting (``hijklmn``). Every diary is written as a CSV folder and read back the way
``painlink import`` reads a folder (``read_diary_folder``); painlink's calls come from
``painlink_calls`` on both routes (``shrink=False``: each person alone, "own";
``shrink=True``: the cohort model, "cohort") and are scored by ``score_calls.score``,
as is the oracle on the same cohort. One JSON line per (story, seed, route) goes to
``--out`` as soon as it is done; ``--calls-dir`` keeps the calls for diagnosis;
``--table`` prints the markdown table of results files.

    python benchmarks/attack_four.py --patients 300 --days 365 --seeds 1 2 \\
        --out /tmp/g4/results.jsonl --calls-dir /tmp/g4/calls
    python benchmarks/attack_four.py --table /tmp/g4/results.jsonl

``--generator five`` scores painlink the same way on ``generator_five``'s stories (p–v,
a fifth generator written blind, without an oracle of its own: its figures are the
false calls and painlink's sensitivity).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
import generator_five
import generator_four
from generator_four import SPINE_REGIONS, Cohort
from painlink_calls import add_trigger_options, trigger_settings
from score_calls import breakdown, mean_span, score

from painlink.rules.triggers import TriggerSettings

STORIES = ("base", "h", "i", "j", "k", "l", "m", "n", "hijklm", "hijklmn")
#: generator_five's stories (``--generator five``)
STORIES_FIVE = ("base", "p", "q", "r", "s", "t", "u", "v", "prstu", "pqrstu", "pqrstuv")
#: the generator the runs draw from (``--generator``)
GENERATOR = {"module": generator_four}
ROUTES = {"own": False, "cohort": True}
#: painlink's trigger settings for every run (``--cohort-s`` changes the cohort route's
#: s-value level; default painlink's)
SETTINGS: dict[str, TriggerSettings] = {"trigger": TriggerSettings()}


def _result(calls: pl.DataFrame, cohort: Cohort, story: str, seed: int, route: str) -> dict:
    result = score(calls, cohort.truth)
    result.update(breakdown(calls, cohort.truth))
    result.update(
        story=story,
        days=int(cohort.latent["window"].shape[1]),
        seed=seed,
        route=route,
        patients=cohort.patients.height,
        attacks_per_month=cohort.attacks.height / (cohort.latent["window"].sum() / 30.4),
    )
    return result


def run(
    story: str, patients: int, days: int, seed: int, calls_dir: Path | None, routes: list[str]
) -> Iterator[dict]:
    """Generate one cohort, score the oracle and painlink's routes on it."""
    from oracle_four import oracle

    cohort = GENERATOR["module"].generate(patients, days, seed, "" if story == "base" else story)
    name = f"{story}-{days}-{seed}"
    if calls_dir is not None:
        calls_dir.mkdir(parents=True, exist_ok=True)
        cohort.truth.write_parquet(calls_dir / f"{name}.truth.parquet")
    if "oracle" in routes and GENERATOR["module"] is generator_four:
        started = time.perf_counter()
        calls = oracle(cohort)
        result = _result(calls, cohort, story, seed, "oracle")
        result.update(seconds=round(time.perf_counter() - started, 1))
        if calls_dir is not None:
            calls.write_parquet(calls_dir / f"{name}-oracle.parquet")
        yield result
    painlink_routes = [r for r in ROUTES if r in routes]
    if not painlink_routes:
        return
    from painlink_calls import painlink_calls

    from painlink.interop.csv_diary import read_diary_folder

    with tempfile.TemporaryDirectory() as tmp:
        folder = cohort.write(Path(tmp) / "diary")
        diary = read_diary_folder(folder)
        for route in painlink_routes:
            started = time.perf_counter()
            calls = painlink_calls(diary, ROUTES[route], SPINE_REGIONS, SETTINGS["trigger"])
            result = _result(calls, cohort, story, seed, route)
            result.update(seconds=round(time.perf_counter() - started, 1))
            if calls_dir is not None:
                calls.write_parquet(calls_dir / f"{name}-{route}.parquet")
            yield result


def table(lines: list[dict]) -> str:
    """Markdown: story × route, each figure the mean (min–max) over seeds."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in lines:
        groups[(r["story"], r["days"], r["route"])].append(r)
    head = (
        "| story | route | seeds | false calls, null pairs "
        "| worst 3 variables (false-call rate) | neck/back null false "
        "| sensitivity (right direction) | displayed calls with CI excluding 1 |"
    )
    out = [head, "|---" * 8 + "|"]
    order = {s: i for i, s in enumerate(STORIES)}
    for s in STORIES_FIVE:
        order.setdefault(s, len(order))
    route_order = {"own": 0, "cohort": 1, "oracle": 2}
    for (story, _, route), rows in sorted(
        groups.items(),
        key=lambda kv: (order.get(kv[0][0], 99), kv[0][0], -kv[0][1], route_order[kv[0][2]]),
    ):
        worst: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            for var, rate in r["false calls by variable"].items():
                worst[var].append(rate)
        top = sorted(worst.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))[:3]
        cells = [
            story,
            route,
            ",".join(str(r["seed"]) for r in sorted(rows, key=lambda r: r["seed"])),
            mean_span(rows, "false calls on null pairs"),
            ", ".join(f"{v} {sum(x) / len(x):.3f}" for v, x in top),
            mean_span(rows, "false calls, neck/back null pairs"),
            mean_span(rows, "sensitivity (right direction)"),
            mean_span(rows, "displayed calls whose interval excludes 1"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--stories", nargs="+", help=f"default {STORIES} (five: {STORIES_FIVE})")
    parser.add_argument("--generator", choices=["four", "five"], default="four")
    parser.add_argument(
        "--routes", nargs="+", default=["oracle", "own", "cohort"], help="oracle, own, cohort"
    )
    parser.add_argument("--out", help="append one JSON line per scored run")
    parser.add_argument("--calls-dir", help="keep each run's calls and truth (Parquet)")
    parser.add_argument("--table", nargs="+", help="only print the table of these results files")
    add_trigger_options(parser)
    args = parser.parse_args()
    SETTINGS["trigger"] = trigger_settings(args)
    five = args.generator == "five"
    GENERATOR["module"] = generator_five if five else generator_four
    stories = args.stories or list(STORIES_FIVE if five else STORIES)
    if args.table:
        lines = [json.loads(x) for f in args.table for x in Path(f).read_text().splitlines() if x]
        print(table(lines))
        return
    lines = []
    calls_dir = Path(args.calls_dir) if args.calls_dir else None
    for seed in args.seeds:
        for story in stories:
            for result in run(story, args.patients, args.days, seed, calls_dir, args.routes):
                lines.append(result)
                if args.out:
                    with open(args.out, "a") as handle:
                        handle.write(json.dumps(result, default=str) + "\n")
                print(
                    f"{story:8} seed {seed} {result['route']:6} "
                    f"false {result['false calls on null pairs']:.3f} "
                    f"sens {result['sensitivity (right direction)']:.3f} "
                    f"({result['seconds']} s)",
                    flush=True,
                )
    print(table(lines))


if __name__ == "__main__":
    main()
