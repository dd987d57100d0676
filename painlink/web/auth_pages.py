"""Pages for the second factor, password change and reset, and confirming a
registration by e-mail (ASVS V2 and V3 at Level 2; see docs/web.md, "Accounts").

Every link sent by e-mail or shown to an admin is single-use, stored only as its
SHA-256 and valid for 30 minutes; a password change or reset ends every session of
the person; giving the second factor or enrolling one issues a new session token.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import segno
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.background import BackgroundTask

from painlink.store.account_tables import auth_tokens, recovery_codes, users
from painlink.web import accounts, views
from painlink.web.deps import (
    auth_settings,
    check_csrf,
    check_presession,
    client_ip,
    get_conn,
    needs_second_factor_setup,
    require_user,
    run_write,
    session_user,
)
from painlink.web.mail import send_mail
from painlink.web.pages import (
    _form,
    _pre_render,
    _redirect,
    _render,
    _set_device,
    _set_session,
    _throttled,
)
from painlink.web.security import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    TOKEN_MINUTES,
    CurrentUser,
    audit,
    create_session,
    device_trusted,
    end_session,
    end_user_sessions,
    find_auth_token,
    hash_password,
    load_session,
    new_auth_token,
    new_recovery_codes,
    new_totp_secret,
    now,
    password_problem,
    record_attempt,
    retry_after,
    spend_auth_token,
    totp_secret_ok,
    totp_step,
    totp_uri,
    use_recovery_code,
    verify_password,
)

router = APIRouter(include_in_schema=False)
# At most one reset e-mail per account in this time.
RESEND_AFTER = dt.timedelta(minutes=1)


def _link(request: Request, path: str) -> str:
    """An absolute link for an e-mail: always the configured base URL, never the Host
    header, which whoever sends the request chooses."""
    base = auth_settings(request).base_url or str(request.base_url).rstrip("/")
    return f"{base}{path}"


def _mail_task(request: Request, to: str, subject: str, body: str) -> BackgroundTask | None:
    smtp = auth_settings(request).smtp
    return BackgroundTask(send_mail, smtp, to, subject, body) if smtp else None


# ------------------------------------------------------------------ second factor at login


@router.get("/login/totp")
def totp_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = session_user(request, conn)
    if user is None or user.stage != "totp":
        return _redirect("/login")
    return _render(request, "login_totp.html", None, pending=user, errors={})


@router.post("/login/totp")
async def totp_post(request: Request) -> Response:
    """The second step: a 6-digit code (each accepted once) or a recovery code. Wrong
    codes count as failed logins, so the same back-off limits guessing."""
    data = await _form(request)
    settings = auth_settings(request)
    ip = client_ip(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        pending = session_user(request, conn)
        if pending is None or pending.stage != "totp":
            return _redirect("/login")
        check_csrf(pending, data.get("csrf_token"))
        email = pending.email
        trusted = device_trusted(
            request.app.state.signing_key, request.cookies.get(DEVICE_COOKIE), email
        )
        if wait := retry_after(conn, email, ip, trusted):
            return _throttled(request, email, wait)
        row = conn.execute(sa.select(users).where(users.c.id == pending.id)).one()
        code = data.get("code", "")
        step = totp_step(row.totp_secret, code, row.totp_last_step) if row.totp_secret else None
        ok = False
        if step is not None:
            # conditional: two requests with the same code cannot both pass
            ok = (
                conn.execute(
                    users.update()
                    .where(
                        users.c.id == row.id,
                        sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
                    )
                    .values(totp_last_step=step)
                ).rowcount
                == 1
            )
        elif len(code.strip()) > 6:
            ok = use_recovery_code(conn, row.id, code)
        if not ok:
            record_attempt(conn, email, ip, False)
            return _render(
                request,
                "login_totp.html",
                None,
                status=400,
                pending=pending,
                errors={"code": "That code is not right, or was already used. Try the next one."},
            )
        record_attempt(conn, email, ip, True)
        end_session(conn, request.cookies.get(SESSION_COOKIE))
        token = create_session(conn, row.id, "full", settings)
        audit(
            conn,
            None,
            "login",
            "session",
            row.patient_id,
            detail=f"user {row.id} (second factor)",
            ip=ip,
        )
        response = _redirect("/")
        _set_session(request, response, token)
        _set_device(request, response, email)
        return response

    return await run_write(request, work)


# ------------------------------------------------------------------ second factor set-up


def _qr_svg(uri: str) -> str:
    """The QR code drawn here as inline SVG: no image service sees the secret."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def _twofa_page(request: Request, user: CurrentUser, status: int = 200, **ctx: Any) -> Response:
    secret = ctx.pop("secret", None) or new_totp_secret()
    return _render(
        request,
        "twofa.html",
        user,
        status=status,
        secret=secret,
        qr=_qr_svg(totp_uri(secret, user.email)),
        required=needs_second_factor_setup(request, user),
        errors=ctx.pop("errors", {}),
        **ctx,
    )


@router.get("/account/2fa")
def twofa_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    return _twofa_page(request, user)


@router.post("/account/2fa")
async def twofa_post(request: Request) -> Response:
    """Turn on (secret + a code proving the app has it), or off (needs the password;
    refused for staff where the server requires a second factor)."""
    data = await _form(request)
    action = data.get("action", "")
    if action == "disable":
        return await _twofa_disable(request, data)
    settings = auth_settings(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn)
        check_csrf(user, data.get("csrf_token"))
        if user.has_totp:
            return _redirect("/account/2fa")
        secret = data.get("secret", "")
        if len(secret) > 64 or not secret.isalnum() or not totp_secret_ok(secret):
            return _twofa_page(request, user, 400, errors={"code": "start again: reload"})
        step = totp_step(secret, data.get("code", ""), None)
        if step is None:
            return _twofa_page(
                request,
                user,
                400,
                secret=secret,
                errors={"code": "That code is not right. Type the 6 digits the app shows now."},
            )
        conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(totp_secret=secret, totp_last_step=step)
        )
        codes = new_recovery_codes(conn, user.id)
        audit(conn, user, "write", "second factor on", ip=client_ip(request))
        # a privilege change: a new session token
        end_session(conn, request.cookies.get(SESSION_COOKIE))
        token = create_session(conn, user.id, "full", settings)
        new_user = load_session(conn, token, settings) or user
        response = _render(request, "twofa.html", new_user, codes=codes, enabled=True, errors={})
        _set_session(request, response, token)
        return response

    return await run_write(request, work)


async def _twofa_disable(request: Request, data: dict[str, str]) -> Response:
    def who() -> tuple[CurrentUser, str]:
        with request.app.state.store.engine.connect() as conn:
            user = require_user(request, conn)
            check_csrf(user, data.get("csrf_token"))
            stored = conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == user.id)
            ).scalar_one()
            return user, stored

    user, stored = await run_in_threadpool(who)
    if user.role != "patient" and auth_settings(request).require_totp_for_staff:
        return _twofa_page(
            request,
            user,
            400,
            errors={"disable": "This clinic requires a second factor for staff accounts."},
        )
    ok = await run_in_threadpool(verify_password, stored, data.get("password", ""))
    if not ok:
        return _twofa_page(request, user, 400, errors={"disable": "That password is not right."})

    def work(request: Request, conn: sa.Connection) -> Response:
        conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(totp_secret=None, totp_last_step=None)
        )
        conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user.id))
        audit(conn, user, "write", "second factor off", ip=client_ip(request))
        return _redirect("/account/2fa")

    return await run_write(request, work)


# ------------------------------------------------------------------ password change


@router.get("/account/password")
def password_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    return _render(request, "password.html", user, errors={})


@router.post("/account/password")
async def password_post(request: Request) -> Response:
    """Needs the current password (guesses count towards the login back-off); ends
    every session of the person, this one included, and starts a new one here."""
    data = await _form(request)
    settings = auth_settings(request)
    ip = client_ip(request)

    def who() -> tuple[CurrentUser, str, int]:
        with request.app.state.store.engine.connect() as conn:
            user = require_user(request, conn)
            check_csrf(user, data.get("csrf_token"))
            stored = conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == user.id)
            ).scalar_one()
            return user, stored, retry_after(conn, user.email, ip, True)

    user, stored, wait = await run_in_threadpool(who)
    if wait:
        return _render(
            request,
            "password.html",
            user,
            status=429,
            errors={"current": f"Too many wrong attempts. Wait {wait} seconds."},
        )
    new = data.get("new_password", "")
    errors: dict[str, str] = {}
    if not await run_in_threadpool(verify_password, stored, data.get("current_password", "")):
        errors["current"] = "That is not your current password."
    elif problem := password_problem(new, user.email, user.display_name):
        errors["new"] = problem
    elif new != data.get("new_password_again", ""):
        errors["again"] = "The two new passwords are not the same."
    if errors:
        if "current" in errors:

            def fail(request: Request, conn: sa.Connection) -> None:
                record_attempt(conn, user.email, ip, False)

            await run_write(request, fail)
        return _render(request, "password.html", user, status=400, errors=errors)
    hashed = await run_in_threadpool(hash_password, new)

    def work(request: Request, conn: sa.Connection) -> Response:
        conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(password_hash=hashed, password_changed_at=now())
        )
        ended = end_user_sessions(conn, user.id)
        token = create_session(conn, user.id, "full", settings)
        audit(
            conn,
            user,
            "write",
            "password changed",
            detail=f"{ended - 1} other session(s) ended",
            ip=ip,
        )
        response = _render(request, "password.html", user, errors={}, changed=True)
        _set_session(request, response, token)
        return response

    return await run_write(request, work)


# ------------------------------------------------------------------ password reset


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return _pre_render(
        request, "forgot.html", errors={}, email_enabled=auth_settings(request).email_enabled
    )


@router.post("/password/forgot")
async def forgot_post(request: Request) -> Response:
    """The same page whether or not the address has an account; the e-mail goes out
    after the response."""
    data = await _form(request)
    check_presession(request, data)
    email = data.get("email", "").strip().lower()
    settings = auth_settings(request)
    if not settings.email_enabled:
        return _pre_render(request, "forgot.html", errors={}, email_enabled=False)

    def work(request: Request, conn: sa.Connection) -> str | None:
        row = accounts.find_user(conn, email) if email else None
        if row is None:
            return None
        recent = conn.execute(
            sa.select(auth_tokens.c.token_hash).where(
                auth_tokens.c.user_id == row.id,
                auth_tokens.c.purpose == "reset",
                auth_tokens.c.created_at > now() - RESEND_AFTER,
            )
        ).first()
        if recent is not None:  # one e-mail a minute: nobody's inbox is flooded
            return None
        token = new_auth_token(conn, "reset", row.id)
        audit(conn, None, "write", "password reset asked", detail=f"user {row.id}",
              ip=client_ip(request))  # fmt: skip
        return token

    token = await run_write(request, work)
    response = _pre_render(request, "forgot.html", errors={}, email_enabled=True, sent=True)
    if token:
        response.background = _mail_task(
            request,
            email,
            "Your painlink password",
            "Someone (we hope you) asked to choose a new painlink password.\n\n"
            f"Open this link within {TOKEN_MINUTES} minutes to choose one; it works once:\n"
            f"{_link(request, '/password/reset/' + token)}\n\n"
            "If it was not you, ignore this e-mail: your password stays as it is.\n",
        )
    return response


def _reset_user(conn: sa.Connection, token: str) -> sa.Row | None:
    found = find_auth_token(conn, "reset", token)
    if found is None:
        return None
    return conn.execute(sa.select(users).where(users.c.id == found.user_id)).first()


_LINK_GONE = (
    "This link has expired or was already used. Ask for a new one on the login page, "
    "or from your clinic's painlink administrator."
)


@router.get("/password/reset/{token}")
def reset_page(token: str, request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    row = _reset_user(conn, token)
    if row is None:
        return _pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
    return _pre_render(request, "reset.html", token=token, errors={})


@router.post("/password/reset/{token}")
async def reset_post(token: str, request: Request) -> Response:
    data = await _form(request)
    check_presession(request, data)

    def who() -> sa.Row | None:
        with request.app.state.store.engine.connect() as conn:
            return _reset_user(conn, token)

    row = await run_in_threadpool(who)
    if row is None:
        return _pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
    new = data.get("new_password", "")
    problem = password_problem(new, row.email, row.display_name)
    if problem is None and new != data.get("new_password_again", ""):
        problem = "The two passwords are not the same."
    if problem:
        return _pre_render(request, "reset.html", status=400, token=token, errors={"new": problem})
    hashed = await run_in_threadpool(hash_password, new)

    def work(request: Request, conn: sa.Connection) -> Response:
        spent = spend_auth_token(conn, "reset", token)
        if spent is None or spent.user_id != row.id:
            return _pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
        conn.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(password_hash=hashed, password_changed_at=now())
        )
        ended = end_user_sessions(conn, row.id)
        audit(conn, None, "write", "password reset", detail=f"user {row.id}; {ended} session(s) "
              "ended", ip=client_ip(request))  # fmt: skip
        return _redirect("/login?done=reset")

    return await run_write(request, work)


# ------------------------------------------------------------------ admin reset


@router.post("/admin/reset")
async def admin_reset(request: Request) -> Response:
    """An admin makes a one-time reset link and hands it to the person (in person, by
    phone): for clinics without e-mail, and for someone who lost their second factor
    (the admin may remove it; the person sets up a new one)."""
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        admin = require_user(request, conn, "admin")
        check_csrf(admin, data.get("csrf_token"))
        email = data.get("email", "").strip()
        row = accounts.find_user(conn, email) if email else None
        if row is None:
            return _render(
                request,
                "admin.html",
                admin,
                status=400,
                errors={"reset": "No account has this e-mail."},
                values={"email": email},
                **views.admin_overview(conn),
            )
        token = new_auth_token(conn, "reset", row.id, created_by=admin.id)
        removed = data.get("remove_totp") == "yes" and row.totp_secret is not None
        if removed:
            conn.execute(
                users.update()
                .where(users.c.id == row.id)
                .values(totp_secret=None, totp_last_step=None)
            )
            conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == row.id))
        audit(
            conn,
            admin,
            "write",
            "password reset link",
            detail=f"user {row.id}" + ("; second factor removed" if removed else ""),
            ip=client_ip(request),
        )
        return _render(
            request,
            "admin.html",
            admin,
            reset_link=_link(request, f"/password/reset/{token}"),
            reset_for=row.email,
            token_minutes=TOKEN_MINUTES,
            **views.admin_overview(conn),
        )

    return await run_write(request, work)


# ------------------------------------------------------------------ registration by e-mail


async def register_by_email(request: Request, reg: accounts.Registration, hashed: str) -> Response:
    """A valid registration waits for its e-mail to be confirmed. A taken address gets
    an e-mail saying so; the page is the same either way."""

    def work(request: Request, conn: sa.Connection) -> str | None:
        if accounts.find_user(conn, reg.email) is not None:
            return None
        fields = reg.model_dump(exclude={"password"})
        return new_auth_token(conn, "register", None, payload={**fields, "hash": hashed})

    token = await run_write(request, work)
    response = _pre_render(request, "check_email.html", email=reg.email)
    if token:
        body = (
            "Welcome to painlink. Open this link within "
            f"{TOKEN_MINUTES} minutes to create your diary:\n"
            f"{_link(request, '/register/confirm/' + token)}\n\n"
            "If you did not ask for a painlink diary, ignore this e-mail.\n"
        )
    else:
        body = (
            "Someone (we hope you) tried to create a painlink diary with this address, "
            "which already has one. Log in instead; if you forgot your password, use "
            f"'Forgot your password?' on {_link(request, '/login')}.\n"
        )
    response.background = _mail_task(request, reg.email, "Your painlink diary", body)
    return response


@router.get("/register/confirm/{token}")
def register_confirm_page(
    token: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> Response:
    """A button, not an automatic action: mail scanners that open links must not use
    the single-use token up."""
    if find_auth_token(conn, "register", token) is None:
        return _pre_render(request, "check_email.html", status=400, gone=_LINK_GONE)
    return _pre_render(request, "check_email.html", confirm=token)


@router.post("/register/confirm/{token}")
async def register_confirm(token: str, request: Request) -> Response:
    data = await _form(request)
    check_presession(request, data)
    settings = auth_settings(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        spent = spend_auth_token(conn, "register", token)
        if spent is None:
            return _pre_render(request, "check_email.html", status=400, gone=_LINK_GONE)
        fields = json.loads(spent.payload)
        hashed = fields.pop("hash")
        reg = accounts.Registration(**fields)
        if accounts.find_user(conn, reg.email) is not None:
            return _redirect("/login")
        user_id = accounts.insert_patient(conn, reg, hashed)
        audit(conn, None, "write", "account", detail=f"registered user {user_id}",
              ip=client_ip(request))  # fmt: skip
        session = create_session(conn, user_id, "full", settings)
        response = _redirect("/history?welcome=1")
        _set_session(request, response, session)
        _set_device(request, response, reg.email)
        return response

    return await run_write(request, work)
