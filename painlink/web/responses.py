"""What every page route answers with: the templates, a rendered page, a redirect, the
form's fields, and the session and device cookies set at sign-in.

Shared by the routers in ``painlink.web.routes`` and the app's error handlers; it
imports neither, so the app factory includes the routers and no router imports the
app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from painlink.diary.shown_text import without_direction_controls
from painlink.rules.spine import SETTINGS as SPINE_SETTINGS
from painlink.services.time_zones import offered_zones, utc_to_local
from painlink.web.charts import WIDE_MEDIA
from painlink.web.deps import auth_settings, presession_token, set_presession
from painlink.web.once import new_token
from painlink.web.plain_http import COMMAND as PLAIN_HTTP_COMMAND
from painlink.web.plain_http import plain_http_warning
from painlink.web.security import DEVICE_COOKIE, SESSION_COOKIE, CurrentUser, new_device_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["offered_zones"] = offered_zones  # the zone lists of the forms
templates.env.filters["local"] = utc_to_local  # {{ granted_at|local(time_zone) }}: UTC → zone
templates.env.globals["new_form_token"] = new_token  # {{ once() }} in macros.html
# the neck/back family's false-discovery level, as the clinic's neck/back tab states it
templates.env.globals["spine_q"] = f"{SPINE_SETTINGS.q:.2f}"
templates.env.globals["wide_plot_media"] = WIDE_MEDIA  # {{ plot() }}: the desktop's picture
# what patients typed is shown without direction overrides (diary/shown_text.py)
templates.env.finalize = without_direction_controls


def render(
    request: Request, name: str, user: CurrentUser | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **ctx}, status_code=status)


def pre_render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A page with a form shown before sign-in, carrying its signed double-submit token."""
    token = presession_token(request)
    ctx.setdefault("plain_http", plain_http_warning(request))
    ctx.setdefault("plain_http_command", PLAIN_HTTP_COMMAND)
    response = render(request, name, None, status=status, pre_csrf=token, **ctx)
    set_presession(request, response, token)
    return response


def redirect(url: str) -> RedirectResponse:
    """303: after a form post the browser fetches the next page with GET."""
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's fields as text (a file field as its name; the upload routes
    read their files themselves)."""
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


def set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth_settings(request).absolute.total_seconds()),
        httponly=True,
        secure=request.app.state.secure_cookies,
        samesite="strict",
    )


def set_device(request: Request, response: Response, email: str) -> None:
    """Remember that this browser signed in to this account (OWASP device cookie): it is
    then exempt from the account-wide back-off that strangers' failures build up."""
    response.set_cookie(
        DEVICE_COOKIE,
        new_device_token(request.app.state.signing_key, email),
        max_age=365 * 24 * 3600,
        httponly=True,
        secure=request.app.state.secure_cookies,
        samesite="strict",
    )


def absolute_link(request: Request, path: str) -> str:
    """An absolute link for an e-mail or an admin to hand on: always the configured base
    URL, never the Host header, which whoever sends the request chooses."""
    base = auth_settings(request).base_url or str(request.base_url).rstrip("/")
    return f"{base}{path}"
