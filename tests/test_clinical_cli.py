"""The clinical commands: screen, classify and score, with JSON, schemas and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painlink.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_screen_puts_the_emergency_first(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"age": 40, "onset_to_peak_min": 0.5}))
    code, output = run("screen", str(p))
    assert code == 0 and output.startswith("EMERGENCY")
    code, output = run("screen", str(p), "--json")
    assert json.loads(output)["urgency"] == "emergency"


def test_screen_age_threshold_is_configurable(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"age": 58, "headache_onset_age": 57}))
    assert json.loads(run("screen", str(p), "--json")[1])["urgency"] == "soon"
    assert (
        json.loads(run("screen", str(p), "--json", "--older-onset-age", "65")[1])["urgency"]
        == "none"
    )


def test_screen_names_the_bad_field(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"age": -4}))
    code, output = run("screen", str(p))
    assert code == 1 and "field 'age'" in output
    p.write_text(json.dumps({"feverr": True}))
    code, output = run("screen", str(p))
    assert code == 1 and "field 'feverr'" in output


def test_schemas_print_json() -> None:
    for command in (["screen"], ["classify"], ["score"]):
        code, output = run(*command, "--schema")
        assert code == 0
        assert isinstance(json.loads(output), dict)


@pytest.mark.slow
def test_classify_a_csv_diary_and_a_stored_patient(simulated_folder: Path, tmp_path: Path) -> None:
    code, output = run("classify", str(simulated_folder), "--patient", "SIM000002", "--json")
    assert code == 0, output
    patients = json.loads(output)["patients"]
    assert patients[0]["patient_id"] == "SIM000002"
    assert patients[0]["red_flags"]["urgency"] in {"none", "soon", "urgent", "emergency"}
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert run("import", str(simulated_folder), "--db", db)[0] == 0
    code, output = run("classify", "--patient", "SIM000002", "--db", db)
    assert code == 0 and "ICHD-3" in output
    code, output = run("classify", "--patient", "NOPE", "--db", db)
    assert code == 1 and "no such patient" in output
    code, output = run("classify", str(simulated_folder), "--definition", "made_up")
    assert code == 1 and "unknown --definition" in output


def test_score_real_fhir_responses(external: Path) -> None:
    ndi = external / "fhir" / "QuestionnaireResponse-NeckDisabilityIndexExample.json"
    odi = external / "fhir" / "QuestionnaireResponse-OswestryDisabilityIndexExample.json"
    q = (
        external
        / "fhir"
        / "Questionnaire-NeckDisabilityIndexQuestionnaireExample.no-narrative.json"
    )
    assert json.loads(run("score", "ndi", str(ndi), "--json")[1])["percent"] == 40
    assert json.loads(run("score", "auto", str(odi), "--json")[1])["score"] == 38
    assert (
        json.loads(run("score", "ndi", str(ndi), "--questionnaire", str(q), "--json")[1])["score"]
        == 20
    )
    code, output = run("score", "ndi", str(odi))
    assert code == 1 and "none of the Neck Disability Index" in output
    code, output = run("score", "sf36", str(ndi))
    assert code == 1 and "unknown instrument" in output
