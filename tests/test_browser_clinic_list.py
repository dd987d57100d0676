"""The clinic patient list in Chromium, with more patients than fit a page: the demo
clinician pages, searches and opens a patient by keyboard and pointer; the
accessibility audit passes on every state of the page at phone and desktop width.
Screenshots go to tests/artifacts/screenshots/ (clinic-list-*)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_browser import _AUDIT_JS, ARGS, CHROMIUM, SHOTS, SIZES, login

pytestmark = pytest.mark.slow

if not Path(CHROMIUM).exists():  # pragma: no cover - the skip in test_browser covers it
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from tests.live_server import demo_database, serving  # noqa: E402

EXTRA = 70  # with the demo's shared patients: two pages


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import sqlalchemy as sa

    from painlink.services import accounts
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec
    from painlink.store import tables as t
    from painlink.store.account_tables import grants, users
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings

    url = demo_database(tmp_path_factory.mktemp("web"), "clinic-list.db")
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    store = app.state.store
    start = dt.date.today() - dt.timedelta(days=60)
    spec = SimulationSpec(patients=EXTRA, days=60, seed=5, start=start, id_prefix="LIST")
    ids: list[str] = []
    for diary, _truth in simulate(spec):
        store.write(diary)
        ids += diary.patient_ids()
    with store.writing() as conn:
        conn.execute(  # three with thunderclap attacks: a red flag, listed first
            t.attacks.update()
            .where(t.attacks.c.patient_id.in_(ids[-3:]))
            .values(onset_to_peak_min=1)
        )
        doc = conn.execute(
            sa.select(users.c.id).where(users.c.email == "clinician@demo.painlink")
        ).scalar_one()
        conn.execute(
            grants.insert(),
            [{"patient_id": p, "clinician_id": doc, "granted_at": accounts.now()} for p in ids],
        )
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _shots() -> Path:
    extra = os.environ.get("PAINLINK_SHOTS")  # a second copy to look at, if asked
    return Path(extra) if extra else SHOTS


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_clinician_pages_searches_and_opens_a_patient(
    server: str, browser: Browser, size: str
) -> None:
    page = browser.new_page(viewport=SIZES[size])
    login(page, server, "clinician@demo.painlink")
    expect(page.get_by_role("heading", name="Patients who share their diary")).to_be_visible()
    rows = page.locator("table.patients tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    for n in range(3):  # the red flags come first
        expect(rows.nth(n)).to_have_class("urgent")
        expect(rows.nth(n).locator(".flag").first).to_contain_text("red flag")
    expect(rows.nth(3)).not_to_have_class("urgent")
    problems = {"first page": page.evaluate(_AUDIT_JS)}
    out = _shots()
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"clinic-list-{size}.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Next 50")).click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Previous 50"))).to_be_visible()
    problems["second page"] = page.evaluate(_AUDIT_JS)
    page.screenshot(path=str(out / f"clinic-list-page2-{size}.png"), full_page=True)
    page.get_by_label("Find a patient by name or id").fill("LIST000007")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(page.get_by_text("matching “LIST000007”")).to_be_visible()
    problems["search"] = page.evaluate(_AUDIT_JS)
    page.screenshot(path=str(out / f"clinic-list-search-{size}.png"), full_page=True)
    page.get_by_label("Find a patient by name or id").fill("nobody-by-this-name")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No patient's name or id contains")).to_be_visible()
    problems["no match"] = page.evaluate(_AUDIT_JS)
    page.get_by_role("link", name="Show all").click()
    expect(rows).to_have_count(50)
    page.locator("a.patient").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/clinic/patients/"), timeout=60_000)  # analyses
    found = {k: {kind: v for kind, v in p.items() if v} for k, p in problems.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}
    page.close()
