"""Where the diary lives and how to open it.

SQLite in the user's data directory is the default so a person can start with no
server; a clinic points every command at PostgreSQL with ``--db`` or
``PAINLINK_DATABASE_URL``. Both run the same Alembic migrations.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_dir

ENV_VAR = "PAINLINK_DATABASE_URL"


def default_url() -> str:
    """The URL commands use when given none: the environment, else the user's SQLite file."""
    if url := os.environ.get(ENV_VAR):
        return url
    return f"sqlite:///{Path(user_data_dir('painlink')) / 'painlink.db'}"


def normalise_url(url: str) -> sa.URL:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pick psycopg 3."""
    parsed = sa.make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web app read while an import writes; foreign keys are off by default
    # in SQLite and must be switched on per connection. The driver's own transaction
    # handling is switched off so that _sqlite_begin decides how each transaction begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # deleted rows are overwritten with zeros, not just unlinked: a deleted person's
    # note or e-mail must not survive in free pages of the file
    cursor.execute("PRAGMA secure_delete=ON")
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    if mode not in {"wal", "memory"}:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """BEGIN IMMEDIATE for transactions that will write (execution option
    ``sqlite_immediate``): a deferred transaction that reads, then writes, fails at once
    with "database is locked" when another writer got there first; an immediate one
    waits its turn (busy_timeout)."""
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> sa.Engine:
    parsed = normalise_url(url or default_url())
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def describe(engine: sa.Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)
