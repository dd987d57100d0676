"""Passwords: argon2id hashing and the strength rule (OWASP ASVS 4.0.3 V2.1).

Here, not in the web app, because the command line creates accounts too
(``painlink user add``, the demo) and must judge and hash a password exactly as the
registration page does.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

# ASVS 2.1.1: passwords of at least 12 characters.
MIN_PASSWORD = 12
# ASVS 2.1.2: passwords of 64 characters and more are allowed (argon2 does not truncate).
MAX_PASSWORD = 128
# ASVS 2.1.7 / NIST SP 800-63B 5.1.1.2: refuse common, breached and context-specific
# passwords. zxcvbn scores 0-4; 3 means "safely unguessable: moderate protection from
# an offline slow-hash scenario" (about 10^8 guesses and more).
MIN_STRENGTH = 3
# zxcvbn's run time grows with length; the first 100 characters decide its score.
STRENGTH_PREFIX = 100
# Context-specific words (NIST 800-63B): the service's own name and subject.
SITE_WORDS = ("painlink", "migraine", "headache", "diary", "demo")

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that a login answers in the same time
# whether the account exists or not (ASVS 2.2.x, no account enumeration).
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Always runs one argon2 verification: against the dummy hash when there is no
    account, so the time taken does not reveal whether the e-mail is registered."""
    try:
        return _hasher.verify(stored or DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


PASSPHRASE_HINT = "Try a passphrase: three or four unrelated words."


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why this password would be easy to guess, in plain words; None when it is fine."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters. {PASSPHRASE_HINT}"
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    own = [email, email.split("@")[0], name, *name.split(), *SITE_WORDS]
    result = zxcvbn(password[:STRENGTH_PREFIX], user_inputs=[w.lower() for w in own if w])
    if result["score"] >= MIN_STRENGTH:
        return None
    warning = result["feedback"].get("warning") or ""
    lowered = password.lower()
    if email and (email.lower() in lowered or email.split("@")[0].lower() in lowered):
        warning = "It contains your e-mail address."
    elif name and name.lower() in lowered:
        warning = "It contains your name."
    why = f" {warning}" if warning else ""
    return f"This password is too easy to guess.{why} {PASSPHRASE_HINT}"
