"""Accounts and who may see whose diary.

A patient account owns one diary; a clinician sees a diary only while its owner
grants access (and stops the moment it is revoked); an admin manages accounts and
reads the audit trail but no health data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from painlink.diary.plain_errors import plain_message
from painlink.diary.shown_text import name_problem
from painlink.rules.plausibility import EARLIEST_BIRTH_YEAR, birth_year_problem
from painlink.services.passwords import hash_password, password_problem
from painlink.services.time_zones import resolve_zone, zone_problem
from painlink.store.account_tables import grants, recovery_codes, users
from painlink.store.tables import patients


class Person(Protocol):
    """Who asks: the web app's signed-in user, or anything else with an account id,
    a role and (for a patient) a diary. A protocol, so the rules of who sees whose
    diary do not depend on how the web app keeps its sessions."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def patient_id(self) -> str | None: ...


def now() -> dt.datetime:
    """UTC without a zone, as every account table stores its times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class AccountError(ValueError):
    """Bad account input; ``fields`` maps a form field to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


class Registration(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: str = Field(min_length=1, max_length=200)
    password: str = ""  # judged by security.password_problem, with the e-mail and name
    birth_year: int | None = Field(default=None, ge=EARLIEST_BIRTH_YEAR)
    sex: str = Field(default="unknown", pattern="^(female|male|other|unknown)$")
    time_zone: str = "UTC"

    @field_validator("display_name")
    @classmethod
    def _shows(cls, value: str) -> str:
        """A name the clinician can read: not a zero-width space, no terminal escape."""
        if problem := name_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("birth_year")
    @classmethod
    def _born(cls, value: int | None) -> int | None:
        if value is not None and (problem := birth_year_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        """A city is enough ("Berlin" → Europe/Berlin); otherwise names to choose from."""
        if problem := zone_problem(value):
            raise ValueError(problem)
        return resolve_zone(value)


def field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "form"
        message = plain_message(e)
        if e["type"] == "string_pattern_mismatch" and name == "email":
            message = "this does not look like an email address"
        out.setdefault(name, message)
    return out


def _email_taken(conn: sa.Connection, email: str) -> bool:
    return (
        conn.execute(sa.select(users.c.id).where(users.c.email == email.lower())).first()
        is not None
    )


def validate_registration(data: dict[str, object]) -> Registration:
    """Every field checked, the password against the person's own e-mail and name too;
    all problems at once."""
    errors: dict[str, str] = {}
    reg = None
    try:
        reg = Registration.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
    email = str(data.get("email") or "").strip()
    name = str(data.get("display_name") or "").strip()
    if problem := password_problem(str(data.get("password") or ""), email, name):
        errors["password"] = problem
    if errors or reg is None:
        raise AccountError(errors)
    return reg


EMAIL_TAKEN = "an account with this email exists; log in instead"


def register_patient(
    conn: sa.Connection, data: dict[str, object], password_hash: str | None = None
) -> int:
    """Create a patient and their diary. ``password_hash`` may be computed beforehand,
    outside the write transaction (argon2 is deliberately slow)."""
    reg = validate_registration(data)
    if _email_taken(conn, reg.email):
        raise AccountError({"email": EMAIL_TAKEN})
    # the password as typed: the model strips whitespace, and a login compares it unstripped
    raw = str(data.get("password") or "")
    return insert_patient(conn, reg, password_hash or hash_password(raw))


def insert_patient(conn: sa.Connection, reg: Registration, password_hash: str) -> int:
    """The account and its empty diary, for an already validated registration."""
    patient_id = "P" + secrets.token_hex(6)
    conn.execute(
        patients.insert().values(
            patient_id=patient_id,
            display_name=reg.display_name,
            birth_year=reg.birth_year,
            sex=reg.sex,
            time_zone=reg.time_zone,
        )
    )
    return _new_id(
        conn.execute(
            users.insert().values(
                email=reg.email.lower(),
                display_name=reg.display_name,
                role="patient",
                password_hash=password_hash,
                patient_id=patient_id,
            )
        )
    )


def _new_id(result: sa.CursorResult[Any]) -> int:
    """The id the database gave the account just inserted."""
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])


def create_staff(conn: sa.Connection, email: str, name: str, password: str, role: str) -> int:
    if role not in ("clinician", "admin"):
        raise AccountError({"role": "staff accounts are clinician or admin"})
    if problem := password_problem(password, email, name):
        raise AccountError({"password": problem})
    if _email_taken(conn, email):
        raise AccountError({"email": "an account with this email exists"})
    return _new_id(
        conn.execute(
            users.insert().values(
                email=email.lower(),
                display_name=name,
                role=role,
                password_hash=hash_password(password),
            )
        )
    )


def find_user(conn: sa.Connection, email: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(users).where(users.c.email == email.strip().lower())).first()


def can_access(conn: sa.Connection, user: Person, patient_id: str) -> bool:
    if user.role == "patient":
        return user.patient_id == patient_id
    if user.role == "clinician":
        return (
            conn.execute(
                sa.select(grants.c.id).where(
                    grants.c.patient_id == patient_id,
                    grants.c.clinician_id == user.id,
                    grants.c.revoked_at.is_(None),
                )
            ).first()
            is not None
        )
    return False


def grant(conn: sa.Connection, patient_id: str, clinician_email: str) -> None:
    row = find_user(conn, clinician_email)
    if row is None or row.role != "clinician":
        raise AccountError({"clinician_email": "no clinician has an account with this email"})
    active = conn.execute(
        sa.select(grants.c.id).where(
            grants.c.patient_id == patient_id,
            grants.c.clinician_id == row.id,
            grants.c.revoked_at.is_(None),
        )
    ).first()
    if active is None:
        conn.execute(
            grants.insert().values(patient_id=patient_id, clinician_id=row.id, granted_at=now())
        )


def revoke(conn: sa.Connection, patient_id: str, clinician_id: int) -> bool:
    result = conn.execute(
        grants.update()
        .where(
            grants.c.patient_id == patient_id,
            grants.c.clinician_id == clinician_id,
            grants.c.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    )
    return result.rowcount > 0


def active_grants(conn: sa.Connection, patient_id: str) -> list[sa.Row[Any]]:
    return list(
        conn.execute(
            sa.select(users.c.id, users.c.display_name, users.c.email, grants.c.granted_at)
            .join(grants, grants.c.clinician_id == users.c.id)
            .where(grants.c.patient_id == patient_id, grants.c.revoked_at.is_(None))
            .order_by(grants.c.granted_at)
        )
    )


def consented_patients(conn: sa.Connection, clinician_id: int) -> list[str]:
    return list(
        conn.execute(
            sa.select(grants.c.patient_id)
            .where(grants.c.clinician_id == clinician_id, grants.c.revoked_at.is_(None))
            .order_by(grants.c.patient_id)
        ).scalars()
    )


def delete_account(conn: sa.Connection, user: Person) -> None:
    """Delete the account and, for a patient, the whole diary, with every row that names
    the person (painlink.store.diary_io.delete_patients). The caller scrubs the database
    files after the commit (Store.scrub)."""
    from painlink.store.diary_io import delete_patients, erase_accounts

    if user.patient_id:
        delete_patients(conn, [user.patient_id])
    erase_accounts(conn, [user.id])


# ------------------------------------------------------------------ password and second factor


def password_hash_of(conn: sa.Connection, user_id: int) -> str:
    """The stored argon2 hash, to verify a password given to change a setting."""
    stored: str = conn.execute(
        sa.select(users.c.password_hash).where(users.c.id == user_id)
    ).scalar_one()
    return stored


def set_password(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    """A new password (already hashed, outside the write); the caller ends the sessions."""
    conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now())
    )


def set_second_factor(conn: sa.Connection, user_id: int, secret: str, step: int) -> None:
    """Turn on TOTP with ``secret``; ``step`` is the code just given, which cannot be
    used again."""
    conn.execute(
        users.update().where(users.c.id == user_id).values(totp_secret=secret, totp_last_step=step)
    )


def remove_second_factor(conn: sa.Connection, user_id: int) -> None:
    """Turn TOTP off and drop the unused recovery codes (by the person, or by an admin
    for someone who lost their phone)."""
    conn.execute(
        users.update().where(users.c.id == user_id).values(totp_secret=None, totp_last_step=None)
    )
    conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))


def time_zone_of(conn: sa.Connection, patient_id: str) -> str:
    zone = conn.execute(
        sa.select(patients.c.time_zone).where(patients.c.patient_id == patient_id)
    ).scalar()
    return str(zone or "UTC")


def set_time_zone(conn: sa.Connection, patient_id: str, typed: str) -> tuple[str, str]:
    """A person who travels (or moves) sets their zone; returns (old, new) for the audit.

    Why no diary row changes: entries keep the wall-clock time they were recorded in
    (a migraine at 07:00 in Tokyo stays a morning attack on that Tokyo day, and the
    ICHD-3 day counts do not shift under it). The new zone decides only what "now"
    and "today" are from here on, and how times given with an offset are read."""
    if problem := zone_problem(typed):
        raise AccountError({"time_zone": problem})
    old, new = time_zone_of(conn, patient_id), resolve_zone(typed)
    conn.execute(patients.update().where(patients.c.patient_id == patient_id).values(time_zone=new))
    return old, new
