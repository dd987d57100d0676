"""The quick check-in and the tappable calendar in a real browser (issue 12, points 6, 8).

Counts every click and key press a person makes, so "a check-in in 30 seconds" is a
number the test holds: a typical check-in from the home page takes at most 10.
Screenshots at phone and desktop width go to ``tests/artifacts/screenshots/`` and
``/tmp/shots-i12-checkin/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.test_browser import _AUDIT_JS, SHOTS, SIZES, browser, server  # noqa: F401

pytestmark = pytest.mark.slow
WALK = Path("/tmp/shots-i12-checkin")


def shoot(page: Page, name: str) -> None:
    """The page at both widths, full length (phone last, as the tests walk it)."""
    WALK.mkdir(parents=True, exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in ("desktop", "phone"):
        page.set_viewport_size(SIZES[size])
        for folder in (WALK, SHOTS):
            page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=True)


class Counter:
    """Counts a person's interactions: each click, tap or key press is one."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.n = 0

    def click(self, locator: object) -> None:
        locator.click()  # type: ignore[attr-defined]
        self.n += 1


def new_patient(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(f"{name.lower()}@example.org")
    page.get_by_label("Password").fill("marble fjord cinnamon")
    page.get_by_role("button", name="Create my diary").click()
    page.get_by_role("link", name="Skip for now").click()
    expect(page.get_by_role("button", name="Headache now")).to_be_visible()


def stored_day(page: Page, base: str, day: dt.date) -> dict[str, object]:
    me = page.request.get(f"{base}/api/me").json()
    r = page.request.get(f"{base}/api/patients/{me['patient_id']}/days/{day}")
    assert r.ok, r.text()
    return dict(json.loads(r.text()))


def local_today(page: Page) -> dt.date:
    """Today where the patient's diary is (the page's own heading says which day)."""
    return dt.date.fromisoformat(page.locator("input[name=date]").first.input_value())


def test_a_typical_checkin_takes_ten_interactions_or_fewer(server: str, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page(viewport=SIZES["phone"])
    new_patient(page, server, "Ines")
    n = Counter(page)
    n.click(page.get_by_role("link", name="Check-in").first)
    expect(page.get_by_role("heading", name=re.compile("^Today"))).to_be_visible()
    # nothing was saved yesterday: said plainly, nothing pretends to be pre-filled
    expect(page.get_by_text("so there is nothing to copy")).to_be_visible()
    expect(page.get_by_text("Pre-filled from the day before")).to_have_count(0)
    assert page.get_by_label("Coffee (cups)").input_value() == ""
    shoot(page, "checkin-empty")
    n.click(page.get_by_text("Green", exact=True))
    n.click(page.get_by_role("button", name="More sleep last night"))  # empty: 7 → 7.5
    n.click(page.get_by_role("button", name="More sleep last night"))
    n.click(page.get_by_label("Stress today"))  # a tap on the slider
    n.click(page.get_by_role("button", name="More coffee"))
    n.click(page.get_by_role("button", name="More coffee"))
    n.click(page.get_by_role("group", name="Period").get_by_text("None"))
    shoot(page, "checkin-filled")
    n.click(page.get_by_role("button", name="Save check-in"))
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert n.n <= 10, n.n
    today = local_today(page)
    saved = stored_day(page, server, today)
    assert saved["caffeine_mg"] == 180.0  # 2 cups × 90 mg (rules/checkin.py)
    assert saved["sleep_hours"] == 8.0 and saved["stoplight"] == "green"
    assert saved["menstruation"] == "none" and saved["stress"] is not None
    assert saved["neck_pain"] is None and saved["alcohol_units"] is None  # untouched: unknown
    expect(page.get_by_label("Coffee (cups)")).to_have_value("2")
    page.close()


def test_any_past_day_from_the_calendar_and_same_as_yesterday_in_one_tap(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    new_patient(page, server, "Jonas")
    page.get_by_role("link", name="Check-in").first.click()
    today = local_today(page)
    yesterday = today - dt.timedelta(days=1)
    # the day that has not begun is refused in plain words
    page.goto(f"{server}/checkin?date=2099-01-01")
    expect(page.get_by_role("status")).to_contain_text("has not happened yet")
    page.get_by_role("link", name="Calendar").first.click()
    page.locator(f'a[href="/checkin?date={yesterday}"]').click()
    expect(page.get_by_role("heading", name=re.compile("^Yesterday"))).to_be_visible()
    page.get_by_role("button", name="More coffee").click()
    page.get_by_role("button", name="More alcohol").click()
    page.get_by_role("button", name="Save check-in").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert stored_day(page, server, yesterday)["alcohol_units"] == 2.0  # one drink
    page.get_by_role("link", name=re.compile(r"→$")).click()  # on to the next day: today
    expect(page.get_by_role("heading", name=re.compile("^Today"))).to_be_visible()
    taps = 0
    page.get_by_text("Yellow", exact=True).click()  # this day's own colour goes along
    page.get_by_role("button", name=re.compile("^Same as")).click()
    taps += 1
    expect(page.get_by_role("status")).to_contain_text("Copied from the day before and saved")
    assert taps == 1
    copied = stored_day(page, server, today)
    assert copied["caffeine_mg"] == 90.0 and copied["alcohol_units"] == 2.0
    assert copied["stoplight"] == "yellow"
    expect(page.get_by_role("button", name=re.compile("answers over these"))).to_be_visible()
    shoot(page, "checkin-copied")
    page.close()


def test_calendar_counts_an_attack_in_progress_and_every_day_opens(
    server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport=SIZES["phone"])
    new_patient(page, server, "Kai")
    page.get_by_role("button", name="Headache now").click()
    page.get_by_role("link", name="Calendar").first.click()
    today = page.locator(".calendar a.today")
    # still going, not "no headache": the attack has no end yet
    expect(today).to_have_attribute("aria-label", re.compile("still going"))
    expect(today).not_to_have_attribute("aria-label", re.compile("no headache"))
    expect(page.get_by_label("This month in numbers")).to_contain_text("migraine days")
    expect(page.get_by_label("This month in numbers")).to_contain_text("days with acute medication")
    shoot(page, "calendar-ongoing")
    # every past day of the grid is a link to its check-in; no future day is
    cells = page.locator(".calendar [role=gridcell]")
    links = page.locator(".calendar [role=gridcell] a")
    first_future = page.locator(".calendar [role=gridcell]:not(:has(a))")
    assert links.count() + first_future.count() == cells.count()
    today.click()
    expect(page.get_by_role("heading", name="Headaches this day")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("still going"))).to_be_visible()
    shoot(page, "checkin-with-attack")
    page.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_checkin_and_calendar_pass_the_audit(server: str, browser: Browser, size: str) -> None:  # noqa: F811
    """Contrast, a name on every control, 44 px targets on the new check-in and calendar."""
    page = browser.new_page(viewport=SIZES[size])
    new_patient(page, server, f"Audit{size}")
    page.get_by_role("button", name="Headache now").click()
    problems = {}
    for path in ("/checkin", "/calendar"):
        page.goto(f"{server}{path}")
        problems[path] = page.evaluate(_AUDIT_JS)
    found = {k: {kind: v for kind, v in p.items() if v} for k, p in problems.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
    page.close()
