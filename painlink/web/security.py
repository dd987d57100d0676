"""Passwords, sessions, CSRF tokens, login throttling and the audit trail.

- Passwords: argon2id (argon2-cffi defaults, RFC 9106 parameters).
- Sessions: a random 256-bit token in a ``Secure; HttpOnly; SameSite=Strict`` cookie;
  only its SHA-256 is stored, so a stolen database does not yield live sessions.
  Sessions expire after 12 hours.
- CSRF: a per-session token, required in every form (hidden field) and every unsafe
  API call (``X-CSRF-Token`` header) — SameSite alone does not cover old browsers.
- Throttling: 5 failed logins for an address within 15 minutes lock it for the rest
  of the window (HTTP 429); every attempt is recorded.
- Audit: every read and write of health data, every login, export and deletion is a
  row in ``audit_log`` (who, role, what, whose, when, from where).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from painlink.store import audit as audit_chain
from painlink.store.account_tables import login_attempts, sessions, users

SESSION_COOKIE = "painlink_session"
SESSION_HOURS = 12
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD = 10

_hasher = PasswordHasher()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    display_name: str
    role: str
    patient_id: str | None
    csrf_token: str


def create_session(conn: sa.Connection, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        sessions.insert().values(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now(),
            expires_at=now() + dt.timedelta(hours=SESSION_HOURS),
        )
    )
    return token


def load_session(conn: sa.Connection, token: str | None) -> CurrentUser | None:
    if not token:
        return None
    row = conn.execute(
        sa.select(
            users.c.id,
            users.c.email,
            users.c.display_name,
            users.c.role,
            users.c.patient_id,
            sessions.c.csrf_token,
            sessions.c.expires_at,
        )
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == _digest(token))
    ).first()
    if row is None or row.expires_at < now():
        return None
    return CurrentUser(
        row.id, row.email, row.display_name, row.role, row.patient_id, row.csrf_token
    )


def end_session(conn: sa.Connection, token: str | None) -> None:
    if token:
        conn.execute(sessions.delete().where(sessions.c.token_hash == _digest(token)))


def csrf_ok(user: CurrentUser, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(user.csrf_token, supplied or "")


def locked_out(conn: sa.Connection, email: str, ip: str | None) -> bool:
    since = now() - FAILURE_WINDOW
    failures = conn.execute(
        sa.select(sa.func.count())
        .select_from(login_attempts)
        .where(
            login_attempts.c.at >= since,
            login_attempts.c.success.is_(False),
            sa.or_(login_attempts.c.email == email, login_attempts.c.ip == ip),
        )
    ).scalar_one()
    return failures >= MAX_FAILURES


def record_attempt(conn: sa.Connection, email: str, ip: str | None, success: bool) -> None:
    conn.execute(login_attempts.insert().values(email=email, ip=ip, at=now(), success=success))


def audit(
    conn: sa.Connection,
    user: CurrentUser | None,
    action: str,
    resource: str,
    patient_id: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> None:
    """Append one row to the hash-chained audit log (painlink/store/audit.py), in the
    caller's transaction: the row exists exactly when the audited change does."""
    audit_chain.record(
        conn,
        action,
        resource,
        patient_id,
        detail,
        user_id=user.id if user else None,
        role=user.role if user else None,
        ip=ip,
    )
