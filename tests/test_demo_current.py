"""The demo's diaries end today, so its calendar and forecast show a current diary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from painlink.cli.demo_seed import seed_demo
from painlink.rules.plausibility import today
from painlink.store.store import Store
from painlink.store.tables import days, patients


def test_every_demo_diary_ends_today_or_yesterday(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    store.init()
    seed_demo(store, 5, tmp_path / "truth.json")
    with store.engine.connect() as conn:
        last = dict(
            conn.execute(
                sa.select(days.c.patient_id, sa.func.max(days.c.date)).group_by(days.c.patient_id)
            ).all()
        )
        zones = dict(conn.execute(sa.select(patients.c.patient_id, patients.c.time_zone)).all())
    assert len(zones) == 5
    for pid, zone in zones.items():
        here = today(zone)
        latest = last[pid]
        if isinstance(latest, str):
            latest = dt.date.fromisoformat(latest)
        assert latest in (here, here - dt.timedelta(days=1)), (pid, zone, latest, here)
