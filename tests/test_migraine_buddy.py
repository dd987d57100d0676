"""Migraine Buddy exports: the real sample files, what is kept and what is refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.diary.frames import DiaryFrames
from painlink.interop.csv_diary import DiaryFormatError
from painlink.interop.migraine_buddy import read_migraine_buddy
from painlink.store.merge import merge_diary
from painlink.store.store import Store

runner = CliRunner()


@pytest.fixture
def mb(external: Path) -> Path:
    return external / "migraine-buddy"


def test_the_contributed_sample_becomes_one_attack_with_its_features(mb: Path) -> None:
    diary = read_migraine_buddy(mb / "migraine_buddy_sample.csv", "mb1", "Europe/London")
    attack = diary.attacks.row(0, named=True)
    assert attack["start"].isoformat() == "2024-11-16T13:12:00"
    assert attack["end"].isoformat() == "2024-11-16T14:12:00"  # "Lasted" 01h 00m
    assert attack["intensity_nrs"] == 4 and attack["intensity"] is None  # never derived
    assert (attack["photophobia"], attack["quality"]) == (True, "pulsating")
    assert attack["nausea"] is None  # not listed: not recorded, not "no"
    assert (attack["side"], attack["location"]) == ("bilateral", "occipital")
    assert "Potential Triggers: Stress" in attack["notes"]
    assert diary.medications.is_empty()  # "No medication" is a placeholder
    assert diary.patients.row(0, named=True)["time_zone"] == "Europe/London"


def _fixed_mixed(mb: Path, tmp_path: Path) -> Path:
    text = (mb / "migraine_buddy_mixed.csv").read_text()
    fixed = tmp_path / "mixed.csv"
    fixed.write_text(text.replace('"not a date"', '"11/19/24 1:00"').replace('"14"', '"8"'))
    return fixed


def test_the_mixed_file_is_refused_with_every_problem_and_stores_nothing(
    tmp_path: Path, db_url: str, mb: Path
) -> None:
    Store(db_url).init()
    with pytest.raises(DiaryFormatError) as info:
        read_migraine_buddy(mb / "migraine_buddy_mixed.csv", "mb2")
    found = {(p.line, p.column) for p in info.value.problems}
    assert found == {(10, "Started"), (13, "Pain Level")}  # physical lines, quoted newlines
    args = ["--db", db_url, "--from", "migraine-buddy", "--patient-id", "mb2", "--report-bad"]
    result = runner.invoke(app, ["import", str(mb / "migraine_buddy_mixed.csv"), *args])
    assert result.exit_code == 1 and "line 13, column 'Pain Level'" in result.output
    assert Store(db_url).patient_ids() == []


def test_the_mixed_file_once_fixed_imports_everything_it_holds(
    tmp_path: Path, db_url: str, mb: Path
) -> None:
    args = ["--db", db_url, "--from", "migraine-buddy", "--patient-id", "mb3"]
    result = runner.invoke(app, ["import", str(_fixed_mixed(mb, tmp_path)), *args])
    assert result.exit_code == 0, result.output
    diary = Store(db_url).read(["mb3"])
    attacks = diary.attacks.sort("start")
    assert attacks.height == 8  # 7 rows and the ongoing one
    ongoing = attacks.filter(pl.col("attack_id") == "mb202411212205").row(0, named=True)
    assert ongoing["end"] is None and "Still going" in ongoing["notes"]
    long = attacks.filter(pl.col("attack_id") == "mb202411182330").row(0, named=True)
    assert (long["end"] - long["start"]).total_seconds() == (26 * 60 + 15) * 60  # 1d 02h 15m
    assert attacks.filter(pl.col("attack_id") == "mb202411200300")["end"].to_list() == [
        None
    ]  # no "Lasted"
    first = attacks.filter(pl.col("attack_id") == "mb202411161312").row(0, named=True)
    assert (first["cranial_autonomic"], first["restlessness"], first["side"]) == (
        True,
        True,
        "right",
    )
    assert "u0yjjd" not in str(diary.attacks.to_dicts())  # the geohash is never kept
    meds = {(r["drug"], r["drug_class"], r["relief_2h"]) for r in diary.medications.to_dicts()}
    assert meds == {
        ("Oxygen", "other", "partial"),
        ("Sumatriptan", "triptan", "partial"),
        ("Ibuprofen", "non_opioid_analgesic", "none"),
        ("Zolmitriptan", "triptan", "partial"),
        ("Oxygen", "other", "partial"),
    }


def test_a_later_export_merges_into_the_existing_diary(
    tmp_path: Path, db_url: str, mb: Path
) -> None:
    args = ["--db", db_url, "--from", "migraine-buddy", "--patient-id", "mb4", "--json"]
    assert (
        runner.invoke(app, ["import", str(mb / "migraine_buddy_sample.csv"), *args]).exit_code == 0
    )
    # an attack the person logged in painlink overlaps the export's 11/18 attack
    store = Store(db_url)

    logged = DiaryFrames.from_tables(
        attacks=pl.DataFrame(
            {
                "patient_id": ["mb4"],
                "attack_id": ["W1"],
                "start": [dt.datetime(2024, 11, 19, 0, 30)],
                "end": [dt.datetime(2024, 11, 19, 3, 0)],
            }
        )
    )
    with store.writing() as conn:
        merge_diary(conn, "mb4", logged)
    result = runner.invoke(app, ["import", str(_fixed_mixed(mb, tmp_path)), *args])
    assert result.exit_code == 0, result.output
    merged = json.loads(result.output)["merged"]
    assert merged["attacks_already_there"] == 1  # 11/16 13:12, imported with the sample
    # 11/18 23:30 (26 h) and 11/19 1:00 overlap what the person logged: kept out, listed
    assert merged["attacks_overlapping_kept_out"] == ["2024-11-18 23:30:00", "2024-11-19 01:00:00"]
    assert merged["attacks_added"] == 5 and merged["medications_added"] == 0
    assert store.read(["mb4"]).attacks.height == 1 + 1 + 5
    again = runner.invoke(app, ["import", str(_fixed_mixed(mb, tmp_path)), *args])
    assert json.loads(again.output)["merged"]["attacks_added"] == 0


def test_an_unknown_source_is_named_with_the_ones_there_are(tmp_path: Path, mb: Path) -> None:
    args = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--from", "bearable", "--patient-id", "b"]
    result = runner.invoke(app, ["import", str(mb / "migraine_buddy_sample.csv"), *args])
    assert result.exit_code == 1
    assert "use painlink or migraine-buddy, apple-health, clue" in result.output
