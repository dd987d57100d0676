"""Issue 14 item 5: the clinic's patient list from stored summaries — fresh after every
kind of diary write, paged and sorted (open red flags first, then the latest entry),
refusing bad paging values, never showing an unconsented patient; on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.services import accounts, clinic_list
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store import tables as t
from painlink.store.account_tables import audit_log, grants, users
from painlink.store.summary_tables import SOURCE_TABLES, patient_summaries
from tests.test_web import Web

BERLIN = ZoneInfo("Europe/Berlin")


def _today() -> dt.date:
    return dt.datetime.now(BERLIN).date()


def _row(doc: TestClient, pid: str) -> dict[str, Any] | None:
    r = doc.get("/api/clinic/patients", params={"limit": 200})
    assert r.status_code == 200, r.text
    return next((p for p in r.json() if p["patient_id"] == pid), None)


def test_each_kind_of_write_shows_on_the_next_load(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url)
    doc, _ = web.clinician("doc")
    c, pid, csrf = web.patient("ana")
    h = {"X-CSRF-Token": csrf}
    api = f"/api/patients/{pid}"
    c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    first = _row(doc, pid)
    assert first is not None and first["attacks"] == 0 and first["last_entry"] is None
    # an attack yesterday, six hours long
    start = dt.datetime.combine(_today() - dt.timedelta(days=1), dt.time(8))
    r = c.post(f"{api}/attacks", json={"start": start.isoformat(), "intensity": 2}, headers=h)
    assert r.status_code == 201, r.text
    aid = r.json()["attack_id"]
    end = {"end": (start + dt.timedelta(hours=6)).isoformat()}
    assert c.patch(f"{api}/attacks/{aid}", json=end, headers=h).status_code == 200
    row = _row(doc, pid)
    assert row is not None and row["attacks"] == 1 and row["last_entry"] == str(start.date())
    assert row["headache_days"] == 1
    # an acute medicine
    assert row["acute_days"] == 0
    r = c.post(f"{api}/medications", json={"drug": "ibuprofen"}, headers=h)
    assert r.status_code in (200, 201), r.text
    assert _row(doc, pid)["acute_days"] == 1  # type: ignore[index]
    # a check-in three days ago: one more day recorded
    before = _row(doc, pid)["completeness"]  # type: ignore[index]
    day = _today() - dt.timedelta(days=3)
    assert c.put(f"{api}/days/{day}", json={"stress": 3}, headers=h).status_code == 200
    after = _row(doc, pid)["completeness"]  # type: ignore[index]
    assert round((after - before) * 28) == 1
    # a correction: the attack deleted, then the delete undone
    r = c.delete(f"{api}/entries/attack/{aid}", headers=h)
    assert r.status_code == 200, r.text
    assert _row(doc, pid)["attacks"] == 0  # type: ignore[index]
    undo = r.json()["correction_id"]
    assert c.post(f"{api}/corrections/{undo}/undo", headers=h).status_code == 200
    assert _row(doc, pid)["attacks"] == 1  # type: ignore[index]
    # the page shows the same numbers
    page = doc.get("/clinic").text
    assert f'href="/clinic/patients/{pid}"' in page and ">ana</a>" in page
    # consent withdrawn: gone at once, from the page and the API
    clinician_id = c.get(f"{api}/grants").json()[0]["id"]
    c.post("/sharing", data={"csrf_token": csrf, "revoke": str(clinician_id)})
    assert _row(doc, pid) is None
    assert f"/clinic/patients/{pid}" not in doc.get("/clinic").text


def test_an_import_shows_on_the_next_load(web: Web, external: Path) -> None:
    doc, _ = web.clinician("doc")
    c, pid, csrf = web.patient("zoe")
    c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    assert _row(doc, pid)["attacks"] == 0  # type: ignore[index]
    mb = external / "migraine-buddy" / "migraine_buddy_sample.csv"
    r = c.post(
        "/account/import",
        data={"csrf_token": csrf, "source": "migraine-buddy"},
        files={"file": (mb.name, mb.read_bytes())},
    )
    assert "Added: 1 attack(s)" in r.text
    row = _row(doc, pid)
    assert row is not None and row["attacks"] == 1 and row["last_entry"] is not None


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def _cohort(web: Web, n: int, red: int) -> list[str]:
    """``n`` simulated patients (60 days up to about today) shared with doc@clinic.org;
    the first ``red`` have thunderclap attacks (worst pain within a minute): a red flag."""
    spec = SimulationSpec(patients=n, days=60, seed=3, start=_today() - dt.timedelta(days=70))
    store = web.app.state.store
    ids = []
    for diary, _truth in simulate(spec):
        store.write(diary)
        ids += diary.patient_ids()
    with web.engine.begin() as conn:
        conn.execute(
            t.attacks.update()
            .where(t.attacks.c.patient_id.in_(ids[:red]))
            .values(onset_to_peak_min=1)
        )
        doc = conn.execute(sa.select(users.c.id).where(users.c.email == "doc@clinic.org"))
        doc_id = doc.scalar_one()
        conn.execute(
            grants.insert(),
            [{"patient_id": p, "clinician_id": doc_id, "granted_at": accounts.now()} for p in ids],
        )
    return ids


def _order_key(row: dict[str, Any]) -> tuple[int, str]:
    return (-row["red_flags"], "" if row["last_entry"] is None else row["last_entry"])


def test_pages_are_sorted_red_flags_first_then_latest_entry(web: Web) -> None:
    doc, _ = web.clinician("doc")
    ids = _cohort(web, 120, red=4)
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = doc.get("/api/clinic/patients", params={"limit": 50, "offset": offset})
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "120"
        seen += r.json()
        if 'rel="next"' not in r.headers.get("Link", ""):
            break
        offset += 50
    assert sorted(p["patient_id"] for p in seen) == sorted(ids)  # each once
    flagged = [p["red_flags"] > 0 for p in seen]
    assert any(flagged) and flagged == sorted(flagged, reverse=True)
    for flag in (True, False):
        entries = [p["last_entry"] or "" for p in seen if (p["red_flags"] > 0) == flag]
        assert entries == sorted(entries, reverse=True)
    # the page: 50 rows, then the next 50, in the same order as the API
    first = doc.get("/clinic").text
    assert first.count('class="patient"') == 50 and "Page 1 of 3" in first
    assert 'href="/clinic?page=2"' in first
    second = doc.get("/clinic?page=2").text
    shown = re.findall(r'href="/clinic/patients/([^"]+)"', second)
    assert shown == [p["patient_id"] for p in seen[50:100]]
    assert "There is no page 9" in doc.get("/clinic?page=9").text
    # search by id
    found = doc.get("/api/clinic/patients", params={"q": ids[7].lower()}).json()
    assert [p["patient_id"] for p in found] == [ids[7]]
    for wild in ("%", "_", "\\"):  # LIKE's wildcards are searched for, not obeyed
        r = doc.get("/api/clinic/patients", params={"q": wild})
        assert r.json() == [] and r.headers["X-Total-Count"] == "0", wild
    # reads are audited for the patients shown, not for every consented patient
    with web.engine.connect() as conn:
        listed = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.resource == "patient list")
        ).scalar_one()
    assert listed < 120 * 4


@pytest.mark.parametrize(
    "query",
    [
        "limit=0", "limit=201", "limit=-1", "limit=1e308", "limit=abc", "limit=9999-01-01",
        "offset=-1", "offset=1e308", "offset=99999999999999999999999", "offset=x",
        "q=" + "a" * 101,
    ],
)  # fmt: skip
def test_bad_paging_values_are_refused_plainly(web: Web, query: str) -> None:
    doc, _ = web.clinician("doc")
    r = doc.get(f"/api/clinic/patients?{query}")
    assert r.status_code == 422 and r.json()["detail"], r.text
    if query in ("limit=201",):  # page 201 is a page
        return
    page = query.replace("limit", "page").replace("offset", "page")
    r = doc.get(f"/clinic?{page}")
    assert r.status_code == 422 and "painlink" in r.text


def test_paging_values_are_bounded_on_the_page(web: Web) -> None:
    doc, _ = web.clinician("doc")
    for bad in ("0", "-1", "1e308", "abc", "200001", "9999-12-31"):
        assert doc.get(f"/clinic?page={bad}").status_code == 422, bad
    assert doc.get("/clinic?page=200000").status_code == 200


def test_a_summary_is_computed_once_then_reused_until_the_diary_changes(web: Web) -> None:
    doc, _ = web.clinician("doc")
    ids = _cohort(web, 6, red=0)
    store = web.app.state.store
    assert clinic_list.refresh(store, None) == 6
    assert clinic_list.refresh(store, None) == 0  # all fresh
    doc.get("/clinic")
    assert clinic_list.refresh(store, None) == 0
    with web.engine.begin() as conn:  # any write, by any path, makes it stale
        conn.execute(t.days.insert().values(patient_id=ids[2], date=_today(), stress=2))
    with web.engine.connect() as conn:
        assert set(clinic_list.stale(conn, None)) == {ids[2]}


def test_every_source_table_has_its_triggers_at_head(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url)
    with web.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                ).scalars()
            )
        else:
            names = set(
                conn.exec_driver_sql(
                    "SELECT trigger_name FROM information_schema.triggers"
                ).scalars()
            )
    for table in SOURCE_TABLES:
        events = ("insert", "update") if table == "patients" else ("insert", "update", "delete")
        for event in events:
            assert f"summary_{table}_{event}" in names, (table, event)


def test_migration_0010_gives_every_patient_a_summary_without_loss(db_url: str) -> None:
    """A database at 0009b holding a diary: after the upgrade its rows are as they
    were, every patient has a (stale) summary, the table matches the metadata, and the
    list computes it."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from painlink.store import migrate
    from painlink.store.engine import normalise_url
    from painlink.store.store import Store
    from tests.test_access_matrix import snapshot

    engine = sa.create_engine(normalise_url(db_url))
    migrate.upgrade(engine, "0009b_corrections")
    start = dt.datetime.combine(_today() - dt.timedelta(days=2), dt.time(8))
    with engine.begin() as conn:
        for pid in ("P1", "P2"):
            conn.execute(t.patients.insert().values(patient_id=pid, time_zone="Europe/Berlin"))
        conn.execute(t.attacks.insert().values(patient_id="P1", attack_id="A1", start=start))
        conn.execute(
            t.intensity_readings.insert().values(
                patient_id="P1", attack_id="A1", at=start, intensity=2
            )
        )
        conn.execute(t.days.insert().values(patient_id="P2", date=start.date(), stress=3))
    before = {p: snapshot(engine, p) for p in ("P1", "P2")}
    migrate.upgrade(engine, "0010_patient_summaries")
    assert {p: snapshot(engine, p) for p in ("P1", "P2")} == before
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(patient_summaries.c.patient_id, patient_summaries.c.computed_version)
        ).all()
        assert sorted(rows) == [("P1", None), ("P2", None)]
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert not [d for d in diff if "patient_summaries" in repr(d)], diff
    store = Store(db_url)
    assert clinic_list.refresh(store, None) == 2
    with engine.connect() as conn:
        got = dict(
            conn.execute(
                sa.select(patient_summaries.c.patient_id, patient_summaries.c.attacks)
            ).all()
        )
    assert got == {"P1": 1, "P2": 0}
    store.close()
    migrate.downgrade(engine, "0009b_corrections")  # the table, index and triggers go
    with engine.begin() as conn:  # and writes work without them
        conn.execute(t.days.insert().values(patient_id="P1", date=start.date(), stress=1))
    assert not sa.inspect(engine).has_table("patient_summaries")
    migrate.upgrade(engine, "0010_patient_summaries")
    engine.dispose()


def test_painlink_summaries_computes_every_stale_summary(web: Web) -> None:
    import json

    from typer.testing import CliRunner

    from painlink.cli import app

    web.clinician("doc")
    ids = _cohort(web, 5, red=0)
    url = web.app.state.store.url
    result = CliRunner().invoke(app, ["summaries", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["computed"] == len(ids)
    again = CliRunner().invoke(app, ["summaries", "--db", url, "--json"])
    assert json.loads(again.output)["computed"] == 0


def test_a_write_during_a_refresh_leaves_the_summary_stale(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A diary write landing while its summary is being computed is never hidden: the
    result computed without it is not stored as fresh, and the next load counts it."""
    web = Web(tmp_path, db_url)
    web.clinician("doc")
    ids = _cohort(web, 3, red=0)
    store = web.app.state.store
    clinic_list.refresh(store, None)
    target = ids[1]
    with web.engine.begin() as conn:  # stale now; the refresh below computes it
        conn.execute(t.days.insert().values(patient_id=target, date=_today(), stress=1))
    real = clinic_list.compute
    late = dt.datetime.combine(_today(), dt.time(0, 30))

    def compute_then_write(conn: sa.Connection, chunk: Any) -> list[dict[str, Any]]:
        rows = real(conn, chunk)
        with web.engine.begin() as other:  # another writer, between the read and the save
            other.execute(
                t.attacks.insert().values(patient_id=target, attack_id="LATE", start=late)
            )
        return rows

    monkeypatch.setattr(clinic_list, "compute", compute_then_write)
    clinic_list.refresh(store, None)
    monkeypatch.setattr(clinic_list, "compute", real)
    with web.engine.connect() as conn:
        assert target in clinic_list.stale(conn, None)
        before = conn.execute(
            sa.select(patient_summaries.c.attacks).where(patient_summaries.c.patient_id == target)
        ).scalar_one()
    clinic_list.refresh(store, None)
    with web.engine.connect() as conn:
        after = conn.execute(
            sa.select(patient_summaries.c.attacks, patient_summaries.c.pending).where(
                patient_summaries.c.patient_id == target
            )
        ).one()
        assert clinic_list.stale(conn, None) == {}
    assert after == (before + 1, 0)
