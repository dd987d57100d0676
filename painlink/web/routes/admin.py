"""The administrator's pages: the accounts and the audit trail, and a one-time
password reset link to hand to a person. An admin reads no health data."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from painlink.services import accounts
from painlink.services.admin import admin_overview
from painlink.web.deps import check_csrf, client_ip, get_conn, require_user, run_write
from painlink.web.responses import absolute_link, form_data, render
from painlink.web.security import TOKEN_MINUTES, audit, new_auth_token

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    user = require_user(request, conn, "admin")
    return render(request, "admin.html", user, **admin_overview(conn))


@router.post("/admin/reset")
async def admin_reset(request: Request) -> Response:
    """An admin makes a one-time reset link and hands it to the person (in person, by
    phone): for clinics without e-mail, and for someone who lost their second factor
    (the admin may remove it; the person sets up a new one)."""
    data = await form_data(request)

    def work(request: Request, conn: sa.Connection) -> Response:
        admin = require_user(request, conn, "admin")
        check_csrf(admin, data.get("csrf_token"))
        email = data.get("email", "").strip()
        row = accounts.find_user(conn, email) if email else None
        if row is None:
            return render(
                request,
                "admin.html",
                admin,
                status=400,
                errors={"reset": "No account has this e-mail."},
                values={"email": email},
                **admin_overview(conn),
            )
        token = new_auth_token(conn, "reset", row.id, created_by=admin.id)
        removed = data.get("remove_totp") == "yes" and row.totp_secret is not None
        if removed:
            accounts.remove_second_factor(conn, row.id)
        audit(
            conn,
            admin,
            "write",
            "password reset link",
            detail=f"user {row.id}" + ("; second factor removed" if removed else ""),
            ip=client_ip(request),
        )
        return render(
            request,
            "admin.html",
            admin,
            reset_link=absolute_link(request, f"/password/reset/{token}"),
            reset_for=row.email,
            token_minutes=TOKEN_MINUTES,
            **admin_overview(conn),
        )

    return await run_write(request, work)
