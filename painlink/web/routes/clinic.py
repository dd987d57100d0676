"""The clinician's pages: the list of patients who shared their diary, one patient's
summary, and the clinic's own records of them — an intake red-flag screen, an
examination, a finding, a questionnaire typed in or uploaded as FHIR. One route per
record; each checks the clinician's access to the patient in the address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from painlink.diary import files
from painlink.diary.errors import DiaryFormatError
from painlink.diary.vocabulary import ScreeningContext
from painlink.services import clinic_list, clinical_records
from painlink.services import diary as diary_service
from painlink.web import clinic_views, forms
from painlink.web.clinic_list import clinician_page
from painlink.web.deps import (
    check_csrf,
    client_ip,
    get_conn,
    patient_access,
    require_user,
    run_write,
)
from painlink.web.once import once
from painlink.web.responses import form_data, redirect, render
from painlink.web.security import CurrentUser, audit

router = APIRouter(include_in_schema=False)


#: the last page number asked for (50 a page: ten million patients)
MAX_PAGE = 200_000


@router.get("/clinic")
def clinic(
    request: Request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    q: str = Query("", max_length=100),
) -> Response:
    """The consented patients, 50 a page: open red flags first, then the latest entry."""
    size = clinic_list.PAGE_SIZE
    user, shown = clinician_page(request, offset=(page - 1) * size, limit=size, query=q)
    last = max(1, -(-shown.total // size))
    names = [p["name"] for p in shown.rows]
    repeated = {n for n in names if names.count(n) > 1}  # told apart by their id
    return render(
        request, "clinic.html", user, patients=shown.rows, total=shown.total,
        page=page, last_page=last, query=q.strip(), repeated=repeated,
    )  # fmt: skip


def _clinic_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    patient_id: str,
    status: int = 200,
    tab: str | None = None,
    **extra: Any,
) -> Response:
    """The patient's page at one tab: the URL's ``?tab=`` (a reload keeps it), or the
    tab of the form that was just sent back with its errors."""
    store = conn  # the request's own connection: never a second one from the pool
    tab = tab or clinic_views.tab_of(request.query_params.get("tab"))
    page = clinic_views.page_of(request.query_params.get("page"))
    return render(
        request,
        "clinic_patient.html",
        user,
        status=status,
        patient_id=patient_id,
        patient_name=clinic_views.patient_name(store, patient_id),
        tab=tab,
        tabs=clinic_views.TABS,
        view=clinic_views.tab_view(store, patient_id, tab, page),
        screen_groups=forms.INTAKE_GROUPS,
        screen_numbers=forms.INTAKE_NUMBERS,
        findings_items=forms.FINDING_ITEMS,
        instruments=forms.INSTRUMENT_ITEMS,
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
    raw = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn, "clinician")
        check_csrf(user, token)
        patient_access(request, conn, user, patient_id, "write", "clinic questionnaire (FHIR)")

        def refuse(message: str) -> Response:
            return _clinic_page(
                request,
                conn,
                user,
                patient_id,
                status=400,
                tab="questionnaires",
                errors={"fhir": message},
            )

        if not raw:
            return refuse("choose a QuestionnaireResponse file (JSON)")
        if len(raw) > MAX_UPLOAD_BYTES:
            return refuse("the file is larger than 1 MB: not a single QuestionnaireResponse")
        try:  # UTF-8 (or UTF-16 with its mark), nested at most 64 deep: interop/files.py
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
        saved = "tab=questionnaires&saved=score#questionnaires"
        return redirect(f"/clinic/patients/{patient_id}?{saved}")

    return await run_write(request, work)


#: the tab each clinic form lives in: a refused value is shown there, beside its field
FORM_TABS = {"screen": "screens", "exam": "exams", "finding": "exams", "score": "questionnaires"}

#: what a clinic form does once the checks pass: (request, conn, clinician, form)
ClinicAction = Callable[[Request, sa.Connection, CurrentUser, dict[str, str]], Response]


async def _clinic_form(request: Request, patient_id: str, what: str, act: ClinicAction) -> Response:
    """One clinic form post about a patient: a clinician with access (audited as
    ``clinic <what>``) and a valid CSRF token, then ``act``; a refused value is shown
    next to its field on the patient's page."""
    data = await form_data(request)

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

        def attempt() -> Response:
            try:
                return act(request, conn, user, data)
            except (diary_service.EntryError, ValueError) as exc:
                fields = getattr(exc, "fields", {"form": str(exc)})
                return _clinic_page(
                    request,
                    conn,
                    user,
                    patient_id,
                    status=400,
                    tab=FORM_TABS[what],
                    errors=fields,
                    values=data,
                )

        return once(conn, user.id, data, attempt)  # a resent clinic form records once

    response: Response = await run_write(request, work)
    return response


@router.post("/clinic/patients/{patient_id}/screen")
async def clinic_screen(patient_id: str, request: Request) -> Response:
    """The intake red-flag screen, as the clinician asked it."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, data: dict[str, str]
    ) -> Response:
        clinical_records.save_screen(
            conn,
            patient_id,
            ScreeningContext.intake,
            forms.intake_answers(data),
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
        return redirect(f"/clinic/patients/{patient_id}?tab=screens&screened=1#screen-result")

    return await _clinic_form(request, patient_id, "screen", act)


@router.post("/clinic/patients/{patient_id}/exam")
async def clinic_exam(patient_id: str, request: Request) -> Response:
    """An examination's measurements (flexion-rotation test, range of motion, …)."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, data: dict[str, str]
    ) -> Response:
        diary_service.add_exam(
            conn,
            patient_id,
            user.display_name,
            forms.exam_fields(data),
            data.get("method") or None,
        )
        return redirect(f"/clinic/patients/{patient_id}?tab=exams&saved=exam#exam")

    return await _clinic_form(request, patient_id, "exam", act)


@router.post("/clinic/patients/{patient_id}/finding")
async def clinic_finding(patient_id: str, request: Request) -> Response:
    """One clinical finding (a cervicogenic headache criterion), present or not."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, data: dict[str, str]
    ) -> Response:
        diary_service.add_finding(
            conn,
            patient_id,
            user.display_name,
            data.get("item", ""),
            data.get("present") == "yes",
            data.get("notes") or None,
        )
        return redirect(f"/clinic/patients/{patient_id}?tab=exams&saved=finding#findings")

    return await _clinic_form(request, patient_id, "finding", act)


@router.post("/clinic/patients/{patient_id}/score")
async def clinic_score(patient_id: str, request: Request) -> Response:
    """A questionnaire (NDI, ODI, MIDAS, HIT-6) typed in item by item."""

    def act(
        request: Request, conn: sa.Connection, user: CurrentUser, data: dict[str, str]
    ) -> Response:
        instrument, completed_on, values = forms.score_form(data)
        clinical_records.save_questionnaire(
            conn, patient_id, instrument, completed_on, values, user.display_name
        )
        saved = "tab=questionnaires&saved=score#questionnaires"
        return redirect(f"/clinic/patients/{patient_id}?{saved}")

    return await _clinic_form(request, patient_id, "score", act)
