"""A person's own account: whom they share their diary with, bringing a diary in from
another app, taking it out (CSV zip or FHIR), deleting it, the second factor and
the password.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import segno
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from painlink.diary.errors import DiaryFormatError
from painlink.interop.apps import SOURCES
from painlink.services import accounts, attacks, corrections
from painlink.services import diary as diary_service
from painlink.services.export import export_zip
from painlink.services.importing import into_diary, read_source
from painlink.services.reading import read
from painlink.store.merge import MergeError
from painlink.web import forms
from painlink.web.deps import (
    auth_settings,
    check_csrf,
    client_ip,
    get_conn,
    needs_second_factor_setup,
    own_diary_write,
    patient_access,
    require_user,
    run_write,
)
from painlink.web.once import once
from painlink.web.responses import form_data, redirect, render, set_session
from painlink.web.security import (
    SESSION_COOKIE,
    CurrentUser,
    audit,
    create_session,
    end_session,
    end_user_sessions,
    hash_password,
    load_session,
    new_recovery_codes,
    new_totp_secret,
    password_problem,
    record_attempt,
    retry_after,
    totp_secret_ok,
    totp_step,
    totp_uri,
    verify_password,
)

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ sharing


@router.get("/sharing")
def sharing_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "sharing")
    return render(
        request,
        "sharing.html",
        user,
        grants=accounts.active_grants(conn, pid),
        errors={},
        time_zone=accounts.time_zone_of(conn, pid),
    )


@router.post("/sharing")
async def sharing_post(request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "sharing")

        def act() -> Response:
            try:
                if data.get("revoke"):
                    revoke = forms.parse_id(data["revoke"])
                    if revoke is None:  # not a clinician's number: nobody to stop sharing with
                        raise accounts.AccountError({"revoke": "choose whom to stop sharing with"})
                    accounts.revoke(conn, pid, revoke)
                else:
                    accounts.grant(conn, pid, data.get("clinician_email", ""))
            except accounts.AccountError as exc:
                return render(
                    request,
                    "sharing.html",
                    user,
                    status=400,
                    grants=accounts.active_grants(conn, pid),
                    time_zone=accounts.time_zone_of(conn, pid),
                    errors=exc.fields,
                    values=data,
                )
            return redirect("/sharing")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


# ------------------------------------------------------------------ the diary in and out


@router.get("/account")
def account_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    zone = accounts.time_zone_of(conn, user.patient_id) if user.patient_id else None
    return render(request, "account.html", user, sources=SOURCES, time_zone=zone)


@router.post("/account/time-zone")
async def time_zone_post(request: Request) -> Response:
    """A person who travels or moves sets their zone. Audited (old → new). Finished
    entries keep the wall-clock time they were recorded in (services/accounts.py::
    set_time_zone says why); an attack still going on moves to the new clock
    (services/attacks.py::change_time_zone)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user, pid = own_diary_write(request, conn, data, "time zone")

        def act() -> Response:
            try:
                old, new, moved = attacks.change_time_zone(conn, pid, data.get("time_zone", ""))
            except accounts.AccountError as exc:
                return render(
                    request,
                    "account.html",
                    user,
                    status=400,
                    sources=SOURCES,
                    time_zone=accounts.time_zone_of(conn, pid),
                    errors=exc.fields,
                    values=data,
                )
            moved_note = "; the open attack moved to the new clock" if moved else ""
            audit(conn, user, "time_zone", "account", pid, detail=f"{old} -> {new}{moved_note}")
            return redirect("/account?zone=1" + ("&moved=1" if moved else "") + "#zone")

        return once(conn, user.id, data, act)

    return await run_write(request, work)


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
        return render(
            request, "account.html", user, status=400, sources=SOURCES,
            errors={"import": message}, values={"source": source},
        )  # fmt: skip

    if source not in SOURCES:
        return refuse("choose the app the file comes from")
    if not isinstance(upload, UploadFile):
        return refuse("choose the exported file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export"
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    return refuse("the file is larger than 1 GB")
                out.write(chunk)
        try:
            diary, skipped = await run_in_threadpool(
                read_source, path, source, user.patient_id or "", zone
            )
        except DiaryFormatError as exc:
            first = exc.problems[0]
            more = len(exc.problems) - 1
            shown = "" if first.value is None else f" (value {first.value[:80]!r})"
            place = first.place.replace(first.file, upload.filename or first.file, 1)
            return refuse(
                f"nothing was imported: {place}: {first.reason}{shown}"
                + (f", and {more} more problem(s)" if more else "")
            )
        except ValueError as exc:  # a value the diary cannot hold (pydantic)
            return refuse(f"nothing was imported: {exc}")

    def work(request: Request, conn: sa.Connection) -> Response:
        own_diary_write(request, conn, {"csrf_token": token}, f"import from {source}")
        try:
            result = into_diary(conn, diary, merge_into=user.patient_id or "", not_imported=skipped)
        except MergeError as exc:  # a conflict, or a value a check-in would refuse
            raise _Refused(f"nothing was imported: {exc}") from None
        return render(
            request, "account.html", user, sources=SOURCES,
            imported=result.merged, skipped=result.not_imported,
        )  # fmt: skip

    try:
        return await run_write(request, work)
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
        export_zip(conn, pid),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="painlink-{pid}.zip"'},
    )


@router.get("/account/export.fhir.json")
def account_export_fhir(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    from painlink.interop.fhir_export import diary_bundle

    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "export", "whole diary (FHIR R4)")
    bundle = diary_bundle(read(conn, pid), pid, corrections.corrected_entries(conn, pid))
    return Response(
        json.dumps(bundle, ensure_ascii=False),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="painlink-{pid}.fhir.json"'},
    )


@router.post("/account/delete")
async def account_delete(request: Request) -> Response:
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn)
        check_csrf(user, data.get("csrf_token"))
        if data.get("confirm") != "DELETE":
            return render(
                request,
                "account.html",
                user,
                status=400,
                sources=SOURCES,
                errors={"confirm": "type DELETE to confirm"},
            )
        audit(conn, user, "delete", "account and diary", user.patient_id, ip=client_ip(request))
        accounts.delete_account(conn, user)
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    response = await run_write(request, work)
    if response.status_code == 303:  # deleted: leave no copy in the database files
        await run_in_threadpool(request.app.state.store.scrub)
    return response


# ------------------------------------------------------------------ second factor set-up


def _qr_svg(uri: str) -> str:
    """The QR code drawn here as inline SVG: no image service sees the secret."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def _twofa_page(request: Request, user: CurrentUser, status: int = 200, **ctx: Any) -> Response:
    secret = ctx.pop("secret", None) or new_totp_secret()
    return render(
        request,
        "twofa.html",
        user,
        status=status,
        secret=secret,
        qr=_qr_svg(totp_uri(secret, user.email)),
        required=needs_second_factor_setup(request, user),
        errors=ctx.pop("errors", {}),
        **ctx,
    )


@router.get("/account/2fa")
def twofa_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    return _twofa_page(request, user)


@router.post("/account/2fa")
async def twofa_post(request: Request) -> Response:
    """Turn on (secret + a code proving the app has it), or off (needs the password;
    refused for staff where the server requires a second factor)."""
    data = await form_data(request)
    action = data.get("action", "")
    if action == "disable":
        return await _twofa_disable(request, data)
    settings = auth_settings(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        user = require_user(request, conn)
        check_csrf(user, data.get("csrf_token"))
        if user.has_totp:
            return redirect("/account/2fa")
        secret = data.get("secret", "")
        if len(secret) > 64 or not secret.isalnum() or not totp_secret_ok(secret):
            return _twofa_page(request, user, 400, errors={"code": "start again: reload"})
        step = totp_step(secret, data.get("code", ""), None)
        if step is None:
            return _twofa_page(
                request,
                user,
                400,
                secret=secret,
                errors={"code": "That code is not right. Type the 6 digits the app shows now."},
            )
        accounts.set_second_factor(conn, user.id, secret, step)
        codes = new_recovery_codes(conn, user.id)
        audit(conn, user, "write", "second factor on", ip=client_ip(request))
        # a privilege change: a new session token
        end_session(conn, request.cookies.get(SESSION_COOKIE))
        token = create_session(conn, user.id, "full", settings)
        new_user = load_session(conn, token, settings) or user
        response = render(request, "twofa.html", new_user, codes=codes, enabled=True, errors={})
        set_session(request, response, token)
        return response

    return await run_write(request, work)


async def _twofa_disable(request: Request, data: dict[str, str]) -> Response:
    def who() -> tuple[CurrentUser, str]:
        with request.app.state.store.engine.connect() as conn:
            user = require_user(request, conn)
            check_csrf(user, data.get("csrf_token"))
            stored = accounts.password_hash_of(conn, user.id)
            return user, stored

    user, stored = await run_in_threadpool(who)
    if user.role != "patient" and auth_settings(request).require_totp_for_staff:
        return _twofa_page(
            request,
            user,
            400,
            errors={"disable": "This clinic requires a second factor for staff accounts."},
        )
    ok = await run_in_threadpool(verify_password, stored, data.get("password", ""))
    if not ok:
        return _twofa_page(request, user, 400, errors={"disable": "That password is not right."})

    def work(request: Request, conn: sa.Connection) -> Response:
        accounts.remove_second_factor(conn, user.id)
        audit(conn, user, "write", "second factor off", ip=client_ip(request))
        return redirect("/account/2fa")

    return await run_write(request, work)


# ------------------------------------------------------------------ password change


@router.get("/account/password")
def password_page(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn)
    return render(request, "password.html", user, errors={})


@router.post("/account/password")
async def password_post(request: Request) -> Response:
    """Needs the current password (guesses count towards the login back-off); ends
    every session of the person, this one included, and starts a new one here."""
    data = await form_data(request)
    settings = auth_settings(request)
    ip = client_ip(request)

    def who() -> tuple[CurrentUser, str, int]:
        with request.app.state.store.engine.connect() as conn:
            user = require_user(request, conn)
            check_csrf(user, data.get("csrf_token"))
            stored = accounts.password_hash_of(conn, user.id)
            return user, stored, retry_after(conn, user.email, ip, True)

    user, stored, wait = await run_in_threadpool(who)
    if wait:
        return render(
            request,
            "password.html",
            user,
            status=429,
            errors={"current": f"Too many wrong attempts. Wait {wait} seconds."},
        )
    new = data.get("new_password", "")
    errors: dict[str, str] = {}
    if not await run_in_threadpool(verify_password, stored, data.get("current_password", "")):
        errors["current"] = "That is not your current password."
    elif problem := password_problem(new, user.email, user.display_name):
        errors["new"] = problem
    elif new != data.get("new_password_again", ""):
        errors["again"] = "The two new passwords are not the same."
    if errors:
        if "current" in errors:

            def fail(request: Request, conn: sa.Connection) -> None:
                record_attempt(conn, user.email, ip, False)

            await run_write(request, fail)
        return render(request, "password.html", user, status=400, errors=errors)
    hashed = await run_in_threadpool(hash_password, new)

    def work(request: Request, conn: sa.Connection) -> Response:
        accounts.set_password(conn, user.id, hashed)
        ended = end_user_sessions(conn, user.id)
        token = create_session(conn, user.id, "full", settings)
        audit(
            conn,
            user,
            "write",
            "password changed",
            detail=f"{ended - 1} other session(s) ended",
            ip=ip,
        )
        response = render(request, "password.html", user, errors={}, changed=True)
        set_session(request, response, token)
        return response

    return await run_write(request, work)
