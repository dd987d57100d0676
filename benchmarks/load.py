"""50 simulated people logging and looking at their diaries at once, on loopback.

    python benchmarks/load.py [--users 50] [--seconds 60]

Starts ``painlink serve`` on a fresh SQLite file (127.0.0.1, a free port), registers
the users, then each user loops for the given time over a mix of requests — start
an attack (API write), save a check-in (API write), the home page, the calendar, the
attack list — pausing 0.5–1.5 s between requests (``--think 0`` for no pause).
Prints p50/p95/p99 latency, errors, and lost writes (writes that
were acknowledged but are not in the database afterwards). Loopback only; bounded
in users, time and requests.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
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


async def register(c: httpx.AsyncClient, n: int) -> tuple[str, str]:
    page = await c.get("/register")  # the form's pre-session CSRF token and its cookie
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
    if r.status_code >= 400:
        raise RuntimeError(f"registration failed: {r.status_code}")
    me = (await c.get("/api/me")).json()
    return me["patient_id"], me["csrf_token"]


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
    base: str, users: int, seconds: float, think: float
) -> tuple[dict[str, list[float]], list[str], list]:
    """Register everyone first (argon2 is slow on purpose), then measure the loop."""
    lat: dict[str, list[float]] = {}
    errors: list[str] = []
    writes: list[tuple[str, str, str]] = []
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(users)]
    try:
        accounts = await asyncio.gather(*(register(c, n) for n, c in enumerate(clients)))
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                user(c, n, pid, csrf, until, lat, errors, writes, think)
                for n, (c, (pid, csrf)) in enumerate(zip(clients, accounts, strict=True))
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    return lat, errors, writes


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
        "(default: a fresh SQLite file)",
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="painlink-load-"))
    url = args.db or f"sqlite:///{work / 'load.db'}"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "painlink.cli",
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--insecure-cookies",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        lat, errors, writes = asyncio.run(run(base, args.users, args.seconds, args.think))
    finally:
        server.terminate()
        server.wait(timeout=10)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        attacks = set(conn.execute(sa.text("SELECT patient_id, attack_id FROM attacks")).all())
        days = {
            (p, str(d)) for p, d in conn.execute(sa.text("SELECT patient_id, date FROM days")).all()
        }
    lost = sum(
        1 for kind, p, key in writes if (p, key) not in (attacks if kind == "attack" else days)
    )
    everything = [v for values in lat.values() for v in values]
    print(
        f"{args.users} users, {args.seconds:g} s, {len(everything)} requests "
        f"({len(everything) / args.seconds:.0f}/s), {len(writes)} acknowledged writes"
    )
    print(
        f"latency ms: p50 {percentile(everything, 0.5):.1f}  "
        f"p95 {percentile(everything, 0.95):.1f}  "
        f"p99 {percentile(everything, 0.99):.1f}"
    )
    for action, values in sorted(lat.items()):
        print(
            f"  {action:9} n={len(values):6}  p50 {statistics.median(values):6.1f}  "
            f"p95 {percentile(values, 0.95):6.1f}  p99 {percentile(values, 0.99):6.1f}"
        )
    print(f"errors: {len(errors)}  lost writes: {lost}")
    if errors:
        print("  first errors:", errors[:5])


if __name__ == "__main__":
    main()
