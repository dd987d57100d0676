"""What an administrator sees: the accounts and the latest audit rows, never health data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from painlink.store.account_tables import audit_log, users

#: how many of the newest audit rows the admin page lists
AUDIT_ROWS_SHOWN = 100


def admin_overview(conn: sa.Connection) -> dict[str, Any]:
    """``people`` (id, e-mail, role, created) and ``log`` (the newest audit rows)."""
    people = list(
        conn.execute(
            sa.select(users.c.id, users.c.email, users.c.role, users.c.created_at).order_by(
                users.c.id
            )
        )
    )
    # who, what, when, whose — never the detail column, which may say more than an
    # admin (who reads no health data) needs
    shown = [audit_log.c[n] for n in ("seq", "at", "user_id", "role", "action", "patient_id")]
    log = list(
        conn.execute(
            sa.select(*shown, audit_log.c.resource)
            .order_by(audit_log.c.seq.desc())
            .limit(AUDIT_ROWS_SHOWN)
        )
    )
    return {"people": people, "log": log}
