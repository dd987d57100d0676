"""The report for the doctor of one patient with a year of diary: median wall time.

    python benchmarks/report_render.py [--repeats 5]

Each run is what a download costs: read nothing (the diary is in memory, as after the
web app's read), classify, run every analysis (the analysis cache is cleared first, so
no run reuses the one before), draw the charts, render the HTML and lay out the PDF.
Measured in the same run, as references on the same (possibly busy) machine: the
analyses alone (``analyze``), and WeasyPrint laying out a one-line page. Target: the
whole report under 5 s (median) on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

from painlink.analysis.report import analyze
from painlink.diary.frames import DiaryFrames
from painlink.services import analyses
from painlink.services import report as reports
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def median_seconds(work: Callable[[], object], repeats: int) -> tuple[float, float, float, float]:
    """Median, min and max wall time, and the median CPU time of this process: on a
    machine shared with other work the wall time grows, the CPU time does not."""
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    diary = DiaryFrames.concat(
        part for part, _ in simulate(SimulationSpec(patients=1, days=365, seed=3))
    )
    pid = diary.patient_ids()[0]
    today = dt.date(2026, 1, 10)

    def whole() -> bytes:
        analyses.clear()
        return reports.pdf(reports.build(diary, pid, today))

    import weasyprint

    pages = len(
        weasyprint.HTML(string=reports.html(reports.build(diary, pid, today), for_print=True))
        .render()
        .pages
    )
    whole()  # warm up imports (matplotlib, WeasyPrint, fonts)
    report = median_seconds(whole, args.repeats)
    analysis = median_seconds(lambda: analyze(diary), args.repeats)
    blank = median_seconds(
        lambda: weasyprint.HTML(string="<p>one line</p>").write_pdf(), args.repeats
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"one patient, 365 days, {diary.attacks.height} attacks, {pages} pages, "
        f"{os.cpu_count()} cores, load average {load:.1f}, {args.repeats} runs "
        "(wall median, min–max; CPU median):"
    )
    for name, (med, lo, hi, cpu) in (
        ("whole report (PDF)", report),
        ("reference: the analyses alone", analysis),
        ("reference: WeasyPrint, one-line page", blank),
    ):
        print(f"  {name:40s} {med:6.2f} s  ({lo:.2f}–{hi:.2f})  CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
