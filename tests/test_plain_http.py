"""Self-hosting over plain HTTP: the login page and the server log say why sign-in
cannot work, instead of looping back to the login page (issue 12, point 14)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from painlink.services import accounts
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
from tests.test_web import form_token

PASSWORD = "correct horse battery"
LAN = "http://192.168.1.5:8000"


def _app(tmp_path: Path, secure_cookies: bool = True):  # type: ignore[no-untyped-def]
    app = create_app(
        f"sqlite:///{tmp_path / 'http.db'}",
        secure_cookies=secure_cookies,
        auth=AuthSettings(require_totp_for_staff=False),
    )
    with app.state.store.engine.begin() as conn:
        accounts.create_staff(conn, "dr@clinic.org", "Dr", PASSWORD, "clinician")
    return app


def _login(c: TestClient) -> object:
    token = form_token(c, "/login")
    return c.post(
        "/login",
        data={"csrf_token": token, "email": "dr@clinic.org", "password": PASSWORD},
        follow_redirects=False,
    )


def test_a_plain_http_lan_address_is_named_on_the_login_page_and_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(tmp_path)
    c = TestClient(app, base_url=LAN)
    with caplog.at_level(logging.WARNING, logger="painlink.web"):
        page = c.get("/login")
        assert page.status_code == 200
        assert 'id="plain-http"' in page.text and "--insecure-cookies" in page.text
        r = _login(c)
    # not a silent loop back to the login page, nor "the form expired": the reason
    assert r.status_code == 400, r.status_code  # type: ignore[attr-defined]
    assert "--insecure-cookies" in r.text  # type: ignore[attr-defined]
    assert "plain http" in r.text  # type: ignore[attr-defined]
    lines = [m.getMessage() for m in caplog.records if m.name == "painlink.web"]
    assert len(lines) == 1, lines  # said once, not per request
    assert "plain HTTP" in lines[0] and "192.168.1.5" in lines[0]
    assert "--insecure-cookies" in lines[0]
    reg = c.get("/register")
    assert 'id="plain-http"' in reg.text


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000"])
def test_loopback_over_http_has_no_warning(tmp_path: Path, base: str) -> None:
    """Browsers keep Secure cookies on loopback, so sign-in works there: no warning.
    (httpx, unlike a browser, drops them on loopback too, so the login itself is
    checked in the browser tests, which run on http://127.0.0.1.)"""
    c = TestClient(_app(tmp_path), base_url=base)
    assert 'id="plain-http"' not in c.get("/login").text
    assert "plain http" not in _login(c).text  # type: ignore[attr-defined]


def test_insecure_cookies_sign_in_on_a_trusted_lan(tmp_path: Path) -> None:
    """``--insecure-cookies``: no warning, and the session survives plain HTTP."""
    c = TestClient(_app(tmp_path, secure_cookies=False), base_url=LAN)
    assert 'id="plain-http"' not in c.get("/login").text
    r = _login(c)
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert c.get("/api/me").status_code == 200


def test_https_has_no_warning(tmp_path: Path) -> None:
    c = TestClient(_app(tmp_path), base_url="https://192.168.1.5")
    assert 'id="plain-http"' not in c.get("/login").text
    assert _login(c).status_code == 303  # type: ignore[attr-defined]
