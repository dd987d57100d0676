"""Request plumbing shared by pages and API: the database connection, the signed-in
user, CSRF checks and access to a patient's diary (checked and audited every time)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from painlink.store.account_tables import audit_log
from painlink.web.accounts import can_access
from painlink.web.security import SESSION_COOKIE, CurrentUser, audit, csrf_ok, load_session, now


class LoginRequired(Exception):
    """Raised when no valid session exists; pages redirect, the API answers 401."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditQueue:
    """Group commit for the audit rows of reads and refusals.

    Every page view leaves an audit row, written after its read transaction. One write
    transaction each meant one fsync each (synchronous=FULL: ~3.4 ms on the test
    machine) on SQLite's single writer, for every request. Here the first request to
    arrive writes every row waiting at that moment in one transaction, the others
    wait for that commit; rows that arrive meanwhile go in the next one. Each request
    still returns only after its own rows are committed (or with the error that
    stopped them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._collecting = 0  # number of the batch now taking rows
        self._done = 0  # batches below this number are committed or failed
        self._writing = False
        self._errors: dict[int, BaseException] = {}

    def write(self, store: Any, rows: list[dict[str, Any]]) -> None:
        with self._cond:
            self._pending.extend(rows)
            mine = self._collecting
            while self._done <= mine:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                batch, self._pending = self._pending, []
                number = self._collecting
                self._collecting += 1
                error: BaseException | None = None
                self._cond.release()
                try:
                    with store.writing() as conn:
                        conn.execute(audit_log.insert(), batch)
                except BaseException as exc:  # every request of the batch is told
                    error = exc
                finally:
                    self._cond.acquire()
                    self._writing = False
                    self._done = number + 1
                    if error is not None:
                        self._errors[number] = error
                        for old in [n for n in self._errors if n < number - 64]:
                            del self._errors[old]
                    self._cond.notify_all()
            failed = self._errors.get(mine)
        if failed is not None:
            raise failed


def flush_audit(request: Request) -> None:
    rows = getattr(request.state, "audit_rows", None)
    if rows:
        queue = getattr(request.app.state, "audit_queue", None)
        if queue is None:
            with request.app.state.store.writing() as conn:
                conn.execute(audit_log.insert(), rows)
        else:
            queue.write(request.app.state.store, list(rows))
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
    """An audit row: written in the request's write transaction (run_write); buffered
    for read transactions and refusals, and written after them (see get_conn)."""
    rows = getattr(request.state, "audit_rows", None)
    if rows is not None and (buffer or not getattr(request.state, "in_write", False)):
        rows.append(
            {
                "at": now(),
                "user_id": user.id if user else None,
                "role": user.role if user else None,
                "action": action,
                "patient_id": patient_id,
                "resource": resource,
                "detail": detail,
                "ip": client_ip(request),
            }
        )
    else:
        audit(conn, user, action, resource, patient_id, detail=detail, ip=client_ip(request))


async def run_write(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(request, conn, *args)`` in one write transaction, in one worker thread.

    All of a write's database work happens inside a single thread-pool call: holding
    the writer lock across FastAPI's dependency boundary would need a second worker
    thread per waiting request and can starve the pool."""

    def work() -> Any:
        request.state.audit_rows = []
        request.state.in_write = True
        try:
            with request.app.state.store.writing() as conn:
                return fn(request, conn, *args)
        finally:
            flush_audit(request)

    return await run_in_threadpool(work)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_user(request: Request, conn: sa.Connection) -> CurrentUser | None:
    return load_session(conn, request.cookies.get(SESSION_COOKIE))


def require_user(request: Request, conn: sa.Connection, *roles: str) -> CurrentUser:
    user = optional_user(request, conn)
    if user is None:
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
