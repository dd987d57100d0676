"""Server-rendered pages. GET handlers run in the thread pool; POST handlers read the
form, then do their database work in the thread pool too (``_run``)."""

from __future__ import annotations

import calendar as cal
import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painlink.analysis.plotting import PICTURES
from painlink.diary import files
from painlink.diary.vocabulary import ScreeningContext
from painlink.interop.apps import SOURCES, read_export
from painlink.interop.csv_diary import DiaryFormatError
from painlink.store.merge import MergeError, merge_diary
from painlink.web import accounts, clinical_records, diary_service, views
from painlink.web.app import templates
from painlink.web.deps import (
    auth_settings,
    check_csrf,
    check_presession,
    client_ip,
    get_conn,
    optional_user,
    patient_access,
    presession_token,
    record,
    require_user,
    run_write,
    session_user,
    set_presession,
)
from painlink.web.security import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    audit,
    create_session,
    device_trusted,
    end_session,
    hash_password,
    new_device_token,
    record_attempt,
    retry_after,
    verify_password,
)

router = APIRouter(include_in_schema=False)
SAFETY_QUESTIONS = views.SAFETY_QUESTIONS


def _render(
    request: Request, name: str, user: CurrentUser | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **ctx}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


_run = run_write


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------ accounts


def _own_diary_write(
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


@router.get("/")
def root(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = optional_user(request, conn)
    if user is None:
        return _redirect("/login")
    return _redirect({"patient": "/home", "clinician": "/clinic", "admin": "/admin"}[user.role])


def _pre_render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A page with a form shown before sign-in, carrying its signed double-submit token."""
    token = presession_token(request)
    response = _render(request, name, None, status=status, pre_csrf=token, **ctx)
    set_presession(request, response, token)
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    notice = {"reset": "Your password is changed. Log in with the new one."}.get(
        request.query_params.get("done", ""), ""
    )
    return _pre_render(request, "login.html", errors={}, values={}, notice=notice)


def _set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth_settings(request).absolute.total_seconds()),
        httponly=True,
        secure=request.app.state.secure_cookies,
        samesite="strict",
    )


def _set_device(request: Request, response: Response, email: str) -> None:
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


def _login_refused(
    request: Request, email: str, status: int, message: str, retry: int | None = None
) -> Response:
    response = _pre_render(
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
    data = await _form(request)
    check_presession(request, data)
    email = data.get("email", "").strip().lower()
    password = data.get("password", "")
    ip = client_ip(request)
    settings = auth_settings(request)
    trusted = device_trusted(
        request.app.state.signing_key, request.cookies.get(DEVICE_COOKIE), email
    )

    def check() -> tuple[int, sa.Row | None, bool]:
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
            response = _redirect("/login/totp")
        else:
            record_attempt(conn, email, ip, True)
            token = create_session(conn, row.id, "full", settings)
            audit(conn, None, "login", "session", row.patient_id, detail=f"user {row.id}", ip=ip)
            response = _redirect("/")
            _set_device(request, response, email)
        _set_session(request, response, token)
        return response

    return await _run(request, work)


@router.post("/logout")
async def logout(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = session_user(request, conn)
        if user is not None:
            check_csrf(user, data.get("csrf_token"))
            end_session(conn, request.cookies.get(SESSION_COOKIE))
        response = _redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    return await _run(request, work)


@router.get("/register")
def register_page(request: Request) -> Response:
    return _pre_render(request, "register.html", errors={}, values={"time_zone": "UTC"})


_REGISTER_FIELDS = ("email", "display_name", "birth_year", "sex", "time_zone")
# The back-off key of registrations that met a taken address (not an e-mail: no "@").
REGISTER_KEY = "(registration)"


@router.post("/register")
async def register(request: Request) -> Response:
    """With e-mail configured, a registration is confirmed through a link, and the page
    says the same whether or not the address already has an account (the owner gets an
    e-mail saying so instead): registering reveals nothing about who uses painlink."""
    data = await _form(request)
    check_presession(request, data)
    settings = auth_settings(request)
    values = {k: data.get(k, "") for k in _REGISTER_FIELDS}
    payload: dict[str, Any] = {**values, "password": data.get("password", "")}
    payload["birth_year"] = payload["birth_year"] or None
    payload["sex"] = payload["sex"] or "unknown"
    payload["time_zone"] = payload["time_zone"] or "UTC"
    try:
        reg = await run_in_threadpool(accounts.validate_registration, payload)
    except accounts.AccountError as exc:
        return _pre_render(request, "register.html", status=400, errors=exc.fields, values=values)
    hashed = await run_in_threadpool(hash_password, payload["password"])

    if settings.email_enabled:
        from painlink.web import auth_pages  # it builds on this module's helpers

        return await auth_pages.register_by_email(request, reg, hashed)

    ip = client_ip(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        # Without e-mail the page must say that an address is taken; answers that do
        # count as failures of one address, so listing who has an account is slow.
        if wait := retry_after(conn, REGISTER_KEY, ip, True):
            return _pre_render(
                request,
                "register.html",
                status=429,
                errors={"email": f"Too many attempts. Wait {_wait_words(wait)}."},
                values=values,
            )
        if accounts.find_user(conn, reg.email) is not None:
            record_attempt(conn, REGISTER_KEY, ip, False)
            return _pre_render(
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
        response = _redirect("/history?welcome=1")
        _set_session(request, response, token)
        _set_device(request, response, reg.email)
        return response

    return await _run(request, work)


def _history_page(
    request: Request, conn: sa.Connection, user: CurrentUser, status: int = 200, **extra: Any
) -> Response:
    pid = user.patient_id or ""
    stored = clinical_records.history_answers(conn, pid)
    values = extra.pop("values", None) or {
        k: {True: "yes", False: "no"}.get(v, v) for k, v in stored.items()
    }
    return _render(
        request,
        "history.html",
        user,
        status=status,
        questions=clinical_records.HISTORY_QUESTIONS,
        values=values,
        errors=extra.pop("errors", {}),
        **extra,
    )


@router.get("/history")
def history_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, user.patient_id or "", "read", "own history")
    return _history_page(request, conn, user)


@router.post("/history")
async def history_post(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, "own history")
        try:
            result = clinical_records.save_history(conn, pid, views.history_values(data))
        except diary_service.EntryError as exc:
            return _history_page(request, conn, user, 400, errors=exc.fields, values=data)
        if result.flags:
            return _render(request, "emergency.html", user, result=result, attack_id=None)
        return _redirect("/home?history=1")

    return await _run(request, work)


# ------------------------------------------------------------------ patient


@router.get("/home")
def home(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "home")
    today = diary_service.local_now(conn, pid).date()
    return _render(
        request,
        "home.html",
        user,
        open_attack=diary_service.open_attack(conn, pid),
        checked_in=diary_service.get_day(conn, pid, today) is not None,
        recent=diary_service.recent_attacks(conn, pid, 5),
        today=today,
    )


@router.post("/attacks/start")
async def attack_start(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        _user, pid = _own_diary_write(request, conn, data, "attack")
        attack_id = diary_service.start_attack(conn, pid)
        return _redirect(f"/attacks/{attack_id}?new=1")

    return await _run(request, work)


def _attack_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    attack_id: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    pid = user.patient_id or ""
    attack = diary_service.get_attack(conn, pid, attack_id)
    if attack is None:
        raise HTTPException(status_code=404, detail="no such attack")
    return _render(
        request,
        "attack.html",
        user,
        status=status,
        attack=attack,
        errors=errors or {},
        new=extra.pop("new", request.query_params.get("new") == "1"),
        safety_groups=views.ATTACK_GROUPS,
        pregnancy_group=views.PREGNANCY_GROUP,
        not_pregnant=clinical_records.history_answers(conn, pid).get("pregnant_or_postpartum")
        is False,
        onset_choices=views.ONSET_CHOICES,
        safety_numbers=views.ATTACK_NUMBERS,
        readings=diary_service.readings(conn, pid, attack_id),
        now=diary_service.local_now(conn, pid),
        **extra,
    )


@router.get("/attacks/{attack_id}")
def attack_page(
    attack_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> Response:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, user.patient_id or "", "read", f"attack {attack_id}")
    return _attack_page(request, conn, user, attack_id)


@router.post("/attacks/{attack_id}/{what}")
async def attack_post(attack_id: str, what: str, request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, f"attack {attack_id} {what}")
        try:
            if what == "intensity":
                diary_service.rate_attack(
                    conn, pid, attack_id, {"intensity": data.get("intensity")}
                )
                if data.get("later"):
                    return _redirect(f"/attacks/{attack_id}?rated=1")
                return _redirect(f"/attacks/{attack_id}?new=1&saved=1#safety")
            if what == "safety":
                answers = views.screen_form_answers(data, SAFETY_QUESTIONS, views.ATTACK_NUMBERS)
                try:
                    result = clinical_records.screen_attack(conn, pid, attack_id, answers)
                except diary_service.EntryError as exc:
                    return _attack_page(
                        request,
                        conn,
                        user,
                        attack_id,
                        errors=exc.fields,
                        status=400,
                        values=data,
                        new=True,
                    )
                audit(
                    conn,
                    user,
                    "write",
                    "red-flag screen",
                    pid,
                    ip=client_ip(request),
                )
                if result.flags:
                    return _render(
                        request, "emergency.html", user, result=result, attack_id=attack_id
                    )
                return _redirect(f"/attacks/{attack_id}?safe=1")
            if what == "end":
                diary_service.update_attack(
                    conn, pid, attack_id, {"end": diary_service.local_now(conn, pid)}
                )
                return _redirect("/home")
            if what == "details":
                changes = views.attack_changes(data)
                diary_service.update_attack(conn, pid, attack_id, changes)
                return _redirect(f"/attacks/{attack_id}?saved=1")
            if what == "medication":
                diary_service.add_medication(
                    conn, pid, {**views.medication_fields(data), "attack_id": attack_id}
                )
                return _redirect(f"/attacks/{attack_id}?saved=1")
        except diary_service.EntryError as exc:
            return _attack_page(
                request, conn, user, attack_id, errors=exc.fields, status=400, values=data
            )
        raise HTTPException(status_code=404, detail="no such action")

    return await _run(request, work)


def _checkin_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    day: dt.date,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    existing: bool = True,
    saved: bool = False,
) -> Response:
    return _render(
        request,
        "checkin.html",
        user,
        status=status,
        day=day,
        values=values,
        errors=errors,
        existing=existing,
        fields=views.CHECKIN_FIELDS,
        factors=diary_service.own_factors(conn, user.patient_id or ""),
        prefix=views.FACTOR_PREFIX,
        saved=saved,
    )


@router.get("/checkin")
def checkin_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "check-in")
    day = (
        views.parse_date(request.query_params.get("date"), plausible=True)
        or diary_service.local_now(conn, pid).date()
    )
    saved = diary_service.get_day(conn, pid, day)
    previous = diary_service.get_day(conn, pid, day - dt.timedelta(days=1))
    # Sleep or stress carry over as a starting guess; own factors ("red wine") do not.
    values = {
        **views.day_values(saved or previous or {}),
        **views.factor_values(diary_service.day_factor_values(conn, pid, day)),
    }
    return _checkin_page(
        request,
        conn,
        user,
        day,
        values,
        {},
        existing=saved is not None,
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/checkin")
async def checkin_save(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, "check-in")
        given = data.pop("date", None)
        today = diary_service.local_now(conn, pid).date()
        day = views.parse_date(given) if given else today
        if day is None:  # never save a check-in under another day than the one sent
            errors = {"date": "use a date like 2026-03-01"}
            return _checkin_page(request, conn, user, today, data, errors, status=400)
        try:
            with conn.begin_nested():  # the day and its own factors are saved together or not
                diary_service.save_day(conn, pid, day, views.day_fields(data))
                try:
                    diary_service.save_factor_values(conn, pid, day, views.factor_fields(data))
                except diary_service.EntryError as exc:  # name the form's fields
                    raise diary_service.EntryError(views.factor_errors(exc.fields)) from None
        except diary_service.EntryError as exc:
            return _checkin_page(request, conn, user, day, data, exc.fields, status=400)
        return _redirect(f"/checkin?date={day}&saved=1")

    return await _run(request, work)


@router.post("/checkin/factors")
async def own_factor_post(request: Request) -> Response:
    """Start tracking an own factor, retire one (``retire=<name>``) or rename one
    (``rename=<name>``, ``new_name``)."""
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, "own factor")
        day = (
            views.parse_date(data.get("date"), plausible=True)
            or diary_service.local_now(conn, pid).date()
        )
        try:
            if data.get("retire"):
                diary_service.retire_factor(conn, pid, data["retire"], day)
                return _redirect(f"/checkin?date={day}#factors")
            if data.get("rename"):
                diary_service.rename_factor(conn, pid, data["rename"], data.get("new_name", ""))
                return _redirect(f"/checkin?date={day}#factors")
            diary_service.add_factor(conn, pid, data.get("name", ""), data.get("kind", ""))
        except diary_service.EntryError as exc:
            errors = {f"new_{k}": v for k, v in exc.fields.items()}
            values = {**views.day_values(diary_service.get_day(conn, pid, day) or {}), **data}
            return _checkin_page(request, conn, user, day, values, errors, status=400)
        return _redirect(f"/checkin?date={day}#factors")

    return await _run(request, work)


SPINE_REGIONS = [
    ("upper_cervical", "Top of the neck, below the skull (C0–C2)"),
    ("lower_cervical", "Lower neck"),
    ("thoracic", "Upper and middle back"),
    ("lumbar", "Low back"),
    ("sacral_pelvic", "Bottom of the spine, pelvis"),
]


@router.get("/spine")
def spine_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    return _render(request, "spine.html", user, regions=SPINE_REGIONS, errors={}, values={})


@router.post("/spine")
async def spine_save(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, "spine pain")
        fields = {
            "region": data.get("region") or None,
            "side": data.get("side") or None,
            "nrs": views.parse_number(data.get("nrs")),
        }
        try:
            diary_service.add_spine_pain(conn, pid, fields)
        except diary_service.EntryError as exc:
            return _render(
                request,
                "spine.html",
                user,
                status=400,
                regions=SPINE_REGIONS,
                errors=exc.fields,
                values=data,
            )
        return _redirect("/spine?saved=1")

    return await _run(request, work)


@router.get("/calendar")
def calendar_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    pid = request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    pid = pid or ""
    patient_access(request, conn, user, pid, "read", "calendar")
    month = (
        views.parse_month(request.query_params.get("month"))
        or diary_service.local_now(conn, pid).date()
    )
    weeks = views.month_grid(conn, pid, month.year, month.month)
    prev_month = (month.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")
    return _render(
        request,
        "calendar.html",
        user,
        weeks=weeks,
        title=f"{cal.month_name[month.month]} {month.year}",
        prev_month=prev_month,
        next_month=next_month,
        patient_id=pid,
    )


@router.get("/insights")
def insights_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    pid = (
        request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    ) or ""
    patient_access(request, conn, user, pid, "read", "insights")
    data = views.insights(conn, pid)
    return _render(request, "insights.html", user, insights=data, patient_id=pid)


@router.get("/insights/{kind}.png")
def insights_plot(kind: str, request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    if kind not in PICTURES:
        raise HTTPException(status_code=404, detail="no such picture")
    pid = (
        request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    ) or ""
    patient_access(request, conn, user, pid, "read", f"{kind} plot")
    return Response(views.plot_png(conn, pid, kind), media_type="image/png")


@router.get("/sharing")
def sharing_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "sharing")
    return _render(
        request, "sharing.html", user, grants=accounts.active_grants(conn, pid), errors={}
    )


@router.post("/sharing")
async def sharing_post(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = _own_diary_write(request, conn, data, "sharing")
        try:
            if data.get("revoke"):
                accounts.revoke(conn, pid, int(data["revoke"]))
            else:
                accounts.grant(conn, pid, data.get("clinician_email", ""))
        except accounts.AccountError as exc:
            return _render(
                request,
                "sharing.html",
                user,
                status=400,
                grants=accounts.active_grants(conn, pid),
                errors=exc.fields,
                values=data,
            )
        return _redirect("/sharing")

    return await _run(request, work)


@router.get("/account")
def account_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    return _render(request, "account.html", user, sources=SOURCES)


MAX_IMPORT_BYTES = 1 << 30  # Apple Health exports run to hundreds of megabytes


@router.post("/account/import")
async def account_import(request: Request) -> Response:
    """Bring a diary from another app into one's own: read in the thread pool, merged
    in one write (nothing is kept on any problem)."""
    form = await request.form()
    token, source = str(form.get("csrf_token", "")), str(form.get("source", ""))
    upload = form.get("file")

    def who() -> tuple[CurrentUser, str]:
        with request.app.state.store.engine.connect() as conn:
            user = require_user(request, conn, "patient")
            check_csrf(user, token)
            return user, diary_service.patient_zone(conn, user.patient_id or "").key

    user, zone = await run_in_threadpool(who)

    def refuse(message: str) -> Response:
        return _render(
            request, "account.html", user, status=400, sources=SOURCES,
            errors={"import": message}, values={"source": source},
        )  # fmt: skip

    if source not in SOURCES:
        return refuse("choose the app the file comes from")
    if not hasattr(upload, "read"):
        return refuse("choose the exported file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export"
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):  # type: ignore[union-attr]
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    return refuse("the file is larger than 1 GB")
                out.write(chunk)
        try:
            diary, skipped = await run_in_threadpool(
                read_export, source, path, user.patient_id or "", zone
            )
        except DiaryFormatError as exc:
            first = exc.problems[0]
            more = len(exc.problems) - 1
            shown = "" if first.value is None else f" (value {first.value[:80]!r})"
            place = first.place.replace(first.file, upload.filename or first.file, 1)  # type: ignore[union-attr]
            return refuse(
                f"nothing was imported: {place}: {first.reason}{shown}"
                + (f", and {more} more problem(s)" if more else "")
            )
        except ValueError as exc:  # a value the diary cannot hold (pydantic)
            return refuse(f"nothing was imported: {exc}")

    def work(request: Request, conn: sa.Connection) -> Response:
        _own_diary_write(request, conn, {"csrf_token": token}, f"import from {source}")
        try:
            merged = merge_diary(conn, user.patient_id or "", diary)
        except MergeError as exc:  # a conflict, or a value a check-in would refuse
            raise _Refused(f"nothing was imported: {exc}") from None
        return _render(
            request, "account.html", user, sources=SOURCES, imported=merged, skipped=skipped
        )

    try:
        return await _run(request, work)
    except _Refused as exc:
        return refuse(str(exc))


class _Refused(Exception):
    """Raised in the write so that it rolls back; shown next to the import form."""


@router.get("/account/export")
def account_export(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "export", "whole diary")
    return Response(
        views.export_zip(conn, pid),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="painlink-{pid}.zip"'},
    )


@router.get("/account/export.fhir.json")
def account_export_fhir(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    from painlink.interop.fhir_export import diary_bundle

    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "export", "whole diary (FHIR R4)")
    bundle = diary_bundle(views.read(conn, pid), pid)
    return Response(
        json.dumps(bundle, ensure_ascii=False),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="painlink-{pid}.fhir.json"'},
    )


@router.post("/account/delete")
async def account_delete(request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn)
        check_csrf(user, data.get("csrf_token"))
        if data.get("confirm") != "DELETE":
            return _render(
                request,
                "account.html",
                user,
                status=400,
                sources=SOURCES,
                errors={"confirm": "type DELETE to confirm"},
            )
        audit(conn, user, "delete", "account and diary", user.patient_id, ip=client_ip(request))
        accounts.delete_account(conn, user)
        response = _redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    response = await _run(request, work)
    if response.status_code == 303:  # deleted: leave no copy in the database files
        await run_in_threadpool(request.app.state.store.scrub)
    return response


# ------------------------------------------------------------------ clinician and admin


@router.get("/clinic")
def clinic(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "clinician")
    ids = accounts.consented_patients(conn, user.id)
    for pid in ids:
        record(request, conn, user, "read", "patient list", pid)
    return _render(request, "clinic.html", user, patients=views.patient_list(conn, ids))


def _clinic_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    patient_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    store = conn  # the request's own connection: never a second one from the pool
    return _render(
        request,
        "clinic_patient.html",
        user,
        status=status,
        patient_id=patient_id,
        summary=views.clinical_summary(store, patient_id),
        exams=views.exam_overview(store, patient_id),
        screen_groups=views.INTAKE_GROUPS,
        screen_numbers=views.INTAKE_NUMBERS,
        findings_items=views.FINDING_ITEMS,
        instruments=views.INSTRUMENT_ITEMS,
        errors=extra.pop("errors", {}),
        **extra,
    )


@router.get("/clinic/patients/{patient_id}")
def clinic_patient(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> Response:
    user = require_user(request, conn, "clinician")
    patient_access(request, conn, user, patient_id, "read", "clinical summary")
    return _clinic_page(request, conn, user, patient_id)


MAX_UPLOAD_BYTES = 1_000_000  # a QuestionnaireResponse is a few kilobytes


@router.post("/clinic/patients/{patient_id}/fhir")
async def clinic_fhir(patient_id: str, request: Request) -> Response:
    """Import a FHIR R4 QuestionnaireResponse file into the patient's questionnaires."""
    form = await request.form()
    token = str(form.get("csrf_token", ""))
    upload = form.get("response")
    raw = await upload.read(MAX_UPLOAD_BYTES + 1) if hasattr(upload, "read") else b""

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn, "clinician")
        check_csrf(user, token)
        patient_access(request, conn, user, patient_id, "write", "clinic questionnaire (FHIR)")

        def refuse(message: str) -> Response:
            return _clinic_page(
                request, conn, user, patient_id, status=400, errors={"fhir": message}
            )

        if not raw:
            return refuse("choose a QuestionnaireResponse file (JSON)")
        if len(raw) > MAX_UPLOAD_BYTES:
            return refuse("the file is larger than 1 MB: not a single QuestionnaireResponse")
        try:  # UTF-8 (or UTF-16 with its mark), nested at most 64 deep: diary/files.py
            name = getattr(upload, "filename", None) or "the file"
            resource = files.parse_json(files.decode_text(raw, name), name)
        except DiaryFormatError as exc:
            return refuse(f"not a JSON file: {exc}")
        if not isinstance(resource, dict):
            return refuse("not a FHIR resource (a JSON object)")
        try:
            clinical_records.save_fhir_response(conn, patient_id, resource, user.display_name)
        except diary_service.EntryError as exc:
            return refuse(exc.fields.get("questionnaire", str(exc)))
        return _redirect(f"/clinic/patients/{patient_id}?saved=score#questionnaires")

    return await _run(request, work)


@router.post("/clinic/patients/{patient_id}/{what}")
async def clinic_post(patient_id: str, what: str, request: Request) -> Response:
    data = await _form(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn, "clinician")
        check_csrf(user, data.pop("csrf_token", None))
        patient_access(
            request,
            conn,
            user,
            patient_id,
            "write",
            f"clinic {what}",
        )
        try:
            if what == "screen":
                clinical_records.save_screen(
                    conn,
                    patient_id,
                    ScreeningContext.intake,
                    views.intake_answers(data),
                    answered_by=user.display_name,
                )
                audit(
                    conn,
                    user,
                    "write",
                    "intake red-flag screen",
                    patient_id,
                    ip=client_ip(request),
                )
                return _redirect(f"/clinic/patients/{patient_id}?screened=1#intake")
            if what == "exam":
                diary_service.add_exam(
                    conn,
                    patient_id,
                    user.display_name,
                    views.exam_fields(data),
                    data.get("method") or None,
                )
                return _redirect(f"/clinic/patients/{patient_id}?saved=exam#exam")
            if what == "finding":
                diary_service.add_finding(
                    conn,
                    patient_id,
                    user.display_name,
                    data.get("item", ""),
                    data.get("present") == "yes",
                    data.get("notes") or None,
                )
                return _redirect(f"/clinic/patients/{patient_id}?saved=finding#findings")
            if what == "score":
                instrument, completed_on, values = views.score_form(data)
                clinical_records.save_questionnaire(
                    conn, patient_id, instrument, completed_on, values, user.display_name
                )
                return _redirect(f"/clinic/patients/{patient_id}?saved=score#questionnaires")
        except (diary_service.EntryError, ValueError) as exc:
            fields = getattr(exc, "fields", {"form": str(exc)})
            return _clinic_page(
                request, conn, user, patient_id, status=400, errors=fields, values=data
            )
        raise HTTPException(status_code=404, detail="no such action")

    return await _run(request, work)


@router.get("/admin")
def admin(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "admin")
    return _render(request, "admin.html", user, **views.admin_overview(conn))
