"""A name typed without a space does not push a page sideways on a phone.

Found by probing in Chromium at 390×844: a patient whose display name is 200 letters
without a space (the longest registration takes) made the clinician's patient list
4,003 px wide — every other patient's row ran off the right edge and the page scrolled
sideways. Each page either side of the diary is checked for the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_browser import SIZES, browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.slow  # a real Chromium

from playwright.sync_api import Browser, Page  # noqa: E402

from painlink.cli.demo_seed import CLINICIAN, DEMO_PASSWORD  # noqa: E402
from tests.live_server import demo_database, serving  # noqa: E402

SHOTS = Path("/tmp/shots-probe")
EMAIL, PASSWORD = "long@example.org", "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo, and a patient named with 200 letters sharing with the demo clinician."""
    from painlink.services import accounts, medicines
    from painlink.store.account_tables import grants, users
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings

    url = demo_database(tmp_path_factory.mktemp("long"), "long.db")
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    with app.state.store.engine.begin() as conn:
        uid = accounts.register_patient(
            conn,
            {"email": EMAIL, "display_name": "W" * 200, "password": PASSWORD,
             "time_zone": "Europe/Berlin", "birth_year": 1980, "sex": "female"},
        )  # fmt: skip
        pid = conn.execute(sa.select(users.c.patient_id).where(users.c.id == uid)).scalar()
        medicines.start_preventive(conn, pid, "Q" * 190, None)
        doctor = conn.execute(sa.select(users.c.id).where(users.c.email == CLINICIAN)).scalar()
        conn.execute(
            grants.insert().values(
                patient_id=pid, clinician_id=doctor, granted_at=dt.datetime.now()
            )
        )
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}", str(pid)


def _login(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("size", list(SIZES))
def test_no_page_scrolls_sideways_for_a_long_name(
    server: tuple[str, str],
    browser: Browser,  # noqa: F811  (the fixture imported from tests.test_browser)
    size: str,
) -> None:
    base, pid = server
    wide = []
    for email, password, paths in (
        (EMAIL, PASSWORD, ["/home", "/account", "/preventives", "/insights", "/entries"]),
        (CLINICIAN, DEMO_PASSWORD, ["/clinic", f"/clinic/patients/{pid}",
                                    f"/clinic/patients/{pid}?tab=outcomes",
                                    f"/calendar?patient={pid}"]),
    ):  # fmt: skip
        context = browser.new_context(viewport=SIZES[size])
        page = context.new_page()
        _login(page, base, email, password)
        for path in paths:
            page.goto(base + path)
            page.wait_for_load_state()
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            name = path.strip("/").replace("/", "_").replace("?", "_")[:40] or "home"
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"long-name-{name}-{size}.png"))
            if scroll > client + 1:
                wide.append(f"{path}: {scroll} px on a {client} px screen")
        context.close()
    assert not wide, wide
