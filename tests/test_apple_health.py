"""Apple Health exports: the real sample file, and a fixture with what matters here."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.interop.apple_health import read_apple_health
from painlink.interop.csv_diary import DiaryFormatError
from painlink.store.store import Store

runner = CliRunner()


@pytest.fixture
def sample(external: Path) -> Path:
    return external / "apple-health" / "export6s3sample.xml"


# iOS 16 wrote a DTD whose VisionPrescription ATTLIST is never closed (formats.md §1.2)
_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|VisionPrescription)*)>
<!ATTLIST VisionPrescription
  type CDATA #REQUIRED
]>
<HealthData locale="en_US">
 <ExportDate value="2024-03-10 08:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-05-02"
     HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""


def _record(kind: str, start: str, end: str, value: str, source: str = "Health") -> str:
    return (
        f' <Record type="HKCategoryTypeIdentifier{kind}" sourceName="{source}" '
        f'startDate="{start}" endDate="{end}" value="{value}"/>\n'
    )


def _export(tmp_path: Path, records: str) -> Path:
    path = tmp_path / "export.xml"
    path.write_text(_HEAD + records + "</HealthData>\n")
    return path


def test_the_real_sample_gives_the_person_and_their_exercise(sample: Path) -> None:
    result = read_apple_health(sample, "ah1", "Europe/London")
    person = result.diary.patients.row(0, named=True)
    assert (person["birth_year"], person["sex"]) == (1965, "male")
    exercise = dict(result.diary.days.select("date", "exercise_min").iter_rows())
    assert {str(d): m for d, m in exercise.items()} == {
        "2016-04-02": 31.7,  # a workout, on a day without Apple's exercise minutes
        "2016-04-14": 89.0,
        "2016-04-15": 6.0,
    }
    assert result.diary.attacks.is_empty()
    assert result.skipped == {
        "HKQuantityTypeIdentifierStepCount": 10,
        "HKQuantityTypeIdentifierDistanceWalkingRunning": 5,
    }


def test_headaches_symptoms_sleep_and_cycle(tmp_path: Path) -> None:
    records = (
        _record("Headache", "2024-03-01 09:00:00 -0800", "2024-03-01 10:00:00 -0800",
                "HKCategoryValueSeverityModerate")
        + _record("Headache", "2024-03-01 10:00:00 -0800", "2024-03-01 13:00:00 -0800",
                  "HKCategoryValueSeveritySevere")  # touches the first: one attack
        + _record("Headache", "2024-03-05 18:00:00 -0800", "2024-03-05 19:00:00 -0800", "0")
        + _record("Headache", "2024-03-07 18:00:00 -0800", "2024-03-07 19:00:00 -0800",
                  "HKCategoryValueSeverityNotPresent")
        + _record("Nausea", "2024-03-01 11:00:00 -0800", "2024-03-01 11:30:00 -0800",
                  "HKCategoryValueSeverityMild")
        + _record("Nausea", "2024-03-05 18:10:00 -0800", "2024-03-05 18:20:00 -0800",
                  "HKCategoryValueSeverityNotPresent")
        + _record("SleepAnalysis", "2024-03-01 23:00:00 -0800", "2024-03-02 03:00:00 -0800",
                  "HKCategoryValueSleepAnalysisAsleepCore", "Watch")
        + _record("SleepAnalysis", "2024-03-02 02:00:00 -0800", "2024-03-02 06:30:00 -0800",
                  "HKCategoryValueSleepAnalysisAsleepDeep", "Phone")  # overlaps: not twice
        + _record("SleepAnalysis", "2024-03-01 22:30:00 -0800", "2024-03-02 07:00:00 -0800",
                  "HKCategoryValueSleepAnalysisInBed")
        + _record("MenstrualFlow", "2024-03-03 08:00:00 -0800", "2024-03-03 08:00:00 -0800", "2")
        + _record("MenstrualFlow", "2024-03-03 20:00:00 -0800", "2024-03-03 20:00:00 -0800",
                  "HKCategoryValueVaginalBleedingHeavy")
        + _record("LowerBackPain", "2024-03-03 08:00:00 -0800", "2024-03-03 09:00:00 -0800",
                  "HKCategoryValueSeverityMild")
    )  # fmt: skip
    result = read_apple_health(_export(tmp_path, records), "ah2", "America/Los_Angeles")
    attacks = result.diary.attacks.sort("start").to_dicts()
    assert [(a["start"].isoformat(), a["end"].isoformat(), a["intensity"]) for a in attacks] == [
        ("2024-03-01T09:00:00", "2024-03-01T13:00:00", 3),
        ("2024-03-05T18:00:00", "2024-03-05T19:00:00", None),
    ]
    assert [a["nausea"] for a in attacks] == [True, False]  # "not present" is a no
    assert attacks[0]["intensity_nrs"] is None  # never derived from words
    days = {str(r["date"]): r for r in result.diary.days.to_dicts()}
    assert days["2024-03-02"]["sleep_hours"] == 7.5  # 23:00–06:30, two sources merged
    assert days["2024-03-03"]["menstruation"] == "heavy"
    assert result.skipped == {"HKCategoryTypeIdentifierLowerBackPain": 1}
    person = result.diary.patients.row(0, named=True)
    assert (person["sex"], person["birth_year"]) == ("female", 1990)


def test_times_are_the_patients_wall_clock(tmp_path: Path) -> None:
    records = _record("Headache", "2024-07-01 06:30:00 +0000", "2024-07-01 08:00:00 +0000",
                      "HKCategoryValueSeverityMild")  # fmt: skip
    attack = read_apple_health(_export(tmp_path, records), "ah3", "Europe/Berlin").diary.attacks
    assert attack["start"][0].isoformat() == "2024-07-01T08:30:00"


def test_a_bad_record_names_its_line_and_nothing_is_stored(tmp_path: Path, db_url: str) -> None:
    good = _record("Headache", "2024-03-01 09:00:00 -0800", "2024-03-01 10:00:00 -0800", "2")
    bad = _record("Headache", "yesterday", "2024-03-01 10:00:00 -0800", "2")
    path = _export(tmp_path, good + bad)
    with pytest.raises(DiaryFormatError) as info:
        read_apple_health(path, "ah4")
    problem = info.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (12, "startDate", "yesterday")
    Store(db_url).init()
    result = runner.invoke(
        app, ["import", str(path), "--db", db_url, "--from", "apple-health", "--patient-id", "x"]
    )
    assert result.exit_code == 1 and "line 12, column 'startDate'" in result.output
    assert Store(db_url).patient_ids() == []
    (tmp_path / "broken.xml").write_text(_HEAD + "<Record type=")
    with pytest.raises(DiaryFormatError, match="not well-formed XML"):
        read_apple_health(tmp_path / "broken.xml", "ah5")


@pytest.mark.slow
def test_the_cli_imports_an_export(tmp_path: Path, db_url: str, sample: Path) -> None:
    result = runner.invoke(
        app,
        ["import", str(sample), "--db", db_url, "--from", "apple-health", "--patient-id", "ah6"],
    )
    assert result.exit_code == 0, result.output
    assert "not imported" in result.output and "StepCount" in result.output
    assert Store(db_url).read(["ah6"]).days.height == 3
    assert pl.Series(Store(db_url).read(["ah6"]).days["exercise_min"]).sum() == pytest.approx(126.7)
