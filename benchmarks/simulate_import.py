"""Simulate, import and export N patients × D days; print wall time and peak memory.

Each phase runs as its own ``painlink`` process, so its peak resident memory is
measured alone (``wait4`` reports the child's maximum RSS).

    python benchmarks/simulate_import.py --patients 10000 --days 365
    python benchmarks/simulate_import.py --patients 10000 --days 365 --db postgresql://…
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(label: str, args: list[str], rows: int) -> dict[str, float | str]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "painlink.cli", *args], stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed")
    result = {
        "phase": label,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 0),
        "patient_days_per_s": round(rows / seconds),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="painlink-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = args.db or f"sqlite:///{work / 'bench.db'}"
    rows = args.patients * args.days
    print(
        json.dumps(
            {
                "patients": args.patients,
                "days": args.days,
                "patient_days": rows,
                "db": db.split("@")[-1],
            }
        )
    )
    try:
        run(
            "simulate→csv",
            [
                "simulate",
                "--patients",
                str(args.patients),
                "--days",
                str(args.days),
                "--out",
                str(work / "csv"),
            ],
            rows,
        )
        size = sum(f.stat().st_size for f in (work / "csv").iterdir())
        print(json.dumps({"csv_mib": round(size / 2**20)}))
        run("init", ["init", "--db", db], rows)
        run("import csv→db", ["import", str(work / "csv"), "--db", db], rows)
        run("export db→csv", ["export", "--out", str(work / "export"), "--db", db], rows)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
