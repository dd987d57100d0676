"""The report for the doctor keeps what a patient typed on the page.

Found by probing: a display name of 200 letters without a space (the longest the
registration takes) ran past the right edge of the A4 page in the report's heading and
its running header, so the clinician's copy lost its end; the header also ran into the
"Headache diary report (painlink)" beside it. Checked on the PDF's own text boxes
(poppler's ``pdftotext -bbox``; skipped where it is not installed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_web import Web

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")


def test_a_long_unbroken_name_stays_on_the_page(tmp_path: Path) -> None:
    web = Web(tmp_path)
    patient, _, _ = web.patient("W" * 200)
    r = patient.get("/reports/me.pdf")
    assert r.status_code == 200
    (tmp_path / "r.pdf").write_bytes(r.content)
    subprocess.run(["pdftotext", "-bbox", str(tmp_path / "r.pdf"), str(tmp_path / "r.html")],
                   check=True)  # fmt: skip
    boxes = (tmp_path / "r.html").read_text()
    width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))  # type: ignore[union-attr]
    words = re.findall(
        r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', boxes
    )
    assert any("WWWW" in w for _, _, w in words)
    outside = [(w[:20], float(x1)) for _, x1, w in words if float(x1) > width - 20]
    assert not outside, f"past the right margin of a {width:.0f} pt page: {outside}"


def test_the_report_of_a_diary_ahead_of_a_new_time_zone(tmp_path: Path) -> None:
    """Found by probing: a patient in Kiribati (UTC+14) logs a headache, then sets their
    zone to American Samoa (UTC−11), where it is still the day before; the entries keep
    their wall-clock day (services/accounts.py::set_time_zone), so every one lay after
    "today", the report's period started after it ended, and /reports/me.pdf answered
    500. (Tokyo to New York on the night of a migraine is the same, by 14 hours.)"""
    web = Web(tmp_path)
    patient, pid, csrf = web.patient("kiri")
    r = patient.post(
        "/account/time-zone", data={"csrf_token": csrf, "time_zone": "Pacific/Kiritimati"}
    )
    assert r.status_code == 200, r.text
    home = patient.get("/home").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)  # type: ignore[union-attr]
    r = patient.post("/attacks/start", data={"csrf_token": token})
    assert "How bad is it?" in r.text
    r = patient.post(
        "/account/time-zone", data={"csrf_token": csrf, "time_zone": "Pacific/Pago_Pago"}
    )
    assert r.status_code == 200, r.text
    r = patient.get("/reports/me.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:300]
    doctor, _ = web.clinician("doc")
    patient.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    r = doctor.get(f"/clinic/patients/{pid}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[:300]
