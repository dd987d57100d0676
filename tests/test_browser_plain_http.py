"""In a real browser on a LAN name over plain HTTP: the login page says why signing in
cannot work (issue 12, point 14), and the message passes the accessibility audit.

Chromium resolves ``painlink.lan`` to the loopback server (``--host-resolver-rules``),
so the page is on a non-loopback name over http, as on a home network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import serving
from tests.test_browser import _AUDIT_JS, ARGS, CHROMIUM, SIZES  # skips without Chromium

pytestmark = pytest.mark.slow
SHOTS = Path("/tmp/shots-robust")


@pytest.fixture(scope="module")
def lan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from painlink.services import accounts
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings

    url = f"sqlite:///{tmp_path_factory.mktemp('lan') / 'lan.db'}"
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    with app.state.store.engine.begin() as conn:
        accounts.create_staff(conn, "dr@clinic.org", "Dr", "copper kettle meadow", "clinician")
    with serving(app, log_level="error") as port:
        yield f"http://painlink.lan:{port}"


@pytest.mark.parametrize("size", list(SIZES))
def test_login_over_plain_http_on_a_lan_name_says_why(lan: str, size: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*ARGS, "--host-resolver-rules=MAP painlink.lan 127.0.0.1"],
        )
        page = browser.new_page(viewport=SIZES[size])
        page.goto(f"{lan}/login")
        alert = page.locator("#plain-http")
        expect(alert).to_contain_text("plain http://")
        expect(alert).to_contain_text("painlink serve --insecure-cookies")
        audit = page.evaluate(_AUDIT_JS)
        assert not {k: v for k, v in audit.items() if v}, audit
        page.get_by_label("Email").fill("dr@clinic.org")
        page.get_by_label("Password").fill("copper kettle meadow")
        page.get_by_role("button", name="Log in").click()
        # not a silent loop, not "the form expired": the same reason, and the address kept
        expect(page.locator("#plain-http")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value("dr@clinic.org")
        page.screenshot(path=str(SHOTS / f"lan-login-{size}.png"), full_page=True)
        browser.close()
