"""Storage on SQLite and PostgreSQL: migrations, lossless writes, all-or-nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from painlink.diary.frames import DiaryFrames
from painlink.interop.csv_diary import read_diary_folder
from painlink.store import migrate
from painlink.store.diary_io import PatientExistsError
from painlink.store.engine import normalise_url
from painlink.store.store import NotInitialisedError, Store
from painlink.store.tables import attacks


def test_migrations_upgrade_an_empty_database_and_go_back(db_url: str) -> None:
    store = Store(db_url)
    assert migrate.current_revision(store.engine) is None
    with pytest.raises(NotInitialisedError, match="painlink init"):
        store.check()
    assert store.init() == migrate.head_revision(store.engine)
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"patients", "attacks", "days", "medications", "treatments", "visits"} <= tables
    migrate.downgrade(store.engine, "base")
    assert "attacks" not in sa.inspect(store.engine).get_table_names()
    store.init()
    store.check()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_write_then_read_is_lossless(db_url: str, simulated_folder: Path) -> None:
    diary = read_diary_folder(simulated_folder)
    store = Store(db_url)
    store.init()
    written = store.write(diary)
    assert written["attacks"] == diary.attacks.height > 0
    back = store.read()
    for (name, a), (_, b) in zip(diary.items(), back.items(), strict=True):
        assert a.equals(b), name
    one = store.read(["SIM000003"])
    assert one.patient_ids() == ["SIM000003"]
    assert one.attacks["patient_id"].unique().to_list() == ["SIM000003"]


def test_existing_patient_aborts_the_whole_write(db_url: str, simulated_folder: Path) -> None:
    diary = read_diary_folder(simulated_folder)
    store = Store(db_url)
    store.init()
    store.write(diary.only(["SIM000001"]))
    before = store.counts()
    with pytest.raises(PatientExistsError, match="SIM000001"):
        store.write(diary.only(["SIM000002", "SIM000001"]))
    assert store.counts() == before


def test_database_constraints_refuse_what_validation_refuses(db_url: str) -> None:
    """A row that skipped validation still cannot store an impossible value."""
    store = Store(db_url)
    store.init()
    store.write(
        DiaryFrames.from_tables(
            patients=pl.DataFrame({"patient_id": ["p1"], "sex": ["female"], "time_zone": ["UTC"]})
        )
    )
    start = dt.datetime(2025, 1, 2, 8)
    bad_rows = [
        {"patient_id": "p1", "attack_id": "a", "start": start, "intensity": 14},
        {
            "patient_id": "p1",
            "attack_id": "b",
            "start": start,
            "end": start - dt.timedelta(hours=1),
        },
        {"patient_id": "p1", "attack_id": "c", "start": start, "side": "up"},
        {"patient_id": "nobody", "attack_id": "d", "start": start},
    ]
    for row in bad_rows:
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.execute(attacks.insert().values(**row))
    assert store.counts()["attacks"] == 0


def test_deleting_a_patient_removes_everything_they_recorded(
    db_url: str, simulated_folder: Path
) -> None:
    store = Store(db_url)
    store.init()
    store.write(read_diary_folder(simulated_folder).only(["SIM000001", "SIM000002"]))
    assert store.delete(["SIM000001"]) == 1
    left = store.read()
    for name, frame in left.items():
        assert "SIM000001" not in frame["patient_id"].to_list(), name
    assert left.attacks.height > 0


def test_postgres_urls_are_normalised_to_psycopg() -> None:
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"
