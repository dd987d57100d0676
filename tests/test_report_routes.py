"""The report for the doctor from the web app and the command line: who may download
it, that each download is audited, and that the buttons are where people look."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.store.account_tables import audit_log
from tests.conftest import LAST_MONTH
from tests.test_web import Web


def _attacks(c, pid: str, csrf: str) -> None:  # type: ignore[no-untyped-def]
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
            json={"end": (start + dt.timedelta(hours=8)).isoformat(), "nausea": True},
            headers={"X-CSRF-Token": csrf},
        )


def test_patient_and_consented_clinician_download_the_report(tmp_path: Path) -> None:
    web = Web(tmp_path)
    ana, ana_id, ana_csrf = web.patient("ana")
    ben, ben_id, _ = web.patient("ben")
    _attacks(ana, ana_id, ana_csrf)
    # the buttons: the patient's insights and account pages, the clinician's patient page
    assert 'href="/reports/me.pdf"' in ana.get("/insights").text
    assert 'href="/reports/me.pdf"' in ana.get("/account").text
    r = ana.get("/reports/me.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and "attachment" in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"
    # a patient who has recorded nothing yet gets a report that says so
    r = ben.get("/reports/me.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    doc, _ = web.clinician("doc")
    assert doc.get(f"/clinic/patients/{ana_id}/report.pdf").status_code == 404  # no consent yet
    ana.post("/sharing", data={"csrf_token": ana_csrf, "clinician_email": "doc@clinic.org"})
    assert (
        f'href="/clinic/patients/{ana_id}/report.pdf"' in doc.get(f"/clinic/patients/{ana_id}").text
    )
    r = doc.get(f"/clinic/patients/{ana_id}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert doc.get(f"/clinic/patients/{ben_id}/report.pdf").status_code == 404
    # a patient has no address for another's report; the clinician's is not theirs
    assert ana.get(f"/clinic/patients/{ben_id}/report.pdf").status_code in (403, 404)
    assert doc.get("/reports/me.pdf").status_code in (403, 404)
    with web.engine.connect() as conn:
        log = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.resource, audit_log.c.patient_id)
        ).all()
    assert ("read", "report (PDF)", ana_id) in log
    assert ("denied", "report (PDF)", ben_id) in log
    reads = [row for row in log if row == ("read", "report (PDF)", ana_id)]
    assert len(reads) == 2  # the patient's download and the clinician's


def test_the_command_writes_pdf_and_html_and_audits(tmp_path: Path) -> None:
    from painlink.cli import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    truth = str(tmp_path / "truth.json")
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    r = runner.invoke(
        app,
        [
            *["simulate", "--patients", "1", "--days", "120", "--seed", "4", "--db"],
            db,
            "--truth",
            truth,
        ],
    )
    assert r.exit_code == 0, r.output
    pdf, html = tmp_path / "r.pdf", tmp_path / "r.html"
    r = runner.invoke(
        app,
        ["report", "SIM000001", "--db", db, "--pdf", str(pdf), "--html", str(html), "--json"],
    )
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert answer["written"] == [str(html), str(pdf)]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Topics worth discussing" in html.read_text(encoding="utf-8")
    r = runner.invoke(
        app,
        ["report", "SIM000001", "--db", db, "--pdf", str(pdf), "--sections", "summary,nope"],
    )
    assert r.exit_code == 2 and "unknown section" in r.output
    r = runner.invoke(
        app, ["report", "SIM000001", "--db", db, "--pdf", str(pdf), "--from", "9999-01-01"]
    )
    assert r.exit_code == 2 and "outside 1900" in r.output
    r = runner.invoke(
        app, ["report", "SIM000001", "--db", db, "--pdf", str(pdf), "--letter", "Nothing"]
    )
    assert r.exit_code == 2 and "no treatment 'Nothing'" in r.output
    r = runner.invoke(app, ["report", "NOBODY", "--db", db, "--pdf", str(pdf)])
    assert r.exit_code == 1 and "no such patient" in r.output
    from painlink.store.store import Store

    with Store(db).engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.resource, audit_log.c.patient_id)
        ).all()
    assert ("export", "report", "SIM000001") in rows
