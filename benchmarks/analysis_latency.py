"""All analyses of one patient with two years of diary, and of a 300-patient folder.

    python benchmarks/analysis_latency.py [--repeats 21] [--cohort 300] [--cohort-days 365]
        [--load 2] [--blas-threads 0] [--one-thread]

One patient: triggers (every recorded variable × forms × lags 1–2, lag 0 where
allowed), neck/back timing, treatment outcomes, the rolling-origin forecast and the
case-crossover beside each verdict, from a DiaryFrames already in memory (what the
web app holds after a read). Target: under 200 ms (median). A cohort: the same
``analyze`` over a folder of ``--cohort`` simulated patients (the cohort model on),
median of 3 runs; target under 60 s on 2 cores. Each part also times a reference in
the same run — building the day table alone — so a loaded machine shows as a slow
reference, not as a slow analysis. ``--load N`` runs N busy processes beside the
measurement (a machine doing other work, a server answering others); ``--blas-threads
0`` lets BLAS use its own thread pool instead of painlink's one thread
(:mod:`painlink.analysis.threads`), to measure what that limit buys; ``--one-thread``
runs everything on the caller's thread — the trigger fit not beside the other analyses
(:func:`painlink.analysis.report.analyze`), the kernels' large batches not shared
(:data:`painlink.analysis.threads.KERNEL_THREADS`) — to measure what the threads buy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from painlink.analysis import report, threads
from painlink.analysis.report import _days, analyze
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def _median_ms(run: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--cohort", type=int, default=300, help="patients in the folder (0: skip)")
    ap.add_argument("--cohort-days", type=int, default=365)
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="BLAS threads during the analyses (default: painlink's, one; 0: the library's own)",
    )
    ap.add_argument(
        "--load", type=int, default=0, help="busy processes running beside the measurement"
    )
    ap.add_argument(
        "--one-thread",
        action="store_true",
        help="run every analysis on one thread (default: two, see the module)",
    )
    args = ap.parse_args()
    report.SECOND_THREAD = not args.one_thread
    threads.KERNEL_THREADS = 1 if args.one_thread else threads.KERNEL_THREADS
    if args.blas_threads is not None:
        threads.LIMIT = args.blas_threads or None
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        _measure(args)
    finally:
        for b in busy:
            b.kill()


def _measure(args: argparse.Namespace) -> None:
    print(
        f"load average at start: {os.getloadavg()[0]:.1f}; busy processes beside: {args.load}; "
        f"{'one thread' if args.one_thread else 'two threads'}"
    )
    diary, _ = next(simulate(SimulationSpec(patients=1, days=730, seed=12)))
    analyze(diary)  # warm up imports and caches
    med, lo, hi = _median_ms(lambda: analyze(diary), args.repeats)
    ref, _, _ = _median_ms(lambda: _days(diary), args.repeats)
    print(
        f"one patient, 730 days, {diary.attacks.height} attacks: all analyses median "
        f"{med:.0f} ms (min {lo:.0f}, max {hi:.0f}) over {args.repeats} runs; "
        f"reference (day table alone) {ref:.0f} ms"
    )
    if args.cohort:
        parts = list(simulate(SimulationSpec(patients=args.cohort, days=args.cohort_days, seed=13)))
        folder = DiaryFrames.concat(p[0] for p in parts)
        med, lo, hi = _median_ms(lambda: analyze(folder), 3)
        ref, _, _ = _median_ms(lambda: _days(folder), 3)
        print(
            f"{args.cohort} patients × {args.cohort_days} days: all analyses median "
            f"{med / 1000:.1f} s (min {lo / 1000:.1f}, max {hi / 1000:.1f}) over 3 runs; "
            f"reference (day table alone) {ref / 1000:.1f} s"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
