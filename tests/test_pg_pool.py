"""Pooled PostgreSQL connections the server has ended are replaced, not handed out."""

from __future__ import annotations

import sqlalchemy as sa

from painlink.store.engine import make_engine


def test_connections_the_server_ended_are_replaced_without_an_error(postgres_url: str) -> None:
    """The pool checks a connection's socket instead of sending SELECT 1: after the
    server ends every session of the pool (as a restart would), the next requests get
    fresh connections, and no checkout sends a statement of its own."""
    engine = make_engine(postgres_url)
    admin = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    held = [engine.connect() for _ in range(3)]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in held]
    for c in held:
        c.close()  # back to the pool, idle
    with admin.begin() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        # ended sessions close their sockets at once; wait until they are gone
        for _ in range(100):
            left = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": pids}
            ).scalar()
            if not left:
                break
            conn.execute(sa.text("SELECT pg_sleep(0.05)"))
    sent.clear()
    again = [engine.connect() for _ in range(3)]
    try:
        fresh = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in again]
        assert not set(fresh) & set(pids)
        assert sent == ["SELECT pg_backend_pid()"] * 3  # no ping before each
    finally:
        for c in again:
            c.close()
        engine.dispose()
        admin.dispose()
