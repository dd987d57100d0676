"""The clinician's patient page in a real browser (issue 14, item 5): the summary
first, the sections as tabs that a URL names and a reload keeps, the "last months"
table with the newest months, and the intake pre-filled from the patient's own
history. Both widths, the accessibility audit on every tab; screenshots to SHOTS."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

# without Chromium, importing tests.test_browser skips this module as it skips its own
from tests.test_browser import _AUDIT_JS, SIZES, browser, login, server  # noqa: F401

pytestmark = pytest.mark.slow
SHOTS = Path(os.environ.get("PAINLINK_SHOTS", Path(__file__).parent / "artifacts" / "screenshots"))
TABS = ("Summary", "Attacks", "Medications", "Check-ins and notes", "Neck and back", "Screens",
        "Exams", "Questionnaires", "Outcomes")  # fmt: skip


def shoot(page: Page, name: str) -> dict[str, dict[str, list[str]]]:
    """Screenshots at both widths; the audit's findings at each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        found[size] = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
    page.set_viewport_size(SIZES["phone"])
    return {k: v for k, v in found.items() if v}


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Patient sections").get_by_role(
        "link", name=name, exact=True
    ).click()


def test_the_workspace_leads_with_the_summary_and_keeps_its_tab(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "clinician@demo.painlink")
    page.locator("table tbody tr a").first.click()
    problems = {}
    # the summary leads; a phone no longer scrolls through every form to reach it
    expect(page.get_by_role("heading", name="Last months")).to_be_visible()
    # (the summary grows with what the diary shows — a neck/back finding adds a
    # paragraph — but stays far shorter than every form one after another)
    assert page.evaluate("document.documentElement.scrollHeight") < 4500
    newest = page.locator("#last-months tbody tr").first.locator("td").first.inner_text()
    problems["summary"] = shoot(page, "workspace-summary")
    nav = page.get_by_role("navigation", name="Patient sections")
    expect(nav.get_by_role("link")).to_have_count(len(TABS))
    expect(nav.locator("[aria-current=page]")).to_have_text("Summary")
    # the medication tab lists every month newest first: the summary's first is its first
    tab(page, "Medications")
    expect(page).to_have_url(re.compile(r"\?tab=medications$"))
    first_month = page.locator("#medications tbody tr").first.locator("td").first
    expect(first_month).to_have_text(newest)
    problems["medications"] = shoot(page, "workspace-medications")
    # attacks: newest first, paged; the tab survives a reload and the pager
    tab(page, "Attacks")
    starts = page.locator("tr.attack td:first-child").all_inner_texts()
    assert starts and starts == sorted(starts, reverse=True)
    page.reload()
    expect(nav.locator("[aria-current=page]")).to_have_text("Attacks")
    problems["attacks"] = shoot(page, "workspace-attacks")
    older = page.get_by_role("link", name="Older")
    if older.count():
        older.click()
        later = page.locator("tr.attack td:first-child").first.inner_text()
        assert later < starts[-1]
        expect(nav.locator("[aria-current=page]")).to_have_text("Attacks")
    # a tab is reached and opened with the keyboard alone
    page.goto(page.url.split("?")[0])
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Outcomes":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?tab=outcomes$"))
    expect(page.get_by_role("heading", name="Before and during treatment")).to_be_visible()
    assert "[unverified]" not in page.content()
    for name in TABS[3:]:
        tab(page, name)
        expect(nav.locator("[aria-current=page]")).to_have_text(
            re.compile(name.replace("naires", "\u00ad?naires"))
        )
        problems[name] = shoot(page, "workspace-" + name.lower().replace(" ", "-"))
    page.close()
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_the_intake_is_prefilled_from_the_patients_history_and_saves_in_its_tab(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient1@demo.painlink")
    pid = page.request.get(f"{server}/api/me").json()["patient_id"]
    page.goto(f"{server}/history")
    page.get_by_role("group", name="Have you ever had cancer?").get_by_label("Yes").check()
    page.get_by_role("group", name=re.compile("headaches changed recently")).get_by_label(
        "Yes"
    ).check()
    page.get_by_role("button", name="Save").click()
    page.close()
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "clinician@demo.painlink")
    page.goto(f"{server}/clinic/patients/{pid}?tab=screens")
    expect(page.get_by_text("Pre-filled from the patient's own history")).to_be_visible()
    cancer = page.get_by_role("group", name="History of cancer")
    expect(cancer.get_by_label("Yes")).to_be_checked()
    expect(
        page.get_by_role("group", name="Change in the usual pattern").get_by_label("Yes")
    ).to_be_checked()
    fever = page.get_by_role("group", name="Fever")  # not in the history: left unanswered
    expect(fever.get_by_label("Yes")).not_to_be_checked()
    expect(fever.get_by_label("No", exact=True)).not_to_be_checked()
    problems = shoot(page, "workspace-intake-prefilled")
    page.get_by_label("Age", exact=True).fill("58")
    page.get_by_role("button", name="Screen and save").click()
    expect(page).to_have_url(re.compile(r"tab=screens"))
    result = page.locator("#screen-result")
    expect(result).to_contain_text("SNNOOP10")  # the criterion, named
    expect(result).not_to_contain_text("See a doctor")  # not the patient's words
    problems.update(shoot(page, "workspace-intake-result"))
    page.close()
    assert not problems, problems
