"""The JSON API for correcting a diary: edit or delete any entry, undo a delete, and
the list of corrections a clinician sees (painlink/services/corrections.py).

An entry is named in the address by its kind and key: ``attack/<attack id>``,
``reading/<id>``, ``medication/<id>``, ``spine/<id>``, ``day/<date>`` and
``factor/<date>/<name>``. Only the patient edits their diary; a clinician with access
reads the corrections. Another person's entry is "no such entry" (404), like their diary.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Request

from painlink.services import corrections
from painlink.services.diary import EntryError
from painlink.web.deps import get_conn, patient_access, record, require_user, run_write
from painlink.web.routes.api import _entry, _unsafe, gate

router = APIRouter(prefix="/api", tags=["api"])


def _key(kind: str, entry_id: str) -> dict[str, Any]:
    try:
        return corrections.key_from_text(kind, entry_id)
    except EntryError as exc:
        raise HTTPException(status_code=404, detail=exc.fields) from None


async def _correct(
    request: Request,
    patient_id: str,
    token: str | None,
    action: str,
    write: Any,
) -> Any:
    """The patient's correction of their own diary, in one write transaction: CSRF, the
    access check (its "write" audit row), ``write(conn)`` → (answer, entry name), then
    one audit row naming the action and the entry — no health content."""

    def work(request: Request, conn: sa.Connection) -> Any:
        user = _unsafe(request, conn, token, "patient")
        patient_access(request, conn, user, patient_id, "write", f"correction ({action})")
        answer, entry = _entry(write, conn)
        record(request, conn, user, action, entry, patient_id)
        return answer

    return await run_write(request, work)


def _found(fn: Any, *args: Any) -> Any:
    """A missing entry (or one of another diary) is 404, not a field error."""
    try:
        return fn(*args)
    except EntryError as exc:
        if any(v in ("no such entry", "nothing to undo") for v in exc.fields.values()):
            raise HTTPException(status_code=404, detail=exc.fields) from None
        raise


@router.patch("/patients/{patient_id}/entries/{kind}/{entry_id:path}", dependencies=gate("patient"))
async def edit_entry(
    patient_id: str,
    kind: str,
    entry_id: str,
    body: dict[str, Any],
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    """Correct some fields of one entry; the entry is validated again as a whole."""
    key = _key(kind, entry_id)

    def write(conn: sa.Connection) -> tuple[dict[str, Any], str]:
        changed = _found(corrections.edit_entry, conn, patient_id, kind, key, body)
        return {k: v for k, v in changed.items() if k != "patient_id"}, f"{kind} {entry_id}"

    return await _correct(request, patient_id, x_csrf_token, "edit", write)


@router.delete(
    "/patients/{patient_id}/entries/{kind}/{entry_id:path}", dependencies=gate("patient")
)
async def delete_entry(
    patient_id: str,
    kind: str,
    entry_id: str,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    """Delete one entry (an attack with its ratings and medications); the answer's
    ``correction_id`` undoes it within the undo window."""
    key = _key(kind, entry_id)

    def write(conn: sa.Connection) -> tuple[dict[str, Any], str]:
        correction = _found(corrections.delete_entry, conn, patient_id, kind, key)
        return {"status": "deleted", "correction_id": correction}, f"{kind} {entry_id}"

    return await _correct(request, patient_id, x_csrf_token, "delete", write)


@router.post(
    "/patients/{patient_id}/corrections/{correction_id}/undo", dependencies=gate("patient")
)
async def undo_delete(
    patient_id: str,
    correction_id: int,
    request: Request,
    x_csrf_token: str | None = Header(default=None),
) -> dict[str, Any]:
    """Put a deleted entry back, as it was."""

    def write(conn: sa.Connection) -> tuple[dict[str, Any], str]:
        done = _found(corrections.undo_delete, conn, patient_id, correction_id)
        entry = f"{done['kind']} {done['entry_key']}"
        return {"status": "restored", "kind": done["kind"], "entry": done["entry_key"]}, entry

    return await _correct(request, patient_id, x_csrf_token, "undo", write)


@router.get("/patients/{patient_id}/corrections")
def list_corrections(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    """Which entries were edited or deleted, and when (UTC) — not what they said."""
    user = require_user(request, conn)
    patient_access(request, conn, user, patient_id, "read", "corrections")
    return corrections.corrections(conn, patient_id)
