"""One attack at a time, any start time, and forms that cannot write twice (issue 12,
points 1 and 3): through HTTP, on SQLite and PostgreSQL where it matters."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.services import diary as diary_service
from painlink.store import migrate
from painlink.store.account_tables import form_tokens
from painlink.store.tables import attacks, medications, screening_answers, spine_pain
from tests.test_web import Web

BERLIN = ZoneInfo("Europe/Berlin")  # Web.patient registers in Berlin


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def _now() -> dt.datetime:
    return dt.datetime.now(BERLIN).replace(tzinfo=None, second=0, microsecond=0)


def _attacks(web: Web, pid: str) -> list[dict[str, object]]:
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(attacks).where(attacks.c.patient_id == pid).order_by(attacks.c.start)
        ).mappings()
        return [dict(r) for r in rows]


def _count(web: Web, table: sa.Table, pid: str) -> int:
    with web.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.patient_id == pid)
        ).scalar_one()


def _form(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF and form token) of the first form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', html, re.S)
    assert form is not None, f"no form for {action}"
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    assert "form_token" in fields, f"the form for {action} carries no form token"
    return fields


def _attack_id(response: object) -> str:
    return str(response.url).split("/attacks/")[1].split("?")[0]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 1: one attack at a time


def test_a_second_tap_with_an_attack_open_shows_that_attack(web: Web) -> None:
    c, pid, csrf = web.patient("ana")
    home = c.get("/home").text
    first = c.post("/attacks/start", data=_form(home, "/attacks/start"))
    attack_id = _attack_id(first)
    # the home page now shows THAT attack as its main target, not "Headache now"
    home = c.get("/home").text
    assert "Headache since" in home and f"/attacks/{attack_id}" in home
    assert 'id="headache-now"' not in home
    # a second tap (an old page, another tab, a fresh token) starts nothing new
    again = c.post("/attacks/start", data={"csrf_token": csrf})
    assert again.status_code == 200 and _attack_id(again) == attack_id
    assert "no second one was started" in again.text
    assert len(_attacks(web, pid)) == 1
    # a new, separate headache is a deliberate choice
    separate = c.post("/attacks/start", data=_form(home, "/attacks/start"))
    assert separate.status_code == 200 and _attack_id(separate) != attack_id
    assert len(_attacks(web, pid)) == 2


def test_a_double_tap_on_headache_now_makes_one_attack(web: Web) -> None:
    c, pid, _ = web.patient("ben")
    fields = _form(c.get("/home").text, "/attacks/start")
    one = c.post("/attacks/start", data=fields)
    two = c.post("/attacks/start", data=fields)
    assert _attack_id(one) == _attack_id(two)
    assert len(_attacks(web, pid)) == 1


# ------------------------------------------------------------------ 2: every form once


def test_the_same_form_sent_twice_writes_once(web: Web) -> None:
    c, pid, _ = web.patient("cy")
    attack_id = _attack_id(
        c.post("/attacks/start", data=_form(c.get("/home").text, "/attacks/start"))
    )
    page = c.get(f"/attacks/{attack_id}").text
    med = {**_form(page, f"/attacks/{attack_id}/medication#meds"), "drug": "ibuprofen"}
    first, second = c.post(f"/attacks/{attack_id}/medication", data=med), None
    second = c.post(f"/attacks/{attack_id}/medication", data=med)
    assert first.status_code == second.status_code == 200
    assert str(first.url) == str(second.url)  # the second shows what the first did
    assert _count(web, medications, pid) == 1
    spine = {**_form(c.get("/spine").text, "/spine"), "pick_lumbar": "1", "nrs_lumbar": "4"}
    for _ in range(3):
        assert c.post("/spine", data=spine).status_code == 200
    assert _count(web, spine_pain, pid) == 1
    # a refused value gives the token back: the corrected form is saved
    bad = {**_form(c.get("/spine").text, "/spine"), "pick_lumbar": "1", "nrs_lumbar": "14"}
    assert c.post("/spine", data=bad).status_code == 400
    assert c.post("/spine", data={**bad, "nrs_lumbar": "5"}).status_code == 200
    assert _count(web, spine_pain, pid) == 2
    # every diary form carries a token
    for path, action in [
        ("/home", "/attacks/start"),
        (f"/attacks/{attack_id}", f"/attacks/{attack_id}/intensity"),
        (f"/attacks/{attack_id}", f"/attacks/{attack_id}/details"),
        (f"/attacks/{attack_id}", f"/attacks/{attack_id}/end"),
        (f"/attacks/{attack_id}?new=1", f"/attacks/{attack_id}/safety"),
        ("/checkin", "/checkin"),
        ("/checkin", "/checkin/factors"),
        ("/history", "/history"),
        ("/sharing", "/sharing"),
    ]:
        _form(c.get(path).text, action)


def test_an_emergency_answer_sent_twice_shows_the_emergency_page_twice(web: Web) -> None:
    c, pid, csrf = web.patient("dee")
    attack_id = _attack_id(
        c.post("/attacks/start", data=_form(c.get("/home").text, "/attacks/start"))
    )
    form = {**_form(c.get(f"/attacks/{attack_id}?new=1").text, f"/attacks/{attack_id}/safety")}
    form["onset"] = "minute"
    first = c.post(f"/attacks/{attack_id}/safety", data=form)
    stored = _count(web, screening_answers, pid)
    second = c.post(f"/attacks/{attack_id}/safety", data=form)
    assert "Call emergency services now" in first.text
    assert "Call emergency services now" in second.text  # the double tap's page, too
    assert stored > 0 and _count(web, screening_answers, pid) == stored  # stored once
    # the kept answer is health data: it goes with the account
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(form_tokens)).scalar_one() > 0
    c.post("/account/delete", data={"csrf_token": csrf, "confirm": "DELETE"})
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(form_tokens)).scalar_one() == 0


def test_the_same_form_sent_concurrently_writes_once(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url)
    c, pid, _ = web.patient("eve")
    spine = {**_form(c.get("/spine").text, "/spine"), "pick_thoracic": "1", "nrs_thoracic": "3"}
    cookies = dict(c.cookies)
    answers: list[int] = []

    def send() -> None:
        other = TestClient(web.app, base_url="https://testserver", cookies=cookies)
        answers.append(other.post("/spine", data=spine, follow_redirects=False).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert answers == [303, 303]
    assert _count(web, spine_pain, pid) == 1
    web.engine.dispose()


# ------------------------------------------------------------------ 3: start and end times


def test_it_started_earlier(web: Web) -> None:
    c, pid, _ = web.patient("fay")
    home = c.get("/home").text
    assert "It started earlier" in home and "Woke up with it" in home
    before = _now()
    r = c.post("/attacks/start", data={**_form(home, "/attacks/start"), "started": "180"})
    assert r.status_code == 200
    start = _attacks(web, pid)[0]["start"]
    assert dt.timedelta(minutes=179) <= before - start <= dt.timedelta(minutes=181)  # type: ignore[operator]


def test_a_start_in_the_future_or_inside_the_last_attack_is_refused_plainly(web: Web) -> None:
    c, pid, _ = web.patient("gus")
    now = _now()
    later = (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(
        "/attacks/start",
        data={**_form(c.get("/home").text, "/attacks/start"), "started": "at", "start_at": later},
    )
    assert r.status_code == 400 and "later than now" in r.text
    assert _attacks(web, pid) == []
    # an attack from 5 h to 2 h ago; a new one cannot start 3 h ago
    fields = _form(c.get("/home").text, "/attacks/start")
    five = (now - dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    attack_id = _attack_id(
        c.post("/attacks/start", data={**fields, "started": "at", "start_at": five})
    )
    two = (now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    ended = c.post(
        f"/attacks/{attack_id}/end",
        data={
            **_form(c.get(f"/attacks/{attack_id}").text, f"/attacks/{attack_id}/end"),
            "end_at": two,
        },
    )
    assert ended.status_code == 200 and "it ended at" in ended.text
    r = c.post(
        "/attacks/start", data={**_form(c.get("/home").text, "/attacks/start"), "started": "180"}
    )
    assert r.status_code == 400
    assert "A new one cannot start before" in r.text and "String should" not in r.text
    assert len(_attacks(web, pid)) == 1
    r = c.post(
        "/attacks/start", data={**_form(c.get("/home").text, "/attacks/start"), "started": "60"}
    )
    assert r.status_code == 200 and len(_attacks(web, pid)) == 2


def test_the_end_is_set_now_or_at_a_time_and_corrected_later(web: Web) -> None:
    c, pid, _ = web.patient("hal")
    now = _now()
    fields = _form(c.get("/home").text, "/attacks/start")
    four = (now - dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    attack_id = _attack_id(
        c.post("/attacks/start", data={**fields, "started": "at", "start_at": four})
    )

    def end(at: str) -> int:
        page = c.get(f"/attacks/{attack_id}").text
        data = {**_form(page, f"/attacks/{attack_id}/end"), "end_at": at}
        return c.post(f"/attacks/{attack_id}/end", data=data).status_code

    assert end((now - dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")) == 400  # before start
    assert end((now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")) == 400  # future
    assert _attacks(web, pid)[0]["end"] is None
    one = now - dt.timedelta(hours=1)
    assert end(one.strftime("%Y-%m-%dT%H:%M")) == 200
    assert _attacks(web, pid)[0]["end"] == one
    two = now - dt.timedelta(hours=2)  # corrected later
    assert end(two.strftime("%Y-%m-%dT%H:%M")) == 200
    assert _attacks(web, pid)[0]["end"] == two


# ------------------------------------------------------------------ 4: attack ids


def test_colliding_attack_ids_are_never_a_500(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    c, pid, csrf = web.patient("ida")
    real = diary_service.secrets.token_hex
    calls = iter(range(1000))

    def clashing(n: int | None = None) -> str:  # the first three ids are the same
        return "ab" * (n or 16) if next(calls) < 3 else real(n)

    monkeypatch.setattr(diary_service.secrets, "token_hex", clashing)
    c.post("/attacks/start", data={"csrf_token": csrf})
    r = c.post("/attacks/start", data={"csrf_token": csrf, "separate": "1"})
    assert r.status_code == 200, r.text
    assert len({a["attack_id"] for a in _attacks(web, pid)}) == 2


# ------------------------------------------------------------------ the table


def test_the_form_token_migration_keeps_stored_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    migrate.upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO patients (patient_id, sex, time_zone) VALUES ('P1', 'female', 'UTC')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO attacks (patient_id, attack_id, start) "
                "VALUES ('P1', 'A1', '2026-01-02 03:04:00')"
            )
        )
    migrate.upgrade(engine, "0009a_form_tokens")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT attack_id FROM attacks")).scalars().all() == ["A1"]
        assert conn.execute(sa.select(sa.func.count()).select_from(form_tokens)).scalar_one() == 0
    migrate.downgrade(engine, "0008")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT attack_id FROM attacks")).scalars().all() == ["A1"]
    engine.dispose()


def test_the_start_is_corrected_on_the_attack_page_never_into_the_future(web: Web) -> None:
    c, pid, _ = web.patient("jo")
    attack_id = _attack_id(
        c.post("/attacks/start", data=_form(c.get("/home").text, "/attacks/start"))
    )
    with web.engine.begin() as conn:  # an imported start keeps its seconds
        conn.execute(
            attacks.update()
            .where(attacks.c.attack_id == attack_id)
            .values(start=_now() - dt.timedelta(hours=2, seconds=-30))
        )
    stored = _attacks(web, pid)[0]["start"]

    def details(**fields: str) -> int:
        page = c.get(f"/attacks/{attack_id}").text
        form = _form(page, f"/attacks/{attack_id}/details")
        form["start"] = re.search(r'id="start" name="start"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        return c.post(f"/attacks/{attack_id}/details", data={**form, **fields}).status_code

    assert details(notes="aura first") == 200
    assert _attacks(web, pid)[0]["start"] == stored  # sent back unchanged: kept as it was
    future = (_now() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    assert details(start=future) == 400
    earlier = _now() - dt.timedelta(hours=3)
    assert details(start=earlier.strftime("%Y-%m-%dT%H:%M")) == 200
    assert _attacks(web, pid)[0]["start"] == earlier


def test_headache_now_after_flying_west_is_not_refused(web: Web) -> None:
    """The diary keeps the clock on the wall where an entry was made. After a move from
    Berlin to Los Angeles the last headache's end (Berlin clock) lies hours after "now"
    there: "Headache now" must still start one, not send the person to pick a time no
    field accepts (the walk of issue 12 found this)."""
    c, pid, _ = web.patient("flyer")
    home = c.get("/home").text
    attack_id = _attack_id(c.post("/attacks/start", data=_form(home, "/attacks/start")))
    page = c.get(f"/attacks/{attack_id}").text
    c.post(f"/attacks/{attack_id}/end", data=_form(page, f"/attacks/{attack_id}/end"))
    account = c.get("/account").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', account).group(1)  # type: ignore[union-attr]
    moved = c.post("/account/time-zone", data={"csrf_token": csrf, "time_zone": "Los Angeles"})
    assert moved.status_code == 200, moved.text
    home = c.get("/home").text
    again = c.post("/attacks/start", data=_form(home, "/attacks/start"))
    assert again.status_code in (200, 303), again.text
    assert "cannot start before" not in again.text
    assert len(_attacks(web, pid)) == 2
