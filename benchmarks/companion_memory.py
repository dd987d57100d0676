"""Time and peak memory of the check of calls against the person's other records.

    python benchmarks/companion_memory.py [--patients 600] [--days 730] [--seed 5]

Diaries from the independent simulator, fitted by ``TriggerAnalysis.fit`` with the
cohort route; the check (``companion_check``) inside that fit is timed and its peak
memory traced (``tracemalloc``: NumPy's arrays are traced, polars' are not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tracemalloc
from typing import Any

import polars as pl

from painlink.analysis import triggers
from painlink.analysis.report import _days
from painlink.rules.triggers import CALLS, EXPLAINED
from painlink.simulate.independent import simulate_independent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=600)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    diary, _ = simulate_independent(args.patients, args.days, args.seed, dt.date(2025, 1, 1))
    seen: dict[str, float] = {}
    check = triggers.companion_check

    def measured(
        frame: Any, candidates: Any, estimates: Any, verdicts: pl.DataFrame, s: Any
    ) -> Any:
        seen["calls"] = verdicts.filter(pl.col("verdict").is_in(CALLS)).height
        started = time.perf_counter()
        tracemalloc.start()
        checked = check(frame, candidates, estimates, verdicts, s)
        seen["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        seen["took"] = time.perf_counter() - started
        seen["withdrawn"] = checked.filter(pl.col("verdict") == EXPLAINED).height
        return checked

    triggers.companion_check = measured  # the check inside the fit, as the fit calls it
    triggers.TriggerAnalysis().fit(_days(diary), shrink=True)
    print(
        f"{args.patients} people × {args.days} days, seed {args.seed}: {seen['calls']:.0f} calls "
        f"checked in {seen['took']:.1f} s (traced), {seen['withdrawn']:.0f} withdrawn; peak "
        f"traced memory {seen['peak'] / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
