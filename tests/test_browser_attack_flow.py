"""One attack at a time and any start time, in a real browser (issue 12, points 1 and 3).

A new patient: "it started earlier" (3 hours ago), the open attack as the home page's
main target, a double tap and a stale page that start nothing new, a separate headache
only on purpose, an end set at a time and a start refused in plain words. Screenshots
at phone and desktop width go beside the others (tests/artifacts/screenshots/).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.test_browser import _AUDIT_JS, SIZES, shoot
from tests.test_browser import browser as browser
from tests.test_browser import server as server

pytestmark = pytest.mark.slow

from playwright.sync_api import Browser, Page, expect  # noqa: E402


def _register(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(f"{name.lower()}@example.org")
    page.get_by_label("Password").fill("lantern meadow quartz")
    page.get_by_role("button", name="Create my diary").click()
    page.get_by_role("link", name="Skip for now").click()


def _audit(page: Page) -> dict[str, list[str]]:
    return {kind: found for kind, found in page.evaluate(_AUDIT_JS).items() if found}


def _minus(value: str, minutes: int) -> str:
    return (dt.datetime.fromisoformat(value) - dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def test_one_attack_at_a_time_started_earlier_and_ended_at_a_time(
    server: str,
    browser: Browser,
) -> None:
    context = browser.new_context(viewport=SIZES["phone"])
    page = context.new_page()
    _register(page, server, "Lena")
    stale = context.new_page()  # the home page left open in another tab
    stale.goto(f"{server}/home")
    audits = {}

    # it started earlier: three hours ago, in two taps after opening the fold
    page.get_by_text("It started earlier").click()
    expect(page.get_by_role("button", name="Woke up with it")).to_be_visible()
    shoot(page, "home-started-earlier")
    audits["home, started earlier"] = _audit(page)
    page.get_by_role("button", name="3 hours ago").click()
    page.get_by_role("button", name="Severe").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: severe")

    # home: the open attack is the main target; "Headache now" is gone
    page.goto(f"{server}/home")
    expect(page.get_by_role("heading", name=re.compile("Headache since"))).to_be_visible()
    expect(page.get_by_role("button", name="Headache now")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("How bad now"))).to_be_visible()
    page.get_by_text("Another, separate headache?").click()
    expect(page.get_by_role("button", name=re.compile("new, separate headache"))).to_be_visible()
    shoot(page, "home-ongoing")
    audits["home, ongoing"] = _audit(page)

    # the stale tab's "Headache now" leads to the open attack; nothing new is started
    stale.get_by_role("button", name="Headache now").click()
    expect(stale.get_by_role("status")).to_contain_text("no second one was started")
    stale.close()
    page.goto(f"{server}/home")
    expect(page.locator("li", has_text="(ongoing)")).to_have_count(1)

    # it stopped earlier: half an hour ago, set on the attack page
    page.get_by_role("link", name=re.compile("It stopped earlier")).click()
    end = page.get_by_label("It stopped earlier, at")
    end.fill(_minus(end.input_value(), 30))
    shoot(page, "attack-end-at")
    audits["attack"] = _audit(page)
    page.get_by_role("button", name="It stopped then").click()
    expect(page.get_by_role("status")).to_contain_text("it ended at")
    page.get_by_role("link", name="Back home").click()
    expect(page.locator("li", has_text="(ongoing)")).to_have_count(0)

    # a new one cannot start inside the last one: said in plain words
    page.get_by_text("It started earlier").click()
    page.get_by_role("button", name="1 hour ago").click()
    expect(page.get_by_role("alert")).to_contain_text("A new one cannot start before")
    shoot(page, "home-start-overlap")
    audits["home, overlap"] = _audit(page)

    # a double tap on "Headache now" makes one attack
    page.goto(f"{server}/home")
    page.get_by_role("button", name="Headache now").dblclick()
    expect(page.get_by_role("heading", name="How bad is it?")).to_be_visible()
    page.goto(f"{server}/home")
    expect(page.locator("li", has_text="(ongoing)")).to_have_count(1)
    expect(page.locator("li", has_text="Recent")).to_have_count(0)
    assert page.locator("main ul li").count() == 2  # the earlier one and this one
    context.close()
    assert not any(audits.values()), audits
