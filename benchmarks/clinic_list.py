"""The clinic's patient list at thousands of consented patients: request latency and
the time to compute every summary cold.

    python benchmarks/clinic_list.py [--patients 5000] [--days 365] [--requests 50]
                                     [--repeat 3] [--postgres | --db URL]

Seeds a database with ``--patients`` simulated patients × ``--days`` days ending today
(painlink.simulate, the same generator as ``painlink simulate``), all shared with one
clinician. The SQLite database is kept under /tmp/painlink-clinic-bench/ and reused
by later runs of the same size (the seeded diaries are the same for a seed); the
summaries are reset before each cold measurement. ``--postgres`` starts a throwaway
PostgreSQL server (benchmarks/load.py) and seeds it afresh.

Then:

1. **cold** (the first ``--cold-repeat`` runs): every summary marked stale, then
   computed (services/clinic_list.refresh), timed in this process — what the first
   list load after the 0010 migration costs;
2. **warm**: ``painlink serve`` on loopback; per run, ``--requests`` requests each of
   GET /clinic (page 1), GET /clinic?page=50, /api/clinic/patients (first 50) and
   /api/clinic/patients?offset=2500, interleaved with a static reference (GET
   /static/style.css) in the same window, so a busy machine shows as a slow reference.

Prints p50/p95 per kind and run, and the medians over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from load import free_port, start_postgres

CACHE = Path("/tmp/painlink-clinic-bench")
CLINICIAN = "bench-doc@clinic.org"
KINDS = {
    "reference": "/static/style.css",
    "clinic": "/clinic",
    "clinic_later": "/clinic?page=50",
    "api": "/api/clinic/patients",
    "api_later": "/api/clinic/patients?offset=2500",
}


def seed(url: str, patients: int, days: int) -> float:
    """Simulated diaries ending today, all shared with one clinician; returns seconds."""
    from painlink.services import accounts
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.account_tables import grants
    from painlink.store.store import Store

    start = time.perf_counter()
    store = Store(url)
    store.init()
    first = dt.date.today() - dt.timedelta(days=days - 1)
    spec = SimulationSpec(patients=patients, days=days, seed=11, start=first, last_day_kept=True)
    ids: list[str] = []
    for diary, _truth in simulate(spec):
        store.write(diary)
        ids += diary.patient_ids()
    with store.writing() as conn:
        doc = accounts.create_staff(
            conn, CLINICIAN, "Bench Doc", "sturdy walrus velvet", "clinician"
        )
        now = accounts.now()
        conn.execute(
            grants.insert(),
            [{"patient_id": p, "clinician_id": doc, "granted_at": now} for p in ids],
        )
    store.close()
    return time.perf_counter() - start


def cold(url: str) -> tuple[float, int]:
    """Every summary stale, then all computed; (seconds, patients)."""
    from painlink.services import clinic_list
    from painlink.store.store import Store
    from painlink.store.summary_tables import patient_summaries

    store = Store(url)
    with store.writing() as conn:
        conn.execute(patient_summaries.update().values(computed_version=None))
    start = time.perf_counter()
    n = clinic_list.refresh(store, None)
    seconds = time.perf_counter() - start
    store.close()
    return seconds, n


def session(url: str) -> str:
    from painlink.store.account_tables import users
    from painlink.store.store import Store
    from painlink.web.security import create_session

    store = Store(url)
    with store.writing() as conn:
        doc = conn.execute(sa.select(users.c.id).where(users.c.email == CLINICIAN)).scalar_one()
        token = create_session(conn, doc)
    store.close()
    return token


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def warm(url: str, requests: int) -> dict[str, dict[str, float]]:
    """One server, ``requests`` of each kind interleaved; p50/p95 in ms per kind."""
    token = session(url)
    port = free_port()
    env = dict(os.environ, PAINLINK_REQUIRE_TOTP_FOR_STAFF="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "painlink.cli", "serve", "--db", url, "--port", str(port),
         "--insecure-cookies", "--workers", "1"],
        stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        lat: dict[str, list[float]] = {k: [] for k in KINDS}
        with httpx.Client(base_url=base, timeout=600) as c:
            c.cookies.set("painlink_session", token)
            for path in KINDS.values():  # once each, unmeasured: connections, templates
                c.get(path).raise_for_status()
            for _ in range(requests):
                for kind, path in KINDS.items():
                    t0 = time.perf_counter()
                    r = c.get(path)
                    lat[kind].append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95)} for k, v in lat.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold-repeat", type=int, default=1, help="runs that start cold")
    ap.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    ap.add_argument("--db", help="a database URL to seed (must be empty)")
    args = ap.parse_args()

    stop: list[str] | None = None
    if args.postgres:
        work = Path(tempfile.mkdtemp(prefix="painlink-clinic-pg-"))
        url, stop = start_postgres(work)
        fresh = True
    elif args.db:
        url, fresh = args.db, True
    else:
        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"sqlite-{args.patients}x{args.days}-{dt.date.today()}.db"
        url, fresh = f"sqlite:///{path}", not path.exists()
    try:
        if fresh:
            seconds = seed(url, args.patients, args.days)
            print(f"seeded {args.patients} patients x {args.days} days in {seconds:.0f} s")
        else:
            print(f"reusing {url}")
        colds = []
        runs = []
        for n in range(args.repeat):
            if n < args.cold_repeat:
                seconds, count = cold(url)
                colds.append(seconds)
                print(f"run {n + 1}: all {count} summaries computed cold in {seconds:.1f} s")
            figures = warm(url, args.requests)
            runs.append(figures)
            for kind, f in figures.items():
                print(f"  {kind:13s} p50 {f['p50']:7.1f} ms  p95 {f['p95']:7.1f} ms")
        print(f"medians over {args.repeat} runs ({args.requests} requests of each kind a run):")
        cold_runs = ", ".join(f"{c:.1f}" for c in colds)
        print(
            f"  cold, all {args.patients} summaries: {statistics.median(colds):.1f} s ({cold_runs})"
        )
        for kind in KINDS:
            p50 = statistics.median(r[kind]["p50"] for r in runs)
            p95 = statistics.median(r[kind]["p95"] for r in runs)
            print(f"  {kind:13s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    finally:
        if stop:
            subprocess.run(stop, check=False, capture_output=True)


if __name__ == "__main__":
    main()
