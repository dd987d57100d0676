"""How fast painlink starts: ``import painlink`` and ``painlink --help``, each in fresh
processes, against ``python -c pass`` measured in the same run (the interpreter's own
start on this machine, so the figures can be read on a busy or slow one), and
``painlink --help`` with the package's ``__init__`` skipped (what the command line's
own modules cost).

Goals (issue 11): ``import painlink`` under 0.5 s, ``painlink --help`` under 1 s.
``--importtime`` adds the heaviest imports of ``painlink --help`` (``python -X
importtime``, cumulative), to find what to make lazy.

    python benchmarks/import_time.py [--runs 7] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: what the ``painlink`` entry point runs (pyproject: painlink = "painlink.cli:app")
HELP = "import sys; sys.argv[0] = 'painlink'; from painlink.cli import app; app()"
#: the same with painlink/__init__.py (the public API facade) skipped: the command
#: line's own share, whatever the facade imports
WITHOUT_FACADE = (
    "import sys, types; package = types.ModuleType('painlink'); "
    f"package.__path__ = [{str(Path(__file__).resolve().parents[1] / 'painlink')!r}]; "
    "sys.modules['painlink'] = package; " + HELP
)
CASES = {
    "python -c pass": ["-c", "pass"],
    "import painlink": ["-c", "import painlink"],
    "painlink --help": ["-c", HELP, "--help"],
    "painlink --help, cli/ alone": ["-c", WITHOUT_FACADE, "--help"],
}


def seconds(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process. The CPU time (user + system, of
    the child alone) barely moves with the neighbours' load, so it reads on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def heaviest(args: list[str], top: int) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the ``top`` slowest imports of one run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (
            part.strip() for part in line.removeprefix("import time:").split("|")
        )
        rows.append((int(cumulative) / 1e6, name))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per case (≥ 7)")
    parser.add_argument("--importtime", action="store_true", help="list the heaviest imports")
    runs = max(7, parser.parse_args().runs)
    show = parser.parse_args().importtime
    for args in CASES.values():  # warm the file cache: every case then starts alike
        seconds(args)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpu: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):  # interleaved, so a busy moment hits every case alike
        for name, args in CASES.items():
            wall, used = seconds(args)
            times[name].append(wall)
            cpu[name].append(used)
    base = statistics.median(times["python -c pass"])
    for name, values in times.items():
        median = statistics.median(values)
        result = {
            "case": name,
            "median_s": round(median, 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "over_python_s": round(median - base, 3),
            "median_cpu_s": round(statistics.median(cpu[name]), 3),
            "runs": runs,
            "load_average": round(os.getloadavg()[0], 1),
        }
        print(json.dumps(result), flush=True)
    if show:
        for case in ("import painlink", "painlink --help"):
            print(f"\nheaviest imports of {case} (cumulative s):")
            for cumulative, name in heaviest(CASES[case], 15):
                print(f"  {cumulative:7.3f}  {name}")


if __name__ == "__main__":
    main()
