"""Time and peak memory of the check of calls against the person's other records.

    python benchmarks/companion_memory.py [--patients 600] [--days 730] [--seed 5]

Diaries from the independent simulator; the cohort route's verdicts are made first
(as ``TriggerAnalysis.fit`` makes them), then ``companion_check`` alone is timed and
its peak memory traced (``tracemalloc``: NumPy's arrays are traced, polars' are not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tracemalloc

import polars as pl

from painlink.analysis import triggers
from painlink.analysis.companions import companion_check
from painlink.analysis.report import _days
from painlink.analysis.trigger_fit import person_estimates
from painlink.analysis.trigger_verdicts import verdict_rows
from painlink.days.candidates import candidate_columns
from painlink.rules.triggers import CALLS, EXPLAINED, TriggerSettings
from painlink.simulate.independent import simulate_independent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=600)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    s = TriggerSettings()
    diary, _ = simulate_independent(args.patients, args.days, args.seed, dt.date(2025, 1, 1))
    frame, candidates, scales = candidate_columns(_days(diary), s)
    estimates = person_estimates(frame, candidates, s)
    estimates, _cohort = triggers._cohort_model(estimates, s)
    best = triggers._decide(estimates, s, True)
    kinds = {c.variable: c.kind for c in candidates}
    recorded, scale_map = triggers._recorded(frame, scales, kinds)
    verdicts = verdict_rows(best, recorded, scale_map, s, kinds)
    calls = verdicts.filter(pl.col("verdict").is_in(CALLS)).height
    started = time.perf_counter()
    tracemalloc.start()
    checked = companion_check(frame, candidates, estimates, verdicts, s)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    took = time.perf_counter() - started
    withdrawn = checked.filter(pl.col("verdict") == EXPLAINED).height
    print(
        f"{args.patients} people × {args.days} days, seed {args.seed}: {calls} calls checked "
        f"in {took:.1f} s (traced), {withdrawn} withdrawn; peak traced memory "
        f"{peak / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
