"""Back up the real server while it acknowledges writes, restore, count what is missing.

    python benchmarks/backup_restore.py [--writers 8] [--seconds 4]
    python benchmarks/backup_restore.py --db postgresql://…/a --restore-db postgresql://…/b

Starts ``painlink serve`` (a fresh SQLite file, or ``--db``), registers ``--writers``
patients who each post attacks as fast as the server answers, and after ``--seconds``
runs ``painlink backup`` (a subprocess) while the writes go on; on SQLite it also
copies the database file at the same moment, the way a plain file backup would. Then
``painlink restore`` into an empty database and counts, of the writes acknowledged
(HTTP 201) before the backup started, how many are missing from the restored
database and from the plain copy, and compares every table's checksum of the
restored database with the backup's manifest. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from painlink.store.backup import database_checksums


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "painlink.cli", *args], capture_output=True, text=True, check=False
    )


async def writer(base: str, n: int, stop: asyncio.Event, acked: list[tuple[float, str]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post(
            "/register",
            data={"email": f"w{n}@x.org", "display_name": f"W {n}", "password": "backup-test-pw1"},
        )
        if r.status_code >= 400:
            raise RuntimeError(f"registration failed: {r.status_code}")
        me = (await c.get("/api/me")).json()
        while not stop.is_set():
            r = await c.post(
                f"/api/patients/{me['patient_id']}/attacks",
                json={"intensity": 2},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )
            if r.status_code == 201:
                acked.append((time.monotonic(), r.json()["attack_id"]))


async def scenario(args: argparse.Namespace, url: str, base: str, work: Path) -> dict:
    acked: list[tuple[float, str]] = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(writer(base, n, stop, acked)) for n in range(args.writers)]
    while len(acked) < 50:  # registration (argon2) first: wait until writes flow
        await asyncio.sleep(0.1)
    await asyncio.sleep(args.seconds)
    started = time.monotonic()
    plain = None
    if url.startswith("sqlite"):
        plain = work / "plain-copy.db"
        shutil.copyfile(url.removeprefix("sqlite:///"), plain)  # what `cp` would get
    result = await asyncio.to_thread(cli, "backup", str(work / "b.backup"), "--db", url, "--json")
    finished = time.monotonic()
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*tasks)
    if result.returncode:
        raise SystemExit(f"backup failed: {result.stdout}{result.stderr}")
    return {
        "manifest": json.loads(result.stdout)["manifest"],
        "before": [a for t, a in acked if t < started],
        "during": sum(1 for t, _ in acked if started <= t < finished),
        "all": len(acked),
        "seconds": finished - started,
        "plain": plain,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--db", default=None, help="database to serve (default: fresh SQLite)")
    ap.add_argument("--restore-db", default=None, help="empty database to restore into")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="painlink-backup-bench-"))
    url = args.db or f"sqlite:///{work / 'live.db'}"
    target = args.restore_db or f"sqlite:///{work / 'restored.db'}"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "painlink.cli", "serve", "--db", url, "--port", str(port),
         "--insecure-cookies"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        out = asyncio.run(scenario(args, url, base, work))
    finally:
        server.terminate()
        server.wait(timeout=30)
    restored = cli("restore", str(work / "b.backup"), "--db", target)
    if restored.returncode:
        raise SystemExit(f"restore failed: {restored.stdout}{restored.stderr}")
    engine = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        have = set(conn.exec_driver_sql("SELECT attack_id FROM attacks").scalars())
    engine.dispose()
    missing = sum(1 for a in out["before"] if a not in have)
    manifest = out["manifest"]["tables"]
    now = database_checksums(target)
    same = [n for n in manifest if now.get(n) == manifest[n]]
    print(
        f"{args.writers} writers; `painlink backup` (process start included) ran "
        f"{out['seconds']:.1f} s while "
        f"{out['during']} writes were acknowledged; {out['all']} acknowledged in all"
    )
    print(
        f"painlink backup -> restore: {missing} of {len(out['before'])} writes acknowledged "
        "before the backup started are missing"
    )
    print(
        f"table checksums equal after restore: {len(same)} of {len(manifest)} "
        f"(the rest: {sorted(set(manifest) - set(same))}, which gain the restore's audit row)"
    )
    if out["plain"] is not None:
        conn = sqlite3.connect(out["plain"])
        try:
            copied = {r[0] for r in conn.execute("SELECT attack_id FROM attacks")}
        except sqlite3.OperationalError:  # even the tables are still in the WAL
            copied = set()
        finally:
            conn.close()
        lost = sum(1 for a in out["before"] if a not in copied)
        print(
            f"plain file copy at the same moment: {lost} of {len(out['before'])} acknowledged "
            "writes missing"
        )


if __name__ == "__main__":
    main()
