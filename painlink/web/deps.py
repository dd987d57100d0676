"""Request plumbing shared by pages and API: the database connection, the signed-in
user, CSRF checks and access to a patient's diary (checked and audited every time)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from fastapi import HTTPException, Request

from painlink.web.accounts import can_access
from painlink.web.security import SESSION_COOKIE, CurrentUser, audit, csrf_ok, load_session


class LoginRequired(Exception):
    """Raised when no valid session exists; pages redirect, the API answers 401."""


def get_conn(request: Request) -> Iterator[sa.Connection]:
    engine: sa.Engine = request.app.state.store.engine
    with engine.begin() as conn:
        yield conn


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_user(request: Request, conn: sa.Connection) -> CurrentUser | None:
    return load_session(conn, request.cookies.get(SESSION_COOKIE))


def require_user(request: Request, conn: sa.Connection, *roles: str) -> CurrentUser:
    user = optional_user(request, conn)
    if user is None:
        raise LoginRequired()
    if roles and user.role not in roles:
        raise HTTPException(status_code=403, detail=f"this needs a {' or '.join(roles)} account")
    return user


def check_csrf(user: CurrentUser, supplied: str | None) -> None:
    if not csrf_ok(user, supplied):
        raise HTTPException(
            status_code=403, detail="the form expired or did not come from painlink; reload"
        )


def patient_access(
    request: Request,
    conn: sa.Connection,
    user: CurrentUser,
    patient_id: str,
    action: str,
    resource: str,
) -> None:
    """Allow or refuse, and write the audit row either way."""
    allowed = can_access(conn, user, patient_id)
    if allowed:
        audit(conn, user, action, resource, patient_id, ip=client_ip(request))
    else:
        # its own transaction: the request's is rolled back by the error below
        with request.app.state.store.engine.begin() as own:
            audit(own, user, "denied", resource, patient_id, ip=client_ip(request))
        # 404, not 403: do not reveal that another person's diary exists
        raise HTTPException(status_code=404, detail="no such patient, or no access to it")
