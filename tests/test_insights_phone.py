"""The insights page's trigger section on a phone: the verdict table and the
clinicians' table (own vs pooled estimate) fit the panel with the details open, so
no column hides behind a sideways scroll nobody sees."""

from __future__ import annotations

import pytest

from painlink.rules.triggers import EXPLANATIONS as TRIGGER_EXPLANATIONS
from tests.test_browser import _AUDIT_JS, SIZES, browser, login, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("patient2@demo.painlink", "/insights"),
        ("clinician@demo.painlink", "/insights?patient=DEMO000002"),
    ],
)
def test_the_trigger_tables_fit_a_phone(
    server: str,  # noqa: F811
    browser,  # noqa: F811
    email: str,
    path: str,
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, email)
    page.goto(f"{server}{path}")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    panel = page.locator("section.panel").filter(
        has=page.get_by_role("heading", name="Possible triggers and protectors")
    )
    assert panel.locator("table").count() == 2, "demo patient 2 has calls: both tables show"
    # a call is an association: what else it may be is said beside it
    assert "Other possible explanations" in panel.inner_text()
    assert panel.locator("ul.trigger-explanations li").count() == len(TRIGGER_EXPLANATIONS)
    assert "how the day was rated" in panel.inner_text()
    # "no association" that did not look at the same day says so, and why
    untested = panel.locator("#same-day-untested li")
    assert untested.count() >= 1 and "screen time" in untested.first.inner_text()
    assert "own day" in untested.first.inner_text()
    cut = panel.evaluate("p => p.scrollWidth - p.clientWidth")
    assert cut == 0, f"{cut} px of the trigger tables hidden to the right"
    found = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
    assert not found, found
    page.close()
