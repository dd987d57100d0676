"""Cost of classification and insights for a diary whose entries lie far apart.

    python benchmarks/analysis_span.py

Also: the forecast over a simulated cohort whose people were recorded 125 years
apart (its pooled prior once refitted at every 4-week step in between).

One patient, two attacks: 1900-01-01 and today (the widest span the date bounds in
painlink/rules/plausibility.py allow), against the same two attacks 30 days apart.
Each case runs in a fresh process (peak memory is the process's maximum resident
set): classify, analyze, the JSON insights and the four pictures. Prints a markdown
table for docs/reliability.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import datetime as dt, json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
from painlink.days.day_table import build_day_table
from painlink.analysis.plotting import PICTURES
from painlink.analysis.report import analyze
from painlink.clinical.classify import classify
from painlink.diary.frames import DiaryFrames

first = dt.date.fromisoformat(sys.argv[1])
today = dt.date.today()
starts = [dt.datetime.combine(d, dt.time(8)) for d in (first, today)]
diary = DiaryFrames.from_tables(
    patients=pl.DataFrame({"patient_id": ["p"], "time_zone": ["UTC"]}),
    attacks=pl.DataFrame({
        "patient_id": ["p", "p"], "attack_id": ["a", "b"], "start": starts,
        "end": [s + dt.timedelta(hours=6) for s in starts], "intensity": [2, 2],
    }),
)
t = time.perf_counter()
classify(diary).as_dict()
report = analyze(diary)
report.as_dict()
for kind in PICTURES:
    plt.close(getattr(report, kind).plot("p"))
seconds = time.perf_counter() - t
rows = build_day_table(diary).height
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "day_rows": rows, "peak_mib": peak}))
"""


def main() -> None:
    import datetime as dt

    cases = {
        "1900-01-01 and today": "1900-01-01",
        "30 days apart": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
    }
    print("| diary | day-table rows | seconds (classify + insights + 4 pictures) | peak MiB |")
    print("|---|---|---|---|")
    for label, first in cases.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD, first], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {r['day_rows']} | {r['seconds']:.2f} | {r['peak_mib']:.0f} |")


COHORT = r"""
import datetime as dt, json, sys, time, warnings
warnings.filterwarnings("ignore")
from painlink.analysis.forecast import forecast
from painlink.analysis.report import _days
from painlink.diary.frames import DiaryFrames
from painlink.simulate.spec import SimulationSpec
from painlink.simulate.simulator import simulate

def group(start, prefix, seed):
    spec = SimulationSpec(patients=30, days=200, seed=seed, start=start, id_prefix=prefix)
    return DiaryFrames.concat(part for part, _ in simulate(spec))

old = dt.date.fromisoformat(sys.argv[1])
days = _days(DiaryFrames.concat([group(dt.date(2025, 1, 1), "NEW", 3), group(old, "OLD", 4)]))
t = time.process_time()
forecast(days)
print(json.dumps({"cpu_seconds": time.process_time() - t}))
"""


def cohort() -> None:
    """The forecast's pooled prior over 60 simulated people, half of them recorded in
    1900 (a cohort folder can mix eras), against all of them recorded in 2025."""
    print("| cohort (60 people × 200 days) | forecast CPU seconds |")
    print("|---|---|")
    for label, start in (
        ("half from 1900, half from 2025", "1900-01-01"),
        ("all from 2025", "2025-01-01"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", COHORT, start], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {r['cpu_seconds']:.2f} |")


if __name__ == "__main__":
    main()
    print()
    cohort()
