"""Where the diary lives and how to open it.

SQLite in the user's data directory is the default so a person can start with no
server; a clinic points every command at PostgreSQL with ``--db`` or
``PAINLINK_DATABASE_URL``. Both run the same Alembic migrations.
"""

from __future__ import annotations

import os
import select
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_dir

ENV_VAR = "PAINLINK_DATABASE_URL"
SYNCHRONOUS_VAR = "PAINLINK_SQLITE_SYNCHRONOUS"
POOL_VAR = "PAINLINK_DB_POOL_SIZE"

# FULL: SQLite syncs the WAL to disk before a commit returns, so an acknowledged write
# survives a power loss or an operating-system crash, not just a killed process. NORMAL
# (syncing only at checkpoints) is faster but can roll back the last acknowledged
# writes on power loss; docs/reliability.md measures the difference.
SYNCHRONOUS_LEVELS = ("FULL", "EXTRA", "NORMAL", "OFF")
DEFAULT_SYNCHRONOUS = "FULL"

# One connection per request thread: the web app runs sync handlers in anyio's thread
# pool (40 threads), and every request uses at most one connection at a time, so 40
# connections plus headroom for the audit flush and the CLI never make a request wait
# for a connection. A PostgreSQL clinic running several workers needs
# workers x (pool + overflow) below the server's max_connections (docs/web.md).
DEFAULT_POOL_SIZE = 40
POOL_OVERFLOW = 10


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


def sqlite_synchronous() -> str:
    """The ``PRAGMA synchronous`` level every SQLite connection gets: FULL unless
    ``PAINLINK_SQLITE_SYNCHRONOUS`` names another (a refused value stops the program
    rather than silently weakening durability)."""
    level = os.environ.get(SYNCHRONOUS_VAR, DEFAULT_SYNCHRONOUS).strip().upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"{SYNCHRONOUS_VAR}={level!r} is not a SQLite synchronous level; "
            f"use one of {', '.join(SYNCHRONOUS_LEVELS)}"
        )
    return level


THREADS_VAR = "PAINLINK_WEB_THREADS"
DEFAULT_THREADS = 40  # anyio's own default


def web_threads() -> int:
    """Threads that run request handlers per process (``PAINLINK_WEB_THREADS``)."""
    text = os.environ.get(THREADS_VAR, str(DEFAULT_THREADS)).strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{THREADS_VAR}={text!r} is not a whole number of threads (1 or more)")
    return int(text)


def pool_size() -> int:
    """Connections kept per process (``PAINLINK_DB_POOL_SIZE``, default 40)."""
    text = os.environ.get(POOL_VAR, str(DEFAULT_POOL_SIZE)).strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{POOL_VAR}={text!r} is not a whole number of connections (1 or more)")
    return int(text)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web app read while an import writes; foreign keys are off by default
    # in SQLite and must be switched on per connection. The driver's own transaction
    # handling is switched off so that _sqlite_begin decides how each transaction begins.
    # synchronous is a per-connection setting too: every connection gets it here.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
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
    size = pool_size()
    if parsed.get_backend_name() == "sqlite":
        sqlite_synchronous()  # refuse a bad setting now, not at the first request
        memory = not parsed.database or parsed.database == ":memory:"
        if parsed.database and not memory:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        pool = {} if memory else {"pool_size": size, "max_overflow": POOL_OVERFLOW}
        engine = sa.create_engine(parsed, **pool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(parsed, pool_size=size, max_overflow=POOL_OVERFLOW)
    sa.event.listen(engine, "checkout", _still_connected)
    return engine


def _still_connected(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """Replace a pooled PostgreSQL connection the server has closed, without asking it.

    ``pool_pre_ping`` sent ``SELECT 1`` on every checkout: a round trip per request
    (two with the audit flush) that waits for the server's process and this thread
    to be scheduled again, the most common statement under load. A server that ends
    a session (restart, shutdown, ``pg_terminate_backend``, a crash) sends its error
    and closes the socket, and between transactions it sends nothing else: an idle
    connection with anything to read, or closed, is dead. The pool then opens a new
    one (SQLAlchemy's DisconnectionError)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise sa.exc.DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise sa.exc.DisconnectionError(f"the connection's socket is gone ({exc})") from exc
    if readable:
        raise sa.exc.DisconnectionError("the server closed the connection")


def describe(engine: sa.Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)
