"""Request plumbing shared by pages and API: the database connection, the signed-in
user, CSRF checks and access to a patient's diary (checked and audited every time)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from painlink.services.accounts import can_access
from painlink.store import audit as audit_chain
from painlink.web.security import (
    DEFAULT_SETTINGS,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    AuthSettings,
    CurrentUser,
    audit,
    csrf_ok,
    load_session,
    needs_touch,
    new_presession_token,
    now,
    presession_ok,
    touch_session,
)

T = TypeVar("T")


class LoginRequired(Exception):
    """Raised when no valid session exists; pages redirect, the API answers 401."""


class SecondFactorSetupRequired(Exception):
    """Staff must set up a second factor before anything else (when the server requires
    it); pages redirect to the set-up page, the API answers 403."""


# Pages a staff member without a second factor may still use: setting it up, leaving.
SETUP_PATHS = ("/account/2fa", "/logout")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditQueue:
    """Group commit for the audit rows of reads and refusals (and sessions' last-seen
    times).

    Every page view leaves an audit row, written after its read transaction. One write
    transaction each meant one fsync each (synchronous=FULL: ~3.4 ms on the test
    machine) on SQLite's single writer, for every request. Here the first request to
    arrive writes every row waiting at that moment in one transaction (appended to the
    hash chain in arrival order), the others wait for that commit; rows that arrive
    meanwhile go in the next one. Each request still returns only after its own rows
    are committed (or with the error that stopped them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._touches: list[Any] = []
        self._collecting = 0  # number of the batch now taking rows
        self._done = 0  # batches below this number are committed or failed
        self._writing = False
        self._errors: dict[int, BaseException] = {}

    def write(self, store: Any, rows: list[dict[str, Any]], touch: Any = None) -> None:
        with self._cond:
            self._pending.extend(rows)
            if touch:
                self._touches.append(touch)
            mine = self._collecting
            while self._done <= mine:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                batch, self._pending = self._pending, []
                touches, self._touches = self._touches, []
                number = self._collecting
                self._collecting += 1
                error: BaseException | None = None
                self._cond.release()
                try:
                    with store.writing() as conn:
                        for each in touches:  # before the chain's lock is taken
                            touch_session(conn, each)
                        if batch:
                            audit_chain.append(conn, batch, commit=True)
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
    """Write buffered audit rows, and the session's last-seen time if it is due."""
    rows = getattr(request.state, "audit_rows", None)
    touch = getattr(request.state, "touch_session", None)
    if rows or touch:
        queue = getattr(request.app.state, "audit_queue", None)
        if queue is None:
            with request.app.state.store.writing() as conn:
                if touch:
                    touch_session(conn, touch)
                if rows:
                    audit_chain.append(conn, rows, commit=True)
        else:
            queue.write(request.app.state.store, list(rows or []), touch)
        if rows:
            rows.clear()
        request.state.touch_session = None


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


async def run_write(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(request, conn, *args)`` in one write transaction, in one worker thread.

    All of a write's database work happens inside a single thread-pool call: holding
    the writer lock across FastAPI's dependency boundary would need a second worker
    thread per waiting request and can starve the pool."""

    def work() -> T:
        request.state.audit_rows = []
        request.state.tx_audit_rows = []
        request.state.in_write = True
        try:
            with request.app.state.store.writing() as conn:
                result = fn(request, conn, *args)
                audit_chain.append(conn, request.state.tx_audit_rows, commit=True)
                return result
        finally:
            request.state.tx_audit_rows = None
            flush_audit(request)

    return await run_in_threadpool(work)


def auth_settings(request: Request) -> AuthSettings:
    return getattr(request.app.state, "auth", DEFAULT_SETTINGS)


def client_ip(request: Request) -> str | None:
    """The client's address. ``X-Forwarded-For`` is believed only when the direct peer
    is a configured proxy (PAINLINK_TRUSTED_PROXIES): anyone else could write any
    address there and escape the per-address login back-off. The nearest address not
    itself a trusted proxy is the client."""
    peer = request.client.host if request.client else None
    settings = auth_settings(request)
    if not settings.is_trusted_proxy(peer):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not settings.is_trusted_proxy(hop):
            return hop[:64]
    return peer


def session_user(request: Request, conn: sa.Connection) -> CurrentUser | None:
    """The session's user at any stage, its last-seen time refreshed when due."""
    user = load_session(conn, request.cookies.get(SESSION_COOKIE), auth_settings(request))
    if user is not None and needs_touch(user):
        if getattr(request.state, "in_write", False):
            touch_session(conn, user.token_hash)
        else:
            request.state.touch_session = user.token_hash  # written after the read
    return user


def optional_user(request: Request, conn: sa.Connection) -> CurrentUser | None:
    """The signed-in user; a session still waiting for its second factor is not one."""
    user = session_user(request, conn)
    return user if user is not None and user.stage == "full" else None


def needs_second_factor_setup(request: Request, user: CurrentUser) -> bool:
    return (
        user.role in ("clinician", "admin")
        and not user.has_totp
        and auth_settings(request).require_totp_for_staff
    )


def require_user(request: Request, conn: sa.Connection, *roles: str) -> CurrentUser:
    user = optional_user(request, conn)
    if user is None:
        request.state.login_required = True  # audited as a refusal (audit_refusals)
        raise LoginRequired()
    if needs_second_factor_setup(request, user) and not request.url.path.startswith(SETUP_PATHS):
        raise SecondFactorSetupRequired()
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


def own_diary_write(
    request: Request, conn: sa.Connection, data: dict[str, str], resource: str
) -> tuple[CurrentUser, str]:
    """The checks every patient form post makes before writing to their own diary:
    logged in as a patient, a valid CSRF token (removed from the form so it is never
    echoed back), and an audited write."""
    user = require_user(request, conn, "patient")
    check_csrf(user, data.pop("csrf_token", None))
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "write", resource)
    return user, pid


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


# ------------------------------------------------------------------ forms before a session


def presession_token(request: Request) -> str:
    """The token for a form shown before anyone is signed in (login, register, reset):
    the browser's signed cookie if it has a valid one, else a new one. Set it on the
    response with :func:`set_presession`."""
    key = request.app.state.signing_key
    cookie = request.cookies.get(PRESESSION_COOKIE)
    if cookie and presession_ok(key, cookie, cookie):
        return cookie
    return new_presession_token(key)


def set_presession(request: Request, response: Response, token: str) -> Response:
    if request.cookies.get(PRESESSION_COOKIE) != token:
        response.set_cookie(
            PRESESSION_COOKIE,
            token,
            httponly=True,
            secure=request.app.state.secure_cookies,
            samesite="strict",
        )
    return response


def check_presession(request: Request, data: dict[str, str]) -> None:
    """Refuse a login/register/reset form that did not come from painlink's own page
    (login CSRF would sign a victim in to the attacker's account)."""
    supplied = data.pop("csrf_token", None)
    if not presession_ok(
        request.app.state.signing_key, request.cookies.get(PRESESSION_COOKIE), supplied
    ):
        raise HTTPException(
            status_code=403,
            detail="the form expired or did not come from painlink; reload the page and try again",
        )
