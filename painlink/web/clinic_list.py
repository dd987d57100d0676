"""The clinic patient list for the page and the API: who asks, one page, its audit.

Why no ``get_conn``: the list may compute stale summaries and store them in a write
of its own (services/clinic_list.py). A read transaction opened before that write
would, on SQLite, keep seeing the database as it was (and, on any database, hold a
pooled connection while the request waits for another). So each step takes its own
short connection, one at a time, as every request here does (store/engine.py)."""

from __future__ import annotations

from fastapi import Request

from painlink.services import clinic_list
from painlink.web.deps import flush_audit, record, require_user
from painlink.web.security import CurrentUser


def clinician_page(
    request: Request, *, offset: int, limit: int, query: str
) -> tuple[CurrentUser, clinic_list.Page]:
    """The signed-in clinician and one page of their consented patients; a read audit
    row for each patient shown (the ones whose data left the server), not for the
    thousands behind the next links."""
    store = request.app.state.store
    request.state.audit_rows = []
    try:
        with store.engine.connect() as conn, conn.begin():
            user = require_user(request, conn, "clinician")
        shown = clinic_list.page(store, user.id, offset=offset, limit=limit, query=query.strip())
        for row in shown.rows:  # buffered: written after the request, by flush_audit
            record(request, conn, user, "read", "patient list", row["patient_id"], buffer=True)
        return user, shown
    finally:
        flush_audit(request)
