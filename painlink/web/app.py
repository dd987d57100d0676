"""The painlink web app: server-rendered pages for people, a JSON API for programs.

``create_app(url)`` builds it over a :class:`~painlink.store.store.Store`; ``painlink
serve`` and ``painlink demo`` run it with uvicorn. No third-party requests, no
analytics: everything the pages need is served from here.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio.to_thread
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from painlink.store.audit import audit_key
from painlink.store.engine import pool_size, web_threads
from painlink.store.store import Store
from painlink.web.api_docs import add_api_docs
from painlink.web.deps import (
    AuditQueue,
    LoginRequired,
    SecondFactorSetupRequired,
    audit_refusals,
)
from painlink.web.limits import (
    Admission,
    BodyLimit,
    CpuGates,
    SecurityHeaders,
    session_checker,
)
from painlink.web.responses import templates
from painlink.web.routes import (
    account,
    admin,
    api,
    api_corrections,
    checkin,
    clinic,
    corrections,
    diary,
    medicines,
    reports,
)
from painlink.web.routes import auth as auth_routes
from painlink.web.security import AuthSettings, server_key

HERE = Path(__file__).parent
SECURE_COOKIES_VAR = "PAINLINK_SECURE_COOKIES"
SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005


class PainlinkApp(FastAPI):
    """FastAPI with the security headers outside Starlette's ServerErrorMiddleware, so
    that an unhandled 500 carries them too (a middleware added the usual way sits
    inside it and never sees that response)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def validation_detail(exc: RequestValidationError) -> dict[str, str]:
    """A request FastAPI could not read, as field → plain reason, like every other 422.

    Why not FastAPI's own answer: it echoes the input back, and an input of ``inf`` or
    ``NaN`` cannot be written as JSON, so the 422 became a 500 (and echoing a body back
    repeats health data into logs and proxies)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        where = ".".join(loc) or "body"
        out.setdefault(where, str(error.get("msg", "not valid")).removeprefix("Value error, "))
    return out


def create_app(
    url: str | None = None, *, secure_cookies: bool = True, auth: AuthSettings | None = None
) -> FastAPI:
    """``auth`` defaults to the environment (PAINLINK_SMTP_*, PAINLINK_TRUSTED_PROXIES,
    PAINLINK_REQUIRE_TOTP_FOR_STAFF, PAINLINK_IDLE_MINUTES_*; see docs/web.md)."""
    store = Store(url)
    store.init()
    audit_key()  # a configured audit key file must be readable: fail now, not per request
    with store.engine.begin() as conn:
        signing_key = server_key(conn)
    threads = web_threads()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the thread pool that runs handlers: every thread waiting on I/O is cheap, but
        # each running one competes for the GIL with the thread holding SQLite's writer
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        # A thread that lets go of the GIL (every SQLite call, every polars step) waits
        # up to the switch interval to get it back while others compute: 5 ms by
        # default, paid ~100 times by one calendar's classification under load.
        sys.setswitchinterval(SWITCH_INTERVAL)
        # analyses overlap in the handler threads: BLAS on one thread for good
        # (painlink.analysis.threads says why and what it was measured to buy)
        from painlink.analysis.threads import hold_for_the_process

        hold_for_the_process()
        yield

    app = PainlinkApp(
        lifespan=lifespan,
        title="painlink",
        version=_version(),
        description="Migraine and neck/back pain diary: the API behind every page.",
        docs_url=None,  # served by add_api_docs: FastAPI's page loads a CDN the CSP blocks
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.store = store
    app.state.audit_queue = AuditQueue()  # group commit of read audit rows
    app.state.secure_cookies = secure_cookies
    app.state.auth = auth or AuthSettings.from_env()
    app.state.signing_key = signing_key
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    add_api_docs(app)

    # one router per audience; none of them imports this module
    for router in (
        auth_routes.router,
        diary.router,
        medicines.router,
        checkin.router,
        account.router,
        clinic.router,
        admin.router,
        api.router,
        corrections.router,
        api_corrections.router,
        reports.router,
    ):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(SecondFactorSetupRequired)
    async def _setup(request: Request, _exc: SecondFactorSetupRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": "set up a second factor first (Account, two-step sign-in)"},
                status_code=403,
            )
        return RedirectResponse("/account/2fa", status_code=303)

    # Starlette's own class: the router's 404 and 405 (an address that is not there,
    # GET /logout) are raised as it, and answered raw JSON to a browser before
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail, "user": None},
            status_code=exc.status_code,
            headers=exc.headers,  # a 405's Allow
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, _exc: Exception) -> Response:
        """An unexpected failure: a plain message, never a traceback (the server's log
        has it). The security headers are added around this by SecurityHeaders."""
        message = "painlink could not answer this request: an error on the server (logged)."
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=500)
        return Response(message, status_code=500, media_type="text/plain; charset=utf-8")

    @app.exception_handler(sa.exc.DataError)
    async def _unstorable(request: Request, _exc: sa.exc.DataError) -> Response:
        # The database refused a value (a NUL character PostgreSQL cannot keep, a number
        # beyond its column): the transaction is rolled back, so nothing was written.
        message = "a value the database cannot keep (a NUL character or a number too large)"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": {"body": message}}, status_code=422)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": 422, "message": message, "user": None},
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": validation_detail(exc)}, status_code=422)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": 422, "message": "; ".join(validation_detail(exc).values()), "user": None},
            status_code=422,
        )

    async def _no_nul(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # A NUL in the address reaches ids, audit rows and PostgreSQL, which cannot
        # store it: refuse it at the door, before anything is looked up or written.
        if "\x00" in request.url.path or "%00" in request.url.query:
            return JSONResponse({"detail": "the address holds a NUL character"}, status_code=400)
        return await call_next(request)

    # Outermost first: password hashing and analyses queue for their few slots
    # (CpuGates), every request for one of as many slots as the pool has connections
    # (Admission), refusals are audited (audit_refusals), and bodies are limited before
    # any route, session check or form parsing reads them (BodyLimit — inside
    # audit_refusals and _no_nul, whose task groups would wrap the limit's 413 in an
    # ExceptionGroup).
    app.add_middleware(BodyLimit, session_ok=session_checker(store))
    app.middleware("http")(audit_refusals)
    app.middleware("http")(_no_nul)
    app.add_middleware(Admission, slots=min(pool_size(), threads))
    app.add_middleware(CpuGates)

    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory`` (``painlink serve --workers N`` and a process
    manager's own uvicorn): database from ``PAINLINK_DATABASE_URL``, cookies Secure
    unless ``PAINLINK_SECURE_COOKIES=0`` (only behind a TLS proxy)."""
    return create_app(secure_cookies=os.environ.get(SECURE_COOKIES_VAR, "1") != "0")


def _version() -> str:
    """The installed distribution's version (the facade is not imported from inside)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("painlink")
    except PackageNotFoundError:
        return "unknown"
