"""Accounts, sessions, sharing and the audit trail of the web app.

Kept beside the diary tables in one metadata so Alembic migrates both. The audit
log deliberately has no foreign keys: it must outlive deleted accounts.
"""

from __future__ import annotations

import sqlalchemy as sa

from painlink.store.tables import Base, metadata

ROLES = ("patient", "clinician", "admin")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column(
        "patient_id",
        sa.String(64),
        sa.ForeignKey("patients.patient_id", ondelete="CASCADE"),
        nullable=True,
        unique=True,
    ),
    sa.Column(
        "created_at", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()
    ),
    sa.CheckConstraint(sa.column("role").in_(ROLES), name="role_vocab"),
    sa.CheckConstraint(
        sa.or_(sa.column("role") != "patient", sa.column("patient_id").is_not(None)),
        name="patient_has_diary",
    ),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index("ix_sessions_user", "user_id"),
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "patient_id",
        sa.String(64),
        sa.ForeignKey("patients.patient_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "clinician_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("granted_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Index("ix_grants_patient", "patient_id"),
    sa.Index("ix_grants_clinician", "clinician_id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("role", sa.String(20), nullable=True),
    sa.Column("action", sa.String(20), nullable=False),  # read / write / delete / export / login …
    sa.Column("patient_id", sa.String(64), nullable=True),
    sa.Column("resource", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("ip", sa.String(64), nullable=True),
    # the hash chain (painlink/store/audit.py): gapless sequence, previous and own hash
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("hash_kind", sa.String(16), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_patient_at", "patient_id", "at"),
)

#: one row (id 1): the newest (seq, hash) of the audit chain, locked while appending
audit_chain_head = sa.Table(
    "audit_chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.CheckConstraint(sa.column("id") == 1, name="single_row"),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Index("ix_login_attempts_email_at", "email", "at"),
)


class User(Base):
    __table__ = users


class Session(Base):
    __table__ = sessions


class Grant(Base):
    __table__ = grants


class AuditEntry(Base):
    __table__ = audit_log
