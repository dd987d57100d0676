"""The patient's diary pages: home, an attack as it happens, the daily check-in with
one's own factors, neck and back pain, the history form, the calendar and insights.

GET handlers run in the thread pool; POST handlers read the form, then do their
database work in one write transaction in the thread pool too (``run_write``). One
route per action: the access matrix (tests/test_access_matrix.py) reads them off
the router.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from painlink.analysis.plotting import PICTURES
from painlink.services import clinical_records
from painlink.services import diary as diary_service
from painlink.web import forms, presenters
from painlink.web.deps import (
    client_ip,
    get_conn,
    own_diary_write,
    patient_access,
    require_user,
    run_write,
)
from painlink.web.responses import form_data, redirect, render
from painlink.web.security import CurrentUser, audit

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ history


def _history_page(
    request: Request, conn: sa.Connection, user: CurrentUser, status: int = 200, **extra: Any
) -> Response:
    pid = user.patient_id or ""
    stored = clinical_records.history_answers(conn, pid)
    values = extra.pop("values", None) or {
        k: {True: "yes", False: "no"}.get(v, v) for k, v in stored.items()
    }
    return render(
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
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "own history")
        try:
            result = clinical_records.save_history(conn, pid, forms.history_values(data))
        except diary_service.EntryError as exc:
            return _history_page(request, conn, user, 400, errors=exc.fields, values=data)
        if result.flags:
            return render(request, "emergency.html", user, result=result, attack_id=None)
        return redirect("/home?history=1")

    return await run_write(request, work)


# ------------------------------------------------------------------ attacks


@router.get("/home")
def home(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "home")
    today = diary_service.local_now(conn, pid).date()
    return render(
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
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        _user, pid = own_diary_write(request, conn, data, "attack")
        attack_id = diary_service.start_attack(conn, pid)
        return redirect(f"/attacks/{attack_id}?new=1")

    return await run_write(request, work)


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
    return render(
        request,
        "attack.html",
        user,
        status=status,
        attack=attack,
        errors=errors or {},
        new=extra.pop("new", request.query_params.get("new") == "1"),
        safety_groups=forms.ATTACK_GROUPS,
        pregnancy_group=forms.PREGNANCY_GROUP,
        not_pregnant=clinical_records.history_answers(conn, pid).get("pregnant_or_postpartum")
        is False,
        onset_choices=forms.ONSET_CHOICES,
        safety_numbers=forms.ATTACK_NUMBERS,
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


#: what an attack form does once the checks pass: (request, conn, user, patient, form)
AttackAction = Callable[[Request, sa.Connection, CurrentUser, str, dict[str, str]], Response]


async def _attack_form(request: Request, attack_id: str, what: str, act: AttackAction) -> Response:
    """One form post about one of the patient's own attacks: the own-diary checks and
    audit row (``attack <id> <what>``), then ``act``; a value the diary refuses is shown
    next to its field on the attack page."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, f"attack {attack_id} {what}")
        try:
            return act(request, conn, user, pid, data)
        except diary_service.EntryError as exc:
            return _attack_page(
                request, conn, user, attack_id, errors=exc.fields, status=400, values=data
            )

    response: Response = await run_write(request, work)
    return response


@router.post("/attacks/{attack_id}/intensity")
async def attack_intensity(attack_id: str, request: Request) -> Response:
    """How bad it is now (0-3); then on to the safety check, or back later."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        diary_service.rate_attack(conn, pid, attack_id, {"intensity": data.get("intensity")})
        if data.get("later"):
            return redirect(f"/attacks/{attack_id}?rated=1")
        return redirect(f"/attacks/{attack_id}?new=1&saved=1#safety")

    return await _attack_form(request, attack_id, "intensity", act)


@router.post("/attacks/{attack_id}/safety")
async def attack_safety(attack_id: str, request: Request) -> Response:
    """The attack-time red-flag check; any flag shows the emergency page at once."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        answers = forms.screen_form_answers(data, forms.SAFETY_QUESTIONS, forms.ATTACK_NUMBERS)
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
            return render(request, "emergency.html", user, result=result, attack_id=attack_id)
        return redirect(f"/attacks/{attack_id}?safe=1")

    return await _attack_form(request, attack_id, "safety", act)


@router.post("/attacks/{attack_id}/end")
async def attack_end(attack_id: str, request: Request) -> Response:
    """The attack is over: it ends now, in the patient's time zone."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        diary_service.update_attack(
            conn, pid, attack_id, {"end": diary_service.local_now(conn, pid)}
        )
        return redirect("/home")

    return await _attack_form(request, attack_id, "end", act)


@router.post("/attacks/{attack_id}/details")
async def attack_details(attack_id: str, request: Request) -> Response:
    """Side, quality, symptoms, times and notes, as changed on the attack page."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        diary_service.update_attack(conn, pid, attack_id, forms.attack_changes(data))
        return redirect(f"/attacks/{attack_id}?saved=1")

    return await _attack_form(request, attack_id, "details", act)


@router.post("/attacks/{attack_id}/medication")
async def attack_medication(attack_id: str, request: Request) -> Response:
    """A medication taken for this attack."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        fields = {**forms.medication_fields(data), "attack_id": attack_id}
        diary_service.add_medication(conn, pid, fields)
        return redirect(f"/attacks/{attack_id}?saved=1")

    return await _attack_form(request, attack_id, "medication", act)


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
    return render(
        request,
        "checkin.html",
        user,
        status=status,
        day=day,
        values=values,
        errors=errors,
        existing=existing,
        fields=forms.CHECKIN_FIELDS,
        factors=diary_service.own_factors(conn, user.patient_id or ""),
        prefix=forms.FACTOR_PREFIX,
        saved=saved,
    )


@router.get("/checkin")
def checkin_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "check-in")
    day = (
        forms.parse_date(request.query_params.get("date"), plausible=True)
        or diary_service.local_now(conn, pid).date()
    )
    saved = diary_service.get_day(conn, pid, day)
    previous = diary_service.get_day(conn, pid, day - dt.timedelta(days=1))
    # Sleep or stress carry over as a starting guess; own factors ("red wine") do not.
    values = {
        **presenters.day_values(saved or previous or {}),
        **presenters.factor_values(diary_service.day_factor_values(conn, pid, day)),
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
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "check-in")
        given = data.pop("date", None)
        today = diary_service.local_now(conn, pid).date()
        day = forms.parse_date(given) if given else today
        if day is None:  # never save a check-in under another day than the one sent
            errors = {"date": "use a date like 2026-03-01"}
            return _checkin_page(request, conn, user, today, data, errors, status=400)
        try:
            with conn.begin_nested():  # the day and its own factors are saved together or not
                diary_service.save_day(conn, pid, day, forms.day_fields(data))
                try:
                    diary_service.save_factor_values(conn, pid, day, forms.factor_fields(data))
                except diary_service.EntryError as exc:  # name the form's fields
                    raise diary_service.EntryError(forms.factor_errors(exc.fields)) from None
        except diary_service.EntryError as exc:
            return _checkin_page(request, conn, user, day, data, exc.fields, status=400)
        return redirect(f"/checkin?date={day}&saved=1")

    return await run_write(request, work)


@router.post("/checkin/factors")
async def own_factor_post(request: Request) -> Response:
    """Start tracking an own factor, retire one (``retire=<name>``) or rename one
    (``rename=<name>``, ``new_name``)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "own factor")
        day = (
            forms.parse_date(data.get("date"), plausible=True)
            or diary_service.local_now(conn, pid).date()
        )
        try:
            if data.get("retire"):
                diary_service.retire_factor(conn, pid, data["retire"], day)
                return redirect(f"/checkin?date={day}&factor=stopped#factors")
            if data.get("rename"):
                diary_service.rename_factor(conn, pid, data["rename"], data.get("new_name", ""))
                return redirect(f"/checkin?date={day}&factor=renamed#factors")
            diary_service.add_factor(conn, pid, data.get("name", ""), data.get("kind", ""))
        except diary_service.EntryError as exc:
            errors = {f"new_{k}": v for k, v in exc.fields.items()}
            values = {**presenters.day_values(diary_service.get_day(conn, pid, day) or {}), **data}
            return _checkin_page(request, conn, user, day, values, errors, status=400)
        return redirect(f"/checkin?date={day}&factor=added#factors")

    return await run_write(request, work)


SPINE_REGIONS = [
    ("upper_cervical", "Top of the neck, just below the skull"),
    ("lower_cervical", "Lower neck"),
    ("thoracic", "Upper and middle back"),
    ("lumbar", "Low back"),
    ("sacral_pelvic", "Bottom of the spine, pelvis"),
]


@router.get("/spine")
def spine_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    return render(request, "spine.html", user, regions=SPINE_REGIONS, errors={}, values={})


@router.post("/spine")
async def spine_save(request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "spine pain")
        fields = {
            "region": data.get("region") or None,
            "side": data.get("side") or None,
            "nrs": forms.parse_number(data.get("nrs")),
        }
        try:
            diary_service.add_spine_pain(conn, pid, fields)
        except diary_service.EntryError as exc:
            return render(
                request,
                "spine.html",
                user,
                status=400,
                regions=SPINE_REGIONS,
                errors=exc.fields,
                values=data,
            )
        return redirect("/spine?saved=1")

    return await run_write(request, work)


# ------------------------------------------------------------------ calendar and insights


@router.get("/calendar")
def calendar_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    pid = request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    pid = pid or ""
    patient_access(request, conn, user, pid, "read", "calendar")
    month = (
        forms.parse_month(request.query_params.get("month"))
        or diary_service.local_now(conn, pid).date()
    )
    weeks = presenters.month_grid(conn, pid, month.year, month.month)
    prev_month = (month.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")
    return render(
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
    data = presenters.insights(conn, pid)
    return render(request, "insights.html", user, insights=data, patient_id=pid)


@router.get("/insights/{kind}.png")
def insights_plot(kind: str, request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    if kind not in PICTURES:
        raise HTTPException(status_code=404, detail="no such picture")
    pid = (
        request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    ) or ""
    patient_access(request, conn, user, pid, "read", f"{kind} plot")
    return Response(presenters.plot_png(conn, pid, kind), media_type="image/png")
