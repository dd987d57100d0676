"""The report buttons in a real browser: a patient and their clinician each click once
and get a PDF whose first page is the summary (Debian's Chromium, Playwright)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_browser import _AUDIT_JS, SIZES, browser, login, server, shoot  # noqa: F401

pytestmark = pytest.mark.slow

from playwright.sync_api import Browser, expect  # noqa: E402


def _first_page_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_patient_and_clinician_download_the_report(
    server: str,  # noqa: F811  (the fixture)
    browser: Browser,  # noqa: F811
    size: str,
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport=SIZES[size], accept_downloads=True)
    login(page, server, "patient1@demo.painlink")
    page.goto(f"{server}/insights")
    button = page.get_by_role("link", name="Report for my doctor (PDF)")
    expect(button).to_be_visible()
    problems = page.evaluate(_AUDIT_JS)
    assert not any(problems.values()), problems
    shoot(page, "insights-report-button")
    with page.expect_download() as got:
        button.click()
    saved = tmp_path / "mine.pdf"
    got.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = _first_page_text(saved)
    assert not text or ("Topics worth discussing" in text and "Red flags" in text)
    page.close()

    page = browser.new_page(viewport=SIZES[size], accept_downloads=True)
    login(page, server, "clinician@demo.painlink")
    page.locator("table tbody tr a").first.click()
    button = page.get_by_role("link", name="Report (PDF)")
    expect(button).to_be_visible()
    with page.expect_download() as got:
        button.click()
    saved = tmp_path / "patient.pdf"
    got.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    page.close()
