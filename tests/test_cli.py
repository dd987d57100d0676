"""The command line: help everywhere, JSON where a program reads it, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app

runner = CliRunner()
COMMANDS = ["init", "import", "export", "simulate", "days", "summary", "demo", "delete"]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_init_json_and_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    result = runner.invoke(app, ["init", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    from painlink.store.migrate import head_revision
    from painlink.store.store import Store

    assert payload["ok"] and payload["revision"] == head_revision(
        Store(f"sqlite:///{tmp_path / 'env.db'}").engine
    )
    assert (tmp_path / "env.db").exists()


def test_reading_an_uninitialised_database_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "--out", str(tmp_path / "e"), "--db", f"sqlite:///{tmp_path / 'new.db'}"]
    )
    assert result.exit_code == 1
    assert "painlink init" in result.output


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert "cannot initialise" in result.output


def test_days_summary_export_one_patient_and_delete(tmp_path: Path, simulated_folder: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert runner.invoke(app, ["import", str(simulated_folder), "--db", db]).exit_code == 0
    result = runner.invoke(
        app, ["days", "--patient", "SIM000002", "--db", db, "--out", str(tmp_path / "d.parquet")]
    )
    assert result.exit_code == 0, result.output
    days = pl.read_parquet(tmp_path / "d.parquet")
    assert days["patient_id"].unique().to_list() == ["SIM000002"] and days.height >= 170

    summary = json.loads(runner.invoke(app, ["summary", "--db", db, "--json"]).output)
    assert len(summary["patients"]) == 50
    assert all(p["attacks_per_30d"] > 0 for p in summary["patients"])

    result = runner.invoke(
        app, ["export", "--out", str(tmp_path / "one"), "--patient", "SIM000004", "--db", db]
    )
    assert result.exit_code == 0
    assert pl.read_csv(tmp_path / "one" / "patients.csv")["patient_id"].to_list() == ["SIM000004"]
    result = runner.invoke(
        app, ["export", "--out", str(tmp_path / "x"), "--patient", "NOPE", "--db", db]
    )
    assert result.exit_code == 1 and "no such patient" in result.output

    assert runner.invoke(app, ["delete", "SIM000004", "--db", db]).exit_code == 1  # not confirmed
    assert runner.invoke(app, ["delete", "SIM000004", "--db", db, "--yes"]).exit_code == 0
    summary = json.loads(runner.invoke(app, ["summary", "--db", db, "--json"]).output)
    assert len(summary["patients"]) == 49


@pytest.mark.slow
def test_demo_builds_a_fresh_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    for _ in range(2):  # running twice replaces the demo patients rather than failing
        result = runner.invoke(app, ["demo", "--db", db, "--patients", "4", "--json"])
        assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [p["patient_id"] for p in payload["patients"]] == [f"DEMO{i:06d}" for i in range(1, 5)]


@pytest.mark.slow
def test_demo_serves_the_app_and_its_printed_login_works(tmp_path: Path) -> None:
    """The README's main job: `painlink demo` seeds, then serves (it execs uvicorn), and
    the clinician login it prints signs in. A unit test of the seeding alone missed a
    call of the serve step that crashed after the database was built."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests.ports import free_port

    port = free_port()
    log = tmp_path / "demo.log"
    cmd = [sys.executable, "-c", "from painlink.cli import app; app()", "demo", "--db",
           f"sqlite:///{tmp_path / 'demo.db'}", "--patients", "2", "--port", str(port)]  # fmt: skip
    env = {**os.environ, "PAINLINK_REQUIRE_TOTP_FOR_STAFF": "0", "COLUMNS": "200"}
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the demo did not serve: " + log.read_text())
        password = re.search(r"password for all: ([^)]+)\)", log.read_text()).group(1)  # type: ignore[union-attr]
        with httpx.Client(base_url=base) as c:
            page = c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            # the cookies are Secure: a browser sends them to 127.0.0.1 (a trustworthy
            # origin), httpx only over https, so they are passed on by hand
            cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
            r = c.post(
                "/login",
                headers={"Cookie": cookie},
                data={
                    "csrf_token": token.group(1),  # type: ignore[union-attr]
                    "email": "clinician@demo.painlink",
                    "password": password,
                },
            )
            assert r.status_code == 303 and r.headers["location"] == "/", r.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_simulate_rejects_a_bad_start_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "s"), "--start", "soon"])
    assert result.exit_code == 1 and "--start" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("painlink ")


def _real_clinic(db: str, simulated_folder: Path) -> None:
    """A database in use: a patient with a diary and a login, a clinician they share
    with, and an admin — none of them made by the demo."""
    from painlink.interop.csv_diary import read_diary_folder
    from painlink.services import accounts
    from painlink.services.passwords import hash_password
    from painlink.store.account_tables import users
    from painlink.store.store import Store

    store = Store(db)
    store.init()
    store.write(read_diary_folder(simulated_folder).only(["SIM000001"]))
    with store.writing() as conn:
        conn.execute(
            users.insert().values(
                email="ana@example.org", display_name="Ana", role="patient",
                password_hash=hash_password("quiet harbour lantern"), patient_id="SIM000001",
            )
        )  # fmt: skip
        accounts.create_staff(
            conn, "dr.real@example.org", "Dr Real", "amber pine orbit", "clinician"
        )
        accounts.create_staff(conn, "boss@example.org", "Boss", "violet stone river", "admin")
        accounts.grant(conn, "SIM000001", "dr.real@example.org")
    store.close()


def _accounts(db: str) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    from painlink.store.account_tables import users
    from painlink.store.store import Store

    store = Store(db)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.email, users.c.role, users.c.patient_id)).all()
    store.close()
    return {r.email: (r.role, r.patient_id) for r in rows}


def test_demo_keeps_the_accounts_and_diaries_it_did_not_create(
    tmp_path: Path, simulated_folder: Path
) -> None:
    """`painlink demo --db` pointed at a database in use adds the demo beside it: the
    real patient, their diary, their clinician and the admin are all still there, and
    the demo gives the real patient no demo login and no demo clinician access."""
    from painlink.store.store import Store

    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    _real_clinic(db, simulated_folder)
    diary_before = Store(db).read(["SIM000001"])
    real = _accounts(db)
    for _ in range(2):  # a second run replaces the demo's own accounts only
        result = runner.invoke(app, ["demo", "--db", db, "--patients", "2", "--no-serve"])
        assert result.exit_code == 0, result.output
    after = _accounts(db)
    assert {e: after.get(e) for e in real} == real
    demo = {e: v for e, v in after.items() if e not in real}
    assert sorted(demo) == [
        "admin@demo.painlink", "clinician@demo.painlink",
        "patient1@demo.painlink", "patient2@demo.painlink",
    ]  # fmt: skip
    assert {v[1] for v in demo.values()} == {None, "DEMO000001", "DEMO000002"}
    store = Store(db)
    assert store.read(["SIM000001"]).patients.equals(diary_before.patients)
    assert store.read(["SIM000001"]).days.equals(diary_before.days)
    assert store.read(["SIM000001"]).attacks.equals(diary_before.attacks)
    assert store.patient_ids() == ["DEMO000001", "DEMO000002", "SIM000001"]


def test_demo_refuses_rather_than_replaces_a_real_patient_with_a_demo_id(
    tmp_path: Path, simulated_folder: Path
) -> None:
    """A patient named like a demo patient but not made by the demo is not deleted to
    make room: the demo stops with an error and the patient stays."""
    from painlink.interop.csv_diary import read_diary_folder
    from painlink.store.store import Store

    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    store = Store(db)
    store.init()
    one = read_diary_folder(simulated_folder).only(["SIM000001"])
    renamed = type(one).from_tables(
        **{name: frame.with_columns(patient_id=pl.lit("DEMO000001")) for name, frame in one.items()}
    )
    renamed.patients = renamed.patients.with_columns(display_name=pl.lit("Ana"))
    store.write(renamed)
    before = store.read(["DEMO000001"])
    result = runner.invoke(app, ["demo", "--db", db, "--patients", "2", "--no-serve", "--json"])
    assert result.exit_code == 1, result.output
    assert "DEMO000001" in result.output
    assert store.read(["DEMO000001"]).days.equals(before.days)


def _options(command: object) -> set[str]:
    return {name for param in command.params for name in param.opts}  # type: ignore[attr-defined]


def test_db_and_json_wherever_they_make_sense() -> None:
    """Every command that reads or writes a database takes --db, every command that
    prints a result takes --json (README states the same list)."""
    import typer.main

    commands = {}
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        for sub, inner in (subcommands or {name: command}).items():
            commands[f"{name} {sub}" if subcommands else name] = inner
    with_db = {name for name, c in commands.items() if "--db" in _options(c)}
    with_json = {name for name, c in commands.items() if "--json" in _options(c)}
    assert with_json == set(commands)
    assert set(commands) - with_db == {"screen", "score"}  # they read a JSON file, no database


def test_serve_json_prints_where_it_listens_then_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    started: list[list[str]] = []

    def execv(path: str, args: list[str]) -> None:
        started.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = runner.invoke(app, ["serve", "--db", db, "--port", "8123", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ok"] and payload["url"] == "http://127.0.0.1:8123/"
    assert started and "uvicorn" in started[0] and "8123" in started[0]


def test_serve_json_reports_an_unreadable_audit_key_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINLINK_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_demo_refuses_an_address_held_by_an_account_it_did_not_make(tmp_path: Path) -> None:
    """Someone registered with a demo address: the demo stops before changing anything
    rather than take the address over or delete the account."""
    from painlink.services import accounts
    from painlink.store.store import Store

    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    store = Store(db)
    store.init()
    with store.writing() as conn:
        accounts.register_patient(
            conn,
            {
                "email": "patient2@demo.painlink",
                "display_name": "Bo",
                "password": "tidal moss ember",
            },
        )
    before = _accounts(db)
    result = runner.invoke(app, ["demo", "--db", db, "--patients", "2", "--no-serve"])
    assert result.exit_code == 1 and "patient2@demo.painlink" in result.output
    assert _accounts(db) == before and len(Store(db).patient_ids()) == 1
