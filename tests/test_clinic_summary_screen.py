"""The report's page 1 inside the clinician's patient page, in a real browser: it fits a
phone's width (no table or chart cut off at the panel's edge), it loads without a
Content-Security-Policy violation (the app allows no inline <style>), and it wears the
app's styles, not none."""

from __future__ import annotations

import pytest

from tests.test_browser import SIZES, browser, login, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

_OVERFLOW_JS = """() => {
  const panel = document.querySelector('.plr-p1').closest('.panel');
  const edge = panel.getBoundingClientRect().right;
  const out = [];
  const clipped = el => { for (let a = el; a && a !== panel; a = a.parentElement)
    if (getComputedStyle(a).clip !== 'auto') return true; return false; };  // visually hidden
  for (const el of panel.querySelectorAll('.plr-p1 *')) {
    if (clipped(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > edge + 1)
      out.push(el.tagName + ' ' + (el.textContent || '').slice(0, 30));
  }
  return {scroll: panel.scrollWidth - panel.clientWidth, out: out.slice(0, 8)};
}"""


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_page_one_in_the_clinic_fits_and_is_styled(
    server: str,  # noqa: F811
    browser,  # noqa: F811
    size: str,
) -> None:
    page = browser.new_page(viewport=SIZES[size])
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login(page, server, "clinician@demo.painlink")
    page.goto(f"{server}/clinic/patients/DEMO000001")
    page.locator(".plr-p1").wait_for()
    fit = page.evaluate(_OVERFLOW_JS)
    assert fit == {"scroll": 0, "out": []}, fit
    months = page.locator("#last-months").evaluate("e => e.scrollWidth - e.clientWidth")
    assert months == 0, "the last months' table is cut off at the panel's edge"
    assert not blocked, blocked
    # the chart is a light print figure: it keeps its aspect, inside the panel
    chart = page.locator(".plr-p1 .plr-chart img").bounding_box()
    panel = page.locator(".plr-p1").bounding_box()
    assert chart is not None and panel is not None
    assert chart["width"] <= panel["width"]
    # the topics box is framed, as on paper (the page's styles reach the fragment)
    border = page.locator(".plr-p1 .plr-topics").evaluate("e => getComputedStyle(e).borderTopWidth")
    assert border != "0px"
    page.close()


def test_page_one_table_headings_do_not_break_mid_word(server: str, browser) -> None:  # noqa: F811
    """On a phone a heading such as "Migraine" stays one word: a column's heading wraps
    between words ("Acute / med."), never inside one ("Migrai / ne"); a month's first
    date ("2025-01-21") stays on one line."""
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "clinician@demo.painlink")
    page.goto(f"{server}/clinic/patients/DEMO000001")
    broken = page.evaluate(
        """() => [...document.querySelectorAll(
            '.plr-p1 th, .plr-p1 table.plr-months td:first-child')].filter(th => {
          const r = document.createRange(); r.selectNodeContents(th);
          const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
          return lines.size > th.textContent.trim().split(/\\s+/).length;
        }).map(th => th.textContent)"""
    )
    assert broken == [], broken
    page.close()
