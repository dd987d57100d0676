"""Time zones: a headache begun before a flight west, ended after landing (found by
probing), and zones that are no place.

Entries keep the wall-clock time they were recorded in (services/accounts.py::
set_time_zone). A patient in Kiribati (UTC+14) taps "Headache now", flies to American
Samoa (UTC−11) and sets the new zone: by the new clock the attack began "tomorrow".
"It has stopped now" was refused ("that is before it started"), and while the attack
was open "Headache now" only led back to it — for up to a day the patient could log no
headache at all. Decided (services/attacks.py::change_time_zone): an attack still going
on moves to the new clock with its ratings, aura and medicines, so it can be ended and
its length stays true; finished entries stay where they were.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_web import Web


def _start(web: Web, patient, csrf: str, zone: str) -> str:  # type: ignore[no-untyped-def]
    assert (
        patient.post("/account/time-zone", data={"csrf_token": csrf, "time_zone": zone}).status_code
        == 200
    )
    home = patient.get("/home").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)  # type: ignore[union-attr]
    r = patient.post("/attacks/start", data={"csrf_token": token})
    return str(r.url).split("/attacks/")[1].split("?")[0]


def _attack(web: Web, attack: str) -> dict:  # type: ignore[type-arg]
    from painlink.store import tables as t

    with web.engine.connect() as conn:
        row = (
            conn.execute(sa.select(t.attacks).where(t.attacks.c.attack_id == attack))
            .mappings()
            .one()
        )
        readings = (
            conn.execute(
                sa.select(t.intensity_readings.c.at).where(
                    t.intensity_readings.c.attack_id == attack
                )
            )
            .scalars()
            .all()
        )
    return {**row, "readings": readings}


@pytest.mark.parametrize(
    ("before", "after", "hours"),
    [("Pacific/Kiritimati", "Pacific/Pago_Pago", -25), ("America/New_York", "Asia/Tokyo", None)],
)
def test_a_headache_still_going_on_moves_to_the_new_clock_and_can_be_ended(
    tmp_path: Path, before: str, after: str, hours: int | None
) -> None:
    web = Web(tmp_path)
    patient, _, csrf = web.patient("kiri")
    attack = _start(web, patient, csrf, before)
    r = patient.post(f"/attacks/{attack}/intensity", data={"csrf_token": csrf, "intensity": "2"})
    assert r.status_code in (200, 303), r.text[:300]
    first = _attack(web, attack)
    assert len(first["readings"]) == 1
    zone = {"csrf_token": csrf, "time_zone": after}
    r = patient.post("/account/time-zone", data=zone)
    assert r.status_code == 200 and "moved to the new clock" in r.text
    moved = _attack(web, attack)
    shift = moved["start"] - first["start"]
    if hours is not None:
        assert shift == dt.timedelta(hours=hours)
    assert shift != dt.timedelta(0)
    assert [a - b for a, b in zip(moved["readings"], first["readings"], strict=True)] == [
        shift
    ] * len(first["readings"])
    r = patient.post(f"/attacks/{attack}/end", data={"csrf_token": csrf})
    assert r.status_code == 200, re.findall(r'class="error"[^>]*>([^<]*)<', r.text)
    ended = _attack(web, attack)
    assert dt.timedelta(0) <= ended["end"] - ended["start"] < dt.timedelta(minutes=5)


def test_a_finished_headache_keeps_its_clock(tmp_path: Path) -> None:
    web = Web(tmp_path)
    patient, _, csrf = web.patient("ana")
    attack = _start(web, patient, csrf, "Asia/Tokyo")
    assert patient.post(f"/attacks/{attack}/end", data={"csrf_token": csrf}).status_code == 200
    first = _attack(web, attack)
    r = patient.post(
        "/account/time-zone", data={"csrf_token": csrf, "time_zone": "America/New_York"}
    )
    assert r.status_code == 200 and "moved to the new clock" not in r.text
    kept = _attack(web, attack)
    assert (kept["start"], kept["end"]) == (first["start"], first["end"])


NOT_PLACES = ["localtime", "Factory", "posixrules", "right/UTC", "posix/Europe/Berlin"]


@pytest.mark.parametrize("zone", NOT_PLACES)
def test_a_zone_that_is_no_place_is_refused_everywhere(tmp_path: Path, zone: str) -> None:
    """Found by probing: "localtime" was taken as a patient's zone — the server's own
    /etc/localtime, another zone on another machine and missing where painlink runs
    on Python's tzdata, where every page of that diary would answer 500 — and so was
    "Factory" (the tz database's "zone unknown", shown as "-00"). A CSV folder and an
    app import also took "right/UTC" and "posix/Europe/Berlin", the database's copies
    with leap seconds and its POSIX duplicates."""
    from painlink.diary.schemas import PatientIn

    web = Web(tmp_path)
    patient, _, csrf = web.patient("ana")
    r = patient.post("/account/time-zone", data={"csrf_token": csrf, "time_zone": zone})
    assert r.status_code == 400, r.text[:300]
    assert patient.get("/api/me").json()["time_zone"] == "Europe/Berlin"  # unchanged
    with pytest.raises(ValueError, match="time zone"):
        PatientIn(patient_id="p1", time_zone=zone)


def test_the_zones_people_use_are_still_taken() -> None:
    from painlink.diary.schemas import PatientIn

    for zone in (
        "Europe/Berlin",
        "UTC",
        "US/Eastern",
        "Etc/GMT-14",
        "America/Argentina/Buenos_Aires",
    ):
        assert PatientIn(patient_id="p1", time_zone=zone).time_zone == zone


def test_two_headaches_open_alongside_both_move(tmp_path: Path) -> None:
    """A second headache logged "alongside" an open one is open too: both move."""
    from painlink.services import attacks

    web = Web(tmp_path)
    _, pid, _ = web.patient("two")
    with web.engine.begin() as conn:
        first = attacks.begin_attack(conn, pid)
        second = attacks.begin_attack(conn, pid, alongside=True)
        old, new, moved = attacks.change_time_zone(conn, pid, "Asia/Tokyo")
    assert (old, new, moved) == ("Europe/Berlin", "Asia/Tokyo", True)
    starts = [_attack(web, a)["start"] for a in (first, second)]
    with web.engine.begin() as conn:
        for a in (first, second):
            attacks.end_attack(conn, pid, a)
    ended = [_attack(web, a) for a in (first, second)]
    for start, row in zip(starts, ended, strict=True):
        assert dt.timedelta(0) <= row["end"] - start < dt.timedelta(minutes=5)


def test_each_time_is_read_on_the_new_clock_across_a_summer_time_change(tmp_path: Path) -> None:
    """An attack open since 06:30 in London on 8 March 2026 (06:30 UTC), rated at 08:15,
    the zone then set to New York. New York's clocks went forward at 07:00 UTC that
    morning: the start was 01:30 EST there, the rating 04:15 EDT. Moved by one
    difference between the clocks (5 h, or 4 h between 8 and 29 March), the rating
    would read 03:15, or the start 02:30 — an hour that did not happen in New York that
    night. Each time is converted on its own; a medicine not taken for the attack stays
    put, and two names of one clock move nothing."""
    from painlink.services import accounts, attacks, diary

    web = Web(tmp_path)
    _, pid, _ = web.patient("dst")
    with web.engine.begin() as conn:
        accounts.set_time_zone(conn, pid, "Europe/London")
        attack = attacks.begin_attack(conn, pid, dt.datetime(2026, 3, 8, 6, 30))
        diary.add_reading(conn, pid, attack, {"at": "2026-03-08T08:15", "intensity": 2})
        diary.add_medication(
            conn, pid, {"taken_at": "2026-03-08T07:00", "drug": "ibuprofen", "dose": 400}
        )
        moved = attacks.change_time_zone(conn, pid, "America/New_York")[2]
    assert moved
    row = _attack(web, attack)
    assert row["start"] == dt.datetime(2026, 3, 8, 1, 30)  # 06:30 GMT = 01:30 EST
    # 08:15 GMT = 08:15 UTC = 04:15 EDT (New York's clocks went forward at 07:00 UTC)
    assert row["readings"] == [dt.datetime(2026, 3, 8, 4, 15)]
    from painlink.store import tables as t

    with web.engine.connect() as conn:
        taken = conn.execute(
            sa.select(t.medications.c.taken_at).where(t.medications.c.patient_id == pid)
        ).scalar_one()
    assert taken == dt.datetime(2026, 3, 8, 7, 0)  # not tied to the attack: kept
    with web.engine.begin() as conn:
        assert attacks.change_time_zone(conn, pid, "US/Eastern")[2] is False
    assert _attack(web, attack)["start"] == dt.datetime(2026, 3, 8, 1, 30)
