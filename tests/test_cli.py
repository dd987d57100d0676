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


def test_demo_builds_a_fresh_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    for _ in range(2):  # running twice replaces the demo patients rather than failing
        result = runner.invoke(app, ["demo", "--db", db, "--patients", "4", "--json"])
        assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [p["patient_id"] for p in payload["patients"]] == [f"DEMO{i:06d}" for i in range(1, 5)]


def test_simulate_rejects_a_bad_start_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "s"), "--start", "soon"])
    assert result.exit_code == 1 and "--start" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("painlink ")
