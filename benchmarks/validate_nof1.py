"""N-of-1 experiments on diaries painlink did not write: does the test hold its size,
and is the power it promises the power it has?

    python benchmarks/validate_nof1.py --patients 300 --seeds 1 2 3

For every person of the independent simulator (:func:`painlink.simulate.independent.
simulate_independent`, 365 days; written without reading the analyses, with a drifting
baseline, attacks that cannot overlap and lower the odds for a day or two after), the
experiment is designed from the first 180 days (:func:`painlink.analysis.nof1.
design_experiment`: 4 pairs of 14-day blocks, order drawn at random, power for 40%
fewer attacks) and "run" on the days after:

- **no effect**: the diary as it is — any "fewer" or "more" is a false positive;
- **40% fewer attacks**: each attack onset inside an "on" block is kept with
  probability 0.6 (thinning a point process multiplies its rate by exactly that), so
  the promised power can be compared with the share of experiments that find it.

Every figure comes from the diaries simulated in this run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zlib
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painlink.analysis.nof1 import analyze_experiment, design_experiment
from painlink.analysis.report import _days
from painlink.simulate.independent import simulate_independent

START = dt.date(2025, 1, 1)
HISTORY_DAYS = 180
RATE_RATIO = 0.6


def thinned(
    days: pl.DataFrame, on: list[tuple[dt.date, dt.date]], keep: float, seed: int
) -> pl.DataFrame:
    """``days`` with each onset inside an "on" block kept with probability ``keep``."""
    inside = pl.lit(False)
    for start, end in on:
        inside = inside | ((pl.col("date") >= start) & (pl.col("date") <= end))
    draw = np.random.default_rng(seed).random(days.height)
    return days.with_columns((pl.col("onset") & ~(inside & pl.Series(draw >= keep))).alias("onset"))


def run(patients: int, seed: int, pairs: int) -> pl.DataFrame:
    diary, _ = simulate_independent(patients, 365, seed, START)
    days = _days(diary)
    begin = START + dt.timedelta(days=HISTORY_DAYS)
    rows = []
    for (pid,), person in days.sort("patient_id", "date").group_by(
        ["patient_id"], maintain_order=True
    ):
        own_seed = zlib.crc32(f"{pid}-{seed}".encode())
        history = person.filter(pl.col("date") < begin)
        if history.height < 28 or not history["onset"].any():
            continue
        design = design_experiment(
            history, "the change", begin, pairs=pairs, rate_ratio=RATE_RATIO, seed=own_seed % 2**31
        )
        on = [(b.start, b.end) for b in design.blocks if b.condition == "on"]
        row = {"patient_id": pid, "promised_power": design.power}
        for label, frame in (
            ("null", person),
            ("effect", thinned(person, on, RATE_RATIO, own_seed)),
        ):
            try:
                result = analyze_experiment(frame, design)
            except ValueError:  # a block with too few diary days
                row[label] = "not analysable"
                continue
            row[label] = (
                "fewer" if result.ci_high < 1 else "more" if result.ci_low > 1 else "no clear"
            )
        rows.append(row)
    return pl.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--pairs", type=int, default=4, help="pairs of 14-day blocks (≤ 6 fit)")
    args = ap.parse_args()
    r = pl.concat([run(args.patients, s, args.pairs) for s in args.seeds])
    done = r.filter((pl.col("null") != "not analysable") & (pl.col("effect") != "not analysable"))
    print(f"experiments: {r.height}, analysable: {done.height}\n")
    print("| | share |\n|---|---|")
    print(f'| no effect: "fewer" said | {(done["null"] == "fewer").mean():.3f} |')
    print(f'| no effect: "more" said | {(done["null"] == "more").mean():.3f} |')
    print(
        f'| 40% fewer: "fewer" said (achieved power) | {(done["effect"] == "fewer").mean():.3f} |'
    )
    print(f"| 40% fewer: promised power (mean) | {done['promised_power'].mean():.3f} |")
    bins = (
        done.with_columns((pl.col("promised_power") * 5).floor().clip(0, 4).alias("bin"))
        .group_by("bin")
        .agg(
            pl.len().alias("experiments"),
            pl.col("promised_power").mean().alias("promised"),
            (pl.col("effect") == "fewer").mean().alias("achieved"),
        )
        .sort("bin")
    )
    print("\n| promised power | experiments | mean promised | achieved |\n|---|---|---|---|")
    for b in bins.iter_rows(named=True):
        low = b["bin"] / 5
        print(
            f"| {low:.1f}–{low + 0.2:.1f} | {b['experiments']} | {b['promised']:.3f} | "
            f"{b['achieved']:.3f} |"
        )


if __name__ == "__main__":
    main()
