"""Authentication to OWASP ASVS Level 2: password strength, pre-session CSRF, back-off
that cannot lock an owner out, session timeouts and rotation, password change and
reset (through a real SMTP server on loopback), TOTP, and no account enumeration."""

from __future__ import annotations

import datetime as dt
import email
import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from painlink.services import accounts, passwords
from painlink.store import migrate
from painlink.store.account_tables import auth_tokens, login_attempts, sessions, users
from painlink.web import security
from painlink.web.security import (
    DUMMY_HASH,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    AuthSettings,
    SmtpSettings,
    new_presession_token,
    password_problem,
)
from tests.ports import free_port
from tests.test_web import NO_TOTP, PASSWORD, Web, _csrf, form_token

STRONG = "lantern orbit pickle meadow"


def _register(c: TestClient, email_: str, name: str, password: str) -> object:
    return c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": email_,
            "display_name": name,
            "password": password,
        },
        follow_redirects=False,
    )


def _login(
    c: TestClient, email_: str, password: str, headers: dict[str, str] | None = None
) -> object:
    token = form_token(c, "/login")
    return c.post(
        "/login",
        data={"csrf_token": token, "email": email_, "password": password},
        headers=headers or {},
        follow_redirects=False,
    )


def _shift_attempts(web: Web, delta: dt.timedelta) -> None:
    """Move every recorded login attempt into the past (no sleeping in tests)."""
    with web.engine.begin() as conn:
        for row in conn.execute(sa.select(login_attempts.c.id, login_attempts.c.at)).all():
            conn.execute(
                login_attempts.update()
                .where(login_attempts.c.id == row.id)
                .values(at=row.at - delta)
            )


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


# ------------------------------------------------------------------ 1. password strength


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaa", "at least 12 characters"),  # accepted before: 10 characters
        ("aaaaaaaaaaaa", "Repeats"),
        ("password1234", "very common password"),
        ("password12", "at least 12 characters"),
        ("hana.berg@x.org", "e-mail"),  # the e-mail itself
        ("hana.berg1234", "e-mail"),
        ("Hana Berg 1988", "name"),
        ("painlink2026!", "too easy to guess"),  # the service's own name
    ],
)
def test_weak_passwords_are_refused_saying_why_and_how(web: Web, password: str, why: str) -> None:
    c = web.client()
    r = _register(c, "hana.berg@x.org", "Hana Berg", password)
    assert r.status_code == 400  # type: ignore[attr-defined]
    text = r.text  # type: ignore[attr-defined]
    assert 'id="password-error"' in text and why in text and "passphrase" in text
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 0


def test_strong_and_long_passphrases_are_accepted_and_limits_hold(web: Web) -> None:
    assert password_problem(STRONG, "a@x.org", "A") is None
    long_one = "the quiet otter rows a paper boat past seven silver lighthouses at dusk"
    assert len(long_one) >= 64 and password_problem(long_one) is None  # ASVS 2.1.2
    assert "at most 128" in (password_problem("x" * 129) or "")
    r = _register(web.client(), "ivy@x.org", "Ivy", long_one)
    assert r.status_code == 303  # type: ignore[attr-defined]
    with web.engine.begin() as conn, pytest.raises(accounts.AccountError) as exc:
        accounts.create_staff(conn, "doc@clinic.org", "Doc", "doc@clinic.org", "clinician")
    assert "too easy to guess" in exc.value.fields["password"]


def test_password_with_spaces_round_trips(web: Web) -> None:
    """The registration model strips whitespace; the password must be hashed as typed."""
    c = web.client()
    assert _register(c, "sp@x.org", "Sp", f" {STRONG} ").status_code == 303  # type: ignore[attr-defined]
    assert _login(web.client(), "sp@x.org", f" {STRONG} ").status_code == 303  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 7. pre-session CSRF


def test_login_and_register_need_the_signed_double_submit_token(web: Web) -> None:
    web.patient("lea")
    c = web.client()
    data = {"email": "lea@x.org", "password": PASSWORD}
    assert c.post("/login", data=data).status_code == 403  # no token, no cookie
    token = form_token(c, "/login")
    assert c.post("/login", data={**data, "csrf_token": "forged"}).status_code == 403
    # a token from another browser (an attacker's own visit) does not match this cookie
    other = form_token(web.client(), "/login")
    assert c.post("/login", data={**data, "csrf_token": other}).status_code == 403
    # a cookie planted by a sibling site, echoed in the form, is not signed by this server
    planted = new_presession_token(b"not the server key")
    bare = web.client()
    bare.cookies.set(PRESESSION_COOKIE, planted, domain="testserver")
    assert bare.post("/login", data={**data, "csrf_token": planted}).status_code == 403
    r = _register(bare, "x@x.org", "X", STRONG)  # with a fresh, valid token: fine
    assert r.status_code == 303  # type: ignore[attr-defined]
    register = c.post(
        "/register",
        data={"email": "m@x.org", "display_name": "M", "password": STRONG, "csrf_token": "x"},
    )
    assert register.status_code == 403
    r = c.post("/login", data={**data, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    # the browser's pre-session cookie is still valid: it is kept, not set again
    assert "set-cookie" not in c.get("/login").headers
    # a first visit is given one that scripts cannot read and other sites cannot send
    cookie = web.client().get("/login").headers["set-cookie"].lower()
    assert cookie.startswith(f"{PRESESSION_COOKIE.lower()}=")
    assert "httponly" in cookie and "samesite=strict" in cookie


# ------------------------------------------------------------------ 5. back-off, not a lock


def _proxy_web(tmp_path: Path) -> Web:
    return Web(tmp_path, auth=AuthSettings(require_totp_for_staff=False,
                                           trusted_proxies=("testclient",)))  # fmt: skip


@pytest.mark.slow
def test_repeated_failures_from_one_address_wait_longer_each_time(web: Web) -> None:
    web.patient("fay")
    other = web.client()
    for _ in range(security.FREE_PER_PAIR):
        assert _login(other, "fay@x.org", "wrong").status_code == 400  # type: ignore[attr-defined]
    r = _login(other, "fay@x.org", PASSWORD)
    assert r.status_code == 429 and "Too many attempts" in r.text  # type: ignore[attr-defined]
    first = int(r.headers["retry-after"])  # type: ignore[attr-defined]
    assert first == 1
    _shift_attempts(web, dt.timedelta(seconds=5))  # the wait is over; one more failure doubles it
    assert _login(other, "fay@x.org", "wrong").status_code == 400  # type: ignore[attr-defined]
    r = _login(other, "fay@x.org", PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 2  # type: ignore[attr-defined]
    with web.engine.begin() as conn:  # never a lock: after the window, the owner gets in
        conn.execute(login_attempts.update().values(at=login_attempts.c.at - dt.timedelta(hours=2)))
    assert _login(other, "fay@x.org", PASSWORD).status_code == 303  # type: ignore[attr-defined]


@pytest.mark.slow
def test_an_attacker_on_many_addresses_cannot_keep_the_owner_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = _proxy_web(tmp_path)
    owner, _pid, _ = web.patient("gus")  # signed in once: this browser has a device cookie
    owner.post("/logout", data={"csrf_token": owner.get("/api/me").json()["csrf_token"]})
    # the back-off's clock stands still: 40 slow password hashes on a loaded machine must
    # not outlast the cap's first one-second wait and let the check below pass by chance
    frozen = security.now()
    monkeypatch.setattr(security, "now", lambda: frozen)
    attacker = web.client()
    for i in range(40):  # 40 addresses, one guess each: no per-address limit applies
        xff = {"X-Forwarded-For": f"203.0.113.{i}"}
        r = _login(attacker, "gus@x.org", f"guess number {i}", headers=xff)
        assert r.status_code in (400, 429)  # type: ignore[attr-defined]
    # a browser that never signed in to the account waits (the account-wide soft cap) …
    r = _login(web.client(), "gus@x.org", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    # … but the owner's own browser, from yet another address, gets straight in
    r = _login(owner, "gus@x.org", PASSWORD, headers={"X-Forwarded-For": "192.0.2.55"})
    assert r.status_code == 303  # type: ignore[attr-defined]


def test_x_forwarded_for_is_believed_only_from_a_configured_proxy(web: Web, tmp_path: Path) -> None:
    web.patient("hal")
    c = web.client()
    for i in range(security.FREE_PER_PAIR):  # a spoofed header does not make new addresses
        _login(c, "hal@x.org", "wrong", headers={"X-Forwarded-For": f"10.0.0.{i}"})
    r = _login(c, "hal@x.org", PASSWORD, headers={"X-Forwarded-For": "10.0.0.99"})
    assert r.status_code == 429  # type: ignore[attr-defined]
    with web.engine.connect() as conn:
        assert set(conn.execute(sa.select(login_attempts.c.ip)).scalars()) == {"testclient"}
    proxied = _proxy_web(tmp_path / "p")
    proxied.patient("hal")
    _login(proxied.client(), "hal@x.org", "wrong", headers={"X-Forwarded-For": "1.2.3.4, 10.9.9.9"})
    with proxied.engine.connect() as conn:
        ips = set(conn.execute(sa.select(login_attempts.c.ip)).scalars())
    assert ips == {"10.9.9.9"}  # the nearest hop before the trusted proxy


# ------------------------------------------------------------------ 6. no enumeration


def test_an_unknown_email_is_verified_against_the_dummy_hash(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.patient("ina")
    seen: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            seen.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    unknown = _login(web.client(), "nobody@x.org", "wrong password here")
    known = _login(web.client(), "ina@x.org", "wrong password here")
    assert seen[0] == DUMMY_HASH and seen[1] != DUMMY_HASH and len(seen) == 2
    assert unknown.status_code == known.status_code == 400  # type: ignore[attr-defined]

    def main(r: object) -> str:
        text = r.text.split('<main id="main">')[1]  # type: ignore[attr-defined]
        return re.sub(r'value="[^"]*"', "", text)

    assert main(unknown) == main(known)


@pytest.mark.slow
def test_without_email_asking_which_addresses_are_taken_is_slowed_down(web: Web) -> None:
    """Without SMTP the register page must say an address is taken; a third such
    answer to one address makes it wait, doubling each time, like failed logins."""
    for name in ("ann", "bob", "cat", "dan"):
        with web.engine.begin() as conn:
            accounts.register_patient(conn, {"email": f"{name}@x.org", "display_name": name,
                                             "password": PASSWORD})  # fmt: skip
    c = web.client()
    for name in ("ann", "bob", "cat"):
        r = _register(c, f"{name}@x.org", "Probe", STRONG)
        assert r.status_code == 400 and "exists" in r.text  # type: ignore[attr-defined]
    r = _register(c, "dan@x.org", "Probe", STRONG)
    assert r.status_code == 429 and "exists" not in r.text  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 4. sessions


def _age(web: Web, **changes: object) -> None:
    with web.engine.begin() as conn:
        conn.execute(sessions.update().values(**changes))


@pytest.mark.slow
def test_idle_and_absolute_timeouts_end_sessions(web: Web) -> None:
    c, _pid, _ = web.patient("jo")
    _age(web, last_seen_at=security.now() - dt.timedelta(minutes=100))
    assert c.get("/api/me").status_code == 200  # a patient's idle limit is 2 hours
    _age(web, last_seen_at=security.now() - dt.timedelta(minutes=121))
    assert c.get("/api/me").status_code == 401
    doc, _ = web.clinician("doc")
    assert doc.get("/api/me").status_code == 200
    _age(web, last_seen_at=security.now() - dt.timedelta(minutes=31))
    assert doc.get("/api/me").status_code == 401  # staff: 30 minutes
    doc, _ = web.login("doc@clinic.org")
    _age(web, expires_at=security.now() - dt.timedelta(seconds=1))  # 12 h absolute limit
    assert doc.get("/api/me").status_code == 401
    web.login("doc@clinic.org")  # a login purges the expired rows
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 1


def test_activity_keeps_a_session_alive(web: Web) -> None:
    c, _pid, _ = web.patient("kai")
    _age(web, last_seen_at=security.now() - dt.timedelta(minutes=119))
    assert c.get("/api/me").status_code == 200  # refreshes the last-seen time
    with web.engine.connect() as conn:
        seen = conn.execute(sa.select(sessions.c.last_seen_at)).scalar_one()
    assert seen > security.now() - dt.timedelta(minutes=1)


def test_login_issues_a_new_token_and_logout_ends_it_on_the_server(web: Web) -> None:
    c, _pid, csrf = web.patient("lou")
    before = c.cookies.get(SESSION_COOKIE)
    r = _login(c, "lou@x.org", PASSWORD)  # session fixation: the old token must die
    after = c.cookies.get(SESSION_COOKIE)
    assert r.status_code == 303 and after and after != before  # type: ignore[attr-defined]
    stale = web.client()
    stale.cookies.set(SESSION_COOKIE, before or "", domain="testserver")
    assert stale.get("/api/me").status_code == 401
    csrf = c.get("/api/me").json()["csrf_token"]
    c.post("/logout", data={"csrf_token": csrf})
    replay = web.client()
    replay.cookies.set(SESSION_COOKIE, after, domain="testserver")
    assert replay.get("/api/me").status_code == 401  # not just a deleted cookie


# ------------------------------------------------------------------ 2. password change


@pytest.mark.slow
def test_password_change_needs_the_current_one_and_ends_other_sessions(web: Web) -> None:
    c, _pid, csrf = web.patient("max")
    phone, _ = web.login("max@x.org")
    change = {"csrf_token": csrf, "current_password": "wrong one", "new_password": STRONG,
              "new_password_again": STRONG}  # fmt: skip
    r = c.post("/account/password", data=change)
    assert r.status_code == 400 and "not your current password" in r.text
    r = c.post("/account/password", data={**change, "current_password": PASSWORD,
                                          "new_password": "max@x.org123"})  # fmt: skip
    assert r.status_code == 400 and "too easy to guess" in r.text
    r = c.post("/account/password", data={**change, "current_password": PASSWORD})
    assert r.status_code == 200 and "Your password is changed" in r.text
    assert phone.get("/api/me").status_code == 401  # the other session ended
    assert c.get("/api/me").status_code == 200  # this one continues, on a new token
    assert _login(web.client(), "max@x.org", PASSWORD).status_code == 400  # type: ignore[attr-defined]
    assert _login(web.client(), "max@x.org", STRONG).status_code == 303  # type: ignore[attr-defined]
    assert c.post("/account/password", data={**change, "csrf_token": "x"}).status_code == 403


# ------------------------------------------------------------------ 2. reset through real SMTP


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    """A real SMTP server on loopback (aiosmtpd): painlink's mail goes over TCP to it."""
    port = free_port()
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _mail_web(tmp_path: Path, port: int, url: str | None = None) -> Web:
    settings = AuthSettings(
        require_totp_for_staff=False,
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="clinic@x.org", starttls=False),
        base_url="https://testserver",
    )
    return Web(tmp_path, url, auth=settings)


def _link(message: Message) -> str:
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return re.search(r"https://testserver(/\S+)", body).group(1)  # type: ignore[union-attr]


@pytest.mark.slow
def test_password_reset_by_email_link(
    tmp_path: Path, smtp: tuple[_Inbox, int], db_url: str
) -> None:
    inbox, port = smtp
    web = _mail_web(tmp_path, port, db_url)
    with web.engine.begin() as conn:  # registering here goes through e-mail: see below
        accounts.register_patient(conn, {"email": "nia@x.org", "display_name": "Nia",
                                         "password": PASSWORD})  # fmt: skip
    owner, _ = web.login("nia@x.org")
    c = web.client()
    page = c.post(
        "/password/forgot",
        data={"csrf_token": form_token(c, "/password/forgot"), "email": "nobody@x.org"},
    )
    same = c.post(
        "/password/forgot",
        data={"csrf_token": form_token(c, "/password/forgot"), "email": "NIA@x.org"},
    )
    assert page.status_code == same.status_code == 200
    assert "If an account uses this address" in page.text and page.text == same.text
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "nia@x.org"
    link = _link(inbox.messages[0])
    with web.engine.connect() as conn:  # only the hash of the token is stored
        stored = conn.execute(sa.select(auth_tokens.c.token_hash)).scalars().all()
    assert link.rsplit("/", 1)[1] not in stored and len(stored) == 1
    form = c.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    weak = {"csrf_token": _csrf(form.text), "new_password": "password1234",
            "new_password_again": "password1234"}  # fmt: skip
    assert c.post(link, data=weak).status_code == 400
    good = {**weak, "new_password": STRONG, "new_password_again": STRONG}
    r = c.post(link, data=good)
    assert r.status_code == 200 and "Log in with the new one" in r.text
    assert owner.get("/api/me").status_code == 401  # every session of the person ended
    again = c.post(link, data=good)  # single use
    assert again.status_code == 400 and "expired or was already used" in again.text
    assert _login(web.client(), "nia@x.org", STRONG).status_code == 303  # type: ignore[attr-defined]
    # an expired link (30 minutes) is refused
    ask = {"csrf_token": form_token(c, "/password/forgot"), "email": "nia@x.org"}
    for _ in range(3):  # asking again and again sends one e-mail a minute
        assert c.post("/password/forgot", data=ask).text == page.text
    assert len(inbox.messages) == 2
    later = _link(inbox.messages[-1])
    with web.engine.begin() as conn:
        conn.execute(
            auth_tokens.update().values(expires_at=security.now() - dt.timedelta(seconds=1))
        )
    assert "expired or was already used" in c.get(later).text


def test_registration_says_the_same_whether_or_not_the_email_has_an_account(
    tmp_path: Path, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    web = _mail_web(tmp_path, port)
    with web.engine.begin() as conn:
        accounts.register_patient(conn, {"email": "old@x.org", "display_name": "Old",
                                         "password": PASSWORD})  # fmt: skip
    pages = []
    for address in ("old@x.org", "new@x.org"):
        c = web.client()
        r = _register(c, address, "Someone", STRONG)
        assert r.status_code == 200  # type: ignore[attr-defined]
        main = r.text.split('<main id="main">')[1].replace(address, "ADDRESS")  # type: ignore[attr-defined]
        pages.append(main)
    assert pages[0] == pages[1] and "Check your e-mail" in pages[0]
    to_old, to_new = inbox.messages
    assert "already has one" in to_old.get_payload()  # type: ignore[operator]
    with web.engine.connect() as conn:  # nothing is created before the link is followed
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 1
    c = web.client()
    link = _link(to_new)
    page = c.get(link)
    r = c.post(link, data={"csrf_token": _csrf(page.text)})
    assert r.status_code == 200 and "A few questions first" in r.text
    assert c.get("/api/me").json()["email"] == "new@x.org"
    assert c.post(link, data={"csrf_token": _csrf(page.text)}).status_code == 400


def test_an_admin_hands_out_a_one_time_reset_link(web: Web) -> None:
    patient, _pid, patient_csrf = web.patient("oli")
    admin, admin_csrf = web.admin()
    ask = {"email": "oli@x.org"}
    assert patient.post("/admin/reset", data={**ask, "csrf_token": patient_csrf}).status_code == 403
    assert admin.post("/admin/reset", data=ask).status_code == 403  # CSRF
    r = admin.post("/admin/reset", data={"email": "nobody@x.org", "csrf_token": admin_csrf})
    assert r.status_code == 400 and "No account has this e-mail" in r.text
    r = admin.post("/admin/reset", data={**ask, "csrf_token": admin_csrf})
    assert r.status_code == 200 and "one-time link for oli@x.org" in r.text
    link = re.search(r"https://testserver(/password/reset/[\w-]+)", r.text).group(1)  # type: ignore[union-attr]
    c = web.client()
    form = c.get(link)
    data = {"csrf_token": _csrf(form.text), "new_password": STRONG, "new_password_again": STRONG}
    assert c.post(link, data=data).status_code == 200
    assert patient.get("/api/me").status_code == 401
    assert _login(web.client(), "oli@x.org", STRONG).status_code == 303  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 3. TOTP


def _enrol(c: TestClient, csrf: str) -> tuple[str, str, list[str]]:
    page = c.get("/account/2fa")
    assert "<svg" in page.text and "http" not in page.text.split("<svg")[1].split("</svg>")[0]
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text).group(1)  # type: ignore[union-attr]
    wrong = c.post("/account/2fa", data={"csrf_token": csrf, "action": "enable",
                                         "secret": secret, "code": "000000"})  # fmt: skip
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).now()
    r = c.post("/account/2fa", data={"csrf_token": csrf, "action": "enable", "secret": secret,
                                     "code": code})  # fmt: skip
    assert r.status_code == 200 and "recovery codes" in r.text
    codes = re.findall(r"<code>([0-9a-f-]{23})</code>", r.text)
    assert len(codes) == security.RECOVERY_CODES
    return secret, code, codes


def test_totp_second_factor_with_replay_refused_and_recovery_codes(
    tmp_path: Path, db_url: str
) -> None:
    web = Web(tmp_path, db_url)
    c, _pid, csrf = web.patient("pia")
    before = c.cookies.get(SESSION_COOKIE)
    secret, used_code, codes = _enrol(c, csrf)
    assert c.cookies.get(SESSION_COOKIE) != before  # a privilege change: a new token
    with web.engine.connect() as conn:
        assert "pia" not in str(
            conn.execute(sa.select(sa.text("code_hash FROM recovery_codes"))).all()
        )
    b = web.client()
    r = _login(b, "pia@x.org", PASSWORD)
    assert r.headers["location"] == "/login/totp"  # type: ignore[attr-defined]
    assert b.get("/api/me").status_code == 401  # the password alone signs no one in
    page = b.get("/login/totp")
    token = _csrf(page.text)
    replay = b.post("/login/totp", data={"csrf_token": token, "code": used_code})
    assert replay.status_code == 400 and "already used" in replay.text
    with web.engine.connect() as conn:
        last = conn.execute(sa.select(users.c.totp_last_step)).scalars().all()
    step = max(s for s in last if s is not None)
    fresh = pyotp.TOTP(secret).at((step + 1) * 30)
    r = b.post("/login/totp", data={"csrf_token": token, "code": fresh}, follow_redirects=False)
    assert r.status_code == 303 and b.get("/api/me").status_code == 200
    again = b.post("/login/totp", data={"csrf_token": token, "code": fresh})
    assert again.url.path == "/login"  # the pending session is gone
    # a recovery code works once
    for expected in (303, 400):
        d = web.client()
        _login(d, "pia@x.org", PASSWORD)
        t = _csrf(d.get("/login/totp").text)
        r = d.post("/login/totp", data={"csrf_token": t, "code": codes[0]},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == expected


def test_staff_must_set_up_a_second_factor_when_required(tmp_path: Path) -> None:
    web = Web(tmp_path, auth=AuthSettings(require_totp_for_staff=True))
    with web.engine.begin() as conn:
        accounts.create_staff(conn, "doc@clinic.org", "Doc", PASSWORD, "clinician")
    doc = web.client()
    assert _login(doc, "doc@clinic.org", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    csrf = _csrf(doc.get("/account/2fa").text)
    r = doc.get("/clinic", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/2fa"
    assert doc.get("/api/clinic/patients").status_code == 403
    assert "asks every staff account" in doc.get("/account/2fa").text
    _enrol(doc, csrf)
    assert doc.get("/clinic").status_code == 200
    csrf = doc.get("/api/me").json()["csrf_token"]
    r = doc.post("/account/2fa", data={"csrf_token": csrf, "action": "disable",
                                       "password": PASSWORD})  # fmt: skip
    assert r.status_code == 400 and "requires a second factor" in r.text


def test_patients_may_turn_the_second_factor_off_with_their_password(web: Web) -> None:
    c, _pid, csrf = web.patient("quin")
    _enrol(c, csrf)
    csrf = c.get("/api/me").json()["csrf_token"]
    off = {"csrf_token": csrf, "action": "disable", "password": "wrong"}
    assert c.post("/account/2fa", data=off).status_code == 400
    c.post("/account/2fa", data={**off, "password": PASSWORD})
    assert _login(web.client(), "quin@x.org", PASSWORD).headers["location"] == "/"  # type: ignore[attr-defined]


# ------------------------------------------------------------------ migration


def test_migration_0007_goes_down_and_up(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url, auth=NO_TOTP)
    migrate.downgrade(web.engine, "0005")
    assert "recovery_codes" not in sa.inspect(web.engine).get_table_names()
    migrate.upgrade(web.engine)
    assert {"recovery_codes", "auth_tokens", "server_keys"} <= set(
        sa.inspect(web.engine).get_table_names()
    )


# ------------------------------------------------------------------ STARTTLS


def test_mail_goes_over_starttls_and_not_to_an_unverified_server(tmp_path: Path) -> None:
    """STARTTLS is the default: the message reaches a server whose certificate the
    configured CA signed, and nothing is sent to one it cannot verify."""
    import ssl
    import subprocess

    from painlink.web.mail import send_mail

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    inbox = _Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        trusted = SmtpSettings(host="127.0.0.1", port=port, ca_file=str(cert))
        assert send_mail(trusted, "a@x.org", "hello", "over TLS")
        assert len(inbox.messages) == 1
        untrusted = SmtpSettings(host="127.0.0.1", port=port)  # the system's CAs only
        assert not send_mail(untrusted, "a@x.org", "hello", "must not be sent")
        plain = SmtpSettings(host="127.0.0.1", port=port, starttls=False)
        assert not send_mail(plain, "a@x.org", "hello", "refused by the server")
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_a_secret_sent_back_too_short_or_not_base32_is_a_wrong_code_not_an_error() -> None:
    from painlink.web.security import totp_step

    for secret in ("JBSWY3DPEHPK3PXP", "not base32 at all!!", "A" * 16):
        assert totp_step(secret, "123456", None) is None
