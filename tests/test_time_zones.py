"""Time zones over HTTP: a city is enough at registration, a traveller changes zone on
the account page (audited, no stored time moves), and the nights the clocks change.

DST nights used (both zones switch at 02:00 local):
- Europe/Berlin: spring forward Sun 29 Mar 2026 (02:00 → 03:00), fall back Sun 25 Oct
  2026 (03:00 → 02:00: 02:30 happens twice).
- America/New_York: spring forward Sun 8 Mar 2026, fall back Sun 1 Nov 2026 (02:00 →
  01:00: 01:30 happens twice).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.store.account_tables import audit_log
from painlink.store.tables import attacks, patients
from tests.test_web import PASSWORD, Web, _csrf, form_token


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def _register(web: Web, name: str, zone: str) -> tuple[TestClient, object]:
    c = web.client()
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": f"{name}@x.org",
            "display_name": name,
            "password": PASSWORD,
            "time_zone": zone,
        },
    )
    return c, r


def _zone_of(web: Web, email: str) -> str | None:
    with web.engine.connect() as conn:
        pid = conn.execute(sa.text("select patient_id from users where email = :e"), {"e": email})
        return conn.execute(
            sa.select(patients.c.time_zone).where(patients.c.patient_id == pid.scalar())
        ).scalar()


def _patient(web: Web, name: str, zone: str) -> tuple[TestClient, str, str]:
    c, r = _register(web, name, zone)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    me = c.get("/api/me").json()
    return c, me["patient_id"], me["csrf_token"]


# ------------------------------------------------------------------ registration


def test_registration_takes_a_city_name(web: Web) -> None:
    """Today "Berlin" is refused with "unknown time zone"."""
    _, r = _register(web, "bea", "Berlin")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert _zone_of(web, "bea@x.org") == "Europe/Berlin"
    _, r = _register(web, "ned", "new york")
    assert _zone_of(web, "ned@x.org") == "America/New_York"


def test_registration_suggests_zones_instead_of_refusing_flatly(web: Web) -> None:
    _, r = _register(web, "sam", "San")
    assert r.status_code == 400  # type: ignore[attr-defined]
    error = re.search(r'id="time_zone-error"[^>]*>([^<]*)<', r.text).group(1)  # type: ignore[attr-defined,union-attr]
    assert "America/Santiago" in error and "Did you mean" in error
    assert 'value="San"' in r.text  # what was typed stays
    assert _zone_of(web, "sam@x.org") is None


def test_register_page_offers_a_searchable_zone_list_and_the_browser_zone(web: Web) -> None:
    """No silent "UTC" default: the field is empty for the browser's zone to fill in."""
    page = web.client().get("/register").text
    field = re.search(r"<input id=\"time_zone\"[^>]*>", page).group(0)  # type: ignore[union-attr]
    assert 'value=""' in field and 'list="time_zones"' in field and "data-browser-zone" in field
    assert '<option value="Europe/Berlin">' in page and '<option value="America/New_York">' in page
    assert '<script src="/static/timezone.js"' in page
    script = web.client().get("/static/timezone.js")
    assert script.status_code == 200 and "resolvedOptions().timeZone" in script.text


def test_an_empty_zone_without_script_is_utc(web: Web) -> None:
    _patient(web, "nojs", "")
    assert _zone_of(web, "nojs@x.org") == "UTC"


def test_a_city_that_is_one_zone_under_two_names_is_taken() -> None:
    from painlink.services.time_zones import resolve_zone

    assert resolve_zone("Buenos Aires") == "America/Argentina/Buenos_Aires"
    assert resolve_zone("EUROPE/berlin") == "Europe/Berlin"
    assert resolve_zone("US/Eastern") == "US/Eastern"  # an old alias, typed in full


# ------------------------------------------------------------------ the DST nights


def _attack_row(web: Web, attack_id: str) -> dict[str, object]:
    with web.engine.connect() as conn:
        return dict(
            conn.execute(sa.select(attacks).where(attacks.c.attack_id == attack_id))
            .mappings()
            .one()
        )


def _start(c: TestClient, pid: str, csrf: str, start: str) -> object:
    return c.post(
        f"/api/patients/{pid}/attacks", json={"start": start}, headers={"X-CSRF-Token": csrf}
    )


def test_an_attack_at_0130_on_the_fall_back_night_is_stored_and_shown_as_0130(web: Web) -> None:
    """New York, 1 Nov 2026: 01:30 happens twice; the diary keeps the clock's 01:30."""
    c, pid, csrf = _patient(web, "nyc", "America/New_York")
    r = _start(c, pid, csrf, "2026-11-01T01:30")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    attack_id = r.json()["attack_id"]  # type: ignore[attr-defined]
    assert _attack_row(web, attack_id)["start"] == dt.datetime(2026, 11, 1, 1, 30)
    assert "Sun 01 Nov, 01:30" in c.get(f"/attacks/{attack_id}").text
    # the second 01:30 (after the clocks went back, UTC-5) sent as an instant: 01:30 too
    r = _start(c, pid, csrf, "2026-11-01T06:30:00+00:00")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    assert _attack_row(web, r.json()["attack_id"])["start"] == dt.datetime(2026, 11, 1, 1, 30)  # type: ignore[attr-defined]


def test_an_attack_at_0130_on_the_spring_forward_night_in_berlin(web: Web) -> None:
    c, pid, csrf = _patient(web, "ber", "Europe/Berlin")
    r = _start(c, pid, csrf, "2026-03-29T01:30")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    attack_id = r.json()["attack_id"]  # type: ignore[attr-defined]
    assert _attack_row(web, attack_id)["start"] == dt.datetime(2026, 3, 29, 1, 30)
    assert "Sun 29 Mar, 01:30" in c.get(f"/attacks/{attack_id}").text
    # an instant after the jump (01:30 UTC = 03:30 CEST) is stored as Berlin's clock
    r = _start(c, pid, csrf, "2026-03-29T01:30:00Z")
    assert _attack_row(web, r.json()["attack_id"])["start"] == dt.datetime(2026, 3, 29, 3, 30)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("zone", "day"), [("Europe/Berlin", "2026-03-29"), ("America/New_York", "2026-03-08")]
)
def test_0230_on_the_spring_forward_night_is_refused_in_plain_words(
    web: Web, zone: str, day: str
) -> None:
    """02:30 never happened there that night; today it is stored as if it had."""
    c, pid, csrf = _patient(web, "gap", zone)
    r = _start(c, pid, csrf, f"{day}T02:30")
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    message = str(r.json())  # type: ignore[attr-defined]
    assert "did not happen" in message and "from 02:00 straight to 03:00" in message
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(attacks)).scalar() == 0


def test_an_end_time_in_the_skipped_hour_is_refused_on_the_attack_page(web: Web) -> None:
    c, pid, csrf = _patient(web, "end", "Europe/Berlin")
    attack_id = _start(c, pid, csrf, "2026-03-29T00:30").json()["attack_id"]  # type: ignore[attr-defined]
    r = c.post(
        f"/attacks/{attack_id}/details",
        data={"csrf_token": csrf, "end": "2026-03-29T02:15"},
    )
    assert r.status_code == 400 and "did not happen in Europe/Berlin" in r.text
    assert _attack_row(web, attack_id)["end"] is None
    r = c.post(
        f"/attacks/{attack_id}/details",
        data={"csrf_token": csrf, "end": "2026-03-29T03:15"},
    )
    assert r.status_code == 200, r.text
    assert _attack_row(web, attack_id)["end"] == dt.datetime(2026, 3, 29, 3, 15)


def test_now_on_the_dst_nights_is_the_clock_on_the_wall() -> None:
    """ "Headache now" stores wall_clock(now): 00:30 UTC on 29 Mar is 01:30 in Berlin,
    01:30 UTC is 03:30 (02:xx was skipped); on 25 Oct both 00:30 and 01:30 UTC read 02:30."""
    from painlink.services.time_zones import wall_clock

    berlin = ZoneInfo("Europe/Berlin")

    def utc(*a: int) -> dt.datetime:
        return dt.datetime(*a, tzinfo=dt.UTC)

    assert wall_clock(utc(2026, 3, 29, 0, 30), berlin) == dt.datetime(2026, 3, 29, 1, 30)
    assert wall_clock(utc(2026, 3, 29, 1, 30), berlin) == dt.datetime(2026, 3, 29, 3, 30)
    assert wall_clock(utc(2026, 10, 25, 0, 30), berlin) == dt.datetime(2026, 10, 25, 2, 30)
    assert wall_clock(utc(2026, 10, 25, 1, 30), berlin) == dt.datetime(2026, 10, 25, 2, 30)


# ------------------------------------------------------------------ travelling


def test_a_zone_change_is_audited_and_moves_no_stored_time(web: Web) -> None:
    c, pid, csrf = _patient(web, "trav", "Europe/Berlin")
    attack_id = _start(c, pid, csrf, "2026-10-25T02:30").json()["attack_id"]  # type: ignore[attr-defined]
    c.post(f"/attacks/{attack_id}/details", data={"csrf_token": csrf, "end": "2026-10-25T09:00"})
    before = _attack_row(web, attack_id)
    page_before = c.get(f"/attacks/{attack_id}").text
    account = c.get("/account").text
    assert "Your time zone is <strong>Europe/Berlin</strong>" in account
    r = c.post("/account/time-zone", data={"csrf_token": _csrf(account), "time_zone": "New York"})
    assert r.status_code == 200 and "Saved: your time zone is America/New_York" in r.text
    assert _zone_of(web, "trav@x.org") == "America/New_York"
    assert _attack_row(web, attack_id) == before  # no stored instant moved
    assert c.get("/api/me").json()["time_zone"] == "America/New_York"
    assert (
        "Sun 25 Oct, 02:30" in page_before
        and "Sun 25 Oct, 02:30" in c.get(f"/attacks/{attack_id}").text
    )
    with web.engine.connect() as conn:
        row = (
            conn.execute(sa.select(audit_log).where(audit_log.c.action == "time_zone"))
            .mappings()
            .one()
        )
    assert row["patient_id"] == pid and row["detail"] == "Europe/Berlin -> America/New_York"
    # a zone that does not exist changes nothing and says why
    r = c.post("/account/time-zone", data={"csrf_token": csrf, "time_zone": "Atlantis"})
    assert r.status_code == 400 and "not a time zone we know" in r.text
    assert _zone_of(web, "trav@x.org") == "America/New_York"


def test_only_the_patient_changes_their_zone(web: Web) -> None:
    c, csrf = web.clinician("doc")
    r = c.post(
        "/account/time-zone",
        data={"csrf_token": csrf, "time_zone": "UTC"},
    )
    assert r.status_code in (403, 404)


def test_the_sharing_page_dates_a_grant_in_the_patients_zone(web: Web) -> None:
    """Grants are stamped in UTC; 23:30 UTC on 30 Jun is already 1 Jul in Auckland."""
    from painlink.store.account_tables import grants

    c, _, csrf = _patient(web, "kiwi", "Pacific/Auckland")
    web.clinician("kdoc")
    r = c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "kdoc@clinic.org"})
    assert r.status_code == 200, r.text
    with web.engine.begin() as conn:
        conn.execute(grants.update().values(granted_at=dt.datetime(2026, 6, 30, 23, 30)))
    assert "since 01 Jul 2026" in c.get("/sharing").text


def test_an_entry_from_before_a_move_can_still_be_edited(web: Web) -> None:
    """02:30 on 29 Mar 2026 was a real time in New York; after a move to Berlin (where
    it was skipped) the finished attack's other fields can still be changed, its start
    kept. (An attack still open at the move goes to the new clock instead:
    tests/test_probe_time_zone.py.)"""
    c, pid, csrf = _patient(web, "mover", "America/New_York")
    attack_id = _start(c, pid, csrf, "2026-03-29T02:30").json()["attack_id"]  # type: ignore[attr-defined]
    r = c.post(
        f"/attacks/{attack_id}/details", data={"csrf_token": csrf, "end": "2026-03-29T05:00"}
    )
    assert r.status_code == 200, r.text
    r = c.post("/account/time-zone", data={"csrf_token": csrf, "time_zone": "Europe/Berlin"})
    assert r.status_code == 200 and "moved to the new clock" not in r.text
    r = c.post(
        f"/attacks/{attack_id}/details", data={"csrf_token": csrf, "end": "2026-03-29T05:30"}
    )
    assert r.status_code == 200, r.text
    row = _attack_row(web, attack_id)
    assert row["start"] == dt.datetime(2026, 3, 29, 2, 30)
    assert row["end"] == dt.datetime(2026, 3, 29, 5, 30)
