"""Correcting one's diary in the browser: the list of entries with Edit / Delete, one
generic edit form per kind of entry, delete, and "Deleted. Undo".

Only the patient corrects their own diary: every route takes the diary from the
session, and an entry of another diary is "no such entry" (404). The work is in
painlink/services/corrections.py, so the command line does the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from painlink.services import corrections
from painlink.services.diary import EntryError
from painlink.web import forms
from painlink.web.deps import (
    get_conn,
    own_diary_write,
    patient_access,
    record,
    require_user,
    run_write,
)
from painlink.web.once import once
from painlink.web.responses import form_data, redirect, render
from painlink.web.security import CurrentUser

router = APIRouter(include_in_schema=False)
PAGE = 20  # entries per page of the list

_INTENSITY = (("", "—"), ("0", "none"), ("1", "mild"), ("2", "moderate"), ("3", "severe"))
_SIDES = (("", "—"), ("left", "left"), ("right", "right"), ("bilateral", "both sides"))
_REGIONS = (
    ("upper_cervical", "Top of the neck, below the skull"),
    ("lower_cervical", "Lower neck"),
    ("cervical", "Neck"),
    ("thoracic", "Upper and middle back"),
    ("lumbar", "Low back"),
    ("sacral_pelvic", "Bottom of the spine, pelvis"),
)
_RELIEF = (("", "not noted"), ("none", "no relief"), ("partial", "some relief"),
           ("complete", "pain gone"))  # fmt: skip


#: the check-in's columns in the units they are stored in: an edit changes the stored
#: value, so it asks mg and units where the check-in asks cups and drinks
STORED_UNITS = {"sleep_hours": "hours", "caffeine_mg": "mg", "alcohol_units": "units",
                "exercise_min": "minutes"}  # fmt: skip


def _stored_field(f: forms.CheckinField) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    if f.kind == "chips":
        return (f.name, f.label, "select", (("", "—"), *f.options))
    unit = STORED_UNITS.get(f.name, "0–10" if f.kind == "slider" else "")
    return (f.name, f"{f.label} ({unit})" if unit else f.label, "number", ())


#: what the edit form asks, per kind: (field, label, input type, choices)
Field = tuple[str, str, str, tuple[tuple[str, str], ...]]
EDIT_FIELDS: dict[str, list[Field]] = {
    "attack": [
        ("start", "Started", "datetime-local", ()),
        ("end", "Ended (empty while it goes on)", "datetime-local", ()),
        ("intensity", "At its worst (in words)", "select", _INTENSITY),
        ("intensity_nrs", "At its worst (0–10)", "number", ()),
        ("notes", "Notes", "text", ()),
    ],
    "reading": [
        ("at", "When", "datetime-local", ()),
        ("intensity", "How bad", "select", _INTENSITY),
        ("intensity_nrs", "How bad (0–10)", "number", ()),
    ],
    "medication": [
        ("taken_at", "Taken at", "datetime-local", ()),
        ("drug", "Medicine", "text", ()),
        ("dose", "Dose", "number", ()),
        ("dose_unit", "Unit (mg, ml …)", "text", ()),
        ("relief_2h", "Two hours later", "select", _RELIEF),
    ],
    "spine": [
        ("start", "Started", "datetime-local", ()),
        ("end", "Ended", "datetime-local", ()),
        ("region", "Where", "select", _REGIONS),
        ("side", "Side", "select", (*_SIDES, ("central", "middle"))),
        ("nrs", "How strong (0–10)", "number", ()),
    ],
    "day": [
        *(_stored_field(f) for f in forms.CHECKIN_FIELDS),
        (
            "stoplight",
            "How was the day",
            "select",
            (("", "—"), *((v, label) for v, label, _ in forms.STOPLIGHT_CHOICES if v)),
        ),
    ],
    "factor": [("value", "Value", "number", ())],
}


def _form_value(value: Any, input_type: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _changes(kind: str, data: dict[str, str]) -> dict[str, Any]:
    """The posted fields of the form, typed: numbers by forms.parse_number, an empty
    field as "not recorded" (None)."""
    out: dict[str, Any] = {}
    for name, _label, input_type, _choices in EDIT_FIELDS[kind]:
        if name not in data:
            continue
        value = data[name].strip()
        out[name] = forms.parse_number(value) if input_type == "number" else (value or None)
    return out


def _entry_or_404(conn: sa.Connection, pid: str, kind: str, entry_id: str) -> dict[str, Any]:
    try:
        key = corrections.key_from_text(kind, entry_id)
        return corrections.get_entry(conn, pid, kind, key)
    except EntryError:
        raise HTTPException(status_code=404, detail="no such entry") from None


def _edit_page(
    request: Request,
    user: CurrentUser,
    kind: str,
    entry_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "entry_edit.html",
        user,
        status=status,
        kind=kind,
        label=corrections.KINDS[kind].label,
        entry_id=entry_id,
        fields=EDIT_FIELDS[kind],
        values=values,
        errors=errors,
    )


@router.get("/entries")
def entries_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    """Everything one has entered, newest first, each with Edit and Delete; after a
    delete, "Deleted. Undo" at the top."""
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "entries")
    undo = None
    deleted = request.query_params.get("deleted", "")
    if deleted.isdigit():
        try:
            found = corrections.get_correction(conn, pid, int(deleted))
        except EntryError:
            found = None
        if found is not None and corrections.can_undo(found):
            undo = {**found, "label": corrections.KINDS[found["kind"]].label}
    page = request.query_params.get("page", "0")
    page_no = min(int(page), 10_000) if page.isdigit() else 0
    items = corrections.entries(conn, pid, PAGE + 1, page_no * PAGE)
    more = len(items) > PAGE
    items = items[:PAGE]
    for item in items:
        item["entry_id"] = corrections.entry_key(corrections.KINDS[item["kind"]], item["key"])
    return render(
        request,
        "entries.html",
        user,
        items=items,
        undo=undo,
        restored=request.query_params.get("restored") == "1",
        page=page_no,
        more=more,
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/entries/{kind}/edit/{entry_id:path}")
def entry_edit_page(
    kind: str, entry_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "entry")
    if kind not in EDIT_FIELDS:
        raise HTTPException(status_code=404, detail="no such kind of entry")
    entry = _entry_or_404(conn, pid, kind, entry_id)
    values = {name: _form_value(entry.get(name), t) for name, _l, t, _c in EDIT_FIELDS[kind]}
    return _edit_page(request, user, kind, entry_id, values, {})


@router.post("/entries/{kind}/edit/{entry_id:path}")
async def entry_edit_save(kind: str, entry_id: str, request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "correction (edit)")

        def act() -> Response:
            if kind not in EDIT_FIELDS:
                raise HTTPException(status_code=404, detail="no such kind of entry")
            entry = _entry_or_404(conn, pid, kind, entry_id)
            try:
                corrections.edit_entry(conn, pid, kind, entry, _changes(kind, data))
            except EntryError as exc:
                return _edit_page(request, user, kind, entry_id, data, exc.fields, status=400)
            record(request, conn, user, "edit", f"{kind} {entry_id}", pid)
            return redirect("/entries?saved=1")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


@router.post("/entries/{kind}/delete/{entry_id:path}")
async def entry_delete(kind: str, entry_id: str, request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "correction (delete)")

        def act() -> Response:
            if kind not in EDIT_FIELDS:
                raise HTTPException(status_code=404, detail="no such kind of entry")
            try:
                entry = _entry_or_404(conn, pid, kind, entry_id)
            except HTTPException:
                # a second tap on Delete shows that delete again — for entries named by what
                # they are (an attack id, a day); a row id may be given again to a newer row
                # (SQLite reuses the largest), so it names no deleted entry for sure
                natural = "id" not in corrections.KINDS[kind].key
                done = corrections.last_delete(conn, pid, kind, entry_id) if natural else None
                if done is None:
                    raise
                return redirect(f"/entries?deleted={done['id']}")
            correction = corrections.delete_entry(conn, pid, kind, entry)
            record(request, conn, user, "delete", f"{kind} {entry_id}", pid)
            return redirect(f"/entries?deleted={correction}")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


@router.post("/entries/undo/{correction_id}")
async def entry_undo(correction_id: int, request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "correction (undo)")

        def act() -> Response:
            try:
                found = corrections.get_correction(conn, pid, correction_id)
            except EntryError:
                raise HTTPException(status_code=404, detail="nothing to undo") from None
            if found["undone_at"] is not None:  # a second tap on Undo: it is back already
                return redirect("/entries?restored=1")
            try:
                done = corrections.undo_delete(conn, pid, correction_id)
            except EntryError as exc:
                raise HTTPException(status_code=409, detail=exc.fields["undo"]) from None
            record(request, conn, user, "undo", f"{done['kind']} {done['entry_key']}", pid)
            return redirect("/entries?restored=1")

        return once(conn, user.id, data, act)

    return await run_write(request, work)
