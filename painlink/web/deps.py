"""Request plumbing shared by pages and API: the database connection, the signed-in
user, CSRF checks and access to a patient's diary (checked and audited every time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from painlink.store import audit as audit_chain
from painlink.web.accounts import can_access
from painlink.web.security import SESSION_COOKIE, CurrentUser, audit, csrf_ok, load_session, now


class LoginRequired(Exception):
    """Raised when no valid session exists; pages redirect, the API answers 401."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def flush_audit(request: Request) -> None:
    rows = getattr(request.state, "audit_rows", None)
    if rows:
        with request.app.state.store.writing() as conn:
            audit_chain.append(conn, rows)
        rows.clear()


def get_conn(request: Request) -> Iterator[sa.Connection]:
    """A read transaction for a GET request: pages that only look never queue behind
    writers while they compute. Buffered audit rows (reads, refusals) are written after
    it, in a short write of their own, even when the request fails."""
    store = request.app.state.store
    request.state.audit_rows = []
    try:
        with store.engine.connect() as conn, conn.begin():
            yield conn
    finally:
        flush_audit(request)


def record(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser | None,
    action: str,
    resource: str,
    patient_id: str | None = None,
    detail: str | None = None,
    buffer: bool = False,
) -> None:
    """An audit row: in a write (run_write) it joins the request's transaction, appended
    to the hash chain just before the commit, so the chain's lock is held for
    milliseconds rather than the whole write; for read transactions and refusals it is
    buffered and written after them (see get_conn)."""
    if action == "denied":
        request.state.refusal_audited = True
    row = {
        "at": now(),
        "user_id": user.id if user else None,
        "role": user.role if user else None,
        "action": action,
        "patient_id": patient_id,
        "resource": resource,
        "detail": detail,
        "ip": client_ip(request),
    }
    rows = getattr(request.state, "audit_rows", None)
    pending = getattr(request.state, "tx_audit_rows", None)
    if rows is not None and (buffer or not getattr(request.state, "in_write", False)):
        rows.append(row)
    elif pending is not None:
        pending.append(row)
    else:
        audit(conn, user, action, resource, patient_id, detail=detail, ip=client_ip(request))


async def run_write(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(request, conn, *args)`` in one write transaction, in one worker thread.

    All of a write's database work happens inside a single thread-pool call: holding
    the writer lock across FastAPI's dependency boundary would need a second worker
    thread per waiting request and can starve the pool."""

    def work() -> Any:
        request.state.audit_rows = []
        request.state.tx_audit_rows = []
        request.state.in_write = True
        try:
            with request.app.state.store.writing() as conn:
                result = fn(request, conn, *args)
                audit_chain.append(conn, request.state.tx_audit_rows)
                return result
        finally:
            request.state.tx_audit_rows = None
            flush_audit(request)

    return await run_in_threadpool(work)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_user(request: Request, conn: sa.Connection) -> CurrentUser | None:
    return load_session(conn, request.cookies.get(SESSION_COOKIE))


def require_user(request: Request, conn: sa.Connection, *roles: str) -> CurrentUser:
    user = optional_user(request, conn)
    if user is None:
        request.state.login_required = True  # audited as a refusal (audit_refusals)
        raise LoginRequired()
    if roles and user.role not in roles:
        raise HTTPException(status_code=403, detail=f"this needs a {' or '.join(roles)} account")
    return user


def check_csrf(user: CurrentUser, supplied: str | None) -> None:
    if not csrf_ok(user, supplied):
        raise HTTPException(
            status_code=403, detail="the form expired or did not come from painlink; reload"
        )


def patient_access(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    patient_id: str,
    action: str,
    resource: str,
) -> None:
    """Allow or refuse, and write the audit row either way."""
    allowed = can_access(conn, user, patient_id)
    if allowed:
        record(request, conn, user, action, resource, patient_id)
    else:
        # buffered: the request's transaction is rolled back by the error below
        record(request, conn, user, "denied", resource, patient_id, buffer=True)
        # 404, not 403: do not reveal that another person's diary exists
        raise HTTPException(status_code=404, detail="no such patient, or no access to it")


#: answers that refuse a request; each gets an audit row (unless one was written already)
REFUSALS = frozenset({401, 403, 404, 405, 413, 422, 429})
_PATIENT_IN_PATH = re.compile(r"/patients/([^/]{1,64})")


def _audit_refusal(request: Request, status: int) -> None:
    path = request.url.path
    found = _PATIENT_IN_PATH.search(path)
    with request.app.state.store.writing() as conn:
        user = optional_user(request, conn)
        audit(
            conn,
            user,
            "refused",
            f"{request.method} {path}"[:200],
            found.group(1) if found else None,
            detail=f"HTTP {status}",
            ip=client_ip(request),
        )


async def audit_refusals(request: Request, call_next: Callable[..., Any]) -> Any:
    """HTTP middleware: every refused request to a route of the app (401, 403, 404,
    422 from body validation, 429, …, and a page that sends a signed-out visitor to the
    login) leaves an audit row. Unknown URLs are not routes and are not logged: a
    scanner must not be able to grow the audit log without limit."""
    response = await call_next(request)
    status = response.status_code
    refused = status in REFUSALS or getattr(request.state, "login_required", False)
    if (
        refused
        and "endpoint" in request.scope
        and not getattr(request.state, "refusal_audited", False)
    ):
        await run_in_threadpool(_audit_refusal, request, 401 if status == 303 else status)
    return response
