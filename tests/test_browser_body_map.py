"""The neck-and-back body map in a real browser: two places marked with the keyboard
alone, two more with taps at phone width, each with its own score and side; the
accessibility audit on the map empty, marked and refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_browser as tb  # skips this module too when Chromium is missing

pytestmark = pytest.mark.slow

from playwright.sync_api import Browser, Page, expect  # noqa: E402

# the live demo server and Chromium of tests/test_browser.py, shared
server = tb.server
browser = tb.browser
SIZES = tb.SIZES

WALK = Path("/tmp/shots-body")


def _register(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(f"{name.lower()}@example.org")
    page.get_by_label("Password").fill("lantern meadow quartz")
    page.get_by_role("button", name="Create my diary").click()
    expect(page.get_by_role("heading", name=re.compile("A few questions first"))).to_be_visible()


def _tab_to(page: Page, element_id: str, limit: int = 60, attr: str = "id") -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.{attr}") == element_id:
            return
    raise AssertionError(f"Tab never reached {attr}={element_id}")


def _walk(page: Page, name: str) -> None:
    WALK.mkdir(exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(WALK / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["phone"])


def _audit(page: Page) -> dict[str, list[str]]:
    found: dict[str, list[str]] = page.evaluate(tb._AUDIT_JS)
    return {kind: v for kind, v in found.items() if v}


def test_two_places_marked_with_the_keyboard_alone(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    _register(page, server, "Kira")
    page.goto(f"{server}/spine")
    expect(page.get_by_text("Nothing recorded yet")).to_be_visible()
    assert _audit(page) == {}
    _walk(page, "spine-empty")
    page.locator("body").focus()
    _tab_to(page, "pick-upper_cervical")
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name=re.compile("Upper neck"))).to_be_checked()
    for _ in range(3):  # lower neck, upper back, low back
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pick-lumbar"
    page.keyboard.press("Space")
    # the marked places' questions appear, in the order of the spine
    neck = page.get_by_role("group", name="Upper neck", exact=True)
    low = page.get_by_role("group", name="Low back", exact=True)
    expect(neck).to_be_visible()
    expect(low).to_be_visible()
    expect(page.get_by_role("group", name="Lower neck", exact=True)).to_be_hidden()
    _tab_to(page, "nrs_upper_cervical", limit=4, attr="name")  # how strong: 0, then arrows
    page.keyboard.press("Space")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    _tab_to(page, "side_upper_cervical", limit=1, attr="name")  # which side: Left
    page.keyboard.press("Space")
    _tab_to(page, "nrs_lumbar", limit=1, attr="name")  # the low back's, next
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    _tab_to(page, "side_lumbar", limit=1, attr="name")
    page.keyboard.press("Space")
    for _ in range(3):  # left → right → both sides → centre
        page.keyboard.press("ArrowRight")
    expect(neck.get_by_label("6", exact=True)).to_be_checked()
    expect(low.get_by_label("Centre")).to_be_checked()
    assert _audit(page) == {}
    _walk(page, "spine-keyboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Save"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved")
    entry = page.locator("#entries .spine-entry").first
    expect(entry).to_contain_text("Upper neck · left 6/10")
    expect(entry).to_contain_text("Low back · centre 3/10")
    expect(page.locator("#entries .spine-entry")).to_have_count(1)  # one entry, two places
    _walk(page, "spine-saved")
    page.close()


def test_two_places_marked_with_taps_at_phone_width(server: str, browser: Browser) -> None:
    context = browser.new_context(viewport=SIZES["phone"], has_touch=True, is_mobile=True)
    page = context.new_page()
    _register(page, server, "Lena")
    page.goto(f"{server}/spine")
    # a tap on the drawing itself marks the place
    page.locator("label[for=pick-thoracic] svg").tap()
    page.locator("label[for=pick-sacral_pelvic] svg").tap()
    expect(page.get_by_role("checkbox", name=re.compile("Upper and middle back"))).to_be_checked()
    back = page.get_by_role("group", name="Upper and middle back", exact=True)
    pelvis = page.get_by_role("group", name="Tailbone and pelvis", exact=True)
    back.get_by_text("7", exact=True).tap()
    back.get_by_text("Both sides").tap()
    pelvis.get_by_text("2", exact=True).tap()
    # a place tapped by mistake is untapped: its questions go, and it is not saved
    page.locator("label[for=pick-lower_cervical] svg").tap()
    page.get_by_role("group", name="Lower neck", exact=True).get_by_text("9", exact=True).tap()
    page.locator("label[for=pick-lower_cervical] svg").tap()
    expect(page.get_by_role("group", name="Lower neck", exact=True)).to_be_hidden()
    assert _audit(page) == {}
    tb.shoot(page, "spine")
    _walk(page, "spine-taps")
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    entry = page.locator("#entries .spine-entry").first
    expect(entry).to_contain_text("Upper and middle back · both sides 7/10")
    expect(entry).to_contain_text("Tailbone and pelvis 2/10")
    expect(entry).not_to_contain_text("Lower neck")
    # a marked place without a score is refused in words, and the marks stay
    page.locator("label[for=pick-lumbar] svg").tap()
    page.get_by_role("button", name="Save").tap()
    expect(page.locator("#nrs_lumbar-error")).to_contain_text("from 0 to 10")
    expect(page.get_by_role("checkbox", name=re.compile("Low back"))).to_be_checked()
    assert _audit(page) == {}
    _walk(page, "spine-error")
    context.close()


def test_a_diary_with_history_lists_its_episodes(server: str, browser: Browser) -> None:
    """Imported/simulated episodes (one region, a start and an end) list as entries."""
    page = browser.new_page(viewport=SIZES["phone"])
    listed = []
    for n in range(1, 5):
        page.context.clear_cookies()
        tb.login(page, server, f"patient{n}@demo.painlink")
        page.goto(f"{server}/spine")
        if page.locator("#entries .spine-entry").count():
            listed.append(n)
            entry = page.locator("#entries .spine-entry").first
            expect(entry.locator("svg.thumb")).to_be_visible()
            expect(entry).to_contain_text(re.compile(r"Upper neck.*/10"))
            expect(entry.locator("time")).to_contain_text(" to ")
            assert _audit(page) == {}
            _walk(page, "spine-demo")
    assert listed, "no demo diary holds neck or back pain"
    page.close()
