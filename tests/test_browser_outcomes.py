"""Attack duration and intensity beside the rate rows, in a real browser: on the
patient's insights at phone width each outcome's sentence gets the panel's width (it
was squeezed into a column beside its name, nine lines tall), reads in plain words and
ends with its verdict; on the clinician's outcomes tab the effect is written as the
rate ratios are. The accessibility audit passes on both, at both widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.test_browser import _AUDIT_JS, SIZES, browser, login, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def _audit(page: Page) -> dict[str, list[str]]:
    found = {}
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        found.update({f"{size}: {k}": v for k, v in page.evaluate(_AUDIT_JS).items() if v})
    page.set_viewport_size(SIZES["phone"])
    return found


def test_the_patient_reads_each_attack_change_across_the_phone(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient1@demo.painlink")
    page.goto(f"{server}/insights")
    panel = page.locator("section.panel").filter(
        has=page.get_by_role("heading", name="Before and during treatment")
    )
    duration = panel.locator("tr").filter(has_text="attack duration")
    intensity = panel.locator("tr").filter(has_text="attack intensity")
    migraine_days = panel.locator("tr").filter(has_text="migraine days")
    for row in (duration, intensity, migraine_days):
        expect(row).to_have_count(1)
    for row in (duration, intensity, migraine_days):
        words = row.locator("td").nth(1)
        share = words.evaluate("td => td.getBoundingClientRect().width / td.closest('table')"
                               ".getBoundingClientRect().width")  # fmt: skip
        assert share > 0.9, f"the sentence has {share:.0%} of the phone's width"
        text = words.inner_text()
        assert re.search(
            r"\)\. (No clear change|Shorter|Longer|Milder|More severe|Fewer|More)", text
        ), text
        assert "-0.0" not in text and "+0.0" not in text
    expect(duration).to_contain_text(re.compile(r"\d+% (longer|shorter)|times as long"))
    expect(intensity).to_contain_text(re.compile(r"(higher|lower|about the same) \(somewhere"))
    expect(migraine_days).to_contain_text(re.compile(r"\d+% (fewer|more) \(somewhere"))
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    found = _audit(page)
    assert not found, found
    page.close()


def test_the_clinician_reads_the_effect_as_the_rate_ratios_are_written(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "clinician@demo.painlink")
    page.goto(f"{server}/clinic/patients/DEMO000001?tab=outcomes")
    rows = page.locator("#outcomes tbody tr")
    duration = rows.filter(has_text="attack duration").locator("td[data-label=Effect]")
    intensity = rows.filter(has_text="attack intensity").locator("td[data-label=Effect]")
    rate = rows.filter(has_text="migraine days").locator("td[data-label=Effect]")
    expect(rate).to_contain_text(re.compile(r"95% CI \d\.\d\d–\d\.\d\d\)"))
    expect(duration).to_have_text(
        re.compile(r"^ratio of geometric mean duration \d\.\d\d \(95% CI \d\.\d\d–\d\.\d\d\)$")
    )
    expect(intensity).to_have_text(
        re.compile(r"^difference in mean intensity \(0–3\) ([+-]\d\.\d\d|0\.00) "
                   r"\(95% CI ([+-]\d\.\d\d|0\.00) to ([+-]\d\.\d\d|0\.00)\)$")
    )  # fmt: skip
    found = _audit(page)
    assert not found, found
    page.close()
