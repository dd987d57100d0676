"""The patient's diary pages: home, an attack as it happens, neck and back pain, the
history form, the calendar and insights (the daily check-in and own factors are in
:mod:`.checkin`).

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
from painlink.clinical.month_grid import month_counts
from painlink.services import attacks as attack_service
from painlink.services import clinical_records, medicines
from painlink.services import diary as diary_service
from painlink.services import spine as spine_service
from painlink.store import tables as t
from painlink.web import body_map, charts, forms, presenters
from painlink.web.deps import (
    client_ip,
    get_conn,
    own_diary_write,
    patient_access,
    require_user,
    run_write,
)
from painlink.web.once import once
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

        def act() -> Response:
            try:
                result = clinical_records.save_history(conn, pid, forms.history_values(data))
            except diary_service.EntryError as exc:
                return _history_page(request, conn, user, 400, errors=exc.fields, values=data)
            if result.flags:
                return render(request, "emergency.html", user, result=result, attack_id=None)
            return redirect("/home?history=1")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


# ------------------------------------------------------------------ attacks


def _home_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    pid = user.patient_id or ""
    now = diary_service.local_now(conn, pid)
    return render(
        request,
        "home.html",
        user,
        status=status,
        open_attack=diary_service.open_attack(conn, pid),
        checked_in=diary_service.get_day(conn, pid, now.date()) is not None,
        recent=diary_service.recent_attacks(conn, pid, 5),
        relief_due=medicines.relief_due(conn, pid),
        today=now.date(),
        now=now,
        errors=errors or {},
        values=values or {},
    )


@router.get("/home")
def home(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, user.patient_id or "", "read", "home")
    return _home_page(request, conn, user)


@router.post("/attacks/start")
async def attack_start(request: Request) -> Response:
    """Headache now, or it started earlier (``started``: now / 60 / 180 / woke / at).
    With an attack still open this shows that one, unless ``separate=1`` says it is a
    new, separate headache (the home page asks for that deliberately)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "attack")

        def act() -> Response:
            now = diary_service.local_now(conn, pid)
            try:
                start = attack_service.started_at(
                    data.get("started"), now, data.get("woke_at"), data.get("start_at")
                )
                attack_id = attack_service.begin_attack(
                    conn, pid, start, alongside=data.get("separate") == "1"
                )
            except attack_service.AttackOpen as exc:
                return redirect(f"/attacks/{exc.attack['attack_id']}?already=1")
            except diary_service.EntryError as exc:
                return _home_page(request, conn, user, 400, errors=exc.fields, values=data)
            return redirect(f"/attacks/{attack_id}?new=1")

        return once(conn, user.id, data, act)

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
        intakes=medicines.intakes(conn, pid, attack_id),
        relief_due=medicines.relief_due(conn, pid),
        drug_kinds=forms.DRUG_KINDS,
        drug_names=medicines.drug_choices(preventive=False),
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

        def attempt() -> Response:
            try:
                return act(request, conn, user, pid, data)
            except diary_service.EntryError as exc:
                return _attack_page(
                    request, conn, user, attack_id, errors=exc.fields, status=400, values=data
                )

        return once(conn, user.id, data, attempt)

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
    """The attack is over: now, or at ``end_at`` (the patient's local time) — which
    also corrects an end given before."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        end = attack_service.parse_end(data.get("end_at"))
        attack_service.end_attack(conn, pid, attack_id, end)
        return redirect("/home?ended=1" if end is None else f"/attacks/{attack_id}?ended=1")

    return await _attack_form(request, attack_id, "end", act)


@router.post("/attacks/{attack_id}/details")
async def attack_details(attack_id: str, request: Request) -> Response:
    """Side, quality, symptoms, times and notes, as changed on the attack page."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        changes = attack_service.time_changes(conn, pid, attack_id, forms.attack_changes(data))
        diary_service.update_attack(conn, pid, attack_id, changes)
        return redirect(f"/attacks/{attack_id}?saved=1")

    return await _attack_form(request, attack_id, "details", act)


@router.post("/attacks/{attack_id}/medication")
async def attack_medication(attack_id: str, request: Request) -> Response:
    """A medication taken for this attack."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
    ) -> Response:
        fields = {**forms.medication_fields(data), "attack_id": attack_id}
        diary_service.add_medication(conn, pid, fields, acute_only=True)
        return redirect(f"/attacks/{attack_id}?taken=1#meds")

    return await _attack_form(request, attack_id, "medication", act)


def _spine_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "spine pain")
    return render(
        request,
        "spine.html",
        user,
        status=status,
        body=body_map,
        values=values,
        errors=errors,
        entries=body_map.entry_rows(spine_service.spine_entries(conn, pid)),
    )


@router.get("/spine")
def spine_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    return _spine_page(request, conn, user, {}, {})


@router.post("/spine")
async def spine_save(request: Request) -> Response:
    """The body map: every marked place with its own 0–10 and side, one entry."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "spine pain")

        def act() -> Response:
            marks, errors = body_map.marks(data)
            try:
                if errors:
                    raise diary_service.EntryError(errors)
                spine_service.add_spine_entry(conn, pid, marks)
            except diary_service.EntryError as exc:
                return _spine_page(request, conn, user, data, exc.fields, status=400)
            return redirect("/spine?saved=1")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


# ------------------------------------------------------------------ calendar and insights


def _whose(conn: sa.Connection, user: CurrentUser, pid: str) -> str | None:
    """For a clinician, the name of the patient whose calendar or insights these are
    (the pages would otherwise not say whose diary they show); None for the patient."""
    if user.role != "clinician":
        return None
    name = conn.execute(
        sa.select(t.patients.c.display_name).where(t.patients.c.patient_id == pid)
    ).scalar()
    return name or pid


@router.get("/calendar")
def calendar_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    """The month: every day's class, the month's counts from the same grid, and for the
    patient every day up to today a link to that day's check-in and entries."""
    user = require_user(request, conn, "patient", "clinician")
    pid = request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    pid = pid or ""
    patient_access(request, conn, user, pid, "read", "calendar")
    now = diary_service.local_now(conn, pid)
    month = forms.parse_month(request.query_params.get("month")) or now.date()
    weeks = presenters.month_grid(conn, pid, month.year, month.month, now)
    prev_month = (month.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")
    return render(
        request,
        "calendar.html",
        user,
        weeks=weeks,
        counts=month_counts(weeks),
        today=now.date(),
        title=f"{cal.month_name[month.month]} {month.year}",
        prev_month=prev_month,
        next_month=next_month if next_month <= now.strftime("%Y-%m") else None,
        patient_id=pid,
        whose=_whose(conn, user, pid),
    )


@router.get("/insights")
def insights_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient", "clinician")
    pid = (
        request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    ) or ""
    patient_access(request, conn, user, pid, "read", "insights")
    data = presenters.insights(conn, pid)
    return render(
        request, "insights.html", user, insights=data, patient_id=pid, whose=_whose(conn, user, pid)
    )


@router.get("/insights/{kind}.png")
def insights_plot(kind: str, request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    """A picture of the insights page: ``layout`` phone (the default) or wide (a
    desktop's panel), drawn at ``density`` 1 or 2 device px to the CSS px (the page's
    ``srcset`` picks; painlink.web.charts)."""
    user = require_user(request, conn, "patient", "clinician")
    layout = request.query_params.get("layout", "phone")
    density = request.query_params.get("density", "1")
    if (
        kind not in PICTURES
        or layout not in charts.LAYOUTS
        or density not in [str(d) for d in charts.DENSITIES]
    ):
        raise HTTPException(status_code=404, detail="no such picture")
    pid = (
        request.query_params.get("patient") if user.role == "clinician" else user.patient_id
    ) or ""
    patient_access(request, conn, user, pid, "read", f"{kind} plot")
    png = presenters.plot_png(conn, pid, kind, layout=layout, density=int(density))
    return Response(png, media_type="image/png")
