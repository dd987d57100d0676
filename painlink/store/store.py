"""The one object commands and the web app use to reach stored diaries."""

from __future__ import annotations

import contextlib
import getpass
import os
import threading
import time
from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from painlink.diary.frames import DiaryFrames
from painlink.store import audit, diary_io, migrate
from painlink.store.engine import describe, make_engine


class NotInitialisedError(RuntimeError):
    pass


def cli_audit_row(action: str, resource: str, patient_id: str | None = None) -> dict[str, object]:
    """An audit row for work done from the command line: no web user, so the operating
    system account that ran it stands for "who"."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        who = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {
        "role": "cli",
        "action": action,
        "resource": resource,
        "patient_id": patient_id,
        "detail": f"os user {who}",
    }


class Store:
    """A painlink database: SQLite file or PostgreSQL, at the current schema revision."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        # SQLite has one writer at a time: queue this process's writers here, where
        # waiting is cheap, rather than in SQLite's sleeping busy handler.
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._checked = False

    @contextlib.contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        lock = self._write_lock or contextlib.nullcontext()
        with lock, self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @property
    def url(self) -> str:
        return describe(self.engine)

    def init(self) -> str | None:
        """Create or upgrade the schema; returns the revision now in force."""
        migrate.upgrade(self.engine)
        self._checked = False
        return migrate.current_revision(self.engine)

    def check(self) -> None:
        if self._checked:
            return
        current = migrate.current_revision(self.engine)
        head = migrate.head_revision(self.engine)
        if current != head:
            state = "has no painlink tables" if current is None else f"is at revision {current}"
            raise NotInitialisedError(
                f"the database {self.url} {state}; run `painlink init` to bring it to {head}"
            )
        self._checked = True  # the schema does not change under a running process

    def write(self, diary: DiaryFrames, action: str = "import") -> dict[str, int]:
        """Add whole diaries in one transaction: all rows are stored, or none — and an
        audit row per patient, in the same transaction."""
        self.check()
        with self.writing() as conn:
            written = diary_io.write_diary(conn, diary)
            audit.append(conn, [cli_audit_row(action, "diary", pid) for pid in diary.patient_ids()])
            return written

    def read(self, patient_ids: Sequence[str] | None = None) -> DiaryFrames:
        self.check()
        with self.engine.connect() as conn:
            return diary_io.read_diary(conn, patient_ids)

    def patient_ids(self) -> list[str]:
        self.check()
        with self.engine.connect() as conn:
            return diary_io.patient_ids(conn)

    def factor_names(self, patient_ids: Sequence[str] | None = None) -> list[str]:
        """Names of own factors (of the given patients), for the columns of days.csv."""
        from painlink.store.tables import factors

        self.check()
        query = sa.select(factors.c.name).distinct()
        names: set[str] = set()
        with self.engine.connect() as conn:
            if patient_ids is None:
                return sorted(conn.execute(query).scalars())
            ids = list(patient_ids)
            for i in range(0, len(ids), 500):
                part = query.where(factors.c.patient_id.in_(ids[i : i + 500]))
                names.update(conn.execute(part).scalars())
        return sorted(names)

    def delete(self, patient_ids: Sequence[str]) -> int:
        """Delete patients with everything that names them (diary, account, sessions,
        grants, login attempts), audit the deletion under the patient's pseudonymous id,
        then scrub the freed bytes from the files (see :meth:`scrub`)."""
        self.check()
        with self.writing() as conn:
            deleted = diary_io.delete_patients(conn, list(patient_ids))
            rows = [cli_audit_row("delete", "patient and diary", p) for p in patient_ids]
            audit.append(conn, rows)
        self.scrub()
        return deleted

    def scrub(self) -> None:
        """After a deletion: leave no copy of deleted rows in the database files.

        SQLite runs with ``secure_delete`` (freed space is zeroed), but the WAL file keeps
        earlier versions of changed pages until a checkpoint; ``wal_checkpoint(TRUNCATE)``
        copies the zeroed pages back and empties the WAL. On PostgreSQL, ``VACUUM`` makes
        the dead row versions reusable (their bytes stay on disk until overwritten;
        see docs/reliability.md)."""
        if self.engine.dialect.name == "sqlite":
            lock = self._write_lock or contextlib.nullcontext()
            with lock, self.engine.connect() as conn:
                for attempt in range(5):  # a reader still on old pages holds it back
                    busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
                    if not busy:
                        break
                    time.sleep(0.2 * (attempt + 1))
        elif self.engine.dialect.name == "postgresql":
            from painlink.store.account_tables import login_attempts, sessions, users
            from painlink.store.tables import INSERT_ORDER

            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in (*INSERT_ORDER, users, sessions, login_attempts):
                    conn.exec_driver_sql(f'VACUUM "{table.name}"')

    def counts(self) -> dict[str, int]:
        self.check()
        from painlink.store.tables import INSERT_ORDER

        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in INSERT_ORDER
            }

    def close(self) -> None:
        self.engine.dispose()
