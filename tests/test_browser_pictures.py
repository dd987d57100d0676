"""The insights' pictures fill their panel on a desktop and fit a phone, in a real
browser, for the patient and for the clinician looking at the same diary.

At 1366 px the phone's picture (440 px) sat in the left half of a 934-px panel; the
page now loads the wide layout there (painlink.web.charts), as wide as the panel. At
390 px the phone's layout stays, no wider than the screen. A phone screen of two or
more device px to the CSS px loads the 2x pixels. Screenshots to SHOTS
(``pictures-*``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

# without Chromium, importing tests.test_browser skips this module as it skips its own
from tests.test_browser import SHOTS, browser, login, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
WHO = {"patient": ("patient1@demo.painlink", "/insights"),
       "clinician": ("clinician@demo.painlink", "/insights?patient=DEMO000001")}  # fmt: skip
#: each picture as drawn (naturalWidth: CSS px, density-corrected) and as shown, beside
#: the inner width of the panel it sits in
_MEASURE = """async () => { const out = [];
  for (const img of document.querySelectorAll('img.plot')) {
    img.scrollIntoView(); await img.decode();
    const panel = img.closest('.panel'), cs = getComputedStyle(panel);
    const box = img.getBoundingClientRect();
    out.push({src: img.currentSrc.replace(location.origin, ''), alt: img.alt,
              natural: img.naturalWidth, shown: box.width, right: box.right,
              panel: panel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)});
  }
  return out; }"""


def _pictures(page: Page, url: str) -> list[dict]:
    page.goto(url)
    expect(page.locator("img.plot").first).to_be_visible()
    found: list[dict] = page.evaluate(_MEASURE)
    assert found
    return found


@pytest.mark.parametrize("who", WHO)
def test_pictures_fill_the_panel_on_a_desktop_and_fit_a_phone(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    who: str,
) -> None:
    from painlink.web import charts

    email, path = WHO[who]
    page = browser.new_page(viewport=VIEWPORTS["phone"])
    login(page, server, email)
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for p in _pictures(page, server + path):
            assert p["alt"], p  # the words for a screen reader stay
            assert p["shown"] <= p["panel"] + 0.5 and p["right"] <= viewport["width"], p
            # the smallest text drawn, in CSS px, as the browser scales the picture
            smallest = charts.MIN_FONT_PT * charts.DPI / 72 * min(1.0, p["shown"] / p["natural"])
            assert smallest >= 12, (p, smallest)
            if size == "desktop":  # was 440 of 934 px: the phone's picture
                assert p["shown"] >= 0.8 * p["panel"], p
                assert "layout=wide" in p["src"], p
            else:
                assert "layout=wide" not in p["src"], p
        assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
        page.locator("img.plot").first.evaluate("e => e.closest('section').scrollIntoView()")
        page.screenshot(path=str(SHOTS / f"pictures-{who}-{size}.png"))
    page.close()


def test_a_phone_screen_gets_the_pictures_crisp(server: str, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS["phone"], device_scale_factor=3)
    page = context.new_page()
    login(page, server, WHO["patient"][0])
    for p in _pictures(page, server + WHO["patient"][1]):
        assert "density=2" in p["src"] and "layout=wide" not in p["src"], p
        assert p["natural"] == 440, p  # CSS px: the 880 pixels are its 2x
    context.close()
