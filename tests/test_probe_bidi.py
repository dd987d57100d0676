"""What a patient typed cannot turn the words around it backwards.

Found by probing: a display name ending in U+202E (RIGHT-TO-LEFT OVERRIDE) printed the
report's running header, on every page the clinician reads, as "Mallory03-11-6202 ot
03-11-6202" — the period 2026-11-30 to 2026-11-30 reversed. A preventive named the same
way turned "since 01 Oct 2026" around on the preventives page, and in the treatment
letter the sentence with its start date. The override (and its kin: the embeddings
and isolates U+202A–U+202E, U+2066–U+2069) has no use in a name (right-to-left
scripts need none), so none is shown: not on a page, not in the report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from painlink.services import medicines
from painlink.services import report as reports
from painlink.store.account_tables import users
from painlink.store.tables import patients
from tests.test_web import Web

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
NAME = "Mallory\u202e"
DRUG = "\u2067Herbal\u202e tea"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Web, object, str, object]:
    web = Web(tmp_path)
    patient, pid, csrf = web.patient("Mallory")
    with web.engine.begin() as conn:  # as an imported diary may name its patient
        conn.execute(patients.update().values(display_name=NAME))
        conn.execute(users.update().where(users.c.patient_id == pid).values(display_name=NAME))
    doctor, _ = web.clinician("doc")
    r = patient.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    assert r.status_code == 200, r.text
    with web.engine.begin() as conn:
        medicines.start_preventive(conn, pid, DRUG, None)
    return web, patient, pid, doctor


def test_no_page_shows_a_direction_override(world: tuple[Web, object, str, object]) -> None:
    _, patient, pid, doctor = world
    shows = {  # page → a word of what was typed that it shows (or None)
        (patient, "/home"): None,
        (patient, "/preventives"): "Herbal",
        (patient, "/account"): "Mallory",
        (patient, "/insights"): None,
        (patient, "/entries"): None,
        (doctor, "/clinic"): "Mallory",
        (doctor, f"/clinic/patients/{pid}"): "Mallory",
        (doctor, f"/calendar?patient={pid}"): "Mallory",
    }
    for (client, page), word in shows.items():
        r = client.get(page)  # type: ignore[attr-defined]
        assert r.status_code == 200, page
        assert word is None or word in r.text, page
        assert not BIDI.search(r.text), (page, BIDI.findall(r.text))


def test_the_report_shows_no_direction_override(world: tuple[Web, object, str, object]) -> None:
    web, _, pid, doctor = world
    with web.engine.connect() as conn:
        page = reports.html(reports.for_patient(conn, pid), for_print=True)
    assert "Mallory" in page and not BIDI.search(page)
    r = doctor.get(f"/clinic/patients/{pid}/report.pdf")  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


INVISIBLE = ["\u200b", "\u3164", "\u2800", "\u00ad", "\ufeff", "\u0301\u0301", "\u2066\u2069"]
CONTROL = ["Ana\x1b[31m", "Ana\x07", "An\u202ea"]


def _register(tmp_path: Path, name: str) -> Any:
    from tests.test_web import form_token

    c = Web(tmp_path).client()
    return c.post(
        "/register",
        data={"csrf_token": form_token(c, "/register"), "email": "x@x.org",
              "display_name": name, "password": "correct horse battery",
              "time_zone": "Europe/Berlin", "birth_year": "1988", "sex": "female"},
    )  # fmt: skip


@pytest.mark.parametrize("name", INVISIBLE + CONTROL, ids=repr)
def test_a_name_must_be_seen_and_hold_no_control_characters(tmp_path: Path, name: str) -> None:
    """Found by probing: a zero-width space, a Hangul filler or a braille blank was
    taken as a display name, and the clinician's list then showed that patient as an
    empty link (no accessible name, nothing to tell the row by); a terminal escape
    (ESC [31m) or a bell was taken too. Registration now asks for a name that shows."""
    r = _register(tmp_path, name)
    assert r.status_code == 400, r.text[:200]
    assert 'id="display_name-error"' in r.text


@pytest.mark.parametrize("name", ["Ana", "李小龙", "محمد", "Zoë 🙂", "O'Brien-Smith", "🙂"])
def test_names_people_have_are_taken(tmp_path: Path, name: str) -> None:
    r = _register(tmp_path, name)
    assert r.status_code == 200 and "A few questions first" in r.text, r.text[:300]
