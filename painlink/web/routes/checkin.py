"""The daily check-in: a day's questions the quick way (steppers, chips, sliders, a
stoplight), "same as yesterday", any past day, and the person's own factors (start,
stop, rename). Split from the diary router by job; one route per action.
"""

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from painlink.rules.checkin import checkin_day_problem
from painlink.services import diary as diary_service
from painlink.web import forms, presenters
from painlink.web.deps import (
    get_conn,
    own_diary_write,
    patient_access,
    require_user,
    run_write,
)
from painlink.web.once import once
from painlink.web.responses import form_data, redirect, render
from painlink.web.security import CurrentUser

router = APIRouter(include_in_schema=False)


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
    notice: str | None = None,
) -> Response:
    pid = user.patient_id or ""
    today = diary_service.local_now(conn, pid).date()
    yesterday = day - dt.timedelta(days=1)
    entries = diary_service.attacks_on(conn, pid, day)
    return render(
        request,
        "checkin.html",
        user,
        status=status,
        day=day,
        today=today,
        yesterday=yesterday,
        has_yesterday=diary_service.get_day(conn, pid, yesterday) is not None,
        next_day=day + dt.timedelta(days=1) if day < today else None,
        day_word={0: "Today", 1: "Yesterday"}.get((today - day).days),
        values=values,
        errors=errors,
        existing=existing,
        fields=forms.CHECKIN_FIELDS,
        stoplights=forms.STOPLIGHT_CHOICES,
        rated=forms.RATED,
        factors=diary_service.own_factors(conn, pid),
        prefix=forms.FACTOR_PREFIX,
        entries=entries,
        # a yellow or red day without a headache recorded counts as headache-free
        unrecorded=values.get("stoplight") in ("yellow", "red") and not entries,
        saved=saved,
        copied=request.query_params.get("copied") == "1",
        notice=notice,
    )


@router.get("/checkin")
def checkin_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    """Any day's check-in up to today (the calendar links every past day here); a day
    not yet begun is refused in plain words, with today's form below."""
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "check-in")
    today = diary_service.local_now(conn, pid).date()
    asked = request.query_params.get("date")
    day = forms.parse_date(asked) if asked else today
    notice = None
    if day is None:
        day, notice = today, "That is not a date this diary knows — here is today."
    elif problem := checkin_day_problem(day, diary_service.patient_zone(conn, pid)):
        day, notice = today, f"{problem} Here is today."
    saved = diary_service.get_day(conn, pid, day)
    # Nothing is carried over unasked: a value saved without being looked at would be
    # a fabricated day. "Same as yesterday" copies it in one tap instead.
    values = {
        **presenters.day_values(saved or {}),
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
        notice=notice,
    )


def _same_as_yesterday(
    conn: sa.Connection, pid: str, day: dt.date, data: dict[str, str]
) -> dict[str, str] | None:
    """The form's values with yesterday's check-in and own-factor answers in place of
    today's (the stoplight chosen now is kept: it is about this day), or None when
    nothing was saved for yesterday."""
    before = day - dt.timedelta(days=1)
    stored = diary_service.get_day(conn, pid, before)
    if stored is None:
        return None
    copied = {
        **{k: v for k, v in data.items() if not k.startswith(forms.FACTOR_PREFIX)},
        **presenters.day_values(stored),
        **presenters.factor_values(diary_service.day_factor_values(conn, pid, before)),
    }
    now = diary_service.get_day(conn, pid, day) or {}
    copied["stoplight"] = data.get("stoplight", now.get("stoplight") or "")
    return copied


@router.post("/checkin")
async def checkin_save(request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "check-in")
        return once(conn, user.id, data, lambda: _save_checkin(request, conn, user, pid, data))

    return await run_write(request, work)


def _save_checkin(
    request: Request, conn: sa.Connection, user: CurrentUser, pid: str, data: dict[str, str]
) -> Response:
    given = data.pop("date", None)
    today = diary_service.local_now(conn, pid).date()
    day = forms.parse_date(given) if given else today
    if day is None:  # never save a check-in under another day than the one sent
        errors = {"date": "That is not a date — pick the day on the calendar."}
        return _checkin_page(request, conn, user, today, data, errors, status=400)
    if problem := checkin_day_problem(day, diary_service.patient_zone(conn, pid)):
        return _checkin_page(request, conn, user, today, data, {"date": problem}, 400)
    copy = data.pop("same_as_yesterday", None) == "1"
    if copy:
        copied = _same_as_yesterday(conn, pid, day, data)
        if copied is None:
            before = (day - dt.timedelta(days=1)).strftime("%A %d %B")
            notice = (
                f"Nothing was saved for {before}, so there is nothing to copy. "
                "Nothing has been saved — fill in this day below."
            )
            return _checkin_page(request, conn, user, day, data, {}, notice=notice)
        data.update(copied)
    stored = diary_service.get_day(conn, pid, day) or {}
    asked = {f.name for f in forms.CHECKIN_FIELDS} | {"stoplight"}
    kept = {  # what this form does not ask (an import's sleep quality) stays as it was
        k: v for k, v in stored.items() if k not in asked and k not in ("patient_id", "date")
    }
    try:
        with conn.begin_nested():  # the day and its own factors are saved together or not
            diary_service.save_day(conn, pid, day, {**kept, **forms.day_fields(data)})
            try:
                diary_service.save_factor_values(conn, pid, day, forms.factor_fields(data))
            except diary_service.EntryError as exc:  # name the form's fields
                raise diary_service.EntryError(forms.factor_errors(exc.fields)) from None
    except diary_service.EntryError as exc:
        errors = forms.checkin_errors(exc.fields)
        return _checkin_page(request, conn, user, day, data, errors, status=400)
    return redirect(f"/checkin?date={day}&saved=1" + ("&copied=1" if copy else ""))


@router.post("/checkin/factors")
async def own_factor_post(request: Request) -> Response:
    """Start tracking an own factor, retire one (``retire=<name>``) or rename one
    (``rename=<name>``, ``new_name``)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "own factor")

        def act() -> Response:
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
                values = {
                    **presenters.day_values(diary_service.get_day(conn, pid, day) or {}),
                    **data,
                }
                return _checkin_page(request, conn, user, day, values, errors, status=400)
            return redirect(f"/checkin?date={day}&factor=added#factors")

        return once(conn, user.id, data, act)

    return await run_write(request, work)
