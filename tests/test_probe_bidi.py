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

import pytest

from painlink.services import medicines
from painlink.services import report as reports
from tests.test_web import Web

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
NAME = "Mallory\u202e"
DRUG = "\u2067Herbal\u202e tea"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Web, object, str, object]:
    web = Web(tmp_path)
    patient, pid, csrf = web.patient(NAME)
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
