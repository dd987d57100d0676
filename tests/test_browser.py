"""The web app in a real browser (Debian's Chromium driven by Playwright).

Screenshots of every main page at phone and desktop width go to
``tests/artifacts/screenshots/`` — look at them before changing the UI.
Skipped when Chromium is not installed, unless PAINLINK_REQUIRE_BROWSER=1 (set by
scripts/test, which installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
pytestmark = pytest.mark.slow  # a real Chromium: the full run, not the quick loop

if not Path(CHROMIUM).exists():
    if os.environ.get("PAINLINK_REQUIRE_BROWSER") == "1":
        raise RuntimeError(
            "Chromium is required (PAINLINK_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing"
        )
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from painlink.cli.demo_seed import DEMO_PASSWORD  # noqa: E402
from tests.live_server import demo_database, serving  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings

    url = demo_database(tmp_path_factory.mktemp("web"), "browser.db")
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def shoot(page: Page, name: str) -> None:
    """Save the page at both widths (the current one first, then the other)."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["phone"])


def login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_new_patient_logs_an_attack_in_three_taps_and_checks_in(
    server: str, browser: Browser
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    page.goto(server)
    shoot(page, "login")
    page.get_by_role("link", name="Create a diary").click()
    page.get_by_label("Your name").fill("Mara")
    page.get_by_label("Email").fill("mara@example.org")
    page.get_by_label("Password").fill("password1234")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.locator("#password-error")).to_contain_text("too easy to guess")
    expect(page.locator("#password-error")).to_contain_text("passphrase")
    expect(page.get_by_label("Your name")).to_have_value("Mara")  # nothing typed is lost
    shoot(page, "register-error")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Create my diary").click()
    # the history questions come first, and can be skipped; "not sure" stays unknown
    expect(page.get_by_role("heading", name="Welcome. A few questions first")).to_be_visible()
    page.get_by_label("How old were you when your headaches began?").fill("16")
    page.get_by_role("group", name=re.compile("family have migraine")).get_by_label(
        "Yes", exact=True
    ).check()
    page.get_by_role("group", name=re.compile("ever had cancer")).get_by_label(
        "No", exact=True
    ).check()
    shoot(page, "history")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your history is saved")
    expect(page.get_by_role("button", name="Headache now")).to_be_visible()
    shoot(page, "home")

    taps = 0
    page.get_by_role("button", name="Headache now").click()
    taps += 1
    page.get_by_role("button", name="Severe").click()
    taps += 1
    expect(page.get_by_role("status")).to_contain_text("Saved: severe")
    assert taps <= 3
    shoot(page, "attack-new")

    page.get_by_role("link", name="Back home").click()
    expect(page.get_by_role("heading", name=re.compile("Headache since"))).to_be_visible()
    page.get_by_role("link", name="How bad now?").click()
    page.get_by_role("button", name="Moderate").click()
    expect(page.get_by_role("status")).to_contain_text("Worst so far: severe")
    expect(page.locator(".readings li")).to_have_count(2)
    shoot(page, "attack-ongoing")
    page.get_by_role("link", name="Back home").click()
    page.get_by_role("button", name="It has stopped").click()
    expect(page.get_by_role("heading", name=re.compile("Headache since"))).to_have_count(0)

    page.get_by_role("link", name="Check-in").first.click()
    page.get_by_label("Coffee (cups)").fill("99")
    page.get_by_role("button", name="Save check-in").click()
    expect(page.locator("#coffee_cups-error")).to_be_visible()
    shoot(page, "checkin-error")
    page.get_by_text("Track something of your own").click()
    page.get_by_label("Name").fill("red wine")
    page.get_by_role("button", name="Add").click()
    page.get_by_role("group", name="red wine").get_by_label("yes").check()
    page.get_by_label("Coffee (cups)").fill("1")
    page.get_by_label("Stress today").fill("6")
    page.get_by_label("Sleep last night (hours)").fill("6.5")
    page.get_by_role("button", name="Save check-in").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    shoot(page, "checkin")

    page.goto(f"{server}/spine")
    page.get_by_role("checkbox", name=re.compile("Upper neck")).check()
    neck = page.get_by_role("group", name="Upper neck", exact=True)
    neck.get_by_label("Left").check()
    neck.get_by_label("5", exact=True).check()
    shoot(page, "spine")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")

    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("grid")).to_be_visible()
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights")).to_be_visible()
    page.close()


def test_red_flag_answer_shows_emergency_advice_first(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient4@demo.painlink")
    page.get_by_role("button", name="Headache now").click()
    page.get_by_role("group", name="How fast did it reach its worst?").get_by_label(
        "Within a minute"
    ).check()
    page.get_by_role("button", name="Check").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Call emergency services now")
    first = page.locator("main > *").first
    expect(first).to_have_attribute("role", "alert")
    shoot(page, "emergency")
    page.close()


def test_attack_check_asks_apart_and_not_sure_stays_unknown(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient3@demo.painlink")
    page.get_by_role("button", name="Headache now").click()
    safety = page.locator("#safety")
    expect(safety.locator("input:checked")).to_have_count(0)  # nothing pre-chosen
    shoot(page, "attack-safety")
    page.get_by_role("group", name=re.compile("fever")).get_by_label("Not sure").check()
    page.get_by_role("group", name=re.compile("neck stiff")).get_by_label("No", exact=True).check()
    page.get_by_role("group", name=re.compile("better lying flat")).get_by_label("Yes").check()
    page.get_by_label("Upper number (mmHg)").fill("128")
    page.get_by_label("Lower number (mmHg)").fill("84")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="See a doctor today")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("eases lying down")
    shoot(page, "urgent")
    page.close()


def test_patient_with_history_sees_calendar_and_insights(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient1@demo.painlink")
    page.goto(f"{server}/calendar?month=2025-03")
    expect(page.locator(".day.migraine").first).to_be_visible()
    shoot(page, "calendar")
    page.goto(f"{server}/insights")
    expect(page.get_by_text("What kind of headache")).to_be_visible()
    expect(page.get_by_text("Associations in your diary, not proof of cause.")).to_be_visible()
    shoot(page, "insights")
    page.close()


def test_clinician_sees_consented_patients_only(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["desktop"])
    login(page, server, "clinician@demo.painlink")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)  # 4 demo patients, the last two do not share
    expect(page.get_by_role("link", name=re.compile("DEMO000004|simulated"))).to_have_count(2)
    shoot(page, "clinic")
    page.locator("table tbody tr a").first.click()
    expect(page.get_by_role("heading", name="Diagnoses (ICHD-3, from the diary)")).to_be_visible()
    page.get_by_role("link", name="Questionnaires").click()  # the forms live in their tabs
    page.get_by_label("Instrument").select_option("hit6")
    for i, value in enumerate(["13", "11", "11", "10", "13", "11"], 1):
        page.get_by_label(f"Item {i}", exact=True).fill(value)
    page.get_by_role("button", name="Score and save").click()
    expect(page.locator("#questionnaires table")).to_contain_text("69.0 points")
    page.get_by_role("link", name="Screens").click()
    page.get_by_role("group", name="Neck stiffness").get_by_label("Yes").check()
    page.get_by_role("button", name="Screen and save").click()
    expect(page.locator("#screens")).to_contain_text("intake")
    shoot(page, "clinic-patient")
    for size, viewport in SIZES.items():  # the intake form alone, to look at it closely
        page.set_viewport_size(viewport)
        page.locator("#intake").screenshot(path=str(SHOTS / f"intake-{size}.png"))
    response = page.goto(f"{server}/clinic/patients/DEMO000004")
    assert response is not None and response.status == 404
    page.close()


def test_password_change_two_step_sign_in_and_admin_reset(server: str, browser: Browser) -> None:
    import pyotp

    audits: dict[str, dict[str, list[str]]] = {}
    page = browser.new_page(viewport=SIZES["phone"])
    page.goto(f"{server}/register")
    page.get_by_label("Your name").fill("Nell")
    page.get_by_label("Email").fill("nell@example.org")
    page.get_by_label("Password").fill("walnut glacier tuesday")
    page.get_by_role("button", name="Create my diary").click()
    page.goto(f"{server}/account")
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("walnut glacier tuesday")
    page.get_by_label("New password", exact=True).fill("nell@example.org")
    page.get_by_label("New password again").fill("nell@example.org")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new-error")).to_contain_text("e-mail")
    shoot(page, "password-error")
    page.get_by_label("Current password").fill("walnut glacier tuesday")
    page.get_by_label("New password", exact=True).fill("pebble comet saffron")
    page.get_by_label("New password again").fill("pebble comet saffron")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    page.goto(f"{server}/account")
    page.get_by_role("link", name=re.compile("Two-step sign-in")).click()
    expect(page.locator(".qr svg")).to_be_visible()
    shoot(page, "twofa")
    audits["twofa"] = page.evaluate(_AUDIT_JS)
    secret = page.locator("code.secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Type the 6-digit code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("ul.codes li")).to_have_count(10)
    shoot(page, "twofa-codes")
    audits["twofa-codes"] = page.evaluate(_AUDIT_JS)
    page.locator(".account-menu summary").click()  # Log out lives in the account menu
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill("nell@example.org")
    page.get_by_label("Password").fill("pebble comet saffron")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    shoot(page, "login-totp")
    audits["login-totp"] = page.evaluate(_AUDIT_JS)
    page.get_by_label("The 6-digit code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Headache now")).to_be_visible()
    page.close()

    page = browser.new_page(viewport=SIZES["desktop"])
    page.goto(f"{server}/password/forgot")
    expect(page.get_by_text("Ask your clinic's painlink administrator")).to_be_visible()
    shoot(page, "forgot")
    audits["forgot"] = page.evaluate(_AUDIT_JS)
    login(page, server, "admin@demo.painlink")
    page.get_by_label("Account e-mail").fill("nell@example.org")
    page.get_by_label(re.compile("also remove their two-step sign-in")).check()
    page.get_by_role("button", name="Make a reset link").click()
    link = page.locator("code.secret").inner_text().strip()
    shoot(page, "admin-reset")
    audits["admin-reset"] = page.evaluate(_AUDIT_JS)
    page.close()
    page = browser.new_page(viewport=SIZES["phone"])
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("velvet anchor drizzle")
    page.get_by_label("New password again").fill("velvet anchor drizzle")
    shoot(page, "reset")
    audits["reset"] = page.evaluate(_AUDIT_JS)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Log in with the new one")
    page.get_by_label("Email").fill("nell@example.org")
    page.get_by_label("Password").fill("velvet anchor drizzle")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Headache now")).to_be_visible()
    page.close()
    found = {k: {kind: v for kind, v in p.items() if v} for k, p in audits.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_screenshots_cover_every_main_page() -> None:
    names = {p.name.rsplit("-", 1)[0] for p in SHOTS.glob("*.png")}
    assert {
        "login",
        "history",
        "home",
        "attack-new",
        "attack-ongoing",
        "attack-safety",
        "emergency",
        "urgent",
        "checkin",
        "calendar",
        "insights",
        "clinic",
        "clinic-patient",
        "password-error",
        "twofa",
        "twofa-codes",
        "login-totp",
        "forgot",
        "admin-reset",
        "reset",
    } <= names
    assert shutil.which("chromium") or Path(CHROMIUM).exists()


_AUDIT_JS = (Path(__file__).parent / "a11y_audit.js").read_text()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_main_pages_have_labels_contrast_and_big_targets(
    server: str, browser: Browser, size: str
) -> None:
    """WCAG AA text contrast (4.5:1, large text 3:1), a name on every control, and
    targets at least 44 px high, on every main page, patient and clinician."""
    page = browser.new_page(viewport=SIZES[size])
    problems = {}
    page.goto(f"{server}/login")
    problems["login"] = page.evaluate(_AUDIT_JS)
    page.goto(f"{server}/register")
    problems["register"] = page.evaluate(_AUDIT_JS)
    page.goto(f"{server}/password/forgot")
    problems["forgot"] = page.evaluate(_AUDIT_JS)
    login(page, server, "patient1@demo.painlink")
    for path in (
        "/account/password",
        "/account/2fa",
        "/home",
        "/checkin",
        "/spine",
        "/history",
        "/calendar",
        "/insights",
        "/sharing",
        "/account",
    ):
        page.goto(f"{server}{path}")
        problems[path] = page.evaluate(_AUDIT_JS)
    page.goto(f"{server}/home")
    start = page.get_by_role("button", name="Headache now")
    if start.count():
        start.click()
    else:  # one attack at a time: at the second width the first one is still open
        page.get_by_role("link", name=re.compile("How bad now")).click()
    problems["attack"] = page.evaluate(_AUDIT_JS)
    page.close()
    page = browser.new_page(viewport=SIZES[size])
    login(page, server, "clinician@demo.painlink")
    problems["clinic"] = page.evaluate(_AUDIT_JS)
    page.locator("table tbody tr a").first.click()
    problems["clinic patient"] = page.evaluate(_AUDIT_JS)
    page.close()
    page = browser.new_page(viewport=SIZES[size])
    login(page, server, "admin@demo.painlink")
    problems["admin"] = page.evaluate(_AUDIT_JS)
    page.close()
    found = {k: {kind: v for kind, v in p.items() if v} for k, p in problems.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_an_attack_can_be_logged_with_the_keyboard_alone(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient2@demo.painlink")
    for _ in range(30):  # Tab until "Headache now" has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "headache-now":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Severe")).to_be_visible()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()").startswith("Severe"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved: severe")
    page.close()
