"""Accounts, sessions, sharing and the audit trail of the web app.

Kept beside the diary tables in one metadata so Alembic migrates both. The audit
log deliberately has no foreign keys: it must outlive deleted accounts.
"""

from __future__ import annotations

import sqlalchemy as sa

from painlink.store.base import Base, metadata

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
    # TOTP second factor (RFC 6238): the shared secret (base32) once confirmed, and the
    # last accepted 30-second time step, so a code cannot be replayed.
    sa.Column("totp_secret", sa.String(64), nullable=True),
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),
    sa.Column("password_changed_at", sa.DateTime, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),  # absolute timeout
    sa.Column("last_seen_at", sa.DateTime, nullable=True),  # idle timeout
    # "full": signed in; "totp": password right, second factor still to give.
    sa.Column("stage", sa.String(10), nullable=False, server_default="full"),
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
    sa.Index("ix_login_attempts_ip_at", "ip", "at"),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),  # sha256: codes are 80 random bits
    sa.Column("used_at", sa.DateTime, nullable=True),
    sa.Index("ix_recovery_codes_user", "user_id"),
)

# Single-use links sent by e-mail or shown to an admin: password resets and
# registrations waiting for their e-mail to be confirmed. Only the SHA-256 of the
# token is kept; ``payload`` holds a pending registration (JSON) until it is confirmed.
auth_tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    sa.Column("payload", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
    sa.Column("created_by", sa.Integer, nullable=True),  # the admin, for admin resets
    sa.CheckConstraint(sa.column("purpose").in_(("reset", "register")), name="purpose_vocab"),
    sa.Index("ix_auth_tokens_user", "user_id"),
)

# Keys the server needs across workers and restarts (the pre-session CSRF signing key).
server_keys = sa.Table(
    "server_keys",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)


class User(Base):
    __table__ = users


class Session(Base):
    __table__ = sessions


class Grant(Base):
    __table__ = grants


class AuditEntry(Base):
    __table__ = audit_log


# Forms already sent (painlink.web.once): a token per rendered form, kept once its
# write commits, with what the first submit answered (a redirect's location, or the
# page it rendered) — a double tap or a resent form is answered the same, and
# writes nothing again. Kept for FORM_TOKEN_DAYS (painlink.web.once), per person.
form_tokens = sa.Table(
    "form_tokens",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=False),
    sa.Column("location", sa.String(2000), nullable=True),
    sa.Column("body", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("user_id", "token"),
)
