"""CPU time of one calendar view whose cached grid is stale (issue 9, PostgreSQL tail).

Under load nearly every calendar view follows a write to the month it shows, so the
grid is computed again; this measures that computation in CPU seconds of this process
(``time.process_time``), which other processes on a shared machine barely disturb —
unlike wall-clock load figures. For simulated patients with a year of diary, each of
their months with entries is measured:

- ``read``: the month's rows from the database (:func:`read_window_rows`) and their hash
  (the cache key), common to both;
- ``before``: the grid through data frames and classify_days (the reference kept in
  tests/test_month_grid.py, as painlink/web/views.py computed it until now);
- ``after``: the grid from the rows (painlink/clinical/month_grid.py).

``--page`` measures instead the whole request (``GET /calendar`` and the API's calendar,
in-process, a check-in to the month before each so the grid is stale), on the code as
it is: run it on an older checkout for the "before".

Usage: ``python benchmarks/calendar_cpu.py [--postgres | --url URL] [--patients 5]
[--runs 30] [--page]`` (default: a temporary SQLite file; ``--postgres``: a throwaway server, as
benchmarks/load.py starts it).
"""

from __future__ import annotations

import argparse
import calendar as cal
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from load import start_postgres

from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.diary_io import frames_from_rows, read_window_rows
from painlink.store.store import Store


def cpu_ms(fn: Callable[[], object], runs: int) -> float:
    """Median CPU milliseconds of ``fn`` over ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL")
    parser.add_argument("--patients", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30, help="calls per month and way")
    parser.add_argument("--page", action="store_true", help="whole requests, in-process")
    args = parser.parse_args()
    if args.page:
        page(args.runs)
        return
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{tmp.name}/calendar.db"
    stop: list[str] | None = None
    if args.postgres:
        url, stop = start_postgres(Path(tmp.name))
    try:
        measure(url, args.patients, args.runs)
    finally:
        if stop:
            subprocess.run(stop, check=False, capture_output=True)


def measure(url: str, patients: int, runs: int) -> None:
    """Print the median CPU ms of the read, the grid before and the grid after."""
    from painlink.clinical.month_grid import month_grid
    from tests.test_month_grid import reference_grid

    diary, _ = next(simulate(SimulationSpec(patients=patients, days=365, seed=9)))
    store = Store(url)
    store.init()
    store.write(diary)
    read_ms: list[float] = []
    before_ms: list[float] = []
    after_ms: list[float] = []
    rows_per_month: list[int] = []
    with store.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        for pid in diary.patient_ids():
            starts = diary.only([pid]).attacks["start"]
            months = sorted({(d.year, d.month) for d in starts.dt.date().to_list()})
            for y, m in months:
                first = dt.date(y, m, 1) - dt.timedelta(days=7)
                last = dt.date(y, m, cal.monthrange(y, m)[1])

                def read(first: dt.date = first, last: dt.date = last, pid: str = pid) -> None:
                    rows = read_window_rows(conn, pid, first, last)
                    hash(tuple(map(tuple, rows.values())))

                seen = read_window_rows(conn, pid, first, last)
                rows_per_month.append(sum(len(r) for r in seen.values()))
                old = reference_grid(frames_from_rows(seen, sqlite), y, m)
                assert month_grid(seen, y, m) == old, (pid, y, m)
                read_ms.append(cpu_ms(read, runs))
                before_ms.append(
                    cpu_ms(
                        lambda s=seen, y=y, m=m: reference_grid(frames_from_rows(s, sqlite), y, m),
                        runs,
                    )
                )
                after_ms.append(cpu_ms(lambda s=seen, y=y, m=m: month_grid(s, y, m), runs))
    store.close()
    med = statistics.median
    print(
        f"{conn.dialect.name}: {len(after_ms)} patient-months, {med(rows_per_month):.0f} rows "
        f"each (median), {runs} calls each; median CPU ms per calendar view:"
    )
    print(f"  read + hash            {med(read_ms):8.3f}")
    print(f"  grid before (frames)   {med(before_ms):8.3f}   max {max(before_ms):.3f}")
    print(f"  grid after (rows)      {med(after_ms):8.3f}   max {max(after_ms):.3f}")
    print(
        f"  whole view: {med(read_ms) + med(before_ms):.3f} -> {med(read_ms) + med(after_ms):.3f}"
        f" ({(med(read_ms) + med(before_ms)) / (med(read_ms) + med(after_ms)):.0f}x less CPU)"
    )


def page(runs: int) -> None:
    """Median CPU ms of a calendar page and an API calendar request with a stale grid,
    for a patient with this month's check-ins, attacks and tablets (SQLite, in-process)."""
    from tests.test_web import Web

    web = Web(Path(tempfile.mkdtemp()))
    c, pid, csrf = web.patient("jo")
    h = {"X-CSRF-Token": csrf}
    today = dt.date.today()
    month = today.replace(day=1)
    for i in range(today.day):
        day = month + dt.timedelta(days=i)
        c.put(f"/api/patients/{pid}/days/{day}", json={"stress": i % 10}, headers=h)
        if i % 2:
            body = {"start": f"{day}T08:{i:02d}:00", "intensity": 1 + i % 3}
            assert c.post(f"/api/patients/{pid}/attacks", json=body, headers=h).is_success
        if i % 3 == 0:
            body = {"taken_at": f"{day}T09:00:00", "drug": "ibuprofen",
                    "drug_class": "non_opioid_analgesic"}  # fmt: skip
            c.post(f"/api/patients/{pid}/medications", json=body, headers=h)
    urls = ("/calendar", f"/api/patients/{pid}/calendar?month={month:%Y-%m}")
    times: dict[str, list[float]] = {u: [] for u in urls}
    for k in range(runs):
        for n, url in enumerate(urls):
            # a value never written before: the grid cache cannot hold this diary
            body = {"sleep_hours": 4 + n + k / 1000}
            assert c.put(f"/api/patients/{pid}/days/{month}", json=body, headers=h).is_success
            started = time.process_time()
            assert c.get(url).is_success
            times[url].append(time.process_time() - started)
    for url in urls:
        print(f"{url.split('?')[0]}: median CPU {statistics.median(times[url]) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
