"""painlink analyze and painlink experiment, end to end on a simulated diary."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from painlink.analysis.nof1 import design_experiment, simulated_power
from painlink.cli import app
from painlink.days.day_table import build_day_table
from painlink.interop.csv_diary import read_diary_folder

runner = CliRunner()


def test_analyze_prints_and_emits_json(simulated_folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["analyze", str(simulated_folder), "--patient", "SIM000004", "--plots", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "associations, not causes" in result.output and "Neck pain:" in result.output
    neck = next(ln for ln in result.output.splitlines() if ln.startswith("Neck pain:"))
    assert "95% CI" in neck or "not recorded" in neck or "not enough data" in neck, neck
    for name in ("triggers", "spine", "outcomes", "forecast"):
        png = tmp_path / f"SIM000004-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000, name
    result = runner.invoke(
        app, ["analyze", str(simulated_folder), "--patient", "SIM000004", "--json"]
    )
    payload = json.loads(result.output)
    assert {"triggers", "neck_and_back", "treatment_outcomes", "forecast"} <= set(payload)
    # issue 13: every neck/back verdict carries the figures of the test behind it
    for row in payload["neck_and_back"]:
        assert {"variable", "estimate", "ci_low", "ci_high", "q", "test"} <= set(row), row
    assert payload["triggers"] and all(r["patient_id"] == "SIM000004" for r in payload["triggers"])
    verdicts = {r["verdict"] for r in payload["triggers"]}
    assert verdicts <= {
        "likely trigger",
        "likely protector",
        "possible early attack sign",
        "no association",
        "not enough data",
    }


def test_experiment_design_then_analyze(simulated_folder: Path, tmp_path: Path) -> None:
    design = tmp_path / "design.json"
    result = runner.invoke(
        app,
        [
            "experiment",
            "design",
            "--patient",
            "SIM000002",
            "--change",
            "no caffeine",
            "--start",
            "2025-03-01",
            "--diary",
            str(simulated_folder),
            "--pairs",
            "2",
            "--seed",
            "3",
            "--out",
            str(design),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Power to detect" in result.output
    result = runner.invoke(
        app, ["experiment", "analyze", str(design), "--diary", str(simulated_folder), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["days_on"] == payload["days_off"] == 28
    assert payload["ci_low"] <= payload["rate_ratio"] <= payload["ci_high"]


def test_experiment_design_is_randomised_and_reproducible(simulated_folder: Path) -> None:
    days = build_day_table(read_diary_folder(simulated_folder).only(["SIM000002"]))
    start = days["date"].max()
    a = design_experiment(days, "x", start, pairs=6, seed=1)
    b = design_experiment(days, "x", start, pairs=6, seed=1)
    assert a.schedule().equals(b.schedule())
    orders = [tuple(g["condition"]) for _, g in a.schedule().group_by("pair", maintain_order=True)]
    assert set(orders) <= {("on", "off"), ("off", "on")} and len(orders) == 6
    assert a.schedule()["start"].is_sorted()


def test_power_grows_with_pairs_and_the_test_holds_its_size() -> None:
    powers = [simulated_power(0.25, 1.3, 14, k, 0.6, n_sim=3000, seed=2) for k in (2, 6, 12)]
    assert powers == sorted(powers) and powers[-1] > 3 * powers[0]
    assert simulated_power(0.25, 1.3, 14, 6, 1.0 + 1e-9, n_sim=20000, seed=3) <= 0.06


def test_bad_experiment_input(simulated_folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "experiment",
            "design",
            "--patient",
            "SIM000002",
            "--change",
            "x",
            "--start",
            "someday",
            "--diary",
            str(simulated_folder),
        ],
    )
    assert result.exit_code == 1 and "--start" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient_id": "SIM000002"}))
    result = runner.invoke(
        app, ["experiment", "analyze", str(bad), "--diary", str(simulated_folder)]
    )
    assert result.exit_code == 1 and "not a painlink experiment design" in result.output
