"""The web app through HTTP: accounts, the attack flow, check-ins, privacy, the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.days.day_table import build_day_table
from painlink.services import accounts
from painlink.store.account_tables import audit_log
from painlink.store.tables import (
    attacks,
    days,
    factor_values,
    intensity_readings,
    patients,
    questionnaire_items,
    screening_answers,
)
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
from tests.conftest import LAST_MONTH, external_dir

PASSWORD = "correct horse battery"
# Staff tests that are not about the second factor run without it being required.
NO_TOTP = AuthSettings(require_totp_for_staff=False)
# a path only: the tests that read it request the `external` fixture, which skips without it
NDI_FHIR = external_dir() / "fhir" / "QuestionnaireResponse-NeckDisabilityIndexExample.json"
DAY = str(LAST_MONTH)  # a past day for the route table; its month:
MONTH = f"{LAST_MONTH:%Y-%m}"
NDI_EXAMPLE = "the NDI example"  # in ROUTES: stands for NDI_FHIR's body, read in the test


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def shown(html: str) -> str:
    """``html`` without its hidden fields: their random tokens (CSRF, once-only) may
    hold any letters, "C0" in about one page of 200, and are not what a person sees."""
    return re.sub(r'<input type="hidden"[^>]*>', "", html)


def form_token(c: TestClient, path: str) -> str:
    """The pre-session CSRF token of a login/register/reset form (and its cookie)."""
    return _csrf(c.get(path).text)


class Web:
    def __init__(
        self, tmp_path: Path, url: str | None = None, auth: AuthSettings = NO_TOTP
    ) -> None:
        self.app = create_app(url or f"sqlite:///{tmp_path / 'web.db'}", auth=auth)
        self.engine = self.app.state.store.engine

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver")

    def patient(self, name: str) -> tuple[TestClient, str, str]:
        c = self.client()
        r = c.post(
            "/register",
            data={
                "csrf_token": form_token(c, "/register"),
                "email": f"{name}@x.org",
                "display_name": name,
                "password": PASSWORD,
                "time_zone": "Europe/Berlin",
                "birth_year": "1988",
                "sex": "female",
            },
        )
        assert r.status_code == 200 and "A few questions first" in r.text  # history, skippable
        me = c.get("/api/me").json()
        return c, me["patient_id"], me["csrf_token"]

    def clinician(self, name: str) -> tuple[TestClient, str]:
        with self.engine.begin() as conn:
            accounts.create_staff(conn, f"{name}@clinic.org", name, PASSWORD, "clinician")
        return self.login(f"{name}@clinic.org")

    def admin(self) -> tuple[TestClient, str]:
        with self.engine.begin() as conn:
            accounts.create_staff(conn, "admin@x.org", "Admin", PASSWORD, "admin")
        return self.login("admin@x.org")

    def login(self, email: str) -> tuple[TestClient, str]:
        c = self.client()
        token = form_token(c, "/login")
        r = c.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return c, c.get("/api/me").json()["csrf_token"]


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def test_headache_logged_in_two_taps_from_home(web: Web) -> None:
    c, pid, csrf = web.patient("ana")
    home = c.get("/home")
    r = c.post("/attacks/start", data={"csrf_token": _csrf(home.text)})  # tap 1: Headache now
    assert "How bad is it?" in r.text
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    r = c.post(
        f"/attacks/{attack_id}/intensity", data={"csrf_token": csrf, "intensity": "3"}
    )  # tap 2
    assert "Saved: severe" in r.text
    with web.engine.connect() as conn:
        row = (
            conn.execute(sa.select(attacks).where(attacks.c.attack_id == attack_id))
            .mappings()
            .one()
        )
        assert row["patient_id"] == pid and row["intensity"] == 3 and row["end"] is None
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(intensity_readings)).scalar() == 1
        )
    assert "Headache since" in c.get("/home").text  # the open attack is on the home page
    # Later ratings draw the attack's course; the attack keeps its peak intensity.
    page = c.get(f"/attacks/{attack_id}")
    assert "How bad is it now?" in page.text and "Course of this attack" in page.text
    r = c.post(
        f"/attacks/{attack_id}/intensity",
        data={"csrf_token": csrf, "intensity": "1", "later": "1"},
    )
    assert "Worst so far: severe" in r.text and r.text.count("<time>") == 2
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(attacks.c.intensity)).scalar() == 3
        ratings = conn.execute(
            sa.select(intensity_readings.c.intensity).order_by(intensity_readings.c.at)
        ).scalars()
        assert list(ratings) == [3, 1]
    r = c.post(  # the API keeps the peak the same way, here on the 0-10 scale
        f"/api/patients/{pid}/attacks/{attack_id}/readings",
        json={"intensity_nrs": 7},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201
    with web.engine.connect() as conn:
        peak = conn.execute(sa.select(attacks.c.intensity, attacks.c.intensity_nrs)).one()
        assert tuple(peak) == (3, 7)
    c.post(f"/attacks/{attack_id}/end", data={"csrf_token": csrf})
    assert "How bad is it now?" not in c.get(f"/attacks/{attack_id}").text
    with web.engine.connect() as conn:
        assert (
            conn.execute(sa.select(attacks.c.end).where(attacks.c.attack_id == attack_id)).scalar()
            is not None
        )


def test_red_flag_answer_shows_emergency_advice_first(web: Web) -> None:
    c, _pid, csrf = web.patient("ben")
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    r = c.post(
        f"/attacks/{attack_id}/safety",
        data={"csrf_token": csrf, "thunderclap": "yes", "fever": "no"},
    )
    main = r.text.split('<main id="main">')[1]
    assert main.lstrip().startswith('<section class="panel emergency" role="alert"')
    assert "Get help now" in main and "Call emergency services now" in main
    r = c.post(f"/attacks/{attack_id}/safety", data={"csrf_token": csrf, "thunderclap": "no"})
    assert "No warning sign" in r.text


def test_bad_input_is_shown_beside_the_field_and_kept(web: Web) -> None:
    c = web.client()
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": "not-an-email",
            "display_name": "Cy",
            "password": "short",
            "birth_year": "1875",
        },
    )
    assert r.status_code == 400
    assert 'id="password-error"' in r.text and "at least 12 characters" in r.text
    assert 'id="email-error"' in r.text and 'id="birth_year-error"' in r.text
    assert 'value="Cy"' in r.text and 'value="1875"' in r.text  # nothing typed is lost
    c, _pid, csrf = web.patient("dora")
    r = c.post(
        "/checkin",
        data={"csrf_token": csrf, "stress": "14", "sleep_hours": "seven", "coffee_cups": "1.5"},
    )
    assert r.status_code == 400
    assert 'id="stress-error"' in r.text and 'id="sleep_hours-error"' in r.text
    assert 'value="14"' in r.text and 'value="1.5"' in r.text
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(days)).scalar() == 0
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    r = c.post(
        f"/attacks/{attack_id}/details",
        data={"csrf_token": csrf, "end": "2000-01-01T00:00", "notes": "typed"},
    )
    assert r.status_code == 400 and "end is before start" in r.text and "typed" in r.text


@pytest.mark.slow
def test_checkin_saves_and_edits_one_day(web: Web) -> None:
    c, pid, csrf = web.patient("eve")
    today = c.get("/checkin")
    assert "<h1>Today, " in today.text
    c.post(
        "/checkin", data={"csrf_token": csrf, "stress": "4", "sleep_hours": "6.5", "neck_pain": "3"}
    )
    c.post(
        "/checkin", data={"csrf_token": csrf, "stress": "6", "sleep_hours": "6.5", "neck_pain": "3"}
    )
    with web.engine.connect() as conn:
        rows = conn.execute(sa.select(days).where(days.c.patient_id == pid)).mappings().all()
    assert len(rows) == 1 and rows[0]["stress"] == 6.0 and rows[0]["neck_pain"] == 3.0


def test_own_factors_in_the_checkin(web: Web) -> None:
    c, pid, csrf = web.patient("ivy")
    for name, kind in [("red wine", "boolean"), ("screen hours", "numeric")]:
        r = c.post("/checkin/factors", data={"csrf_token": csrf, "name": name, "kind": kind})
        assert r.status_code == 200
    r = c.post("/checkin/factors", data={"csrf_token": csrf, "name": "Red Wine", "kind": "boolean"})
    assert r.status_code == 400 and "already track" in r.text
    r = c.post("/checkin/factors", data={"csrf_token": csrf, "name": "<b>", "kind": "boolean"})
    assert r.status_code == 400 and 'id="new_name-error"' in r.text and "&lt;b&gt;" in r.text

    day = str(LAST_MONTH.replace(day=2))
    form = {"csrf_token": csrf, "date": day, "stress": "4"}
    r = c.post("/checkin", data={**form, "factor__red wine": "1", "factor__screen hours": "lots"})
    assert r.status_code == 400 and 'id="factor__screen hours-error"' in r.text
    with web.engine.connect() as conn:  # neither the day nor its factors were half-saved
        assert conn.execute(sa.select(sa.func.count()).select_from(days)).scalar() == 0
    r = c.post("/checkin", data={**form, "factor__red wine": "1", "factor__screen hours": "9.5"})
    assert r.status_code == 200 and 'value="9.5"' in r.text
    assert re.search(r'name="factor__red wine" value="1"\s+checked', r.text)
    with web.engine.connect() as conn:
        stored = conn.execute(sa.select(factor_values.c.name, factor_values.c.value)).all()
    assert sorted(stored) == [("red wine", 1.0), ("screen hours", 9.5)]
    table = build_day_table(web.app.state.store.read([pid]))  # what the analyses see
    checked = table.filter(pl.col("date") == LAST_MONTH.replace(day=2))
    assert checked["factor_red wine"].to_list() == [1]
    # Unanswered stays unknown; the next day starts blank instead of copying yesterday.
    c.post("/checkin", data={**form, "factor__screen hours": ""})
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(factor_values)).scalar() == 0
    nxt = c.get(f"/checkin?date={LAST_MONTH.replace(day=3)}").text
    assert re.search(r'name="factor__screen hours"[^>]* value=""', nxt)

    # Retiring a factor removes it from the form but keeps what was recorded, even when
    # an old check-in is edited afterwards.
    c.post("/checkin", data={**form, "factor__red wine": "1"})
    r = c.post(
        "/checkin/factors",
        data={"csrf_token": csrf, "date": str(LAST_MONTH.replace(day=4)), "retire": "red wine"},
    )
    assert r.status_code == 200 and 'name="factor__red wine"' not in r.text
    c.post("/checkin", data={**form, "stress": "5", "factor__screen hours": "2"})
    with web.engine.connect() as conn:
        stored = conn.execute(sa.select(factor_values.c.name, factor_values.c.value)).all()
    assert sorted(stored) == [("red wine", 1.0), ("screen hours", 2.0)]
    r = c.post("/checkin/factors", data={"csrf_token": csrf, "retire": "red wine"})
    assert r.status_code == 400 and "not one of the factors you track" in r.text
    r = c.post("/checkin/factors", data={"csrf_token": csrf, "name": "red wine", "kind": "numeric"})
    assert r.status_code == 400 and "tracked this before as boolean" in r.text
    r = c.post("/checkin/factors", data={"csrf_token": csrf, "name": "Red wine", "kind": "boolean"})
    assert r.status_code == 200 and 'name="factor__red wine"' in r.text  # the same series again
    # renaming keeps the series under the new name, and refuses a name already taken
    rename = {"csrf_token": csrf, "rename": "red wine"}
    r = c.post("/checkin/factors", data={**rename, "new_name": "Screen hours"})
    assert r.status_code == 400 and "already have a factor called" in r.text
    assert 'value="Screen hours"' in r.text
    r = c.post("/checkin/factors", data={**rename, "new_name": ""})
    assert r.status_code == 400 and 'id="new_rename-error"' in r.text
    r = c.post("/checkin/factors", data={**rename, "new_name": "wine"})
    assert r.status_code == 200 and 'name="factor__wine"' in r.text
    with web.engine.connect() as conn:
        stored = conn.execute(sa.select(factor_values.c.name, factor_values.c.value)).all()
    assert sorted(stored) == [("screen hours", 2.0), ("wine", 1.0)]


def test_csrf_is_required_on_every_form_and_unsafe_call(web: Web) -> None:
    c, _pid, _csrf = web.patient("fay")
    assert c.post("/attacks/start", data={}).status_code == 403
    assert c.post("/attacks/start", data={"csrf_token": "forged"}).status_code == 403
    assert c.post("/api/patients/x/attacks", json={}).status_code == 403


def test_session_cookie_is_secure_httponly_strict(web: Web) -> None:
    c = web.client()
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": "gil@x.org",
            "display_name": "Gil",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_clinician_sees_consented_patients_only_and_revocation_works(web: Web) -> None:
    ana, ana_id, ana_csrf = web.patient("ana")
    _ben, ben_id, _ = web.patient("ben")
    for client, csrf in ((ana, ana_csrf),):
        client.post("/attacks/start", data={"csrf_token": csrf})
    doc, _doc_csrf = web.clinician("doc")
    assert "No patient shares" in doc.get("/clinic").text
    r = ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "doc@clinic.org"})
    assert r.status_code == 200 and "<li>doc (doc@clinic.org) since " in r.text  # listed
    listed = doc.get("/api/clinic/patients").json()
    assert [p["patient_id"] for p in listed] == [ana_id]
    assert doc.get(f"/clinic/patients/{ana_id}").status_code == 200
    assert doc.get(f"/clinic/patients/{ben_id}").status_code == 404
    assert doc.get(f"/api/patients/{ben_id}/attacks").status_code == 404
    clinician_id = ana.get(f"/api/patients/{ana_id}/grants").json()[0]["id"]
    ana.post("/sharing", data={"csrf_token": ana_csrf, "revoke": str(clinician_id)})
    assert doc.get(f"/api/patients/{ana_id}/attacks").status_code == 404
    r = ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "ben@x.org"})
    assert r.status_code == 400 and "no clinician" in r.text and 'value="ben@x.org"' in r.text


def test_every_read_and_write_of_health_data_is_audited(web: Web) -> None:
    c, pid, csrf = web.patient("hal")
    c.get("/home")
    c.post("/attacks/start", data={"csrf_token": csrf})
    c.get(f"/api/patients/{pid}/attacks")
    doc, _ = web.clinician("doc")
    doc.get(f"/api/patients/{pid}/attacks")  # not granted
    with web.engine.connect() as conn:
        log = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.resource, audit_log.c.patient_id)
        ).all()
    actions = {(a, r) for a, r, p in log if p == pid}
    assert (
        ("read", "home") in actions
        and ("write", "attack") in actions
        and ("read", "attacks") in actions
    )
    assert ("denied", "attacks") in actions


def test_export_and_account_deletion(web: Web) -> None:
    c, pid, csrf = web.patient("ida")
    c.post("/attacks/start", data={"csrf_token": csrf})
    c.post("/history", data={"csrf_token": csrf, "history_cancer": "no"})
    c.post(
        f"/api/patients/{pid}/questionnaires",
        json={"instrument": "midas", "completed_on": DAY, "items": {"midas-1": 4}},
        headers={"X-CSRF-Token": csrf},
    )
    r = c.get("/account/export")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert "attacks.csv" in archive.namelist() and "painlink.json" in archive.namelist()
    assert "midas-1" in archive.read("questionnaires.csv").decode()
    assert "history_cancer" in archive.read("screenings.csv").decode()
    fhir = c.get("/account/export.fhir.json")
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    kinds = {e["resource"]["resourceType"] for e in fhir.json()["entry"]}
    assert kinds == {"Patient", "Observation", "QuestionnaireResponse"}
    assert c.post("/account/delete", data={"csrf_token": csrf, "confirm": "no"}).status_code == 400
    c.post("/account/delete", data={"csrf_token": csrf, "confirm": "DELETE"})
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(patients).where(patients.c.patient_id == pid)).first() is None
        assert conn.execute(sa.select(attacks).where(attacks.c.patient_id == pid)).first() is None
        for table in (questionnaire_items, screening_answers):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    assert c.get("/home", follow_redirects=False).status_code == 303  # logged out


def test_calendar_and_insights_render_with_data(web: Web) -> None:
    c, pid, csrf = web.patient("jo")
    for i in range(3):
        start = dt.datetime.combine(LAST_MONTH.replace(day=2 + 3 * i), dt.time(8))
        r = c.post(
            f"/api/patients/{pid}/attacks",
            json={"start": start.isoformat(), "intensity": 2},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201
        c.patch(
            f"/api/patients/{pid}/attacks/{r.json()['attack_id']}",
            json={
                "end": (start + dt.timedelta(hours=8)).isoformat(),
                "nausea": True,
                "side": "left",
                "quality": "pulsating",
            },
            headers={"X-CSRF-Token": csrf},
        )
    r = c.get(f"/calendar?month={MONTH}")
    assert r.status_code == 200 and 'class="day migraine' in r.text
    r = c.get("/insights")
    assert (
        r.status_code == 200
        and "What kind of headache" in r.text
        and "not proof of cause" in r.text
    )
    # every picture is a PNG drawn dark for the low-light page; an unknown one is a 404
    from PIL import Image

    for kind in ("triggers", "spine", "outcomes", "forecast"):
        r = c.get(f"/insights/{kind}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", kind
        corner = Image.open(io.BytesIO(r.content)).convert("RGB").getpixel((2, 2))
        assert sum(corner) < 3 * 60, (kind, corner)
    assert c.get("/insights/secrets.png").status_code == 404
    with web.engine.connect() as conn:
        reads = conn.execute(
            sa.select(audit_log.c.resource).where(audit_log.c.resource.like("%plot"))
        ).scalars()
        assert set(reads) == {"triggers plot", "spine plot", "outcomes plot", "forecast plot"}


def test_a_call_explained_by_other_records_is_listed_with_what_it_moves_with(web: Web) -> None:
    """The insights page's list of calls the person's other records explain, as the
    patient and as a clinician. The diary is not painlink's: person IND0013 of the
    independent simulator (seed 4, 40 people × 365 days), the one person in 160 there
    (seeds 1–4) whose analysis alone withdraws a call — a fall in sleep, which moves with
    sleep quality."""
    from painlink.diary.frames import DiaryFrames
    from painlink.services.importing import store_diary
    from painlink.simulate.independent import simulate_independent

    ana, pid, _ = web.patient("ana")
    diary, _truth = simulate_independent(40, 365, 4, dt.date(2025, 1, 1))
    one = DiaryFrames.from_tables(
        **{
            k: t.with_columns(pl.lit(pid).alias("patient_id"))
            for k, t in diary.only(["IND0013"]).items()
        }
    )
    store_diary(web.app.state.store, one, merge_into=pid)
    r = ana.get("/insights")
    assert r.status_code == 200
    listed = re.search(r'id="explained-by-others".*?</ul>', r.text, re.S)
    assert listed, (
        "no call explained by other records: on the 2026-11-30 analysis this diary's "
        "'a fall in sleep' was withdrawn beside sleep quality (adjusted odds ratio 1.2); "
        "if the analysis changed, find another such person (seeds 1-4, 40 x 365 days)"
    )
    item = listed.group(0)
    assert "a fall in sleep moves with your sleep quality" in item
    assert re.search(r"odds ratio \d+\.\d, somewhere between \d+\.\d and \d+\.\d", item)
    # ... and it is in neither table of calls above the list
    calls = r.text.split("Possible triggers and protectors</h2>")[1].split(
        'id="explained-by-others"'
    )[0]
    assert calls.count("<table") == 2 and "a fall in sleep" not in calls
    doc, _ = web.clinician("doc")
    ana.post(
        "/sharing",
        data={"csrf_token": _csrf(ana.get("/sharing").text), "clinician_email": "doc@clinic.org"},
    )
    r = doc.get(f"/insights?patient={pid}")
    assert r.status_code == 200 and "a fall in sleep moves with the sleep quality" in r.text
    assert "Beside the other records" in r.text


# ------------------------------------------------------------ every API route × role × own/other

ROUTES = [
    ("GET", "/api/me", None),
    ("GET", "/api/patients/{pid}/attacks", None),
    ("POST", "/api/patients/{pid}/attacks", {}),
    ("PATCH", "/api/patients/{pid}/attacks/{aid}", {"side": "left"}),
    ("POST", "/api/patients/{pid}/attacks/{aid}/readings", {"intensity": 2}),
    ("POST", "/api/patients/{pid}/medications", {"drug": "ibuprofen"}),
    ("POST", "/api/patients/{pid}/spine-pain", {"region": "cervical", "nrs": 4}),
    ("GET", f"/api/patients/{{pid}}/days/{DAY}", None),
    ("PUT", f"/api/patients/{{pid}}/days/{DAY}", {"stress": 3}),
    ("GET", f"/api/patients/{{pid}}/calendar?month={MONTH}", None),
    ("GET", "/api/patients/{pid}/classification", None),
    ("GET", "/api/patients/{pid}/insights", None),
    ("GET", "/api/patients/{pid}/export", None),
    ("POST", "/api/screen", {"fever": True}),
    ("GET", "/api/patients/{pid}/screens", None),
    ("POST", "/api/patients/{pid}/screens", {"answers": {"fever": False}}),
    ("GET", "/api/patients/{pid}/questionnaires", None),
    (
        "POST",
        "/api/patients/{pid}/questionnaires",
        {
            "instrument": "hit6",
            "completed_on": DAY,
            "items": {f"hit6-{i}": 8 for i in range(1, 7)},
        },
    ),
    ("POST", "/api/patients/{pid}/questionnaire-responses", NDI_EXAMPLE),
    ("GET", "/api/patients/{pid}/grants", None),
    ("POST", "/api/patients/{pid}/grants", {"clinician_email": "doc@clinic.org"}),
    ("DELETE", "/api/patients/{pid}/grants/{cid}", None),
    ("GET", "/api/clinic/patients", None),
    ("GET", "/api/admin/audit", None),
    ("PATCH", "/api/patients/{pid}/entries/attack/{aid}", {"notes": "corrected"}),
    ("DELETE", "/api/patients/{pid}/entries/attack/{aid}", None),
    ("POST", "/api/patients/{pid}/corrections/0/undo", None),  # nothing to undo: 404
    ("GET", "/api/patients/{pid}/corrections", None),
]
PATIENT_WRITE = {"POST", "PUT", "PATCH", "DELETE"}


def _expected(method: str, path: str, who: str) -> set[int]:
    if who == "anonymous":
        return {401}
    if path == "/api/me":
        return {200}
    if path == "/api/screen":
        return {200}
    if path == "/api/admin/audit":
        return {200} if who == "admin" else {403}
    if path == "/api/clinic/patients":
        return {200} if who.startswith("clinician") else {403}
    staff_only_read = {"/api/patients/{pid}/export", "/api/patients/{pid}/grants"}
    shared_records = {
        "/api/patients/{pid}/screens",
        "/api/patients/{pid}/questionnaires",
        "/api/patients/{pid}/questionnaire-responses",
    }
    if method == "POST" and path in shared_records:  # the patient or a granted clinician
        if who == "admin":
            return {403}
        return {201} if who in ("patient_own", "clinician_granted") else {404}
    if who == "admin":
        return {403} if (method in PATIENT_WRITE or path in staff_only_read) else {404}
    if who.startswith("clinician"):
        if method in PATIENT_WRITE or path in staff_only_read:
            return {403}
        return (
            {200, 404} if path.endswith(DAY) else ({200} if who == "clinician_granted" else {404})
        )
    # patients
    if who == "patient_other" or path.endswith("/corrections/0/undo"):
        return {404}
    if path.endswith(f"/days/{DAY}") and method == "GET":
        return {200}
    return {200, 201}


@pytest.mark.slow
def test_every_api_route_for_every_role(web: Web, external: Path) -> None:
    ndi_example = json.loads(NDI_FHIR.read_text())
    owner, pid, owner_csrf = web.patient("own")
    other, _, other_csrf = web.patient("oth")
    granted, granted_csrf = web.clinician("doc")
    stranger, stranger_csrf = web.clinician("nob")
    admin, admin_csrf = web.admin()
    owner.post("/sharing", data={"csrf_token": owner_csrf, "clinician_email": "doc@clinic.org"})
    aid = owner.post(
        f"/api/patients/{pid}/attacks", json={"intensity": 2}, headers={"X-CSRF-Token": owner_csrf}
    ).json()["attack_id"]
    owner.put(
        f"/api/patients/{pid}/days/{DAY}",
        json={"stress": 2},
        headers={"X-CSRF-Token": owner_csrf},
    )
    cid = owner.get(f"/api/patients/{pid}/grants").json()[0]["id"]
    actors = {
        "anonymous": (web.client(), None),
        "patient_own": (owner, owner_csrf),
        "patient_other": (other, other_csrf),
        "clinician_granted": (granted, granted_csrf),
        "clinician_other": (stranger, stranger_csrf),
        "admin": (admin, admin_csrf),
    }
    documented = set(web.app.openapi()["paths"])
    tested = {
        p.split("?")[0]
        .replace("{pid}", "{patient_id}")
        .replace("{aid}", "{attack_id}")
        .replace("{cid}", "{clinician_id}")
        .replace(DAY, "{date}")
        .replace("/entries/attack/{attack_id}", "/entries/{kind}/{entry_id}")
        .replace("/corrections/0/", "/corrections/{correction_id}/")
        for _, p, _ in ROUTES
    }
    assert documented == tested, documented ^ tested
    failures = []
    for who, (client, csrf) in actors.items():
        for method, template, body in ROUTES:
            if who == "patient_own" and method == "DELETE":
                continue  # revoking is checked last, below
            path = template.format(pid=pid, aid=aid, cid=cid)
            headers = {"X-CSRF-Token": csrf} if csrf else {}
            body = ndi_example if body == NDI_EXAMPLE else body
            r = client.request(method, path, json=body, headers=headers)
            if r.status_code not in _expected(method, template, who):
                failures.append((who, method, template, r.status_code))
    r = owner.delete(f"/api/patients/{pid}/grants/{cid}", headers={"X-CSRF-Token": owner_csrf})
    assert r.status_code == 200
    assert not failures, failures


@pytest.mark.slow
def test_clinician_intake_screen_exam_findings_and_scores(web: Web) -> None:
    doc, csrf = web.clinician("doc")
    ana, ana_id, ana_csrf = web.patient("ana")
    ana.post("/attacks/start", data={"csrf_token": ana_csrf})
    ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "doc@clinic.org"})
    page = f"/clinic/patients/{ana_id}"
    r = doc.post(
        f"{page}/screen",
        data={
            "csrf_token": csrf,
            "age": "62",
            "headache_onset_age": "61",
            "jaw_claudication": "yes",
            "fever": "",  # "not asked" stays not asked
        },
    )
    assert r.status_code == 200 and "URGENT" in r.text and "giant cell arteritis" in r.text
    r = doc.post(
        f"{page}/exam",
        data={
            "csrf_token": csrf,
            "frt_left_deg#1": "28",
            "frt_left_deg#2": "30",
            "frt_right_deg#1": "44",
            "frt_right_deg#2": "46",
            "method": "goniometer",
        },
    )
    assert r.status_code == 200 and "positive" in r.text and "29.0°" in r.text
    r = doc.post(
        f"{page}/exam",
        data={
            "csrf_token": csrf,
            "frt_left_deg#1": "wide",
            "frt_right_deg#1": "41",
            "method": "CROM",
        },
    )
    assert r.status_code == 400 and "not a number" in r.text
    assert 'value="wide"' in r.text and 'value="41"' in r.text and 'value="CROM"' in r.text
    r = doc.post(f"{page}/screen", data={"csrf_token": csrf, "age": "200", "fever": "yes"})
    assert r.status_code == 400 and 'id="age-error"' in r.text and 'value="200"' in r.text
    assert 'name="fever" value="yes" checked' in r.text  # the chosen answers stay chosen
    assert 'name="rash" value="no" checked' not in r.text  # nothing else is pre-chosen
    r = doc.post(
        f"{page}/finding", data={"csrf_token": csrf, "item": "cervical_lesion", "present": "yes"}
    )
    assert "cervical lesion: present — doc" in r.text
    r = doc.post(
        f"{page}/score",
        data={"csrf_token": csrf, "instrument": "ndi", **{f"item{i}": "2" for i in range(1, 11)}},
    )
    ndi = r.text.split("<h3>Neck Disability Index (NDI)</h3>")[1].split("</table>")[0]
    assert "20.0 points (0–50)" in ndi and "moderate disability" in ndi
    # Both are kept: the screen as its answers, the questionnaire as its items.
    r = doc.post(
        f"{page}/score",
        data={
            "csrf_token": csrf,
            "instrument": "ndi",
            "completed_on": DAY,
            **{f"item{i}": "3" for i in range(1, 11)},
        },
    )
    screens = doc.get(f"{page}?tab=screens").text  # the screens have a tab of their own
    assert "Screens on record" in screens and "jaw pain on chewing" in screens.split("on record")[1]
    ndi = r.text.split("<h3>Neck Disability Index (NDI)</h3>")[1].split("</table>")[0]
    assert ndi.index(DAY) < ndi.index("30.0") < ndi.index("20.0")
    assert "change −10 points (0–50) reaches the minimal clinically important change" in ndi
    # a bad answer is refused next to the form, keeps what was typed and stores nothing
    r = doc.post(
        f"{page}/score",
        data={"csrf_token": csrf, "instrument": "hit6", "item1": "7", "item2": "13"},
    )
    assert r.status_code == 400 and "hit6-1: 7 is not a valid answer" in r.text
    assert 'value="13"' in r.text
    diary = web.app.state.store.read([ana_id])
    assert diary.questionnaire_items.height == 20
    # only what was asked is kept: age, age at onset, jaw claudication (no unticked "no"s)
    assert diary.screening_answers.filter(pl.col("context") == "intake").height == 3
    # another clinician cannot document anything for this patient
    other, other_csrf = web.clinician("nob")
    assert (
        other.post(
            f"{page}/exam", data={"csrf_token": other_csrf, "frt_left_deg#1": "30"}
        ).status_code
        == 404
    )


def test_spine_pain_body_map(web: Web) -> None:
    c, pid, csrf = web.patient("kim")
    page = c.get("/spine")
    text = shown(page.text)
    assert "Upper neck" in text and "C0" not in text
    pick = {"csrf_token": csrf, "pick_upper_cervical": "1", "side_upper_cervical": "left"}
    r = c.post("/spine", data={**pick, "nrs_upper_cervical": "11"})
    assert r.status_code == 400 and 'id="nrs_upper_cervical-error"' in r.text
    r = c.post("/spine", data={"csrf_token": csrf, "nrs_lumbar": "4"})
    assert r.status_code == 400 and 'id="regions-error"' in r.text
    r = c.post("/spine", data={**pick, "nrs_upper_cervical": "6"})
    assert r.status_code == 200 and "Saved." in r.text
    diary = web.app.state.store.read([pid])
    assert diary.spine_pain.select("region", "side", "nrs").rows() == [
        ("upper_cervical", "left", 6.0)
    ]


def test_own_history_is_asked_at_registration_and_joins_every_attack_screen(web: Web) -> None:
    c, pid, csrf = web.patient("lou")
    r = c.post(
        "/history",
        data={
            "csrf_token": csrf,
            "headache_onset_age": "200",
            "history_cancer": "yes",
            "pattern_change": "no",
        },
    )
    assert r.status_code == 400 and 'id="headache_onset_age-error"' in r.text
    assert 'value="yes" checked' in r.text  # what was typed is kept
    # a changed pattern in someone who has had cancer: see a doctor, shown first
    r = c.post(
        "/history",
        data={
            "csrf_token": csrf,
            "headache_onset_age": "14",
            "history_cancer": "yes",
            "pattern_change": "yes",
            "anticoagulants": "",
        },
    )
    assert r.status_code == 200 and r.text.index('role="alert"') < r.text.index("<ul>")
    with web.engine.connect() as conn:
        row = conn.execute(sa.select(patients).where(patients.c.patient_id == pid)).mappings().one()
    assert row["history_cancer"] is True and row["headache_onset_age"] == 14
    assert row["anticoagulants"] is None  # "not sure" stays unknown, never "no"
    assert 'value="yes" checked' in c.get("/history").text
    # at an attack, the screen is checked and stored together with that history
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    c.post(f"/attacks/{attack_id}/safety", data={"csrf_token": csrf, "fever": "no"})
    screens = c.get(f"/api/patients/{pid}/screens").json()
    assert [s["context"] for s in screens] == ["attack", "history"]
    assert screens[0]["attack_id"] == attack_id
    assert screens[0]["answers"] == {
        "headache_onset_age": 14,
        "history_cancer": True,
        "fever": False,
    }


@pytest.mark.slow
def test_a_fhir_questionnaire_response_is_imported_as_its_items(web: Web, external: Path) -> None:
    doc, csrf = web.clinician("doc")
    ana, ana_id, ana_csrf = web.patient("ana")
    ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "doc@clinic.org"})
    page = f"/clinic/patients/{ana_id}"
    r = doc.post(
        f"{page}/fhir", data={"csrf_token": csrf}, files={"response": ("x.json", b"{oops")}
    )
    assert r.status_code == 400 and "not a JSON file" in r.text
    patient = json.dumps({"resourceType": "Patient", "id": "p"}).encode()
    r = doc.post(f"{page}/fhir", data={"csrf_token": csrf}, files={"response": ("p.json", patient)})
    assert r.status_code == 400 and 'id="fhir-error"' in r.text
    assert web.app.state.store.read([ana_id]).questionnaire_items.is_empty()
    # the real NDI example (its authors' total: 20 of 50) lands on its authored date
    r = doc.post(
        f"{page}/fhir",
        data={"csrf_token": csrf},
        files={"response": ("ndi.json", NDI_FHIR.read_bytes(), "application/fhir+json")},
    )
    ndi = r.text.split("<h3>Neck Disability Index (NDI)</h3>")[1].split("</table>")[0]
    assert "2026-01-15" in ndi and "20.0 points (0–50)" in ndi
    items = web.app.state.store.read([ana_id]).questionnaire_items
    assert items.height == 10 and items["recorded_by"].unique().to_list() == ["doc"]
    # the patient can send one through the API too; the same day replaces, not doubles
    r = ana.post(
        f"/api/patients/{ana_id}/questionnaire-responses",
        json=json.loads(NDI_FHIR.read_text()),
        headers={"X-CSRF-Token": ana_csrf},
    )
    assert r.status_code == 201 and r.json()["score"] == 20
    assert web.app.state.store.read([ana_id]).questionnaire_items.height == 10


@pytest.mark.slow
def test_screens_and_questionnaires_on_both_databases(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url)
    doc, csrf = web.clinician("doc")
    c, pid, p_csrf = web.patient("bo")
    c.post("/sharing", data={"csrf_token": p_csrf, "clinician_email": "doc@clinic.org"})
    c.post(
        "/history", data={"csrf_token": p_csrf, "history_cancer": "yes", "headache_onset_age": "30"}
    )
    r = c.post("/attacks/start", data={"csrf_token": p_csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    c.post(f"/attacks/{attack_id}/safety", data={"csrf_token": p_csrf, "fever": "no"})
    c.post(f"/attacks/{attack_id}/safety", data={"csrf_token": p_csrf, "fever": "no"})  # twice
    doc.post(f"/clinic/patients/{pid}/screen", data={"csrf_token": csrf, "age": "40"})
    doc.post(
        f"/clinic/patients/{pid}/score",
        data={"csrf_token": csrf, "instrument": "hit6", "completed_on": DAY,
              **{f"item{i}": "11" for i in range(1, 7)}},
    )  # fmt: skip
    screens = doc.get(f"/api/patients/{pid}/screens").json()
    assert sorted(s["context"] for s in screens) == ["attack", "attack", "history", "intake"]
    scores = doc.get(f"/api/patients/{pid}/questionnaires").json()
    assert scores[0]["responses"][0]["score"]["score"] == 66


def test_the_analysis_is_reused_only_while_the_diary_is_unchanged(web: Web) -> None:
    from painlink.services.analyses import analysis_report

    c, pid, csrf = web.patient("uli")
    for day in (2, 9):
        c.post(
            f"/api/patients/{pid}/attacks",
            json={"start": f"{LAST_MONTH.replace(day=day)}T08:00:00", "intensity": 2},
            headers={"X-CSRF-Token": csrf},
        )
    store = web.app.state.store
    today = dt.date(2026, 11, 20)  # the day is an argument: no test depends on the clock
    first = analysis_report(store.read([pid]), pid, today)
    assert analysis_report(store.read([pid]), pid, today) is first  # the pictures reuse it
    # an ongoing attack counts up to today: another day is another analysis
    assert analysis_report(store.read([pid]), pid, today + dt.timedelta(days=1)) is not first
    c.post(
        f"/api/patients/{pid}/attacks",
        json={"start": f"{LAST_MONTH.replace(day=12)}T08:00:00", "intensity": 3},
        headers={"X-CSRF-Token": csrf},
    )
    second = analysis_report(store.read([pid]), pid, today)
    assert second is not first  # a new attack: a new analysis
    assert second.as_dict() != first.as_dict()


def test_a_patient_brings_in_a_diary_from_another_app(web: Web, external: Path) -> None:
    c, pid, csrf = web.patient("zoe")
    mb = external / "migraine-buddy" / "migraine_buddy_sample.csv"
    clue = external / "bitmask-migraine-diary" / "ClueBackup-2020-03-06.cluedata.json"

    def send(source: str, path: Path, token: str = csrf) -> object:
        return c.post(
            "/account/import",
            data={"csrf_token": token, "source": source},
            files={"file": (path.name, path.read_bytes())},
        )

    assert send("migraine-buddy", mb, token="forged").status_code == 403
    r = send("migraine-buddy", mb)
    assert r.status_code == 200 and "Added: 1 attack(s)" in r.text
    r = send("migraine-buddy", mb)  # the same export again
    assert "Added: 0 attack(s)" in r.text and "1 attack(s) were already here" in r.text
    r = send("clue", clue)
    assert "menstruation on 362 day(s)" in r.text and "pain 189" in r.text
    bad = external / "migraine-buddy" / "migraine_buddy_mixed.csv"
    r = send("migraine-buddy", bad)
    assert (
        r.status_code == 400 and 'id="import-error"' in r.text and "nothing was imported" in r.text
    )
    diary = web.app.state.store.read([pid])
    assert diary.attacks.height == 1 and diary.days["menstruation"].drop_nulls().len() == 362
    with web.engine.connect() as conn:
        resources = conn.execute(
            sa.select(audit_log.c.resource).where(audit_log.c.resource.like("import from%"))
        ).scalars()
        assert sorted(resources) == ["import from clue"] + ["import from migraine-buddy"] * 2


def test_attack_check_asks_apart_keeps_not_sure_unknown_and_reads_blood_pressure(
    web: Web,
) -> None:
    c, pid, csrf = web.patient("eve")
    c.post(
        "/history",
        data={"csrf_token": csrf, "pregnant_or_postpartum": "yes", "osteoporosis": "yes"},
    )
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    page = c.get(f"/attacks/{attack_id}?new=1").text
    for question in ("neck_stiffness", "rash", "confusion", "worse_upright", "systolic_bp"):
        assert f'name="{question}"' in page
    assert " checked" not in page.split('id="safety"')[1].split("</form>")[0]  # none chosen
    # a mistyped reading is refused next to its field, keeps what was typed, stores nothing
    bad = {"csrf_token": csrf, "fever": "yes", "systolic_bp": "400", "diastolic_bp": "90"}
    r = c.post(f"/attacks/{attack_id}/safety", data=bad)
    assert r.status_code == 400 and 'id="systolic_bp-error"' in r.text
    assert 'value="400"' in r.text and 'name="fever" value="yes" checked' in r.text
    assert (
        web.app.state.store.read([pid])
        .screening_answers.filter(pl.col("context") == "attack")
        .is_empty()
    )
    r = c.post(
        f"/attacks/{attack_id}/safety",
        data={
            "csrf_token": csrf,
            "fever": "no",
            "neck_stiffness": "",  # not sure
            "rash": "no",
            "systolic_bp": "165",
            "diastolic_bp": "100",
        },
    )
    assert "Get help now" in r.text and "high blood pressure" in r.text
    screens = c.get(f"/api/patients/{pid}/screens").json()
    attack = next(s for s in screens if s["context"] == "attack")
    assert attack["answers"] == {
        "pregnant_or_postpartum": True,
        "osteoporosis": True,  # from the history, joining every attack screen
        "fever": False,
        "rash": False,
        "systolic_bp": 165,
        "diastolic_bp": 100,
    }
    assert attack["result"]["urgency"] == "emergency"


def test_intake_asks_every_question_with_nothing_chosen(web: Web) -> None:
    from painlink.rules.screening_questions import Presentation
    from painlink.web.forms import INTAKE_NUMBERS, INTAKE_QUESTIONS

    asked = {k for k, _ in INTAKE_QUESTIONS} | {k for k, _ in INTAKE_NUMBERS}
    assert set(Presentation.model_fields) - asked == {"fever_or_meningism"}  # legacy only
    doc, _csrf = web.clinician("doc")
    ana, ana_id, ana_csrf = web.patient("ana")
    ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "doc@clinic.org"})
    page = doc.get(f"/clinic/patients/{ana_id}?tab=screens").text
    form = page.split('id="intake"')[1].split("</form>")[0]
    assert " checked" not in form and form.count('type="radio"') == 3 * len(INTAKE_QUESTIONS)
