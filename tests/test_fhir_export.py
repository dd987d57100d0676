"""A diary as a FHIR R4 Bundle: valid, complete, and read back to the same scores."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from painlink.cli import app
from painlink.clinical.questionnaires import score_response, score_stored
from painlink.diary.frames import DiaryFrames
from painlink.interop.fhir_export import DAILY, diary_bundle
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec

runner = CliRunner()


def _treated_patient() -> tuple[DiaryFrames, str]:
    diary, truth = next(simulate(SimulationSpec(patients=6, days=200, seed=4)))
    pid = next(t["patient_id"] for t in truth if t["treatment"])
    return diary, pid


@pytest.mark.slow
def test_every_record_is_there_and_valid() -> None:
    diary, pid = _treated_patient()
    bundle = diary_bundle(diary, pid)
    Bundle.model_validate(bundle)
    kinds = pl.Series([e["resource"]["resourceType"] for e in bundle["entry"]]).value_counts()
    counts = dict(kinds.rows())
    mine = pl.col("patient_id") == pid
    measures = sum(diary.days.filter(mine)[c].is_not_null().sum() for c in DAILY)
    assert counts["Observation"] == (
        diary.attacks.filter(mine).height + measures + diary.spine_pain.filter(mine).height
    )
    sleep = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "93832-4"
    ]
    first = (
        diary.days.filter(mine & pl.col("sleep_hours").is_not_null())
        .sort("date")
        .row(0, named=True)
    )
    assert sleep[0]["effectiveDateTime"] == str(first["date"])
    assert sleep[0]["valueQuantity"] == {"value": first["sleep_hours"], "unit": "h"}
    assert counts["MedicationStatement"] == diary.medications.filter(mine).height
    assert counts["QuestionnaireResponse"] == 2  # HIT-6 at the start and the end
    assert counts["Patient"] == 1
    observation = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "25064002"
    )
    start = dt.datetime.fromisoformat(observation["effectivePeriod"]["start"])
    zone = ZoneInfo(diary.patients.filter(mine)["time_zone"][0])
    assert start.utcoffset() == start.replace(tzinfo=zone).utcoffset()  # placed, as FHIR asks
    # a question the diary did not answer has no component: never a "no"
    attack = diary.attacks.filter(mine).sort("start").row(0, named=True)
    codes = {c["code"]["coding"][0]["code"] for c in observation.get("component", [])}
    assert ("422587007" in codes) == (attack["nausea"] is not None)


def test_questionnaire_responses_score_back_to_the_stored_scores() -> None:
    diary, pid = _treated_patient()
    stored = [s.score.score for s in score_stored(diary.questionnaire_items) if s.patient_id == pid]
    bundle = diary_bundle(diary, pid)
    exported = [
        score_response(e["resource"]).score
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert sorted(exported) == sorted(stored) and len(stored) == 2


def test_the_cli_writes_one_patients_bundle(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "d"
    assert (
        runner.invoke(
            app, ["simulate", "--patients", "2", "--days", "60", "--out", str(folder)]
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["import", str(folder), "--db", db_url]).exit_code == 0
    out = tmp_path / "b.json"
    result = runner.invoke(
        app, ["export", "--fhir", "--patient", "SIM000001", "--out", str(out), "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    Bundle.model_validate(json.loads(out.read_text()))
    result = runner.invoke(app, ["export", "--fhir", "--out", str(out), "--db", db_url])
    assert result.exit_code == 1 and "one --patient" in result.output
