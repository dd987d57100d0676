"""Pure ASGI middleware that runs before any route: request-body limits and the
security headers.

Body limits (issue 9, defect 10): an anonymous client could make the server spool a
300 MB upload to disk before the route noticed there was no session. Here the limit
is decided from the path and the session *before a byte of the body is read*:

- a request without a session may send a body only to the public forms (login,
  register, …) and at most ``PUBLIC_LIMIT``; to any other address it is refused at
  once (401 for the API, a redirect to /login for pages), unread;
- a signed-in request may send up to its route's limit (``UPLOAD_LIMITS`` for the
  upload forms, ``DEFAULT_LIMIT`` otherwise); for the upload routes the session is
  checked in the database first, so a made-up cookie cannot open the large limit;
- a declared ``Content-Length`` over the limit is answered 413 without reading; a
  chunked body is counted as it streams and stopped with 413 when it passes it.

Headers (defect 11): added to every response at the outermost layer, so error
responses — 401, 404, 413, redirects and an unhandled 500 from Starlette's
ServerErrorMiddleware — carry them too. HSTS only on https requests (uvicorn sets the
scheme from ``X-Forwarded-Proto`` only for a trusted proxy, ``--forwarded-allow-ips``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import anyio.to_thread
from fastapi import HTTPException
from starlette.requests import cookie_parser

from painlink.web.security import SESSION_COOKIE, load_session

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB

#: any body a signed-in person sends to a route with no upload: the largest real one
#: (a check-in, a FHIR QuestionnaireResponse posted to the API) is a few kilobytes
DEFAULT_LIMIT = 1 * MIB
#: what a client without a session may send to a public form (e-mail, name, password)
PUBLIC_LIMIT = 64 * KIB
#: routes that take files, with the size their page documents (plus multipart framing)
UPLOAD_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/account/import"), 1024 * MIB + MIB),  # app exports, up to 1 GB
    (re.compile(r"/clinic/patients/[^/]+/fhir"), 1 * MIB + 64 * KIB),  # a FHIR file, 1 MB
)
#: unsafe requests that make sense without a session — the POST routes of
#: ``painlink.web.routes.auth``, each named; a new public form joins here
PUBLIC_POSTS = re.compile(
    r"/login|/login/totp|/logout|/register|/register/confirm/[^/]+"
    r"|/password/forgot|/password/reset/[^/]+"
)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit. An HTTPException,
    so FastAPI's body parsing re-raises it unchanged and the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit))


def too_large(limit: int) -> str:
    size = f"{limit // MIB} MB" if limit >= MIB else f"{limit // KIB} KB"
    return f"the request body is larger than the {size} this address accepts; nothing was saved"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    """The named cookie, parsed as Starlette parses it for the app (leniently: one
    odd cookie of another site's script must not hide the session)."""
    raw = _header(scope, b"cookie")
    return cookie_parser(raw).get(name) if raw else None


def upload_limit(path: str) -> int | None:
    for pattern, limit in UPLOAD_LIMITS:
        if pattern.fullmatch(path):
            return limit
    return None


async def _reply(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A whole response, with ``Connection: close``: the unread body is not drained."""
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    import json

    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": message}).encode()
        await _reply(send, status, body, b"application/json")
    else:
        await _reply(send, status, message.encode(), b"text/plain; charset=utf-8")


async def _login_first(scope: Scope, send: Send) -> None:
    if scope["path"].startswith("/api/"):
        await _refuse(scope, send, 401, "log in first")
    else:
        await _reply(send, 303, b"", b"text/plain", [(b"location", b"/login")])


class BodyLimit:
    """Refuse bodies by route and session before reading them; count streamed ones."""

    def __init__(self, app: ASGIApp, session_ok: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.session_ok = session_ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)  # no body to limit
            return
        path = scope["path"]
        length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        token = _cookie(scope, SESSION_COOKIE)
        upload = upload_limit(path)
        if PUBLIC_POSTS.fullmatch(path):
            limit = PUBLIC_LIMIT
        elif not token:
            await _login_first(scope, send)
            return
        elif upload is not None:
            # the large limit only for a session that exists (checked off the event loop)
            ok = self.session_ok is None or await anyio.to_thread.run_sync(self.session_ok, token)
            if not ok:
                await _login_first(scope, send)
                return
            limit = upload
        else:
            limit = DEFAULT_LIMIT
        if length is not None and not chunked:
            if not length.strip().isdigit():
                await _refuse(scope, send, 400, "the Content-Length header is not a number")
                return
            if int(length) > limit:
                await _refuse(scope, send, 413, too_large(limit))
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(scope, send, 413, too_large(limit))


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return bool(_header(scope, b"transfer-encoding")) or (
        length is not None and length.strip() != "0"
    )


def session_checker(store: Any) -> Callable[[str], bool]:
    """Whether a session token belongs to a live session (one short read)."""

    def check(token: str) -> bool:
        with store.engine.connect() as conn:
            return load_session(conn, token) is not None

    return check


#: requests that hash or verify a password with argon2 (64 MiB and ~0.15 s of CPU
#: each), or that pass a login's second step: the public forms but /logout, and the
#: password change
CREDENTIAL_POSTS = re.compile(
    r"/login|/login/totp|/register|/register/confirm/[^/]+"
    r"|/password/forgot|/password/reset/[^/]+|/account/password"
)
#: requests that analyse a diary (classification, statistics, pictures, exports). Not
#: the calendar: its month grid costs well under a millisecond of CPU
#: (painlink/clinical/month_grid.py), less than rendering the page, so it goes
#: straight on like the home page instead of queueing behind analyses.
ANALYSIS_GETS = re.compile(
    r"/insights|/insights/[^/]+\.png|/clinic|/clinic/patients/[^/]+"
    r"|/account/export|/account/export\.fhir\.json"
    r"|/reports/me\.pdf|/clinic/patients/[^/]+/report\.pdf"
    r"|/api/patients/[^/]+/(classification|insights|export)|/api/clinic/patients"
)
CORES = os.cpu_count() or 2


class CpuGates:
    """At most a few password hashes and a few analyses at a time per process.

    Both are CPU-bound. Run in the common thread pool (40 threads) they would take
    every thread in a burst — 40 logins are 2.5 GiB of argon2 memory — and a check-in
    would wait behind them. Here they wait *before* entering the app, holding no
    thread and no database connection, while every other request goes straight on.
    """

    def __init__(self, app: ASGIApp, credentials: int = CORES, analyses: int = 2 * CORES) -> None:
        self.app = app
        self.credentials = anyio.Semaphore(credentials)
        self.analyses = anyio.Semaphore(analyses)

    def gate(self, scope: Scope) -> anyio.Semaphore | None:
        method, path = scope["method"], scope["path"]
        if method == "POST" and CREDENTIAL_POSTS.fullmatch(path):
            return self.credentials
        if method == "GET" and ANALYSIS_GETS.fullmatch(path):
            return self.analyses
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.gate(scope) if scope["type"] == "http" else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        async with gate:
            await self.app(scope, receive, send)


class Admission:
    """At most ``slots`` requests inside the app at once (the connection pool's size),
    the rest waiting here on the event loop, holding nothing.

    Why: FastAPI opens a request's connection in one thread-pool call (the
    dependency) and runs the handler in another. Past 40 requests in flight the ones
    holding a connection wait for a thread while the threads wait for a connection —
    the 30-second "QueuePool limit" timeouts 200 users met. Each admitted request uses
    at most one connection at a time, so admitting no more requests than the pool
    holds means no request ever waits for a connection.
    """

    def __init__(self, app: ASGIApp, slots: int) -> None:
        self.app = app
        self.slots = anyio.Semaphore(slots)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static"):
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: browser features painlink never uses, switched off for the page and any frame
PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
#: two years, the value hstspreload.org asks for; subdomains too (a clinic's own host)
HSTS = "max-age=63072000; includeSubDomains"
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
    (b"permissions-policy", PERMISSIONS.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """The security headers on every response, whoever produced it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        if not scope["path"].startswith("/static"):
            extra.append((b"cache-control", b"no-store"))

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add)
