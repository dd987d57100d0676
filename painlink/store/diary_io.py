"""Bulk reading and writing of whole diaries.

Imports and exports move millions of rows, so they skip the ORM: SQLite gets one
prepared INSERT run with ``executemany`` over row tuples, PostgreSQL gets
``COPY … FROM STDIN``. Every write runs inside the caller's transaction, so a
failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from painlink.diary.fields import FieldSpec
from painlink.diary.frames import FACTOR_SCHEMA, TABLE_BY_NAME, DiaryFrames
from painlink.store import tables as t

_CHUNK = 50_000
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"  # the text form SQLAlchemy's SQLite DateTime uses


class PatientExistsError(ValueError):
    def __init__(self, patient_ids: Sequence[str]) -> None:
        self.patient_ids = list(patient_ids)
        shown = ", ".join(self.patient_ids[:5]) + (" …" if len(self.patient_ids) > 5 else "")
        super().__init__(
            f"{len(self.patient_ids)} patient(s) already in the database: {shown}. "
            "painlink does not merge diaries; export, delete and re-import to replace one."
        )


def _specs(name: str) -> dict[str, str]:
    """Column name → kind for a frame of the named table."""
    if name == "factors":
        return {c: "str" for c in FACTOR_SCHEMA}
    return {f.name: f.kind for f in TABLE_BY_NAME[name].fields}


def _insert_sqlite(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    kinds = _specs(table.name)
    frame = frame.with_columns(
        [
            pl.col(c).dt.to_string(_SQLITE_DATETIME if k == "datetime" else "%Y-%m-%d")
            for c, k in kinds.items()
            if k in {"datetime", "date"}
        ]
    )
    q = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in frame.columns)}) "
        f"VALUES ({', '.join('?' for _ in frame.columns)})"
    )
    for part in frame.iter_slices(_CHUNK):
        conn.exec_driver_sql(sql, part.rows())


def _insert_postgresql(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    q = conn.dialect.identifier_preparer.quote
    sql = f"COPY {q(table.name)} ({', '.join(q(c) for c in frame.columns)}) FROM STDIN (FORMAT csv)"
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for part in frame.iter_slices(_CHUNK):
            copy.write(
                part.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.6f")
            )


def existing_patients(conn: sa.Connection, patient_ids: Iterable[str]) -> list[str]:
    ids = list(patient_ids)
    found: list[str] = []
    for i in range(0, len(ids), 5_000):
        chunk = ids[i : i + 5_000]
        found += (
            conn.execute(
                sa.select(t.patients.c.patient_id).where(t.patients.c.patient_id.in_(chunk))
            )
            .scalars()
            .all()
        )
    return sorted(found)


def insert_rows(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Bulk-insert one table's rows (COPY on PostgreSQL, executemany on SQLite)."""
    if frame.height:
        (_insert_postgresql if conn.dialect.name == "postgresql" else _insert_sqlite)(
            conn, table, frame
        )


def write_diary(conn: sa.Connection, diary: DiaryFrames) -> dict[str, int]:
    """Insert whole diaries of patients new to the database; returns rows written per table."""
    clash = existing_patients(conn, diary.patient_ids())
    if clash:
        raise PatientExistsError(clash)
    insert = _insert_postgresql if conn.dialect.name == "postgresql" else _insert_sqlite
    written = {}
    for table in t.INSERT_ORDER:
        frame: pl.DataFrame = getattr(diary, table.name)
        if frame.height:
            insert(conn, table, frame)
        written[table.name] = frame.height
    return written


def _to_frame(rows: list[tuple[Any, ...]], kinds: dict[str, str], sqlite: bool) -> pl.DataFrame:
    names = list(kinds)
    if not rows:
        return pl.DataFrame(schema={c: FieldSpec(c, c, k, False).dtype for c, k in kinds.items()})  # type: ignore[arg-type]
    columns = list(zip(*rows, strict=True))
    out = {}
    for name, values in zip(names, columns, strict=True):
        kind = kinds[name]
        dtype = FieldSpec(name, name, kind, False).dtype  # type: ignore[arg-type]
        if sqlite and kind in {"date", "datetime"}:
            series = pl.Series(name, values, dtype=pl.String)
            if kind == "date":
                series = series.str.to_date("%Y-%m-%d")
            else:
                series = series.str.to_datetime(_SQLITE_DATETIME, time_unit="us")
        else:
            series = pl.Series(name, values, dtype=dtype, strict=False)
        out[name] = series.cast(dtype)
    return pl.DataFrame(out)


def _fetch(conn: sa.Connection, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows as plain tuples straight from the driver: no Row objects for millions of rows."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def read_rows(
    conn: sa.Connection, patient_ids: Sequence[str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """The stored rows of whole diaries as plain tuples, table by table: cheap enough
    to fingerprint a diary before deciding whether to build frames from it."""
    sqlite = conn.dialect.name == "sqlite"
    q = conn.dialect.identifier_preparer.quote
    mark = "?" if sqlite else "%s"
    out = {}
    for table in t.INSERT_ORDER:
        kinds = _specs(table.name)
        sql = f"SELECT {', '.join(q(c) for c in kinds)} FROM {q(table.name)}"
        if patient_ids is None:
            rows = _fetch(conn, sql)
        else:
            rows = []
            ids = list(patient_ids)
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                where = f" WHERE patient_id IN ({', '.join(mark for _ in chunk)})"
                rows += _fetch(conn, sql + where, chunk)
        out[table.name] = rows
    return out


#: the date column by which a date range keeps a table's rows; other tables are read
#: whole, and aura symptoms follow their attack
WINDOW_COLUMNS = {
    "days": "date",
    "factor_values": "date",
    "attacks": "start",
    "intensity_readings": "at",
    "medications": "taken_at",
    "spine_pain": "start",
    "screening_answers": "at",
}


_PATIENT = object()  # stands for the patient id in a window query's parameters


def _window_sql(conn: sa.Connection, first: dt.date, last: dt.date) -> list[tuple[str, list[Any]]]:
    """One SELECT per table for one patient's rows dated first..last (a datetime by
    its date), with its parameters: the patient id is always the first."""
    sqlite = conn.dialect.name == "sqlite"
    q = conn.dialect.identifier_preparer.quote
    mark = "?" if sqlite else "%s"
    out = []
    for table in t.INSERT_ORDER:
        kinds = _specs(table.name)
        columns = ", ".join(q(c) for c in kinds)
        sql = f"SELECT {columns} FROM {q(table.name)} WHERE patient_id = {mark}"
        params: list[Any] = []
        column = WINDOW_COLUMNS.get(table.name)
        if table.name == "aura_symptoms":
            column = "start"  # of the attack, in the subquery
            sql += f" AND attack_id IN (SELECT attack_id FROM attacks WHERE patient_id = {mark}"
            params.append(_PATIENT)
        if column is not None:
            if sqlite:  # text: compare the date part, as the rows' own dates
                sql += f" AND substr({q(column)}, 1, 10) BETWEEN ? AND ?"
                params += [first.isoformat(), last.isoformat()]
            elif kinds.get(column, "datetime") == "date":
                sql += f" AND {q(column)} BETWEEN %s AND %s"
                params += [first, last]
            else:  # timestamp without time zone: the day's first instant to the next day's
                sql += f" AND {q(column)} >= %s AND {q(column)} < %s"
                params += [
                    dt.datetime.combine(first, dt.time()),
                    dt.datetime.combine(last + dt.timedelta(days=1), dt.time()),
                ]
        if table.name == "aura_symptoms":
            sql += ")"
        out.append((sql, params))
    return out


def _bind(params: list[Any], patient_id: str) -> list[Any]:
    return [patient_id, *(patient_id if p is _PATIENT else p for p in params)]


def read_window_rows(
    conn: sa.Connection, patient_id: str, first: dt.date, last: dt.date
) -> dict[str, list[tuple[Any, ...]]]:
    """One patient's stored rows dated first..last (undated tables whole), as
    :func:`read_rows` gives them: what a month's calendar can depend on.

    On PostgreSQL the 15 SELECTs go in one round trip (one client-side-bound
    statement list): under load each round trip waits for the server's process and
    the app's thread to be scheduled again, and 15 of them made the calendar the
    slowest page. SQLite runs in the process, so there they run one by one."""
    queries = _window_sql(conn, first, last)
    names = [table.name for table in t.INSERT_ORDER]
    out: dict[str, list[tuple[Any, ...]]] = {}
    if conn.dialect.name == "sqlite":
        for name, (sql, params) in zip(names, queries, strict=True):
            out[name] = _fetch(conn, sql, _bind(params, patient_id))
        return out
    import psycopg

    raw = conn.connection.driver_connection
    sql = ";\n".join(sql for sql, _ in queries)
    params = [v for _, ps in queries for v in _bind(ps, patient_id)]
    with psycopg.ClientCursor(raw) as cursor:  # type: ignore[arg-type]
        cursor.execute(sql, params)
        for i, name in enumerate(names):
            if i:
                cursor.nextset()
            out[name] = cursor.fetchall()
    return out


def frames_from_rows(rows: dict[str, list[tuple[Any, ...]]], sqlite: bool) -> DiaryFrames:
    """DiaryFrames from :func:`read_rows`' tuples, in natural-key order."""
    out = {name: _to_frame(table_rows, _specs(name), sqlite) for name, table_rows in rows.items()}
    return DiaryFrames.from_tables(**out).sorted()


def read_diary(conn: sa.Connection, patient_ids: Sequence[str] | None = None) -> DiaryFrames:
    """Whole diaries of the given patients (all patients when None), in natural-key order."""
    return frames_from_rows(read_rows(conn, patient_ids), conn.dialect.name == "sqlite")


def patient_ids(conn: sa.Connection) -> list[str]:
    return list(
        conn.execute(sa.select(t.patients.c.patient_id).order_by(t.patients.c.patient_id)).scalars()
    )


def delete_patients(conn: sa.Connection, ids: Sequence[str]) -> int:
    """Delete patients and every row that names them: their diary (ON DELETE CASCADE),
    their account with its sessions and grants, and the login attempts made with their
    e-mail address. Audit rows stay: they name only the pseudonymous patient id."""
    from painlink.store.account_tables import users

    ids = list(ids)
    user_ids: list[int] = []
    for i in range(0, len(ids), 500):
        user_ids += conn.execute(
            sa.select(users.c.id).where(users.c.patient_id.in_(ids[i : i + 500]))
        ).scalars()
    erase_accounts(conn, user_ids)
    deleted = 0
    for i in range(0, len(ids), 500):
        deleted += conn.execute(
            sa.delete(t.patients).where(t.patients.c.patient_id.in_(ids[i : i + 500]))
        ).rowcount
    return deleted


def erase_accounts(conn: sa.Connection, user_ids: Sequence[int]) -> None:
    """Delete accounts with their sessions and grants (cascade: also recovery codes and
    reset links), every login attempt made with their e-mail addresses and any pending
    registration naming them, so no row keeps the address after deletion."""
    from painlink.store.account_tables import (
        auth_tokens,
        grants,
        login_attempts,
        sessions,
        users,
    )

    for i in range(0, len(user_ids), 500):
        chunk = list(user_ids[i : i + 500])
        emails = list(conn.execute(sa.select(users.c.email).where(users.c.id.in_(chunk))).scalars())
        conn.execute(sa.delete(sessions).where(sessions.c.user_id.in_(chunk)))
        conn.execute(sa.delete(grants).where(grants.c.clinician_id.in_(chunk)))
        if emails:
            conn.execute(
                sa.delete(login_attempts).where(
                    sa.func.lower(login_attempts.c.email).in_([e.lower() for e in emails])
                )
            )
            for email in emails:  # a registration waiting for its e-mail holds the address
                conn.execute(
                    sa.delete(auth_tokens).where(
                        auth_tokens.c.purpose == "register",
                        auth_tokens.c.payload.contains(email, autoescape=True),
                    )
                )
        conn.execute(sa.delete(users).where(users.c.id.in_(chunk)))
