"""Medication entry in a real Chromium (issue 12, point 5): a brand name with its dose,
an unknown drug's kind, the intake on the attack with its time, "did it help?" once two
hours have passed, and preventives on their own page — each page passing the
accessibility audit at phone and desktop width."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from tests.test_browser import _AUDIT_JS, SIZES, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
from playwright.sync_api import Browser, Page, expect  # noqa: E402

SHOTS = Path(os.environ.get("PAINLINK_SHOTS", Path(__file__).parent / "artifacts" / "screenshots"))


def _shoot(page: Page, name: str) -> dict[str, dict]:
    """Screenshots at both widths, and the accessibility audit's findings at each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        problems = page.evaluate(_AUDIT_JS)
        found[f"{name} {size}"] = {k: v for k, v in problems.items() if v}
    page.set_viewport_size(SIZES["phone"])
    return {k: v for k, v in found.items() if v}


def test_medication_entry_from_brand_name_to_did_it_help(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    page.goto(f"{server}/register")
    page.get_by_label("Your name").fill("Nell")
    page.get_by_label("Email").fill("nell@example.org")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Create my diary").click()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Headache now").click()
    page.get_by_role("button", name="Moderate").click()
    problems = {}

    drug = page.get_by_label("What did you take?")
    drug.fill("Maxalt 10")
    page.get_by_role("button", name="Save: I took it").click()
    intakes = page.locator(".intakes li")
    expect(intakes).to_have_count(1)
    expect(intakes.first).to_contain_text("rizatriptan 10 mg")
    expect(page.get_by_role("status").first).to_contain_text("Saved: rizatriptan")

    # an unknown drug asks its kind, in plain words
    page.get_by_label("What did you take?").fill("Feverfew tea")
    page.get_by_role("button", name="Save: I took it").click()
    expect(page.locator("#class-error")).to_contain_text("choose its kind")
    problems |= _shoot(page, "medication-kind")
    page.get_by_label("What kind of medicine is it?").select_option(
        label="Another medicine for the pain (not sure what kind)"
    )
    page.get_by_role("button", name="Save: I took it").click()
    expect(intakes).to_have_count(2)

    # taken three hours before the attack was logged: "did it help?" is asked at once
    heading = page.get_by_role("heading", level=1).inner_text()
    started = re.search(r"(\d\d) (\w{3}), (\d\d):(\d\d)", heading)
    assert started, heading
    day, month, hour, minute = started.groups()
    now = dt.datetime.strptime(
        f"{dt.date.today().year} {month} {day} {hour}:{minute}", "%Y %b %d %H:%M"
    )
    earlier = now - dt.timedelta(hours=3)
    page.get_by_label("What did you take?").fill("Advil 2x200 mg")
    page.get_by_text("Taken earlier?").click()
    page.get_by_label("When did you take it?").fill(earlier.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save: I took it").click()
    expect(page.locator(".intakes li").first).to_contain_text("ibuprofen 400 mg")
    expect(page.locator(".intakes li").first).to_contain_text(earlier.strftime("%H:%M"))
    ask = page.get_by_role("heading", name=re.compile("Did the ibuprofen you took"))
    expect(ask).to_be_visible()
    problems |= _shoot(page, "medication-attack")
    page.goto(f"{server}/home")
    expect(page.get_by_role("heading", name=re.compile("Did the ibuprofen"))).to_be_visible()
    problems |= _shoot(page, "medication-home")
    page.get_by_role("button", name="Better, not gone").click()
    expect(page.get_by_role("status").first).to_contain_text("saved")
    expect(page.get_by_role("heading", name=re.compile("Did the ibuprofen"))).to_have_count(0)

    # a preventive is refused on the attack and kept on its own page
    page.get_by_role("link", name=re.compile("How bad now")).click()
    expect(page.locator(".intakes li").first).to_contain_text("better, not gone")
    page.get_by_label("What did you take?").fill("Topamax 50 mg")
    page.get_by_role("button", name="Save: I took it").click()
    expect(page.locator("#drug-error")).to_contain_text("Preventive treatment")
    page.locator("#meds").locator("..").get_by_role("link", name="Preventive treatment").click()
    page.get_by_label("Name and strength").fill("Topamax 50 mg")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".treatments li")).to_contain_text("topiramate 50 mg")
    problems |= _shoot(page, "preventives")
    page.get_by_role("button", name="Stopped today").click()
    expect(page.locator(".treatments li")).to_contain_text("stopped")
    page.close()
    assert not problems, problems
