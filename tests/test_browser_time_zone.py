"""Registration picks up the browser's time zone (Intl API), in a real Chromium whose
zone is set to Europe/Berlin; a traveller is offered the device's new zone on the
account page. Screenshots go to tests/artifacts/screenshots/ (zone-*)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.test_browser import _AUDIT_JS, ARGS, CHROMIUM, SIZES, shoot

pytestmark = pytest.mark.slow

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from tests.live_server import serving  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.Engine]]:
    """An empty painlink on loopback: registration needs no simulated diaries."""
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings

    url = f"sqlite:///{tmp_path_factory.mktemp('zone') / 'zone.db'}"
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}", app.state.store.engine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _zone(engine: sa.Engine, email: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "select p.time_zone from patients p join users u"
                    " on u.patient_id = p.patient_id where u.email = :e"
                ),
                {"e": email},
            ).scalar()
        )


def test_registration_takes_the_browsers_zone_and_a_traveller_changes_it(
    site: tuple[str, sa.Engine], browser: Browser
) -> None:
    base, engine = site
    context = browser.new_context(viewport=SIZES["phone"], timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(f"{base}/register")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.locator("#time_zone-device")).to_have_text(
        "Filled in from this device: Europe/Berlin."
    )
    shoot(page, "zone-register")
    page.get_by_label("Your name").fill("Lena")
    page.get_by_label("Email").fill("lena@example.org")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.get_by_role("heading", name="Welcome. A few questions first")).to_be_visible()
    assert _zone(engine, "lena@example.org") == "Europe/Berlin"
    context.close()

    # the same person, later, on a phone set to New York time
    context = browser.new_context(viewport=SIZES["phone"], timezone_id="America/New_York")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("lena@example.org")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/account")
    field = page.get_by_label("Time zone")
    expect(field).to_have_value("Europe/Berlin")  # the stored zone, not silently replaced
    expect(page.locator("#time_zone-device")).to_contain_text("America/New_York")
    problems = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
    assert not problems, problems
    shoot(page, "zone-account")
    page.get_by_role("button", name="Use it").click()
    expect(field).to_have_value("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("status")).to_contain_text("America/New_York")
    assert _zone(engine, "lena@example.org") == "America/New_York"
    shoot(page, "zone-account-saved")
    context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_register_with_a_city_and_without_script(
    site: tuple[str, sa.Engine], browser: Browser, size: str
) -> None:
    """Without script the field is empty (UTC if left so); "Berlin" typed is enough."""
    context = browser.new_context(viewport=SIZES[size], java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site[0]}/register")
    expect(page.get_by_label("Time zone")).to_have_value("")
    email = f"city-{size}@example.org"
    page.get_by_label("Your name").fill("Jo")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_label("Time zone").fill("san")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.locator("#time_zone-error")).to_contain_text("America/Santiago")
    shoot(page, "zone-register-suggest")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_label("Time zone").fill("Berlin")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.get_by_role("heading", name="Welcome. A few questions first")).to_be_visible()
    assert _zone(site[1], email) == "Europe/Berlin"
    context.close()


def test_the_register_page_passes_the_audit(site: tuple[str, sa.Engine], browser: Browser) -> None:
    for viewport in SIZES.values():
        context = browser.new_context(viewport=viewport, timezone_id="Europe/Berlin")
        page = context.new_page()
        page.goto(f"{site[0]}/register")
        problems = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
        assert not problems, problems
        context.close()


def test_a_headache_still_going_on_moves_with_a_flight_west(
    site: tuple[str, sa.Engine], browser: Browser
) -> None:
    """Headache now in Tokyo, the zone set to New York after landing: the account page
    says the open headache moved to the new clock, and "It has stopped now" ends it
    (before, it answered "that is before it started")."""
    base, engine = site
    size = "phone"  # shoot() takes phone and desktop
    context = browser.new_context(viewport=SIZES[size], timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill("Kai")
    page.get_by_label("Email").fill(f"kai-{size}@example.org")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.get_by_role("heading", name="Welcome. A few questions first")).to_be_visible()
    page.goto(f"{base}/home")
    page.get_by_role("button", name="Headache now").click()
    attack_url = page.url
    page.goto(f"{base}/account")
    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("America/New_York")
    expect(status).to_contain_text("still going on moved to the new clock")
    problems = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
    assert not problems, problems
    shoot(page, "zone-moved")
    page.goto(attack_url.split("?")[0])
    page.get_by_role("button", name="It has stopped now").click()
    expect(page.locator(".error")).to_have_count(0)
    with engine.connect() as conn:
        ended = conn.execute(
            sa.text(
                'select a."start", a."end" from attacks a join users u'
                " on u.patient_id = a.patient_id where u.email = :e"
            ),
            {"e": f"kai-{size}@example.org"},
        ).one()
    assert ended[1] is not None
    shoot(page, "zone-moved-ended")
    context.close()
