"""Signing in and out, registering, the second step of a login and a forgotten
password: every page a person uses before (or to get) a session.

Every link sent by e-mail is single-use, stored only as its SHA-256 and valid for 30
minutes (ASVS V2 and V3 at Level 2; see docs/web.md, "Accounts"); a password reset
ends every session of the person. The pages work without e-mail too: registration
then signs the person in at once, and a reset link comes from an admin
(``painlink.web.routes.admin``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.background import BackgroundTask

from painlink.services import accounts
from painlink.store.account_tables import auth_tokens, users
from painlink.web.deps import (
    auth_settings,
    check_csrf,
    check_presession,
    client_ip,
    get_conn,
    optional_user,
    run_write,
    session_user,
)
from painlink.web.mail import send_mail
from painlink.web.plain_http import plain_http_problem
from painlink.web.responses import (
    absolute_link,
    form_data,
    pre_render,
    redirect,
    render,
    set_device,
    set_session,
)
from painlink.web.security import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    TOKEN_MINUTES,
    audit,
    create_session,
    device_trusted,
    end_session,
    end_user_sessions,
    find_auth_token,
    hash_password,
    new_auth_token,
    now,
    password_problem,
    record_attempt,
    retry_after,
    spend_auth_token,
    totp_step,
    use_recovery_code,
    verify_password,
)

router = APIRouter(include_in_schema=False)


# At most one reset e-mail per account in this time.
RESEND_AFTER = dt.timedelta(minutes=1)


def _mail_task(request: Request, to: str, subject: str, body: str) -> BackgroundTask | None:
    smtp = auth_settings(request).smtp
    return BackgroundTask(send_mail, smtp, to, subject, body) if smtp else None


# ------------------------------------------------------------------ signing in and out


@router.get("/")
def root(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = optional_user(request, conn)
    if user is None:
        return redirect("/login")
    return redirect({"patient": "/home", "clinician": "/clinic", "admin": "/admin"}[user.role])


@router.get("/login")
def login_page(request: Request) -> Response:
    notice = {"reset": "Your password is changed. Log in with the new one."}.get(
        request.query_params.get("done", ""), ""
    )
    return pre_render(request, "login.html", errors={}, values={}, notice=notice)


def _login_refused(
    request: Request, email: str, status: int, message: str, retry: int | None = None
) -> Response:
    response = pre_render(
        request, "login.html", status=status, values={"email": email}, errors={"form": message}
    )
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _throttled(request: Request, email: str, seconds: int) -> Response:
    message = (
        f"Too many attempts. Wait {_wait_words(seconds)} and try again, or reset your password."
    )
    return _login_refused(request, email, 429, message, retry=seconds)


_WRONG = "Email or password is not right."


@router.post("/login")
async def login(request: Request) -> Response:
    """Argon2 verification is deliberately slow (tens of milliseconds), so it runs before
    the write transaction, not inside it: a login must not hold the single SQLite writer
    while other people save their diaries. An unknown e-mail is verified against a dummy
    hash, so the answer and its timing are the same. The back-off is checked again
    inside the write, so parallel guesses cannot slip past it."""
    data = await form_data(request)
    email = data.get("email", "").strip().lower()
    if plain_http_problem(request):  # the browser dropped the form's cookie: say why
        return _login_refused(request, email, 400, "Not logged in: see the message above.")
    check_presession(request, data)
    password = data.get("password", "")
    ip = client_ip(request)
    settings = auth_settings(request)
    trusted = device_trusted(
        request.app.state.signing_key, request.cookies.get(DEVICE_COOKIE), email
    )

    def check() -> tuple[int, sa.Row[Any] | None, bool]:
        with request.app.state.store.engine.connect() as conn, conn.begin():
            wait = retry_after(conn, email, ip, trusted)
            row = None if wait else accounts.find_user(conn, email)
        if wait:
            return wait, None, False
        return 0, row, verify_password(row.password_hash if row else None, password)

    wait, row, ok = await run_in_threadpool(check)
    if wait:
        return _throttled(request, email, wait)

    def work(request: Request, conn: sa.Connection) -> Response:
        if wait := retry_after(conn, email, ip, trusted):
            return _throttled(request, email, wait)
        if not ok or row is None:
            record_attempt(conn, email, ip, False)
            # audited without the e-mail typed (it may not be anyone's): the account's
            # number when there is one
            audit(
                conn,
                None,
                "login failed",
                "session",
                row.patient_id if row else None,
                detail=f"user {row.id}" if row else "no such account",
                ip=ip,
            )
            return _login_refused(request, email, 400, _WRONG)
        # a fresh token at every login; the browser's old session, if any, ends
        end_session(conn, request.cookies.get(SESSION_COOKIE))
        if row.totp_secret:  # success is recorded only once the second factor is given
            token = create_session(conn, row.id, "totp", settings)
            response = redirect("/login/totp")
        else:
            record_attempt(conn, email, ip, True)
            token = create_session(conn, row.id, "full", settings)
            audit(conn, None, "login", "session", row.patient_id, detail=f"user {row.id}", ip=ip)
            response = redirect("/")
            set_device(request, response, email)
        set_session(request, response, token)
        return response

    return await run_write(request, work)


@router.post("/logout")
async def logout(request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = session_user(request, conn)
        if user is not None:
            check_csrf(user, data.get("csrf_token"))
            end_session(conn, request.cookies.get(SESSION_COOKIE))
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    return await run_write(request, work)


# ------------------------------------------------------------------ second factor at login


@router.get("/login/totp")
def totp_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = session_user(request, conn)
    if user is None or user.stage != "totp":
        return redirect("/login")
    return render(request, "login_totp.html", None, pending=user, errors={})


@router.post("/login/totp")
async def totp_post(request: Request) -> Response:
    """The second step: a 6-digit code (each accepted once) or a recovery code. Wrong
    codes count as failed logins, so the same back-off limits guessing."""
    data = await form_data(request)
    settings = auth_settings(request)
    ip = client_ip(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        pending = session_user(request, conn)
        if pending is None or pending.stage != "totp":
            return redirect("/login")
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
            return render(
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
        response = redirect("/")
        set_session(request, response, token)
        set_device(request, response, email)
        return response

    return await run_write(request, work)


# ------------------------------------------------------------------ registration


@router.get("/register")
def register_page(request: Request) -> Response:
    # empty, so the page's script can fill in the browser's own zone (UTC without script)
    return pre_render(request, "register.html", errors={}, values={"time_zone": ""})


_REGISTER_FIELDS = ("email", "display_name", "birth_year", "sex", "time_zone")


# The back-off key of registrations that met a taken address (not an e-mail: no "@").
REGISTER_KEY = "(registration)"


@router.post("/register")
async def register(request: Request) -> Response:
    """With e-mail configured, a registration is confirmed through a link, and the page
    says the same whether or not the address already has an account (the owner gets an
    e-mail saying so instead): registering reveals nothing about who uses painlink."""
    data = await form_data(request)
    values = {k: data.get(k, "") for k in _REGISTER_FIELDS}
    if plain_http_problem(request):  # the browser dropped the form's cookie: say why
        return pre_render(
            request,
            "register.html",
            status=400,
            values=values,
            errors={"password": "Not registered: see the message above."},
        )
    check_presession(request, data)
    settings = auth_settings(request)
    payload: dict[str, Any] = {**values, "password": data.get("password", "")}
    payload["birth_year"] = payload["birth_year"] or None
    payload["sex"] = payload["sex"] or "unknown"
    payload["time_zone"] = payload["time_zone"] or "UTC"
    try:
        reg = await run_in_threadpool(accounts.validate_registration, payload)
    except accounts.AccountError as exc:
        return pre_render(request, "register.html", status=400, errors=exc.fields, values=values)
    hashed = await run_in_threadpool(hash_password, payload["password"])

    if settings.email_enabled:
        return await register_by_email(request, reg, hashed)

    ip = client_ip(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        # Without e-mail the page must say that an address is taken; answers that do
        # count as failures of one address, so listing who has an account is slow.
        if wait := retry_after(conn, REGISTER_KEY, ip, True):
            return pre_render(
                request,
                "register.html",
                status=429,
                errors={"email": f"Too many attempts. Wait {_wait_words(wait)}."},
                values=values,
            )
        if accounts.find_user(conn, reg.email) is not None:
            record_attempt(conn, REGISTER_KEY, ip, False)
            return pre_render(
                request,
                "register.html",
                status=400,
                errors={"email": accounts.EMAIL_TAKEN},
                values=values,
            )
        user_id = accounts.insert_patient(conn, reg, hashed)
        token = create_session(conn, user_id, "full", settings)
        audit(
            conn,
            None,
            "write",
            "account",
            detail=f"registered user {user_id}",
            ip=client_ip(request),
        )
        response = redirect("/history?welcome=1")
        set_session(request, response, token)
        set_device(request, response, reg.email)
        return response

    return await run_write(request, work)


async def register_by_email(request: Request, reg: accounts.Registration, hashed: str) -> Response:
    """A valid registration waits for its e-mail to be confirmed. A taken address gets
    an e-mail saying so; the page is the same either way."""

    def work(request: Request, conn: sa.Connection) -> str | None:
        if accounts.find_user(conn, reg.email) is not None:
            return None
        fields = reg.model_dump(exclude={"password"})
        return new_auth_token(conn, "register", None, payload={**fields, "hash": hashed})

    token = await run_write(request, work)
    response = pre_render(request, "check_email.html", email=reg.email)
    if token:
        body = (
            "Welcome to painlink. Open this link within "
            f"{TOKEN_MINUTES} minutes to create your diary:\n"
            f"{absolute_link(request, '/register/confirm/' + token)}\n\n"
            "If you did not ask for a painlink diary, ignore this e-mail.\n"
        )
    else:
        body = (
            "Someone (we hope you) tried to create a painlink diary with this address, "
            "which already has one. Log in instead; if you forgot your password, use "
            f"'Forgot your password?' on {absolute_link(request, '/login')}.\n"
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
        return pre_render(request, "check_email.html", status=400, gone=_LINK_GONE)
    return pre_render(request, "check_email.html", confirm=token)


@router.post("/register/confirm/{token}")
async def register_confirm(token: str, request: Request) -> Response:
    data = await form_data(request)
    check_presession(request, data)
    settings = auth_settings(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        spent = spend_auth_token(conn, "register", token)
        if spent is None:
            return pre_render(request, "check_email.html", status=400, gone=_LINK_GONE)
        fields = json.loads(spent.payload)
        hashed = fields.pop("hash")
        reg = accounts.Registration(**fields)
        if accounts.find_user(conn, reg.email) is not None:
            return redirect("/login")
        user_id = accounts.insert_patient(conn, reg, hashed)
        audit(conn, None, "write", "account", detail=f"registered user {user_id}",
              ip=client_ip(request))  # fmt: skip
        session = create_session(conn, user_id, "full", settings)
        response = redirect("/history?welcome=1")
        set_session(request, response, session)
        set_device(request, response, reg.email)
        return response

    return await run_write(request, work)


# ------------------------------------------------------------------ password reset


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return pre_render(
        request, "forgot.html", errors={}, email_enabled=auth_settings(request).email_enabled
    )


@router.post("/password/forgot")
async def forgot_post(request: Request) -> Response:
    """The same page whether or not the address has an account; the e-mail goes out
    after the response."""
    data = await form_data(request)
    email = data.get("email", "").strip().lower()
    if plain_http_problem(request):  # the browser dropped the form's cookie: say why
        return _login_refused(request, email, 400, "Not logged in: see the message above.")
    check_presession(request, data)
    settings = auth_settings(request)
    if not settings.email_enabled:
        return pre_render(request, "forgot.html", errors={}, email_enabled=False)

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
    response = pre_render(request, "forgot.html", errors={}, email_enabled=True, sent=True)
    if token:
        response.background = _mail_task(
            request,
            email,
            "Your painlink password",
            "Someone (we hope you) asked to choose a new painlink password.\n\n"
            f"Open this link within {TOKEN_MINUTES} minutes to choose one; it works once:\n"
            f"{absolute_link(request, '/password/reset/' + token)}\n\n"
            "If it was not you, ignore this e-mail: your password stays as it is.\n",
        )
    return response


def _reset_user(conn: sa.Connection, token: str) -> sa.Row[Any] | None:
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
        return pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
    return pre_render(request, "reset.html", token=token, errors={})


@router.post("/password/reset/{token}")
async def reset_post(token: str, request: Request) -> Response:
    data = await form_data(request)
    check_presession(request, data)

    def who() -> sa.Row[Any] | None:
        with request.app.state.store.engine.connect() as conn:
            return _reset_user(conn, token)

    row = await run_in_threadpool(who)
    if row is None:
        return pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
    new = data.get("new_password", "")
    problem = password_problem(new, row.email, row.display_name)
    if problem is None and new != data.get("new_password_again", ""):
        problem = "The two passwords are not the same."
    if problem:
        return pre_render(request, "reset.html", status=400, token=token, errors={"new": problem})
    hashed = await run_in_threadpool(hash_password, new)

    def work(request: Request, conn: sa.Connection) -> Response:
        spent = spend_auth_token(conn, "reset", token)
        if spent is None or spent.user_id != row.id:
            return pre_render(request, "reset.html", status=400, gone=_LINK_GONE, errors={})
        accounts.set_password(conn, row.id, hashed)
        ended = end_user_sessions(conn, row.id)
        audit(conn, None, "write", "password reset", detail=f"user {row.id}; {ended} session(s) "
              "ended", ip=client_ip(request))  # fmt: skip
        return redirect("/login?done=reset")

    return await run_write(request, work)
