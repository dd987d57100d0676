"""Time and memory of reading a large Apple Health export (streamed, never held whole).

    python benchmarks/apple_health_import.py --records 1000000

Writes a synthetic export.xml (real exports of several years hold millions of
records, mostly steps and heart rate) with headaches, sleep and cycle records among
them, reads it with painlink's reader and prints seconds, peak memory and counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

from painlink.interop.apple_health import read_apple_health

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-03-10 08:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-05-02"
     HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""


def write_export(path: Path, records: int) -> None:
    # 2015: a million 5-minute records end in 2024, within the plausible dates
    start = dt.datetime(2015, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    fmt = "%Y-%m-%d %H:%M:%S %z"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for i in range(records):
            t = start + dt.timedelta(minutes=5 * i)
            end = t + dt.timedelta(minutes=5)
            if i % 288 == 100:  # one night a day
                kind, value = (
                    "HKCategoryTypeIdentifierSleepAnalysis",
                    "HKCategoryValueSleepAnalysisAsleepCore",
                )
                end = t + dt.timedelta(hours=7)
            elif i % 2016 == 500:  # a headache a week
                kind, value = "HKCategoryTypeIdentifierHeadache", "HKCategoryValueSeverityModerate"
                end = t + dt.timedelta(hours=5)
            else:
                kind, value = "HKQuantityTypeIdentifierStepCount", str(i % 300)
            out.write(
                f' <Record type="{kind}" sourceName="Watch" unit="count" '
                f'startDate="{t.strftime(fmt)}" endDate="{end.strftime(fmt)}" value="{value}"/>\n'
            )
        out.write("</HealthData>\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xml"
        write_export(path, args.records)
        size = path.stat().st_size / 2**20
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        result = read_apple_health(path, "bench", "America/Los_Angeles")
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.records:,} records ({size:.0f} MiB): {seconds:.1f} s, "
        f"{args.records / seconds:,.0f} records/s; peak RSS {peak:.0f} MiB "
        f"(before reading {before:.0f} MiB); {result.diary.attacks.height} attacks, "
        f"{result.diary.days.height} days; skipped {result.skipped}"
    )


if __name__ == "__main__":
    main()
