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
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
