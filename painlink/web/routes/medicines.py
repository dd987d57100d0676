"""Medication pages beyond the attack form: the "did it help?" answer for one intake,
and preventive treatment (a page of its own, apart from attack intakes).

Intake and treatment ids are looked up in the session's own diary only: another
patient's id is "not found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from painlink.services import diary as diary_service
from painlink.services import medicines
from painlink.web.deps import get_conn, own_diary_write, patient_access, require_user, run_write
from painlink.web.once import once
from painlink.web.responses import form_data, redirect, render
from painlink.web.security import CurrentUser

router = APIRouter(include_in_schema=False)


@router.post("/medications/{medication_id}/relief")
async def medication_relief(medication_id: int, request: Request) -> Response:
    """The answer to "did it help?" two hours after an intake (relief at 2 h)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, f"medication {medication_id} relief")

        def act() -> Response:
            try:
                attack_id = medicines.record_relief(
                    conn, pid, medication_id, data.get("relief_2h", "")
                )
            except LookupError:
                raise HTTPException(status_code=404, detail="no such intake") from None
            except diary_service.EntryError as exc:
                raise HTTPException(status_code=400, detail=exc.fields["relief_2h"]) from None
            if data.get("back") == "home" or attack_id is None:
                return redirect("/home?relief=1")
            return redirect(f"/attacks/{attack_id}?relief=1#meds")

        return once(conn, user.id, data, act)

    response: Response = await run_write(request, work)
    return response


def _preventives_page(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    status: int = 200,
    **extra: Any,
) -> Response:
    pid = user.patient_id or ""
    return render(
        request,
        "preventives.html",
        user,
        status=status,
        treatments=medicines.preventives(conn, pid),
        drug_names=medicines.drug_choices(preventive=True),
        today=diary_service.local_now(conn, pid).date(),
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        **extra,
    )


@router.get("/preventives")
def preventives_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    patient_access(request, conn, user, user.patient_id or "", "read", "own preventives")
    return _preventives_page(request, conn, user)


@router.post("/preventives")
async def preventive_start(request: Request) -> Response:
    """A preventive begun (today, or on the date given)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "preventive")

        def act() -> Response:
            try:
                medicines.start_preventive(
                    conn, pid, data.get("drug", ""), data.get("start") or None
                )
            except diary_service.EntryError as exc:
                errors = {("drug" if k == "name" else k): v for k, v in exc.fields.items()}
                return _preventives_page(request, conn, user, 400, errors=errors, values=data)
            return redirect("/preventives?saved=1")

        return once(conn, user.id, data, act)

    response: Response = await run_write(request, work)
    return response


@router.post("/preventives/{treatment_id}/stop")
async def preventive_stop(treatment_id: int, request: Request) -> Response:
    """The preventive was stopped today."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, f"preventive {treatment_id} stop")

        def act() -> Response:
            try:
                medicines.stop_preventive(conn, pid, treatment_id)
            except LookupError:
                raise HTTPException(status_code=404, detail="no such treatment") from None
            return redirect("/preventives?stopped=1")

        return once(conn, user.id, data, act)

    response: Response = await run_write(request, work)
    return response
