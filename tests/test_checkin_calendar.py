"""The quick check-in and the calendar through HTTP (issue 12, points 6 and 8): cups and
drinks, "same as yesterday", past days and no future ones, the stoplight day, the
month's counts, and an attack still in progress on the calendar."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from painlink.clinical.month_grid import day_marks, month_counts, month_days, month_grid
from painlink.diary.frames import TABLE_BY_NAME
from painlink.rules.checkin import CAFFEINE_MG_PER_CUP, checkin_day_problem
from painlink.store import migrate
from painlink.store.engine import normalise_url
from painlink.store.tables import days, factor_values
from tests.conftest import LAST_MONTH
from tests.test_web import Web, web  # noqa: F401

ZONE = ZoneInfo("Europe/Berlin")  # Web.patient registers in Berlin


def _today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def _day_row(web: Web, pid: str, day: dt.date) -> dict | None:  # noqa: F811
    with web.engine.connect() as conn:
        row = (
            conn.execute(sa.select(days).where(days.c.patient_id == pid, days.c.date == day))
            .mappings()
            .first()
        )
    return dict(row) if row else None


def test_checkin_asks_cups_and_drinks_and_stores_mg_and_units(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("cups")
    page = c.get("/checkin").text
    assert "Coffee (cups)" in page and "Alcohol (drinks)" in page and "(mg" not in page
    r = c.post("/checkin", data={"csrf_token": csrf, "coffee_cups": "2", "alcohol_drinks": "1.5"})
    assert r.status_code == 200 and "Saved." in r.text
    row = _day_row(web, pid, _today())
    assert row is not None
    assert row["caffeine_mg"] == 2 * CAFFEINE_MG_PER_CUP and row["alcohol_units"] == 3.0
    assert 'name="coffee_cups" type="number"' in r.text and 'value="2"' in r.text
    assert 'value="1.5"' in r.text  # shown back in drinks, not units
    r = c.post("/checkin", data={"csrf_token": csrf, "coffee_cups": "99"})
    assert r.status_code == 400 and 'id="coffee_cups-error"' in r.text
    assert "Between 0 and 55 cups" in r.text


def test_an_untouched_slider_records_nothing(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("slider")
    form = {"csrf_token": csrf, "stress": "0", "stress_rated": "", "neck_pain": "3"}
    c.post("/checkin", data={**form, "neck_pain_rated": "1"})
    row = _day_row(web, pid, _today())
    assert row is not None and row["stress"] is None and row["neck_pain"] == 3.0


def test_nothing_is_prefilled_and_same_as_yesterday_copies_in_one_tap(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("copy")
    today = _today()
    yesterday = today - dt.timedelta(days=1)
    page = c.get("/checkin").text
    assert "Pre-filled from the day before" not in page
    assert "so there is nothing to copy" in page and "Same as" not in page
    # nothing saved yesterday: one tap says so plainly and saves nothing
    r = c.post("/checkin", data={"csrf_token": csrf, "same_as_yesterday": "1"})
    assert r.status_code == 200 and "Nothing was saved for" in r.text
    assert "nothing to copy" in r.text and _day_row(web, pid, today) is None
    c.post("/checkin/factors", data={"csrf_token": csrf, "name": "red wine", "kind": "boolean"})
    form = {"csrf_token": csrf, "date": str(yesterday), "sleep_hours": "6.5", "coffee_cups": "3"}
    r = c.post("/checkin", data={**form, "factor__red wine": "1", "stoplight": "red"})
    assert r.status_code == 200, r.text
    page = c.get("/checkin").text
    assert f"Same as {yesterday:%A}" in page
    assert 'value="6.5"' not in page  # still not pre-filled: copying is asked for
    c.post("/checkin", data={"csrf_token": csrf, "date": str(today), "stoplight": "green"})
    r = c.post("/checkin", data={"csrf_token": csrf, "same_as_yesterday": "1"})
    assert "Copied from the day before and saved" in r.text
    row = _day_row(web, pid, today)
    assert row is not None
    assert row["sleep_hours"] == 6.5 and row["caffeine_mg"] == 3 * CAFFEINE_MG_PER_CUP
    assert row["stoplight"] == "green"  # the day's own colour is not copied over it
    with web.engine.connect() as conn:
        copied = conn.execute(
            sa.select(factor_values.c.value).where(
                factor_values.c.patient_id == pid, factor_values.c.date == today
            )
        ).scalars()
        assert list(copied) == [1.0]


def test_any_past_day_is_reachable_and_no_future_day_is_saved(web: Web) -> None:  # noqa: F811
    c, _pid, csrf = web.patient("days")
    today = _today()
    yesterday = today - dt.timedelta(days=1)
    r = c.get(f"/checkin?date={yesterday}")
    assert r.status_code == 200 and re.search(r"<h1>Yesterday, ", r.text)
    assert f'href="/checkin?date={today}"' in r.text  # on to the next day
    old = c.get("/checkin?date=2001-02-03").text
    assert "Saturday 03 February" in old
    r = c.get("/checkin?date=2099-01-01")
    assert "has not happened yet" in r.text and re.search(r"<h1>Today, ", r.text)
    for future in ("2099-01-01", str(today + dt.timedelta(days=1))):
        r = c.post("/checkin", data={"csrf_token": csrf, "date": future, "coffee_cups": "1"})
        assert r.status_code == 400 and "has not happened yet" in r.text, future
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(days)).scalar() == 0
    assert checkin_day_problem(today, ZONE) is None
    assert "1900" in (checkin_day_problem(dt.date(1899, 12, 31), ZONE) or "")


def test_a_stoplight_day_is_stored_and_shown_on_the_calendar(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("light")
    r = c.post("/checkin", data={"csrf_token": csrf, "stoplight": "red"})
    assert r.status_code == 200
    row = _day_row(web, pid, _today())
    assert row is not None and row["stoplight"] == "red"
    assert "A red day with no headache recorded counts as headache-free" in r.text
    assert all(row[k] is None for k in ("sleep_hours", "stress", "caffeine_mg"))
    cal = c.get("/calendar").text
    assert "marked red (severe)" in cal and 'class="light red"' in cal
    r = c.post("/checkin", data={"csrf_token": csrf, "stoplight": "blue"})
    assert r.status_code == 400 and 'id="stoplight-error"' in r.text
    assert _day_row(web, pid, _today())["stoplight"] == "red"  # type: ignore[index]


def test_calendar_counts_come_from_its_grid_and_every_past_day_opens(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("count")
    for i, drug in enumerate(("sumatriptan", None, None)):
        start = dt.datetime.combine(LAST_MONTH.replace(day=2 + 3 * i), dt.time(8))
        r = c.post(
            f"/api/patients/{pid}/attacks",
            json={"start": start.isoformat(), "intensity": 2},
            headers={"X-CSRF-Token": csrf},
        )
        change = {"end": (start + dt.timedelta(hours=8 if i < 2 else 2)).isoformat()}
        if i == 0:
            change |= {"nausea": True, "side": "left", "quality": "pulsating"}
        c.patch(
            f"/api/patients/{pid}/attacks/{r.json()['attack_id']}",
            json=change,
            headers={"X-CSRF-Token": csrf},
        )
        if drug:
            c.post(
                f"/api/patients/{pid}/medications",
                json={"drug": drug, "class": "triptan", "taken_at": start.isoformat()},
                headers={"X-CSRF-Token": csrf},
            )
    page = c.get(f"/calendar?month={LAST_MONTH:%Y-%m}").text
    counts = dict(
        re.findall(r"<div><b>(\d+)</b><span>([^<]+)</span></div>", page)[i][::-1] for i in range(3)
    )
    assert counts == {
        "migraine days": "1",
        "headache days, migraine included": "3",
        "days with acute medication": "1",
    }
    shown = set(re.findall(r'href="/checkin\?date=([\d-]+)"', page))
    first = LAST_MONTH.replace(day=1)
    month = {first + dt.timedelta(days=i) for i in range(31)}
    assert {str(d) for d in month if d.month == first.month} <= shown


def _open_attack_rows(start: dt.datetime) -> dict[str, list[tuple]]:
    fields = [f.name for f in TABLE_BY_NAME["attacks"].fields]
    row = {name: None for name in fields} | {
        "patient_id": "P",
        "attack_id": "A1",
        "start": start,
        "intensity": 2,
    }
    return {"attacks": [tuple(row[name] for name in fields)]}


def test_an_attack_in_progress_is_counted_so_far_by_the_day_rules() -> None:
    """Before: an open attack "ended where it started" and the day showed as free.
    Now it counts up to now: a headache day once it has lasted the default definition's
    hour (vdarend_2023 ``headache_min_hours``), and marked ongoing before that."""
    start = dt.datetime(2026, 3, 10, 8, 0)
    rows = _open_attack_rows(start)
    day = start.date()
    assert month_days(rows, day, day)[day]["kind"] == "free"  # without a now: as before
    early = month_days(rows, day, day, as_of=start + dt.timedelta(minutes=30))
    late = month_days(rows, day, day, as_of=start + dt.timedelta(hours=2, minutes=30))
    assert early[day]["kind"] == "free" and late[day]["kind"] == "headache"
    marks = day_marks(rows, day, day, start + dt.timedelta(minutes=30))
    assert marks[day] == {"ongoing": True}
    weeks = month_grid(rows, 2026, 3, as_of=start + dt.timedelta(hours=3))
    assert month_counts(weeks)["headache"] == 1
    # a forgotten end counts 72 h at most (OPEN_ATTACK_MAX_DAYS): 08:00 + 72 h touches 4 days
    weeks = month_grid(rows, 2026, 3, as_of=start + dt.timedelta(days=20))
    assert month_counts(weeks)["headache"] == 4


def test_the_calendar_shows_todays_attack_in_progress(web: Web) -> None:  # noqa: F811
    c, pid, csrf = web.patient("ongoing")
    now = dt.datetime.now(ZONE).replace(tzinfo=None, second=0, microsecond=0)
    start = max(now - dt.timedelta(hours=2), dt.datetime.combine(now.date(), dt.time()))
    r = c.post(
        f"/api/patients/{pid}/attacks",
        json={"start": start.isoformat(), "intensity": 2},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201
    page = c.get("/calendar").text
    label = re.search(r'class="day [^"]*today[^"]*" href="[^"]+" aria-label="([^"]+)"', page)
    assert label is not None and "still going" in label.group(1)
    assert "no headache" not in label.group(1)
    if now - start >= dt.timedelta(hours=1):
        assert "headache day, still going" in label.group(1)
    entries = c.get(f"/checkin?date={now.date()}").text
    assert "Headaches this day" in entries and "still going" in entries


def test_the_stoplight_migration_keeps_every_day(db_url: str) -> None:
    revision = "0008"  # the head before this change
    engine = sa.create_engine(normalise_url(db_url))
    migrate.upgrade(engine, revision)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO patients (patient_id, sex, time_zone) VALUES ('P1', 'female', 'UTC')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO days (patient_id, date, sleep_hours, caffeine_mg) "
                "VALUES ('P1', :d, 7.5, 180)"
            ),
            {"d": dt.date(2026, 5, 1)},
        )
    migrate.upgrade(engine)
    with engine.begin() as conn:
        row = conn.execute(sa.text("SELECT sleep_hours, caffeine_mg, stoplight FROM days")).one()
        assert tuple(row) == (7.5, 180.0, None)
        conn.execute(sa.text("UPDATE days SET stoplight = 'yellow'"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE days SET stoplight = 'blue'"))
    migrate.downgrade(engine, revision)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sleep_hours FROM days")).scalar() == 7.5
    engine.dispose()
