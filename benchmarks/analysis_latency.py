"""All analyses of one patient with two years of diary: median wall time.

    python benchmarks/analysis_latency.py [--repeats 21]

Triggers (33 models), neck/back timing, treatment outcomes and the rolling-origin
forecast, from a DiaryFrames already in memory (what the web app holds after a read).
Target: under 200 ms (median).
"""

from __future__ import annotations

import argparse
import statistics
import time

from painlink.analysis.report import analyze
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=21)
    args = ap.parse_args()
    diary, _ = next(simulate(SimulationSpec(patients=1, days=730, seed=12)))
    analyze(diary)  # warm up imports and caches
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        analyze(diary)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"one patient, 730 days, {diary.attacks.height} attacks: "
        f"median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, "
        f"max {max(times):.0f} ms over {args.repeats} runs"
    )


if __name__ == "__main__":
    main()
