# ruff: noqa: F811  (the fixtures imported from tests/test_browser.py are parameters here)
"""Words and pictures at phone width, in a real browser (issue 12, points 10 and 11).

The insights' pictures as Chromium lays them out at 390 px: their smallest text is
at least 12 CSS px. A confirmation after a save is on screen where the person is
(a factor added at the bottom of the check-in, a check-in saved from its button).
The phone header is compact, with Log out in the account menu; the clinician's list
fits 390 px without sideways scrolling. Screenshots go to tests/artifacts/screenshots
(``words-*``) like the other browser tests'.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, SHOTS, SIZES, login

pytestmark = pytest.mark.slow

if not Path(CHROMIUM).exists():  # as tests/test_browser.py: skipped without Chromium
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.test_browser import browser, server  # noqa: E402, F401  (fixtures)

_AUDIT_JS = (Path(__file__).parent / "a11y_audit.js").read_text()


def _in_view(page: Page, selector: str) -> bool:
    """Whether the element is inside the viewport as the page now stands."""
    return bool(
        page.evaluate(
            """(sel) => { const e = document.querySelector(sel); if (!e) return false;
            const r = e.getBoundingClientRect();
            return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }""",
            selector,
        )
    )


def test_pictures_text_is_at_least_12px_on_a_phone(server: str, browser: Browser) -> None:
    from painlink.web import charts

    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient1@demo.painlink")
    page.goto(f"{server}/insights")
    images = page.locator("img.plot")
    expect(images.first).to_be_visible()
    sizes = page.evaluate(
        """async () => { const out = [];
        for (const img of document.querySelectorAll('img.plot')) {
          img.scrollIntoView(); await img.decode();
          out.push([img.getAttribute('src'), img.naturalWidth, img.clientWidth]); }
        return out; }"""
    )
    assert sizes
    for src, natural, shown in sizes:
        assert natural > 0, src
        # the smallest text drawn in the PNG, in image px, as the browser scales it
        smallest = charts.MIN_FONT_PT * charts.DPI / 72 * min(1.0, shown / natural)
        assert smallest >= 12, (src, natural, shown, smallest)
        assert shown <= 390, (src, shown)
    page.screenshot(path=str(SHOTS / "words-insights-phone.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.close()


def test_a_confirmation_appears_where_the_person_is(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient3@demo.painlink")
    page.goto(f"{server}/checkin")
    # a factor added at the very bottom of the check-in
    page.get_by_text("Track something of your own").click()
    page.get_by_label("Name", exact=True).fill("Käse")
    page.get_by_role("button", name="Add", exact=True).click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Added")
    assert _in_view(page, "[role=status]"), "the confirmation is off screen"
    expect(page.get_by_text("Käse").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "words-factor-added-phone.png"))
    # a check-in saved from its button, far down the form
    page.get_by_role("button", name="Save check-in").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert _in_view(page, "[role=status]"), "the confirmation is off screen"
    page.close()


def test_phone_header_is_compact_with_log_out_in_the_account_menu(
    server: str, browser: Browser
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient2@demo.painlink")
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] <= 110, header
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_hidden()  # not in the header row itself
    page.locator(".account-menu summary").click()
    expect(log_out).to_be_visible()
    page.screenshot(path=str(SHOTS / "words-account-menu-phone.png"))
    problems = page.evaluate(_AUDIT_JS)
    assert not {k: v for k, v in problems.items() if v}, problems
    log_out.click()
    expect(page.get_by_label("Email")).to_be_visible()
    page.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_clinic_list_fits_the_screen(server: str, browser: Browser, size: str) -> None:
    page = browser.new_page(viewport=SIZES[size])
    login(page, server, "clinician@demo.painlink")
    expect(page.get_by_role("heading", name="Patients who share")).to_be_visible()
    width = SIZES[size]["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"words-clinic-{size}.png"), full_page=True)
    page.close()
