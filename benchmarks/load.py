"""Simulated people logging and looking at their diaries at once, on loopback.

    python benchmarks/load.py [--users 200] [--seconds 60] [--repeat 3]
                              [--workers 2] [--postgres | --db URL]

Starts ``painlink serve`` on a fresh SQLite file (127.0.0.1, a free port) — or on a
throwaway PostgreSQL server with ``fsync`` on (``--postgres``), or on ``--db`` —
registers the users *before* the timed window (argon2 is deliberately slow; at most
``--register-concurrency`` at a time; ``--quick-accounts`` makes them directly in
the database with one shared hash instead), then each user loops for the given time over a
mix of requests — start an attack (API write), save a check-in (API write), the home
page, the calendar, the attack list — pausing 0.5–1.5 s between requests (``--think
0`` for no pause). A reference client fetches the static login page every 0.1 s in
the same window, so a slow machine shows as a slow reference.

Prints, per run, p50/p95/p99 latency (all requests, writes, each kind), errors
(any status >= 400 or failed connection), lost writes (acknowledged but not in the
database afterwards) and the machine's load average; with ``--repeat N`` each run
gets a fresh server and database, and the medians over runs are printed last.
Loopback only; bounded in users, time and requests.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import glob
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

MIX = (("attack", 0.25), ("checkin", 0.25), ("home", 0.25), ("calendar", 0.15), ("list", 0.10))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def register(c: httpx.AsyncClient, n: int, gate: asyncio.Semaphore) -> tuple[str, str]:
    """One account; a few at a time, since each costs an argon2 hash (64 MiB, ~0.15 s)."""
    async with gate:
        for attempt in range(3):
            try:
                page = await c.get("/register")  # the form's pre-session CSRF token
                token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                r = await c.post(
                    "/register",
                    data={
                        "csrf_token": token,
                        "email": f"load{n}@x.org",
                        "display_name": f"Load {n}",
                        "password": "sturdy walrus velvet orchard",
                    },
                )
                break
            except httpx.HTTPError:
                if attempt == 2:
                    raise
        if r.status_code >= 400:
            raise RuntimeError(f"registration {n} failed: {r.status_code} {r.text[:200]}")
        me = (await c.get("/api/me")).json()
    return me["patient_id"], me["csrf_token"]


def quick_accounts(url: str, users: int) -> list[str]:
    """``--quick-accounts``: the users made directly in the database with one shared
    argon2 hash, each with a session; returns their session tokens. Setting up 200
    accounts then takes seconds instead of 200 hashes, on a busy machine minutes."""
    from painlink.services import accounts
    from painlink.store.store import Store
    from painlink.web.security import create_session, hash_password

    store = Store(url)
    store.init()
    hashed = hash_password("sturdy walrus velvet orchard")
    tokens = []
    with store.writing() as conn:
        for n in range(users):
            data = {
                "email": f"load{n}@x.org",
                "display_name": f"Load {n}",
                "password": "sturdy walrus velvet orchard",
                "sex": "unknown",
                "time_zone": "UTC",
            }
            user_id = accounts.register_patient(conn, data, hashed)
            tokens.append(create_session(conn, user_id))
    store.close()
    return tokens


async def signed_in(c: httpx.AsyncClient, token: str) -> tuple[str, str]:
    c.cookies.set("painlink_session", token)
    me = (await c.get("/api/me")).json()
    return me["patient_id"], me["csrf_token"]


async def reference(c: httpx.AsyncClient, until: float, lat: list[float]) -> None:
    """The static login page every 0.1 s: what the machine gives a trivial request."""
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            await c.get("/login")
            lat.append((time.perf_counter() - started) * 1000)
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)


async def user(
    c: httpx.AsyncClient,
    n: int,
    pid: str,
    csrf: str,
    until: float,
    lat: dict[str, list[float]],
    errors: list[str],
    writes: list[tuple[str, str, str]],
    think: float,
) -> None:
    rng = random.Random(n)
    headers = {"X-CSRF-Token": csrf}
    day = dt.date(2026, 1, 1)
    while time.perf_counter() < until:
        action = rng.choices([a for a, _ in MIX], [w for _, w in MIX])[0]
        started = time.perf_counter()
        try:
            if action == "attack":
                r = await c.post(
                    f"/api/patients/{pid}/attacks",
                    json={"intensity": rng.randint(1, 3)},
                    headers=headers,
                )
                if r.status_code == 201:
                    writes.append(("attack", pid, r.json()["attack_id"]))
            elif action == "checkin":
                day += dt.timedelta(days=1)
                r = await c.put(
                    f"/api/patients/{pid}/days/{day}",
                    json={"stress": rng.randint(0, 10), "sleep_hours": 7},
                    headers=headers,
                )
                if r.status_code == 200:
                    writes.append(("day", pid, day.isoformat()))
            elif action == "home":
                r = await c.get("/home")
            elif action == "calendar":
                r = await c.get("/calendar")
            else:
                r = await c.get(f"/api/patients/{pid}/attacks")
            if r.status_code >= 400:
                errors.append(f"{action} {r.status_code}")
        except httpx.HTTPError as exc:
            errors.append(f"{action} {type(exc).__name__}")
        lat.setdefault(action, []).append((time.perf_counter() - started) * 1000)
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    base: str,
    users: int,
    seconds: float,
    think: float,
    register_concurrency: int,
    tokens: list[str] | None = None,
) -> tuple[dict[str, list[float]], list[str], list, float]:
    """Register everyone first (argon2 is slow on purpose), then measure the loop."""
    lat: dict[str, list[float]] = {}
    errors: list[str] = []
    writes: list[tuple[str, str, str]] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=limits) for _ in range(users)]
    probe = httpx.AsyncClient(base_url=base, timeout=60)
    gate = asyncio.Semaphore(register_concurrency)
    try:
        started = time.perf_counter()
        if tokens:
            accounts = await asyncio.gather(
                *(signed_in(c, t) for c, t in zip(clients, tokens, strict=True))
            )
        else:
            accounts = await asyncio.gather(*(register(c, n, gate) for n, c in enumerate(clients)))
        registering = time.perf_counter() - started
        until = time.perf_counter() + seconds
        lat["reference"] = []
        await asyncio.gather(
            reference(probe, until, lat["reference"]),
            *(
                user(c, n, pid, csrf, until, lat, errors, writes, think)
                for n, (c, (pid, csrf)) in enumerate(zip(clients, accounts, strict=True))
            ),
        )
    finally:
        for c in [*clients, probe]:
            await c.aclose()
    return lat, errors, writes, registering


def start_postgres(work: Path) -> tuple[str, list[str]]:
    """A throwaway PostgreSQL server with its durable defaults (fsync on), on loopback;
    returns its URL and the command that stops it."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise SystemExit("--postgres needs the PostgreSQL server binaries (initdb)")
    bindir = Path(found[-1]).parent
    data = work / "pg"
    data.mkdir()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(work, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        [*as_pg, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "painlink",
         "--auth=trust", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(
        [*as_pg, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", options,
         "-l", str(data / "log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    stop = [*as_pg, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"]
    url = f"postgresql+psycopg://painlink@127.0.0.1:{port}/postgres"
    with sa.create_engine(url).connect() as conn:
        fsync = conn.exec_driver_sql("SHOW fsync").scalar_one()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
    print(f"PostgreSQL on port {port}: fsync={fsync}, synchronous_commit={sync}")
    return url, stop


def one_run(args: argparse.Namespace, url: str) -> dict[str, float]:
    """One server, one fresh database, one measured window; prints and returns figures."""
    tokens = quick_accounts(url, args.users) if args.quick_accounts else None
    port = free_port()
    env = dict(os.environ)
    if args.synchronous:
        env["PAINLINK_SQLITE_SYNCHRONOUS"] = args.synchronous
    server = subprocess.Popen(
        [sys.executable, "-m", "painlink.cli", "serve", "--db", url, "--port", str(port),
         "--insecure-cookies", "--workers", str(args.workers)],
        stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    load_before = os.getloadavg()[0]
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        lat, errors, writes, registering = asyncio.run(
            run(base, args.users, args.seconds, args.think, args.register_concurrency, tokens)
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    load_after = os.getloadavg()[0]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        attacks = set(conn.execute(sa.text("SELECT patient_id, attack_id FROM attacks")).all())
        days = {
            (p, str(d)) for p, d in conn.execute(sa.text("SELECT patient_id, date FROM days")).all()
        }
    engine.dispose()
    lost = sum(
        1 for kind, p, key in writes if (p, key) not in (attacks if kind == "attack" else days)
    )
    ref = lat.pop("reference")
    everything = [v for values in lat.values() for v in values]
    written = lat.get("attack", []) + lat.get("checkin", [])
    print(
        f"{args.users} users registered in {registering:.1f} s; {args.seconds:g} s measured, "
        f"{len(everything)} requests ({len(everything) / args.seconds:.0f}/s), "
        f"{len(writes)} acknowledged writes; load average {load_before:.1f} -> {load_after:.1f}"
    )
    print(
        f"latency ms: p50 {percentile(everything, 0.5):.1f}  "
        f"p95 {percentile(everything, 0.95):.1f}  "
        f"p99 {percentile(everything, 0.99):.1f}"
    )
    for action, values in [*sorted(lat.items()), ("writes", written), ("reference", ref)]:
        print(
            f"  {action:9} n={len(values):6}  p50 {statistics.median(values):6.1f}  "
            f"p95 {percentile(values, 0.95):6.1f}  p99 {percentile(values, 0.99):6.1f}"
        )
    print(f"errors: {len(errors)}  lost writes: {lost}")
    if errors:
        print("  first errors:", errors[:5])
    return {
        "requests": len(everything),
        "p50": percentile(everything, 0.5),
        "p95": percentile(everything, 0.95),
        "p99": percentile(everything, 0.99),
        "write p95": percentile(written, 0.95),
        "reference p50": statistics.median(ref),
        "reference p95": percentile(ref, 0.95),
        "errors": len(errors),
        "lost": lost,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between one user's requests, s (0: as fast as possible)",
    )
    ap.add_argument(
        "--db",
        default=None,
        help="database URL, e.g. postgresql+psycopg://user@host:port/db "
        "(default: a fresh SQLite file per run)",
    )
    ap.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server (fsync on) and run on it",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh server")
    ap.add_argument("--register-concurrency", type=int, default=4)
    ap.add_argument(
        "--quick-accounts",
        action="store_true",
        help="make the users in the database (one shared hash) instead of registering",
    )
    ap.add_argument(
        "--synchronous", default=None, help="PAINLINK_SQLITE_SYNCHRONOUS for the server"
    )
    args = ap.parse_args()
    results = []
    for n in range(args.repeat):
        work = Path(tempfile.mkdtemp(prefix="painlink-load-"))
        stop: list[str] | None = None
        if args.postgres:
            url, stop = start_postgres(work)
        else:
            url = args.db or f"sqlite:///{work / 'load.db'}"
        print(f"--- run {n + 1} of {args.repeat} ({url.split('://')[0]}, {args.workers} worker(s))")
        try:
            results.append(one_run(args, url))
        finally:
            if stop:
                subprocess.run(stop, capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
    if args.repeat > 1:
        print(f"--- median of {args.repeat} runs")
        for key in results[0]:
            values = [r[key] for r in results]
            print(f"  {key:14} {statistics.median(values):8.1f}   (runs: "
                  + ", ".join(f"{v:.1f}" for v in values) + ")")  # fmt: skip


if __name__ == "__main__":
    main()
