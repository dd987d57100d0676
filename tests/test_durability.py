"""Acknowledged writes survive: fsync before acknowledging (synchronous=FULL on every
SQLite connection), and a server killed with SIGKILL mid-stream loses nothing it
acknowledged, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from painlink.store.engine import make_engine
from painlink.store.store import Store
from tests.ports import free_port
from tests.test_web import form_token

FULL = 2  # PRAGMA synchronous answers a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def _levels(engine: sa.Engine, connections: int) -> list[int]:
    """PRAGMA synchronous on several connections held at once (each a new one from the
    pool), and on connections opened from other threads."""
    held = [engine.connect() for _ in range(connections)]
    try:
        levels = [c.exec_driver_sql("PRAGMA synchronous").scalar_one() for c in held]
    finally:
        for c in held:
            c.close()
    seen: list[int] = []

    def probe() -> None:
        with engine.connect() as c:
            seen.append(c.exec_driver_sql("PRAGMA synchronous").scalar_one())

    threads = [threading.Thread(target=probe) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return levels + seen


def test_every_sqlite_connection_syncs_before_acknowledging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """synchronous=NORMAL in WAL mode acknowledged writes before any fsync; the app's
    store, writes included, must run FULL on every connection."""
    monkeypatch.delenv("PAINLINK_SQLITE_SYNCHRONOUS", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.init()
    assert set(_levels(store.engine, 12)) == {FULL}
    with store.writing() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == FULL
    store.close()


def test_the_sync_level_is_a_documented_setting_and_a_bad_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINLINK_SQLITE_SYNCHRONOUS", "normal")
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    assert set(_levels(engine, 3)) == {1}
    engine.dispose()
    monkeypatch.setenv("PAINLINK_SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ValueError, match="PAINLINK_SQLITE_SYNCHRONOUS='SOMETIMES' is not"):
        make_engine(f"sqlite:///{tmp_path / 'c.db'}")


# ------------------------------------------------------------------ SIGKILL mid-stream

ROOT = Path(__file__).resolve().parents[1]
KILLS = 4
WRITERS = 4
PER_KILL = 50  # acknowledged writes between kills


class Server:
    """``painlink serve`` in a subprocess that the test can SIGKILL and start again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "painlink.cli", "serve", "--db", self.url,
             "--port", str(self.port), "--insecure-cookies"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/login", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _stream(
    base: str, cookies: dict[str, str], pid: str, csrf: str, n: int, stop: threading.Event,
    acked: list[tuple[str, str]], interrupted: list[int],
) -> None:  # fmt: skip
    """One writer: attacks and check-ins one after another, until the server dies."""
    day = dt.date(2001, 1, 1) + dt.timedelta(days=4000 * n)
    with httpx.Client(base_url=base, cookies=cookies, timeout=10) as c:
        sent = 0
        while not stop.is_set():
            sent += 1
            try:
                if sent % 2:
                    r = c.post(f"/api/patients/{pid}/attacks", json={"intensity": 2},
                               headers={"X-CSRF-Token": csrf})  # fmt: skip
                    if r.status_code == 201:
                        acked.append(("attack", r.json()["attack_id"]))
                else:
                    day += dt.timedelta(days=1)
                    r = c.put(f"/api/patients/{pid}/days/{day}", json={"stress": 3},
                              headers={"X-CSRF-Token": csrf})  # fmt: skip
                    if r.status_code == 200:
                        acked.append(("day", day.isoformat()))
            except httpx.HTTPError:
                interrupted.append(n)  # killed mid-request: that write was not acknowledged
                return


@pytest.mark.slow
def test_no_acknowledged_write_is_lost_when_the_server_is_killed(db_url: str) -> None:
    """Stream writes from several clients, SIGKILL the server mid-stream, restart it,
    again; every write that got its 200/201 must be stored, and the file intact."""
    server = Server(db_url)
    acked: list[tuple[str, str]] = []
    interrupted: list[int] = []
    try:
        server.start()
        c = httpx.Client(base_url=server.base)
        r = c.post("/register", data={"csrf_token": form_token(c, "/register"),
                                  "email": "jo@x.org", "display_name": "Jo",
                                      "password": "correct horse battery staple"})  # fmt: skip
        assert r.status_code in (200, 303), r.text
        me = c.get("/api/me").json()
        cookies = dict(c.cookies.items())  # the session outlives the process: it is stored
        for _ in range(KILLS):
            stop = threading.Event()
            writers = [
                threading.Thread(target=_stream, args=(server.base, cookies, me["patient_id"],
                                 me["csrf_token"], n, stop, acked, interrupted))
                for n in range(WRITERS)
            ]  # fmt: skip
            before = len(acked)
            for w in writers:
                w.start()
            deadline = time.monotonic() + 30
            while len(acked) < before + PER_KILL and time.monotonic() < deadline:
                time.sleep(0.01)  # mid-stream: writes are in flight when it is killed
            server.kill()
            stop.set()
            for w in writers:
                w.join(timeout=15)
            server.start()
        server.stop()
    finally:
        server.stop()
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        attacks = set(conn.execute(sa.text("SELECT attack_id FROM attacks")).scalars())
        days = {str(d) for d in conn.execute(sa.text("SELECT date FROM days")).scalars()}
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()
    lost = [(k, v) for k, v in acked if v not in (attacks if k == "attack" else days)]
    assert len(acked) >= KILLS * PER_KILL
    assert interrupted, "no write was in flight when the server was killed"
    print(f"{len(acked)} acknowledged, {len(interrupted)} cut off by {KILLS} kills, 0 lost")
    assert lost == [], f"{len(lost)} of {len(acked)} acknowledged writes lost"
