"""Deleting a person leaves no trace of them: no row names them, and the bytes of the
SQLite files (.db, -wal, -shm) no longer hold their e-mail, name or notes. The audit
trail keeps the deletion under the pseudonymous patient id and still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.cli import app
from painlink.store import audit
from painlink.store.account_tables import audit_log, grants, login_attempts, sessions, users
from painlink.store.tables import INSERT_ORDER
from tests.conftest import LAST_MONTH
from tests.test_web import PASSWORD, Web, form_token

runner = CliRunner()
EMAIL = "zora.quintavalle@example.org"
NAME = "Zora Quintavalle"
NOTE = "unique-note-kumquat-7731"


def _person(web: Web) -> str:
    """A patient with a grant, a failed and a good login, and a diary with a note."""
    c = web.client()
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": EMAIL,
            "display_name": NAME,
            "password": PASSWORD,
            "time_zone": "Europe/Berlin",
            "birth_year": "1980",
            "sex": "female",
        },
    )
    assert r.status_code == 200
    me = c.get("/api/me").json()
    pid, csrf = me["patient_id"], me["csrf_token"]
    r = c.post(
        f"/api/patients/{pid}/attacks",
        json={"start": f"{LAST_MONTH}T08:00:00", "intensity": 2},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    r = c.patch(
        f"/api/patients/{pid}/attacks/{r.json()['attack_id']}",
        json={"notes": NOTE},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    web.clinician("doc")
    c.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    anon = web.client()
    anon.post(
        "/login",
        data={
            "csrf_token": form_token(anon, "/login"),
            "email": EMAIL,
            "password": "wrong password",
        },
    )
    web.login(EMAIL)
    return pid


def _files(db: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    }


def _traces(db: Path) -> list[str]:
    found = []
    for name, data in _files(db).items():
        for secret in (EMAIL, NAME, NOTE):
            if secret.encode() in data:
                found.append(f"{secret} in {name}")
    return found


def _rows_naming(web: Web, pid: str) -> dict[str, int]:
    with web.engine.connect() as conn:
        out = {
            t.name: conn.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.patient_id == pid)
            ).scalar_one()
            for t in INSERT_ORDER
        }
        out["users"] = conn.execute(
            sa.select(sa.func.count()).select_from(users).where(users.c.email == EMAIL)
        ).scalar_one()
        out["login_attempts"] = conn.execute(
            sa.select(sa.func.count())
            .select_from(login_attempts)
            .where(login_attempts.c.email == EMAIL)
        ).scalar_one()
        out["grants"] = conn.execute(
            sa.select(sa.func.count()).select_from(grants).where(grants.c.patient_id == pid)
        ).scalar_one()
        out["sessions"] = conn.execute(
            sa.select(sa.func.count())
            .select_from(sessions)
            .join(users, users.c.id == sessions.c.user_id)
            .where(users.c.email == EMAIL)
        ).scalar_one()
    return {k: v for k, v in out.items() if v}


def _check_gone(web: Web, db: Path, pid: str) -> None:
    assert _rows_naming(web, pid) == {}
    assert _traces(db) == []
    with web.engine.connect() as conn:
        assert audit.verify(conn).ok
        details = " ".join(
            str(v) for row in conn.execute(sa.select(audit_log)).all() for v in row if v is not None
        )
    assert EMAIL not in details and NAME not in details and NOTE not in details


def test_web_account_deletion_leaves_no_trace(tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    web = Web(tmp_path)
    pid = _person(web)
    assert _traces(db)  # the secrets are in the files before deletion
    c, csrf = web.login(EMAIL)
    r = c.post("/account/delete", data={"csrf_token": csrf, "confirm": "DELETE"})
    assert r.status_code == 200 and str(r.url).endswith("/login")
    _check_gone(web, db, pid)
    with web.engine.connect() as conn:
        deleted = conn.execute(
            sa.select(audit_log.c.patient_id).where(audit_log.c.action == "delete")
        ).scalars()
        assert list(deleted) == [pid]


def test_cli_delete_leaves_no_trace(tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    web = Web(tmp_path)
    pid = _person(web)
    result = runner.invoke(app, ["delete", pid, "--db", f"sqlite:///{db}", "--yes"])
    assert result.exit_code == 0, result.output
    _check_gone(web, db, pid)


@pytest.mark.postgres
def test_deletion_on_postgresql_removes_every_row_naming_the_person(
    tmp_path: Path, postgres_url: str
) -> None:
    web = Web(tmp_path, postgres_url)
    pid = _person(web)
    result = runner.invoke(app, ["delete", pid, "--db", postgres_url, "--yes"])
    assert result.exit_code == 0, result.output
    assert _rows_naming(web, pid) == {}
