"""The painlink web app: server-rendered pages for people, a JSON API for programs.

``create_app(url)`` builds it over a :class:`~painlink.store.store.Store`; ``painlink
serve`` and ``painlink demo`` run it with uvicorn. No third-party requests, no
analytics: everything the pages need is served from here.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from painlink import __version__
from painlink.store.audit import audit_key
from painlink.store.store import Store
from painlink.web.deps import LoginRequired, SecondFactorSetupRequired, audit_refusals
from painlink.web.security import AuthSettings, server_key

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


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
    app = FastAPI(
        title="painlink",
        version=__version__,
        description="Migraine and neck/back pain diary: the API behind every page.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.store = store
    app.state.secure_cookies = secure_cookies
    app.state.auth = auth or AuthSettings.from_env()
    app.state.signing_key = signing_key
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from painlink.web import api, auth_pages, pages

    app.include_router(pages.router)
    app.include_router(auth_pages.router)
    app.include_router(api.router)

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

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail, "user": None},
            status_code=exc.status_code,
        )

    app.middleware("http")(audit_refusals)

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'",
        )
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
