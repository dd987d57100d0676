"""Run every hostile file through the CLI (and the web upload) and say what happened.

Used by tests/test_hostile_files.py and runnable on its own for the figures in
docs/reliability.md::

    PYTHONPATH=$PWD python -m tests.hostile_run [--web] [--skip-special]

A case *passes* when nothing escaped as a traceback or a 5xx, a refused file gave a
non-zero exit (CLI) or a 400 with the reason beside the form (web), and the
database's diary rows are unchanged by every refused file.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from painlink.cli import app
from painlink.diary.frames import TABLES
from painlink.store import tables as t
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
from tests.hostile_files import Hostile, hostile_corpus

runner = CliRunner()


@dataclass
class Outcome:
    case: Hostile
    refused: bool
    crashed: str | None  # the exception or 5xx, if any
    rows_changed: bool
    message: str
    cli: bool = True

    @property
    def ok(self) -> bool:
        if self.crashed or (self.refused and self.rows_changed):
            return False
        expect = (self.cli and self.case.cli_expect) or self.case.expect
        return {"refused": self.refused, "imported": not self.refused}.get(expect, True)


DIARY_TABLES = [t.metadata.tables[spec.name] for spec in TABLES]


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in every diary table (not accounts, sessions or the audit log, which a
    refused request may rightly add to)."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in DIARY_TABLES
        }


def _cli_args(case: Hostile, db: str) -> list[str]:
    if case.source == "fhir":
        return ["score", "auto", str(case.path)]
    args = ["import", str(case.path), "--db", db]
    if case.source != "painlink":
        args += ["--from", case.source, "--patient-id", "HX", "--time-zone", "Europe/Berlin"]
    return args


def run_cli(case: Hostile, db: str, engine: sa.Engine) -> Outcome:
    before = row_counts(engine)
    result = runner.invoke(app, _cli_args(case, db))
    crashed = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crashed = f"{type(result.exception).__name__}: {str(result.exception)[:200]}"
    output = result.output
    if "Traceback" in output:
        crashed = crashed or "a traceback in the output"
    refused = result.exit_code != 0
    if refused and not crashed and not re.search(r"error", output, re.IGNORECASE):
        crashed = "refused without saying why"
    changed = row_counts(engine) != before
    if not refused and case.source != "fhir":  # undo a good import for the next case
        with engine.begin() as conn:
            for table in reversed(DIARY_TABLES):
                conn.execute(table.delete().where(table.c.patient_id.in_(["HX", "P1"])))
    return Outcome(
        case,
        refused,
        crashed,
        changed,
        output.strip().splitlines()[-1:][0] if output.strip() else "",
    )


def cli_outcomes(corpus: list[Hostile], workdir: Path) -> list[Outcome]:
    from painlink.store.store import Store

    db = f"sqlite:///{workdir / 'hostile.db'}"
    store = Store(db)
    store.init()
    # a diary that is already there must survive every refused file
    from tests.hostile_files import _folder

    keep = _folder(
        workdir,
        "existing",
        **{
            "patients.csv": "patient_id\nKEEP\n",
            "days.csv": "patient_id,date\nKEEP,2024-01-01\n",
            "attacks.csv": "",
        },
    )
    (keep / "attacks.csv").unlink()
    assert runner.invoke(app, ["import", str(keep), "--db", db]).exit_code == 0
    return [run_cli(case, db, store.engine) for case in corpus]


PASSWORD = "correct horse battery"


@dataclass
class WebResult:
    tried: int = 0
    refused: int = 0
    server_errors: int = 0
    wrong: list[str] = field(default_factory=list)


#: staff log in without a second factor here (TOTP has its own tests)
NO_TOTP = AuthSettings(require_totp_for_staff=False)


def web_app(url: str) -> Any:
    """The web app as these tests use it: clinicians without a second factor."""
    return create_app(url, auth=NO_TOTP)


def _form_token(c: TestClient, path: str) -> str:
    """The pre-session CSRF token of a login or register form (and its cookie)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert found is not None
    return found.group(1)


def patient_client(app: Any, display_name: str = "Ana") -> tuple[TestClient, str, str]:
    """A registered, logged-in patient: (client, patient id, CSRF token)."""
    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    r = c.post(
        "/register",
        data={
            "csrf_token": _form_token(c, "/register"),
            "email": "ana@x.org",
            "display_name": display_name,
            "password": PASSWORD,
            "time_zone": "Europe/Berlin",
            "birth_year": "1988",
            "sex": "female",
        },
    )
    assert r.status_code == 200, r.text[:300]
    me = c.get("/api/me").json()
    return c, me["patient_id"], me["csrf_token"]


def _clinician(app: Any, patient: TestClient, csrf: str) -> tuple[TestClient, str]:
    from painlink.services import accounts

    with app.state.store.engine.begin() as conn:
        accounts.create_staff(conn, "doc@clinic.org", "doc", PASSWORD, "clinician")
    patient.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    token = _form_token(c, "/login")
    r = c.post(
        "/login", data={"csrf_token": token, "email": "doc@clinic.org", "password": PASSWORD}
    )
    assert r.is_success, r.text[:300]
    return c, c.get("/api/me").json()["csrf_token"]


def web_outcomes(corpus: list[Hostile], workdir: Path) -> WebResult:
    """Every uploadable case through the patient's import form, the clinician's FHIR
    upload and the FHIR API; what went wrong, in words."""
    app = web_app(f"sqlite:///{workdir / 'web.db'}")
    engine = app.state.store.engine
    ana, ana_id, csrf = patient_client(app)
    doc, doc_csrf = _clinician(app, ana, csrf)
    result = WebResult()
    for case in (c for c in corpus if c.web):
        data = case.path.read_bytes()
        before = row_counts(engine)
        if case.source == "fhir":
            responses = [
                doc.post(
                    f"/clinic/patients/{ana_id}/fhir",
                    data={"csrf_token": doc_csrf},
                    files={"response": (case.path.name, data)},
                )
            ]
            responses.append(  # the API gets the file's bytes as its JSON body
                ana.post(
                    f"/api/patients/{ana_id}/questionnaire-responses",
                    content=data,
                    headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
                )
            )
        else:
            responses = [
                ana.post(
                    "/account/import",
                    data={"csrf_token": csrf, "source": case.source},
                    files={"file": (case.path.name, data)},
                )
            ]
        for r in responses:
            result.tried += 1
            api = r.request.url.path.startswith("/api/")
            # 413: over the address's body limit, refused before the route reads it
            # (painlink/web/limits.py), with the limit named on its own page
            refused = r.status_code in (400, 413, 422)
            result.refused += refused
            result.server_errors += r.status_code >= 500
            shown = api or re.search(r'id="(import|fhir)-error"', r.text) is not None
            shown = shown or (r.status_code == 413 and "larger than the" in r.text)
            if api and case.name == "utf16-no-bom" and r.status_code < 500:
                continue  # JSON bodies may be UTF-16 (RFC 4627 §3): decoded losslessly
            if r.status_code >= 500:
                result.wrong.append(f"{case}: {r.status_code} at {r.request.url.path}")
            elif case.expect == "refused" and not (refused and shown):
                result.wrong.append(
                    f"{case}: not refused ({r.status_code}) at {r.request.url.path}"
                )
            elif case.expect == "imported" and refused:
                result.wrong.append(f"{case}: refused at {r.request.url.path}")
            if refused and row_counts(engine) != before:
                result.wrong.append(f"{case}: refused but the diary changed")
    return result


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = hostile_corpus(Path(tmp) / "corpus")
        if "--skip-special" in argv:
            corpus = [c for c in corpus if not c.special]
        outcomes = cli_outcomes(corpus, Path(tmp))
        web = web_outcomes(corpus, Path(tmp)) if "--web" in argv else None
    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        print(
            f"FAIL {o.case} expect={o.case.expect} refused={o.refused} "
            f"crashed={o.crashed} rows_changed={o.rows_changed} :: {o.message[:160]}"
        )
    crashes = sum(1 for o in outcomes if o.crashed)
    print(
        f"CLI: {len(outcomes)} files ({len({o.case.source for o in outcomes})} importers), "
        f"{sum(o.refused for o in outcomes)} refused, {crashes} tracebacks, "
        f"{len(bad)} not as expected"
    )
    if web is not None:
        for line in web.wrong:
            print("FAIL web", line)
        print(
            f"web: {web.tried} uploads, {web.refused} refused, {web.server_errors} 5xx, "
            f"{len(web.wrong)} not as expected"
        )
    return 1 if bad or (web and web.wrong) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
