"""Correcting the diary in a real browser at phone width: edit → delete → undo, and the
clinician's "corrected" mark (issue 12 point 2). Screenshots go to SHOTS (both widths)."""

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


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["phone"])


def test_an_entry_is_edited_deleted_and_restored_at_phone_width(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "patient1@demo.painlink")
    page.get_by_role("link", name="Correct or delete an entry").click()
    expect(page.get_by_role("heading", name="Your entries")).to_be_visible()
    problems = {"entries": page.evaluate(_AUDIT_JS)}
    shoot(page, "entries")
    # edit the newest headache: it was worse than entered
    first = page.locator("li.entry", has_text="Headache").first
    first.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.get_by_role("heading", name="Correct: headache")).to_be_visible()
    problems["edit"] = page.evaluate(_AUDIT_JS)
    page.get_by_label("At its worst (in words)", exact=True).select_option("3")
    page.get_by_label("Notes").fill("woke up with it")
    shoot(page, "entry-edit")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("Corrected")
    # a bad value is shown beside its field, and nothing typed is lost
    page.locator("li.entry", has_text="Daily check-in").first.get_by_role(
        "link", name=re.compile("^Edit")
    ).click()
    page.get_by_label("Stress today (0–10)").fill("14")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator("#stress-error")).to_be_visible()
    expect(page.get_by_label("Stress today (0–10)")).to_have_value("14")
    shoot(page, "entry-edit-error")
    page.get_by_role("link", name="Cancel").click()
    # delete the newest entry; the page after offers Undo, and Undo brings it back
    first_text = page.locator("li.entry").first.inner_text()
    page.locator("li.entry").first.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("status")).to_contain_text("Deleted")
    expect(page.locator("li.entry").first).not_to_have_text(first_text)
    problems["undo"] = page.evaluate(_AUDIT_JS)
    shoot(page, "entry-deleted")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Restored")
    expect(page.locator("li.entry").first).to_have_text(first_text)
    page.close()
    # the clinician sees that entries were corrected, and when
    page = browser.new_page(viewport=SIZES["phone"])
    login(page, server, "clinician@demo.painlink")
    page.locator("table tbody tr a").first.click()
    section = page.locator("#corrections")
    expect(section).to_contain_text("corrected")
    expect(section).to_contain_text("deleted, then restored")
    problems["clinic patient"] = page.evaluate(_AUDIT_JS)
    shoot(page, "clinic-patient-corrections")
    page.close()
    found = {k: {kind: v for kind, v in p.items() if v} for k, p in problems.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
