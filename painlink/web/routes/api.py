"""The JSON API: everything the pages do, for programs (OpenAPI at /api/docs).

Authentication is the same session cookie; unsafe methods need the session's CSRF
token in ``X-CSRF-Token`` (``GET /api/me`` returns it). Another person's diary
answers 404, whether it exists or not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi import Path as ApiPath
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from painlink.clinical.classify import classify
from painlink.clinical.screening import screen
from painlink.diary.vocabulary import ScreeningContext
from painlink.rules.screening_questions import Presentation
from painlink.services import accounts, clinic_list, clinical_records
from painlink.services import diary as diary_service
from painlink.services.accounts import can_access
from painlink.services.admin import admin_overview
from painlink.services.export import export_zip
from painlink.services.reading import read
from painlink.web import forms, presenters
from painlink.web.clinic_list import clinician_page
from painlink.web.deps import (
    SAFE_METHODS,
    check_csrf,
    flush_audit,
    get_conn,
    patient_access,
    record,
    require_user,
    run_write,
)
from painlink.web.security import CurrentUser

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")


def gate(*roles: str) -> Any:
    """Who may send this request, decided from the session and the address alone,
    before the body is even validated: an anonymous caller gets 401, a wrong role or a
    missing CSRF token 403 and another person's diary 404, whatever the body holds (a
    malformed body must not tell a stranger more than "log in first"). The handler
    checks again inside its own transaction — that check is the one that counts and
    writes the audit row; this one only audits a refusal."""

    def check(request: Request) -> None:
        request.state.audit_rows = []
        try:
            with request.app.state.store.engine.connect() as conn:
                user = require_user(request, conn, *roles)
                if request.method not in SAFE_METHODS:
                    check_csrf(user, request.headers.get("X-CSRF-Token"))
                pid = request.path_params.get("patient_id")
                if pid is not None and not can_access(conn, user, pid):
                    record(request, conn, user, "denied", request.url.path, pid, buffer=True)
                    raise HTTPException(
                        status_code=404, detail="no such patient, or no access to it"
                    )
        finally:
            flush_audit(request)

    return [Depends(check)]


class _Body(BaseModel):
    """A request body: a field it does not define (a ``patient_id`` above all) is refused,
    never silently dropped — the address says whose diary it is. NaN and infinity are
    no measurement (rules/plausibility.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A NUL character is no text anyone typed, and PostgreSQL cannot store it."""
        texts = [value] if isinstance(value, str) else []
        if isinstance(value, dict):
            texts = [t for kv in value.items() for t in kv if isinstance(t, str)]
        if any("\x00" in t for t in texts):
            raise ValueError("holds a NUL character")
        return value


def _unsafe(request: Request, conn: sa.Connection, token: str | None, *roles: str) -> CurrentUser:
    user = require_user(request, conn, *roles)
    check_csrf(user, token)
    return user


async def _diary_write(
    request: Request,
    patient_id: str,
    token: str | None,
    resource: str,
    write: Callable[[sa.Connection], T],
) -> T:
    """A patient's write to their own diary: CSRF, access check and audit, then ``write(conn)``
    in one write transaction; bad entries answer 422 with the field at fault."""

    def work(request: Request, conn: sa.Connection) -> T:
        user = _unsafe(request, conn, token, "patient")
        patient_access(request, conn, user, patient_id, "write", resource)
        return _entry(write, conn)

    return await run_write(request, work)


async def _record_write(
    request: Request,
    patient_id: str,
    token: str | None,
    resource: str,
    write: Callable[[sa.Connection, CurrentUser], T],
) -> T:
    """A write by the patient or by a clinician they granted access: ``write(conn, user)``."""

    def work(request: Request, conn: sa.Connection) -> T:
        user = _unsafe(request, conn, token, "patient", "clinician")
        patient_access(request, conn, user, patient_id, "write", resource)
        return _entry(write, conn, user)

    return await run_write(request, work)


def _entry(fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    except diary_service.EntryError as exc:
        raise HTTPException(status_code=422, detail=exc.fields) from None


class AttackStart(_Body):
    start: dt.datetime | None = None
    intensity: int | None = Field(default=None, ge=0, le=3)


class Reading(_Body):
    intensity: int | None = Field(default=None, ge=0, le=3)
    intensity_nrs: float | None = Field(default=None, ge=0, le=10)
    at: dt.datetime | None = None


class ScreenAnswers(_Body):
    """A red-flag screen to keep: a clinician's is an intake screen; a patient's belongs
    to an attack when ``attack_id`` is given, otherwise to their history."""

    answers: Presentation
    attack_id: str | None = None


class QuestionnaireAnswers(_Body):
    instrument: str = Field(description="midas, hit6, odi or ndi")
    completed_on: dt.date
    items: dict[str, float | None] = Field(description='linkId → scored value, e.g. "hit6-1": 13')


class Grant(_Body):
    clinician_email: str


@router.get("/me")
def me(request: Request, conn: sa.Connection = Depends(get_conn)) -> dict[str, Any]:
    user = require_user(request, conn)
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "patient_id": user.patient_id,
        "csrf_token": user.csrf_token,
        # diary times in this API are wall-clock times in this zone (docs/web.md)
        "time_zone": accounts.time_zone_of(conn, user.patient_id) if user.patient_id else None,
    }


@router.get("/patients/{patient_id}/attacks")
def list_attacks(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "attacks")
    return diary_service.recent_attacks(conn, patient_id, 1000)


@router.post("/patients/{patient_id}/attacks", status_code=201, dependencies=gate("patient"))
async def create_attack(
    patient_id: str,
    body: AttackStart,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    def write(conn: sa.Connection) -> dict[str, Any]:
        attack_id = diary_service.start_attack(conn, patient_id, body.start)
        if body.intensity is not None:
            diary_service.update_attack(conn, patient_id, attack_id, {"intensity": body.intensity})
        return diary_service.get_attack(conn, patient_id, attack_id) or {}

    return await _diary_write(request, patient_id, x_csrf_token, "attack", write)


@router.patch("/patients/{patient_id}/attacks/{attack_id}", dependencies=gate("patient"))
async def change_attack(
    patient_id: str,
    attack_id: str,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    def write(conn: sa.Connection) -> dict[str, Any]:
        changed = diary_service.update_attack(conn, patient_id, attack_id, body)
        return changed

    return await _diary_write(request, patient_id, x_csrf_token, f"attack {attack_id}", write)


@router.post(
    "/patients/{patient_id}/attacks/{attack_id}/readings",
    status_code=201,
    dependencies=gate("patient"),
)
async def add_reading(
    patient_id: str,
    attack_id: str,
    body: Reading,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, str]:
    def write(conn: sa.Connection) -> dict[str, str]:
        diary_service.rate_attack(conn, patient_id, attack_id, body.model_dump(exclude_none=True))
        return {"status": "saved"}

    return await _diary_write(request, patient_id, x_csrf_token, f"reading {attack_id}", write)


@router.post("/patients/{patient_id}/medications", status_code=201, dependencies=gate("patient"))
async def add_medication(
    patient_id: str,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, str]:
    def write(conn: sa.Connection) -> dict[str, str]:
        diary_service.add_medication(conn, patient_id, body)
        return {"status": "saved"}

    return await _diary_write(request, patient_id, x_csrf_token, "medication", write)


@router.post("/patients/{patient_id}/spine-pain", status_code=201, dependencies=gate("patient"))
async def add_spine(
    patient_id: str,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, str]:
    def write(conn: sa.Connection) -> dict[str, str]:
        diary_service.add_spine_pain(conn, patient_id, body)
        return {"status": "saved"}

    return await _diary_write(request, patient_id, x_csrf_token, "spine pain", write)


@router.get("/patients/{patient_id}/days/{date}", dependencies=gate())
def get_day(
    patient_id: str, date: dt.date, request: Request, conn: sa.Connection = Depends(get_conn)
) -> dict[str, Any]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", f"check-in {date}")
    day = diary_service.get_day(conn, patient_id, date)
    if day is None:
        raise HTTPException(status_code=404, detail="no check-in that day")
    return day


@router.put("/patients/{patient_id}/days/{date}", dependencies=gate("patient"))
async def put_day(
    patient_id: str,
    date: dt.date,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    def write(conn: sa.Connection) -> dict[str, Any]:
        saved = diary_service.save_day(conn, patient_id, date, body)
        return saved

    return await _diary_write(request, patient_id, x_csrf_token, f"check-in {date}", write)


@router.get("/patients/{patient_id}/calendar", dependencies=gate())
def calendar(
    patient_id: str, month: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "calendar")
    first = forms.parse_month(month)
    if first is None:
        raise HTTPException(
            status_code=422, detail={"month": "use YYYY-MM, from 1900-01 to this month"}
        )
    now = diary_service.local_now(conn, patient_id)  # an attack in progress counts so far
    weeks = presenters.month_grid(conn, patient_id, first.year, first.month, now)
    return [d for week in weeks for d in week if d["in_month"]]


@router.get("/patients/{patient_id}/classification")
def classification(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> dict[str, Any]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "classification")
    return classify(read(conn, patient_id)).as_dict()


@router.get("/patients/{patient_id}/insights")
def insights(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> dict[str, Any]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "insights")
    from painlink.analysis.report import analyze

    return analyze(read(conn, patient_id)).as_dict()


@router.get("/patients/{patient_id}/export")
def export(patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, patient_id, "export", "whole diary")
    return Response(export_zip(conn, patient_id), media_type="application/zip")


@router.post("/screen", dependencies=gate())
def screen_presentation(
    body: Presentation, request: Request, conn: sa.Connection = Depends(get_conn)
) -> dict[str, Any]:
    require_user(request, conn)
    return screen(body).as_dict()


@router.get("/patients/{patient_id}/screens")
def list_screens(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "red-flag screens")
    return [
        {**asdict(s), "result": s.result.as_dict()}
        for s in presenters.screens(read(conn, patient_id))
    ]


@router.post(
    "/patients/{patient_id}/screens", status_code=201, dependencies=gate("patient", "clinician")
)
async def add_screen(
    patient_id: str,
    body: ScreenAnswers,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    answers = body.answers.model_dump(exclude_none=True)

    def write(conn: sa.Connection, user: CurrentUser) -> dict[str, Any]:
        if user.role == "clinician":
            result = clinical_records.save_screen(
                conn, patient_id, ScreeningContext.intake, answers, answered_by=user.display_name
            )
        elif body.attack_id:  # an attack of another diary is "no such attack"
            result = clinical_records.screen_attack(conn, patient_id, body.attack_id, answers)
        else:
            result = clinical_records.save_screen(
                conn, patient_id, ScreeningContext.history, answers, answered_by="patient"
            )
        return result.as_dict()

    return await _record_write(request, patient_id, x_csrf_token, "red-flag screen", write)


@router.get("/patients/{patient_id}/questionnaires")
def list_questionnaires(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "questionnaires")
    return [
        {
            "instrument": q["instrument"],
            "responses": [{**r, "score": r["score"].as_dict()} for r in q["responses"]],
        }
        for q in presenters.questionnaire_history(read(conn, patient_id))
    ]


@router.post(
    "/patients/{patient_id}/questionnaires",
    status_code=201,
    dependencies=gate("patient", "clinician"),
)
async def add_questionnaire(
    patient_id: str,
    body: QuestionnaireAnswers,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    def write(conn: sa.Connection, user: CurrentUser) -> dict[str, Any]:
        by = "patient" if user.role == "patient" else user.display_name
        return clinical_records.save_questionnaire(
            conn, patient_id, body.instrument, body.completed_on, body.items, by
        ).as_dict()

    return await _record_write(request, patient_id, x_csrf_token, "questionnaire", write)


@router.post(
    "/patients/{patient_id}/questionnaire-responses",
    status_code=201,
    dependencies=gate("patient", "clinician"),
)
async def add_fhir_response(
    patient_id: str,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse (MIDAS, HIT-6, ODI or NDI), stored as its items."""

    def write(conn: sa.Connection, user: CurrentUser) -> dict[str, Any]:
        by = "patient" if user.role == "patient" else user.display_name
        return clinical_records.save_fhir_response(conn, patient_id, body, by).as_dict()

    return await _record_write(request, patient_id, x_csrf_token, "questionnaire (FHIR)", write)


@router.get("/patients/{patient_id}/grants")
def list_grants(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, patient_id, "read", "sharing")
    return [dict(r._mapping) for r in accounts.active_grants(conn, patient_id)]


@router.post("/patients/{patient_id}/grants", status_code=201, dependencies=gate("patient"))
async def add_grant(
    patient_id: str,
    body: Grant,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, str]:
    def work(request: Request, conn: sa.Connection) -> dict[str, str]:
        user = _unsafe(request, conn, x_csrf_token, "patient")
        patient_access(request, conn, user, patient_id, "write", "sharing")
        try:
            accounts.grant(conn, patient_id, body.clinician_email)
        except accounts.AccountError as exc:
            raise HTTPException(status_code=422, detail=exc.fields) from None
        return {"status": "granted"}

    return await run_write(request, work)


@router.delete("/patients/{patient_id}/grants/{clinician_id}", dependencies=gate("patient"))
async def revoke_grant(
    patient_id: str,
    request: Request,
    clinician_id: int = ApiPath(ge=1, le=2**63 - 1),  # a database integer
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, str]:
    def work(request: Request, conn: sa.Connection) -> dict[str, str]:
        user = _unsafe(request, conn, x_csrf_token, "patient")
        patient_access(request, conn, user, patient_id, "write", "sharing")
        if not accounts.revoke(conn, patient_id, clinician_id):
            raise HTTPException(status_code=404, detail="no such grant")
        return {"status": "revoked"}

    return await run_write(request, work)


@router.get("/clinic/patients")
def clinic_patients(
    request: Request,
    response: Response,
    limit: int = Query(clinic_list.PAGE_SIZE, ge=1, le=clinic_list.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=10_000_000),
    q: str = Query("", max_length=100),
) -> list[dict[str, Any]]:
    """The consented patients, open red flags first, then the latest entry; one page
    (``limit`` ≤ 200 from ``offset``). ``X-Total-Count`` holds how many there are and
    ``Link`` the next and previous pages."""
    _user, shown = clinician_page(request, offset=offset, limit=limit, query=q)
    response.headers["X-Total-Count"] = str(shown.total)
    links = []
    for rel, at in (("next", shown.next_offset), ("prev", shown.previous_offset)):
        if at is not None:
            query = urlencode({"limit": limit, "offset": at, **({"q": q} if q else {})})
            links.append(f'</api/clinic/patients?{query}>; rel="{rel}"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return shown.rows


@router.get("/admin/audit")
def admin_audit(request: Request, conn: sa.Connection = Depends(get_conn)) -> list[dict[str, Any]]:
    require_user(request, conn, "admin")
    return [dict(r._mapping) for r in admin_overview(conn)["log"]]
