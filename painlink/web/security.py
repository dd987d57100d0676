"""Passwords, sessions, CSRF tokens, login back-off, second factor and the audit trail.

The numbers below are security settings, not clinical thresholds, so they live here,
each with the OWASP ASVS 4.0.3 requirement it answers.

- Passwords: argon2id (argon2-cffi defaults, RFC 9106 parameters). At least 12
  characters, up to 128, no composition rules; zxcvbn (which ships common-password,
  name and word dictionaries) must score it 3 or more with the person's own e-mail and
  name as extra dictionary words, so ``password1234`` or one's e-mail is refused.
- Sessions: a random 256-bit token in a ``Secure; HttpOnly; SameSite=Strict`` cookie;
  only its SHA-256 is stored, so a stolen database does not yield live sessions. Each
  session ends after an absolute 12 hours and after an idle period (30 minutes for
  staff); expired rows are purged at every login. A new token is issued at login and
  at every privilege change (second factor given, password changed).
- CSRF: a per-session token in every form and unsafe API call (``X-CSRF-Token``);
  before a session exists (login, register, password reset) a signed double-submit
  cookie: the cookie holds ``random.HMAC(server key, random)`` and the form echoes it.
- Login back-off instead of a lock: per (account, address) pair, per address, and per
  account only for browsers that never signed in to it (OWASP "device cookies"), so a
  stranger hammering someone's account cannot keep its owner out.
- Audit: every read and write of health data, every login, export and deletion is a
  row in ``audit_log`` (who, role, what, whose, when, from where).
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import math
import os
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
import sqlalchemy as sa

from painlink.services.accounts import now as now
from painlink.services.passwords import (
    DUMMY_HASH as DUMMY_HASH,
)
from painlink.services.passwords import (
    MAX_PASSWORD as MAX_PASSWORD,
)
from painlink.services.passwords import (
    MIN_PASSWORD as MIN_PASSWORD,
)
from painlink.services.passwords import (
    hash_password as hash_password,
)
from painlink.services.passwords import (
    password_problem as password_problem,
)
from painlink.services.passwords import (
    verify_password as verify_password,
)
from painlink.store import audit as audit_chain
from painlink.store.account_tables import (
    auth_tokens,
    login_attempts,
    recovery_codes,
    server_keys,
    sessions,
    users,
)

SESSION_COOKIE = "painlink_session"
PRESESSION_COOKIE = "painlink_presession"
DEVICE_COOKIE = "painlink_device"

# ASVS 3.3.2 (Level 2): re-authentication after 12 hours or 30 minutes idle.
SESSION_HOURS = 12
IDLE_MINUTES_STAFF = 30
# A patient's own diary on their own phone: an attack is rated again hours after it
# began, so the idle limit is longer; configurable (PAINLINK_IDLE_MINUTES_PATIENT).
IDLE_MINUTES_PATIENT = 120
# A session's last-seen time is written at most this often (a write per request would
# queue every page behind the single SQLite writer).
TOUCH_EVERY = dt.timedelta(seconds=60)
# Time to give the second factor after a correct password.
TOTP_STAGE_MINUTES = 5

# ASVS 2.5.x / 2.3.1: single-use reset and registration links, 30 minutes.
TOKEN_MINUTES = 30
# ASVS 2.8.x: RFC 6238 codes; one step either side for clock skew; 10 recovery codes.
TOTP_WINDOW = 1
RECOVERY_CODES = 10

# ASVS 2.2.1 back-off. From the ``free``-th failure within the window on, the next
# attempt waits ``2 ** (count - free)`` seconds after the latest failure (1, 2, 4 …),
# up to ``MAX_WAIT``. Counting restarts after a success.
BACKOFF_WINDOW = dt.timedelta(hours=1)
FREE_PER_PAIR = 3  # (account, address)
FREE_PER_ADDRESS = 20  # one address, any account
FREE_PER_ACCOUNT = 10  # one account, from browsers that never signed in to it
MAX_WAIT = dt.timedelta(minutes=15)


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "painlink@localhost"
    starttls: bool = True
    # Certificate authorities to trust for STARTTLS (a clinic's own CA); None: the system's.
    ca_file: str | None = None


@dataclass(frozen=True)
class AuthSettings:
    """Authentication settings of one server, read from the environment by default."""

    require_totp_for_staff: bool = True
    idle_staff: dt.timedelta = dt.timedelta(minutes=IDLE_MINUTES_STAFF)
    idle_patient: dt.timedelta = dt.timedelta(minutes=IDLE_MINUTES_PATIENT)
    absolute: dt.timedelta = dt.timedelta(hours=SESSION_HOURS)
    trusted_proxies: tuple[str, ...] = ()
    smtp: SmtpSettings | None = None
    # Links in e-mails use this address, never the request's Host header, which an
    # attacker chooses ("password reset poisoning").
    base_url: str | None = None

    @classmethod
    def from_env(cls) -> AuthSettings:
        smtp = None
        if host := os.environ.get("PAINLINK_SMTP_HOST", "").strip():
            smtp = SmtpSettings(
                host=host,
                port=_env_int("PAINLINK_SMTP_PORT", 587),
                user=os.environ.get("PAINLINK_SMTP_USER") or None,
                password=os.environ.get("PAINLINK_SMTP_PASSWORD") or None,
                sender=os.environ.get("PAINLINK_SMTP_FROM") or "painlink@localhost",
                starttls=_env_flag("PAINLINK_SMTP_STARTTLS", True),
                ca_file=os.environ.get("PAINLINK_SMTP_CA_FILE") or None,
            )
        proxies = os.environ.get("PAINLINK_TRUSTED_PROXIES", "")
        return cls(
            require_totp_for_staff=_env_flag("PAINLINK_REQUIRE_TOTP_FOR_STAFF", True),
            idle_staff=dt.timedelta(
                minutes=_env_int("PAINLINK_IDLE_MINUTES_STAFF", IDLE_MINUTES_STAFF)
            ),
            idle_patient=dt.timedelta(
                minutes=_env_int("PAINLINK_IDLE_MINUTES_PATIENT", IDLE_MINUTES_PATIENT)
            ),
            absolute=dt.timedelta(hours=_env_int("PAINLINK_SESSION_HOURS", SESSION_HOURS)),
            trusted_proxies=tuple(p.strip() for p in proxies.split(",") if p.strip()),
            smtp=smtp,
            base_url=(os.environ.get("PAINLINK_BASE_URL") or "").rstrip("/") or None,
        )

    @property
    def email_enabled(self) -> bool:
        """E-mail links (reset, confirming a registration) need both SMTP and a base URL."""
        return self.smtp is not None and self.base_url is not None

    def idle_for(self, role: str) -> dt.timedelta:
        return self.idle_patient if role == "patient" else self.idle_staff

    def is_trusted_proxy(self, host: str | None) -> bool:
        if not host:
            return False
        for entry in self.trusted_proxies:
            if host == entry:
                return True
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


DEFAULT_SETTINGS = AuthSettings(require_totp_for_staff=False)


# ------------------------------------------------------------------ sessions


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
    stage: str = "full"
    token_hash: str = ""
    last_seen_at: dt.datetime | None = None
    has_totp: bool = False


def purge_sessions(conn: sa.Connection, settings: AuthSettings = DEFAULT_SETTINGS) -> int:
    """Delete sessions past their absolute or (longest) idle limit, and used or expired
    single-use tokens: nothing that can no longer be used stays in the database."""
    t = now()
    idle = max(settings.idle_staff, settings.idle_patient)
    gone = conn.execute(
        sessions.delete().where(
            sa.or_(
                sessions.c.expires_at < t,
                sa.and_(sessions.c.last_seen_at.is_not(None), sessions.c.last_seen_at < t - idle),
            )
        )
    ).rowcount
    conn.execute(
        auth_tokens.delete().where(
            sa.or_(auth_tokens.c.expires_at < t, auth_tokens.c.used_at.is_not(None))
        )
    )
    return gone


def create_session(
    conn: sa.Connection,
    user_id: int,
    stage: str = "full",
    settings: AuthSettings = DEFAULT_SETTINGS,
) -> str:
    """A fresh session token (never reuses one the browser had: ASVS 3.2.1)."""
    purge_sessions(conn, settings)
    token = secrets.token_urlsafe(32)
    lifetime = settings.absolute if stage == "full" else dt.timedelta(minutes=TOTP_STAGE_MINUTES)
    t = now()
    conn.execute(
        sessions.insert().values(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=t,
            expires_at=t + lifetime,
            last_seen_at=t,
            stage=stage,
        )
    )
    return token


def load_session(
    conn: sa.Connection,
    token: str | None,
    settings: AuthSettings = DEFAULT_SETTINGS,
) -> CurrentUser | None:
    """The session's user, whatever its stage; None when absent, past its absolute
    limit or idle for longer than the role allows."""
    if not token:
        return None
    row = conn.execute(
        sa.select(
            users.c.id,
            users.c.email,
            users.c.display_name,
            users.c.role,
            users.c.patient_id,
            users.c.totp_secret,
            sessions.c.csrf_token,
            sessions.c.expires_at,
            sessions.c.last_seen_at,
            sessions.c.stage,
            sessions.c.token_hash,
        )
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == _digest(token))
    ).first()
    t = now()
    if row is None or row.expires_at < t:
        return None
    if row.last_seen_at is not None and row.last_seen_at < t - settings.idle_for(row.role):
        return None
    return CurrentUser(
        row.id,
        row.email,
        row.display_name,
        row.role,
        row.patient_id,
        row.csrf_token,
        stage=row.stage,
        token_hash=row.token_hash,
        last_seen_at=row.last_seen_at,
        has_totp=row.totp_secret is not None,
    )


def needs_touch(user: CurrentUser) -> bool:
    return user.last_seen_at is None or user.last_seen_at < now() - TOUCH_EVERY


def touch_session(conn: sa.Connection, token_hash: str) -> None:
    conn.execute(
        sessions.update().where(sessions.c.token_hash == token_hash).values(last_seen_at=now())
    )


def end_session(conn: sa.Connection, token: str | None) -> None:
    if token:
        conn.execute(sessions.delete().where(sessions.c.token_hash == _digest(token)))


def end_user_sessions(conn: sa.Connection, user_id: int, keep_hash: str | None = None) -> int:
    """End every session of a person (but ``keep_hash``): after a password change or
    reset, a thief's session must not survive (ASVS 3.3.3)."""
    query = sessions.delete().where(sessions.c.user_id == user_id)
    if keep_hash:
        query = query.where(sessions.c.token_hash != keep_hash)
    return conn.execute(query).rowcount


def csrf_ok(user: CurrentUser, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(user.csrf_token, supplied or "")


# ------------------------------------------------------------------ server key and signed cookies


def server_key(conn: sa.Connection) -> bytes:
    """The server's signing key, made once and shared by every worker through the
    database (an in-memory key would differ between workers and restarts)."""
    row = conn.execute(
        sa.select(server_keys.c.value).where(server_keys.c.name == "signing")
    ).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    server_keys.insert().values(name="signing", value=secrets.token_hex(32))
                )
        except sa.exc.IntegrityError:
            pass  # another worker made it first
        row = conn.execute(
            sa.select(server_keys.c.value).where(server_keys.c.name == "signing")
        ).first()
    assert row is not None
    return bytes.fromhex(row.value)


def _sign(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_presession_token(key: bytes) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(key, 'presession', nonce)}"


def presession_ok(key: bytes, cookie: str | None, supplied: str | None) -> bool:
    """Signed double-submit: the form's token equals the cookie, and the cookie was
    made by this server (so a cookie planted by a sibling domain does not pass)."""
    if not cookie or not supplied or not hmac.compare_digest(cookie, supplied):
        return False
    nonce, _, mac = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _sign(key, "presession", nonce))


def new_device_token(key: bytes, email: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_sign(key, 'device:' + email.lower(), nonce)}"


def device_trusted(key: bytes, cookie: str | None, email: str) -> bool:
    """True when this browser signed in to this account before (a device cookie)."""
    if not cookie:
        return False
    nonce, _, mac = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _sign(key, "device:" + email.lower(), nonce))


# ------------------------------------------------------------------ login back-off


def _wait(failures: int, free: int, last: dt.datetime | None) -> float:
    if failures < free or last is None:
        return 0.0
    wait = min(2.0 ** (failures - free), MAX_WAIT.total_seconds())
    return max(0.0, (last + dt.timedelta(seconds=wait) - now()).total_seconds())


def _failures(
    conn: sa.Connection, *where: sa.ColumnElement[bool]
) -> tuple[int, dt.datetime | None]:
    """Failures within the window after the latest success matching the same filter."""
    since = now() - BACKOFF_WINDOW
    last_ok = conn.execute(
        sa.select(sa.func.max(login_attempts.c.at)).where(
            *where, login_attempts.c.success.is_(True), login_attempts.c.at >= since
        )
    ).scalar()
    if last_ok is not None:
        since = last_ok
    count, last = conn.execute(
        sa.select(sa.func.count(), sa.func.max(login_attempts.c.at)).where(
            *where, login_attempts.c.success.is_(False), login_attempts.c.at > since
        )
    ).one()
    return count, last


def retry_after(conn: sa.Connection, email: str, ip: str | None, trusted_device: bool) -> int:
    """Seconds this login attempt must wait (0: go ahead). Never a hard lock: waits
    double per failure up to 15 minutes, and the per-account limit applies only to
    browsers that never signed in to the account, so its owner is not kept out."""
    pair_n, pair_last = _failures(conn, login_attempts.c.email == email, login_attempts.c.ip == ip)
    waits = [_wait(pair_n, FREE_PER_PAIR, pair_last)]
    if ip is not None:
        ip_n, ip_last = _failures(conn, login_attempts.c.ip == ip)
        waits.append(_wait(ip_n, FREE_PER_ADDRESS, ip_last))
    if not trusted_device:
        acc_n, acc_last = _failures(conn, login_attempts.c.email == email)
        waits.append(_wait(acc_n, FREE_PER_ACCOUNT, acc_last))
    return math.ceil(max(waits))


def record_attempt(conn: sa.Connection, email: str, ip: str | None, success: bool) -> None:
    conn.execute(login_attempts.insert().values(email=email, ip=ip, at=now(), success=success))


# ------------------------------------------------------------------ second factor (TOTP)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="painlink")


def totp_secret_ok(secret: str) -> bool:
    """Whether a secret (sent back by the enrolment form) is one pyotp can use: base32
    of at least 112 bits. Anything else is a form to start again, not a server error."""
    try:
        pyotp.TOTP(secret).generate_otp(0)
    except (ValueError, TypeError, binascii.Error):
        return False
    return True


def totp_step(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """The time step a code belongs to, if it is right and newer than ``last_step``
    (ASVS 2.8.4: a code is used once)."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return None
    if not totp_secret_ok(secret):
        return None
    totp = pyotp.TOTP(secret)
    moment = dt.datetime.now(dt.UTC).timestamp() if at is None else at
    current = int(moment // totp.interval)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def new_recovery_codes(conn: sa.Connection, user_id: int) -> list[str]:
    """Ten single-use codes, shown once; only their SHA-256 is kept (80 random bits
    each, so a fast hash suffices)."""
    conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
    codes = [secrets.token_hex(10) for _ in range(RECOVERY_CODES)]
    conn.execute(
        recovery_codes.insert(),
        [{"user_id": user_id, "code_hash": _digest(c)} for c in codes],
    )
    return [f"{c[:5]}-{c[5:10]}-{c[10:15]}-{c[15:]}" for c in codes]


def use_recovery_code(conn: sa.Connection, user_id: int, code: str) -> bool:
    cleaned = "".join(ch for ch in code.lower() if ch in "0123456789abcdef")
    if len(cleaned) != 20:
        return False
    return (
        conn.execute(
            recovery_codes.update()
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == _digest(cleaned),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now())
        ).rowcount
        == 1
    )


# ------------------------------------------------------------------ single-use tokens


def new_auth_token(
    conn: sa.Connection,
    purpose: str,
    user_id: int | None,
    payload: dict[str, object] | None = None,
    created_by: int | None = None,
) -> str:
    token = secrets.token_urlsafe(32)
    t = now()
    if purpose == "reset" and user_id is not None:  # only the newest link works
        conn.execute(
            auth_tokens.delete().where(
                auth_tokens.c.user_id == user_id, auth_tokens.c.purpose == "reset"
            )
        )
    conn.execute(
        auth_tokens.insert().values(
            token_hash=_digest(token),
            purpose=purpose,
            user_id=user_id,
            payload=json.dumps(payload) if payload is not None else None,
            created_at=t,
            expires_at=t + dt.timedelta(minutes=TOKEN_MINUTES),
            created_by=created_by,
        )
    )
    return token


def find_auth_token(conn: sa.Connection, purpose: str, token: str) -> sa.Row[Any] | None:
    """The token's row while it is unused and unexpired."""
    return conn.execute(
        sa.select(auth_tokens).where(
            auth_tokens.c.token_hash == _digest(token),
            auth_tokens.c.purpose == purpose,
            auth_tokens.c.used_at.is_(None),
            auth_tokens.c.expires_at >= now(),
        )
    ).first()


def spend_auth_token(conn: sa.Connection, purpose: str, token: str) -> sa.Row[Any] | None:
    """Mark the token used and return its row; None when it was used, expired or never
    existed. The conditional UPDATE makes two simultaneous uses impossible."""
    row = find_auth_token(conn, purpose, token)
    if row is None:
        return None
    done = conn.execute(
        auth_tokens.update()
        .where(auth_tokens.c.token_hash == row.token_hash, auth_tokens.c.used_at.is_(None))
        .values(used_at=now())
    ).rowcount
    return row if done == 1 else None


# ------------------------------------------------------------------ audit


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
