"""Issue 12 point 2: every entry can be corrected — edited, deleted, the delete undone —
by its owner only; each edit and delete is audited, and the clinician sees it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.services import corrections
from painlink.services import diary as diary_service
from painlink.services.reading import read
from painlink.store import tables as t
from painlink.store.account_tables import audit_log
from tests.test_access_matrix import snapshot
from tests.test_web import Web

DAY = dt.date.today() - dt.timedelta(days=5)
AT = f"{DAY}T08:00:00"


@pytest.fixture
def web(tmp_path: Any) -> Web:
    return Web(tmp_path)


def _csrf(c: TestClient, path: str = "/entries") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)  # type: ignore[union-attr]


def _diary(web: Web, name: str) -> tuple[TestClient, str, str, dict[str, str]]:
    """A patient with one entry of every kind; the entry ids by kind."""
    c, pid, csrf = web.patient(name)
    h = {"X-CSRF-Token": csrf}
    api = f"/api/patients/{pid}"
    aid = c.post(f"{api}/attacks", json={"start": AT, "intensity": 2}, headers=h).json()[
        "attack_id"
    ]
    assert (
        c.post(
            f"{api}/attacks/{aid}/readings", json={"intensity": 1, "at": f"{DAY}T09:00"}, headers=h
        ).status_code
        == 201
    )
    assert (
        c.post(
            f"{api}/medications",
            json={"drug": "ibuprofen", "taken_at": f"{DAY}T08:30", "attack_id": aid},
            headers=h,
        ).status_code
        == 201
    )
    assert (
        c.post(
            f"{api}/spine-pain", json={"region": "lumbar", "nrs": 4, "start": AT}, headers=h
        ).status_code
        == 201
    )
    assert c.put(f"{api}/days/{DAY}", json={"stress": 4}, headers=h).status_code == 200
    with web.engine.begin() as conn:
        diary_service.add_factor(conn, pid, "Cheese", "numeric")
        diary_service.save_factor_values(conn, pid, DAY, {"Cheese": 1})
        ids = {
            "attack": aid,
            "reading": str(
                conn.execute(
                    sa.select(t.intensity_readings.c.id).where(
                        t.intensity_readings.c.patient_id == pid
                    )
                ).scalar()
            ),
            "medication": str(
                conn.execute(
                    sa.select(t.medications.c.id).where(t.medications.c.patient_id == pid)
                ).scalar()
            ),
            "spine": str(
                conn.execute(
                    sa.select(t.spine_pain.c.id).where(t.spine_pain.c.patient_id == pid)
                ).scalar()
            ),
            "day": str(DAY),
            "factor": f"{DAY}/Cheese",
        }
    return c, pid, csrf, ids


#: kind → (a form correction, the column it changes, the value it must then hold)
EDITS = {
    "attack": ({"intensity": "3"}, "intensity", 3),
    "reading": ({"intensity": "3"}, "intensity", 3),
    "medication": ({"dose": "200", "dose_unit": "mg"}, "dose", 200),
    "spine": ({"nrs": "7"}, "nrs", 7),
    "day": ({"stress": "8"}, "stress", 8),
    "factor": ({"value": "2"}, "value", 2),
}


def _entry(web: Web, pid: str, kind: str, entry_id: str) -> dict[str, Any] | None:
    with web.engine.connect() as conn:
        try:
            key = corrections.key_from_text(kind, entry_id)
            return corrections.get_entry(conn, pid, kind, key)
        except diary_service.EntryError:
            return None


def _audit(web: Web, pid: str) -> list[tuple[str, str]]:
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.resource)
            .where(audit_log.c.patient_id == pid)
            .order_by(audit_log.c.id)
        )
        return [(a, r) for a, r in rows]


@pytest.mark.parametrize("kind", list(EDITS))
def test_an_entry_is_edited_deleted_and_restored_by_its_owner(web: Web, kind: str) -> None:
    c, pid, csrf, ids = _diary(web, "ana")
    doc, _ = web.clinician("doc")
    c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    entry_id = ids[kind]
    # the list of entries offers Edit and Delete for it
    page = c.get("/entries")
    assert page.status_code == 200
    assert f"/entries/{kind}/edit/{entry_id}" in page.text
    assert f"/entries/{kind}/delete/{entry_id}" in page.text
    assert c.get(f"/entries/{kind}/edit/{entry_id}").status_code == 200
    # edit
    form, column, value = EDITS[kind]
    r = c.post(
        f"/entries/{kind}/edit/{entry_id}",
        data={"csrf_token": csrf, **form},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert (_entry(web, pid, kind, entry_id) or {})[column] == value
    assert ("edit", f"{kind} {entry_id}") in _audit(web, pid)
    # the clinician sees it was corrected, and when
    clinic = doc.get(f"/clinic/patients/{pid}").text
    assert "Corrected entries" in clinic and "corrected</strong> on" in clinic
    with web.engine.connect() as conn:  # when, on the patient's clock (named), not in UTC
        zone = conn.execute(
            sa.select(t.patients.c.time_zone).where(t.patients.c.patient_id == pid)
        ).scalar()
    assert f"({zone})</li>" in clinic and " UTC</li>" not in clinic
    # delete: gone, and the next page offers the undo
    before = snapshot(web.engine, pid)
    r = c.post(
        f"/entries/{kind}/delete/{entry_id}", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and "/entries?deleted=" in r.headers["location"]
    assert _entry(web, pid, kind, entry_id) is None
    assert ("delete", f"{kind} {entry_id}") in _audit(web, pid)
    page = c.get(r.headers["location"]).text
    assert "Deleted" in page and 'id="undo"' in page
    undo = re.search(r'action="(/entries/undo/\d+)"', page).group(1)  # type: ignore[union-attr]
    assert "deleted</strong>" in doc.get(f"/clinic/patients/{pid}").text
    # undo: the entry is back exactly as it was
    r = c.post(undo, data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    after = snapshot(web.engine, pid)
    after.pop("entry_corrections"), before.pop("entry_corrections")
    assert after == before
    assert _audit(web, pid)[-1][0] == "undo"
    assert "deleted, then restored" in doc.get(f"/clinic/patients/{pid}").text
    # a second tap on Undo (or on Delete) changes nothing and shows where things stand
    restored = snapshot(web.engine, pid)
    r = c.post(undo, data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/entries?restored=1"
    assert snapshot(web.engine, pid) == restored
    deleted = c.post(
        f"/entries/{kind}/delete/{entry_id}", data={"csrf_token": csrf}, follow_redirects=False
    )
    again = c.post(
        f"/entries/{kind}/delete/{entry_id}", data={"csrf_token": csrf}, follow_redirects=False
    )
    if kind in ("attack", "day", "factor"):  # named by what they are: the same page again
        assert again.headers["location"] == deleted.headers["location"]
    else:  # a row id may be reused by SQLite: not found, nothing changed
        assert again.status_code == 404


def test_deleting_an_attack_takes_its_readings_and_medications_and_undo_brings_them_back(
    tmp_path: Any, db_url: str
) -> None:
    web = Web(tmp_path, db_url)
    c, pid, csrf, ids = _diary(web, "ben")
    before = snapshot(web.engine, pid)
    with web.engine.connect() as conn:
        assert len(read(conn, pid).attacks) == 1
    r = c.delete(
        f"/api/patients/{pid}/entries/attack/{ids['attack']}", headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    now = snapshot(web.engine, pid)
    assert now["attacks"] == now["intensity_readings"] == now["medications"] == []
    with web.engine.connect() as conn:  # the analyses read the corrected diary
        frames = read(conn, pid)
        assert len(frames.attacks) == 0 and len(frames.medications) == 0
    r = c.post(
        f"/api/patients/{pid}/corrections/{r.json()['correction_id']}/undo",
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    after = snapshot(web.engine, pid)
    after.pop("entry_corrections"), before.pop("entry_corrections")
    assert after == before


def test_the_api_edits_every_kind_and_lists_corrections_for_the_clinician(web: Web) -> None:
    c, pid, csrf, ids = _diary(web, "cem")
    h = {"X-CSRF-Token": csrf}
    body = {
        "attack": {"notes": "woke up with it"},
        "reading": {"intensity_nrs": 6},
        "medication": {"relief_2h": "partial"},
        "spine": {"side": "left"},
        "day": {"sleep_hours": 6.5},
        "factor": {"value": 3},
    }
    for kind, entry_id in ids.items():
        r = c.patch(f"/api/patients/{pid}/entries/{kind}/{entry_id}", json=body[kind], headers=h)
        assert r.status_code == 200, (kind, r.text)
    # a bad value is refused by the entry's own schema, naming the field
    r = c.patch(f"/api/patients/{pid}/entries/spine/{ids['spine']}", json={"nrs": 14}, headers=h)
    assert r.status_code == 422 and "nrs" in r.json()["detail"]
    r = c.patch(
        f"/api/patients/{pid}/entries/day/{ids['day']}", json={"date": "2020-01-01"}, headers=h
    )
    assert r.status_code == 422 and "date" in r.json()["detail"]
    doc, _ = web.clinician("doc")
    c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    listed = doc.get(f"/api/patients/{pid}/corrections").json()
    assert {(x["kind"], x["action"]) for x in listed} == {(k, "edit") for k in ids}


def test_nobody_but_the_owner_corrects_an_entry(web: Web) -> None:
    owner, pid, owner_csrf, ids = _diary(web, "dora")
    other, other_pid, other_csrf = web.patient("eve")
    doc, doc_csrf = web.clinician("doc")
    owner.post("/sharing", data={"csrf_token": owner_csrf, "clinician_email": "doc@clinic.org"})
    before = snapshot(web.engine, pid)
    other_before = snapshot(web.engine, other_pid)
    for kind, entry_id in ids.items():
        # another patient: the entry is not in her diary (forms take the diary from the
        # session), and her address is not the owner's (API)
        for path in (f"/entries/{kind}/edit/{entry_id}", f"/entries/{kind}/delete/{entry_id}"):
            r = other.post(
                path, data={"csrf_token": other_csrf, "intensity": "0"}, follow_redirects=False
            )
            assert r.status_code == 404, (path, r.status_code)
        assert other.get(f"/entries/{kind}/edit/{entry_id}").status_code == 404
        r = other.patch(
            f"/api/patients/{pid}/entries/{kind}/{entry_id}",
            json={"value": 0},
            headers={"X-CSRF-Token": other_csrf},
        )
        assert r.status_code == 404
        r = other.patch(
            f"/api/patients/{other_pid}/entries/{kind}/{entry_id}",
            json={"value": 0},
            headers={"X-CSRF-Token": other_csrf},
        )
        assert r.status_code in (404, 422)
        # a clinician, even one the owner shares with, reads but never edits
        r = doc.post(
            f"/entries/{kind}/delete/{entry_id}",
            data={"csrf_token": doc_csrf},
            follow_redirects=False,
        )
        assert r.status_code == 403
        r = doc.delete(
            f"/api/patients/{pid}/entries/{kind}/{entry_id}", headers={"X-CSRF-Token": doc_csrf}
        )
        assert r.status_code == 403
    # an undo of the owner's delete by someone else
    r = owner.delete(
        f"/api/patients/{pid}/entries/day/{ids['day']}", headers={"X-CSRF-Token": owner_csrf}
    )
    correction = r.json()["correction_id"]
    deleted = snapshot(web.engine, pid)
    assert (
        other.post(
            f"/entries/undo/{correction}", data={"csrf_token": other_csrf}, follow_redirects=False
        ).status_code
        == 404
    )
    assert (
        other.post(
            f"/api/patients/{pid}/corrections/{correction}/undo",
            headers={"X-CSRF-Token": other_csrf},
        ).status_code
        == 404
    )
    assert snapshot(web.engine, pid) == deleted
    assert snapshot(web.engine, other_pid) == other_before
    assert before["attacks"] == deleted["attacks"]


def test_undo_ends_after_its_window(web: Web) -> None:
    c, _pid, csrf, ids = _diary(web, "fay")
    r = c.post(
        f"/entries/spine/delete/{ids['spine']}", data={"csrf_token": csrf}, follow_redirects=False
    )
    location = r.headers["location"]
    with web.engine.begin() as conn:  # ten minutes later: still there
        conn.execute(
            t.entry_corrections.update().values(
                at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
            )
        )
    assert 'id="undo"' in c.get(location).text
    with web.engine.begin() as conn:
        conn.execute(
            t.entry_corrections.update().values(
                at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                - corrections.UNDO_WINDOW
                - dt.timedelta(minutes=1)
            )
        )
    page = c.get(location).text
    assert 'id="undo"' not in page
    correction = location.rsplit("=", 1)[1]
    r = c.post(f"/entries/undo/{correction}", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 409


def test_the_fhir_export_marks_corrected_entries(web: Web) -> None:
    """Decision: FHIR has a status for it (Observation.status ``corrected``); the CSV
    export is painlink's import format and has no such column, so it carries the
    corrected values only."""
    from fhir.resources.R4B.bundle import Bundle

    c, pid, csrf, ids = _diary(web, "gus")
    h = {"X-CSRF-Token": csrf}
    end = f"{DAY}T12:00:00"
    r = c.patch(f"/api/patients/{pid}/entries/attack/{ids['attack']}", json={"end": end}, headers=h)
    assert r.status_code == 200, r.text
    r = c.patch(f"/api/patients/{pid}/entries/day/{ids['day']}", json={"stress": 2}, headers=h)
    assert r.status_code == 200, r.text
    bundle = c.get("/account/export.fhir.json").json()
    Bundle.model_validate(bundle)
    statuses = {
        e["resource"]["id"]: e["resource"].get("status")
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    attack = [s for i, s in statuses.items() if ids["attack"].lower() in i.lower()]
    assert attack == ["corrected"]
    assert "corrected" in {s for i, s in statuses.items() if str(DAY) in i}


def test_migration_0009b_adds_corrections_to_a_diary_holding_data(db_url: str) -> None:
    """A database one revision before 0009b, with a diary in it: after the upgrade every
    row is as it was,
    the new table matches the tables' metadata, and a delete there can be undone."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from painlink.store import migrate
    from painlink.store.engine import normalise_url

    engine = sa.create_engine(normalise_url(db_url))
    migrate.upgrade(engine, "0009d_checkin")  # the revision 0009b follows
    start = dt.datetime(2026, 5, 1, 8, 0)
    with engine.begin() as conn:
        conn.execute(t.patients.insert().values(patient_id="P1", time_zone="Europe/Berlin"))
        conn.execute(t.attacks.insert().values(patient_id="P1", attack_id="A1", start=start))
        conn.execute(
            t.intensity_readings.insert().values(
                patient_id="P1", attack_id="A1", at=start, intensity=2
            )
        )
        conn.execute(t.days.insert().values(patient_id="P1", date=start.date(), stress=3))
    with engine.connect() as conn:  # snapshot() reads every table: not there yet
        before = {
            table.name: sorted(
                repr(tuple(r))
                for r in conn.execute(sa.select(table).where(table.c.patient_id == "P1"))
            )
            for table in t.metadata.sorted_tables
            if "patient_id" in table.c
            and table.name not in ("audit_log", "entry_corrections", "patient_summaries")
        }
    migrate.upgrade(engine, "0009b_corrections")
    after = snapshot(engine, "P1")
    assert after.pop("entry_corrections") == []
    assert after == before
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert not [d for d in diff if "entry_corrections" in repr(d)], diff
    with engine.begin() as conn:
        undo = corrections.delete_entry(conn, "P1", "attack", {"attack_id": "A1"})
    with engine.begin() as conn:
        corrections.undo_delete(conn, "P1", undo)
    restored = snapshot(engine, "P1")
    restored.pop("entry_corrections")
    assert restored == before
    migrate.downgrade(engine, "0008")
    engine.dispose()


def test_a_second_tap_on_delete_never_deletes_a_new_entry_of_the_same_day(web: Web) -> None:
    c, pid, csrf, ids = _diary(web, "hal")
    url = f"/entries/day/delete/{ids['day']}"
    first = c.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    assert first.status_code == 303
    h = {"X-CSRF-Token": csrf}  # the day is checked in again
    assert c.put(f"/api/patients/{pid}/days/{DAY}", json={"stress": 1}, headers=h).is_success
    second = c.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    assert second.headers["location"] != first.headers["location"]
    assert _entry(web, pid, "day", ids["day"]) is None


def test_the_command_line_corrects_an_entry_too(tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from painlink.cli import app
    from painlink.store.store import Store

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    store.init()
    with store.engine.begin() as conn:
        conn.execute(t.patients.insert().values(patient_id="P1", time_zone="UTC"))
        conn.execute(
            t.spine_pain.insert().values(
                patient_id="P1", region="lumbar", nrs=4, start=dt.datetime(2026, 5, 1, 8)
            )
        )
    before = snapshot(store.engine, "P1")
    run = CliRunner().invoke
    base = ["--patient", "P1", "--db", url, "--json"]
    r = run(app, ["entry", "edit", "spine", "1", "--set", "nrs=6", *base])
    assert r.exit_code == 0, r.output
    r = run(app, ["entry", "edit", "spine", "1", "--set", "nrs=16", *base])
    assert r.exit_code == 1 and "nrs" in r.output
    r = run(app, ["entry", "delete", "spine", "1", *base])
    assert r.exit_code == 0, r.output
    assert snapshot(store.engine, "P1")["spine_pain"] == []
    r = run(app, ["entry", "undo", str(json.loads(r.output)["correction_id"]), *base])
    assert r.exit_code == 0, r.output
    r = run(app, ["entry", "corrections", *base])
    assert [c["action"] for c in json.loads(r.output)["corrections"]] == ["delete", "edit"]
    assert snapshot(store.engine, "P1")["spine_pain"] != before["spine_pain"]  # nrs 6 now
    with store.engine.connect() as conn:
        actions = conn.execute(
            sa.select(audit_log.c.action).where(audit_log.c.patient_id == "P1")
        ).scalars()
        assert list(actions) == ["edit", "delete", "undo"]
