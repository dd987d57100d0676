"""Clue backups: bleeding days into a new diary or merged into an existing one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.interop.clue import read_clue
from painlink.interop.csv_diary import DiaryFormatError
from painlink.store.store import Store

runner = CliRunner()


@pytest.fixture
def clue(external: Path) -> Path:
    return external / "bitmask-migraine-diary" / "ClueBackup-2020-03-06.cluedata.json"


def test_the_real_backup_gives_its_bleeding_days(clue: Path) -> None:
    backup = read_clue(clue)
    counts = pl.Series(list(backup.flow.values())).value_counts().sort("").rows()
    assert dict(counts) == {"heavy": 41, "light": 107, "medium": 96, "spotting": 118}
    assert backup.skipped["pain"] == 189  # cramps and the like: not a painlink record


def _import(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["import", *args])
    return result.exit_code, result.output


def test_into_a_new_diary_and_then_into_an_existing_one(
    tmp_path: Path, db_url: str, clue: Path
) -> None:
    code, output = _import(str(clue), "--db", db_url, "--from", "clue", "--patient-id", "cl1")
    assert code == 0 and "362 daily records" in output, output
    # an existing diary: a check-in with no flow, one with the same, one with another
    other = next(d for d, f in read_clue(clue).flow.items() if f == "spotting")
    folder = tmp_path / "diary"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,time_zone\ncl2,Europe/London\n")
    (folder / "days.csv").write_text(
        "patient_id,date,stress,menstruation\n"
        "cl2,2015-07-13,3,\n"  # Clue: heavy → filled
        "cl2,2019-03-27,4,light\n"  # Clue: light → unchanged
        f"cl2,{other},5,heavy\n"  # Clue: spotting → a conflict
    )
    assert _import(str(folder), "--db", db_url)[0] == 0
    store = Store(db_url)
    before = store.read(["cl2"]).days
    code, output = _import(str(clue), "--db", db_url, "--from", "clue", "--patient-id", "cl2")
    assert code == 1 and "1 day value(s) already recorded differently" in output
    assert f"{other} menstruation: diary heavy, import spotting" in output
    assert store.read(["cl2"]).days.equals(before)  # nothing was written
    code, output = _import(
        str(clue), "--db", db_url, "--from", "clue", "--patient-id", "cl2", "--replace", "--json"
    )
    assert code == 0, output
    flow = json.loads(output)["merged"]["days"]["menstruation"]
    assert (flow["filled"], flow["unchanged"], flow["replaced"]) == (1, 1, 1)
    assert flow["created"] == 362 - 3
    days = {r["date"]: r for r in store.read(["cl2"]).days.to_dicts()}
    assert days[dt.date(2015, 7, 13)]["menstruation"] == "heavy"
    assert days[dt.date(2015, 7, 13)]["stress"] == 3  # the rest of the check-in is kept
    assert days[other]["menstruation"] == "spotting"
    # the same backup again changes nothing
    code, output = _import(
        str(clue), "--db", db_url, "--from", "clue", "--patient-id", "cl2", "--json"
    )
    assert code == 0 and json.loads(output)["merged"]["days"]["menstruation"]["unchanged"] == 362


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"data": [{"day": "someday", "period": "heavy"}]}')
    with pytest.raises(DiaryFormatError, match=r"data\[0\]\.day"):
        read_clue(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("[1, 2")
    with pytest.raises(DiaryFormatError, match="not JSON"):
        read_clue(tmp_path / "y.json")


def test_a_value_a_check_in_would_refuse_is_refused_by_a_merge(tmp_path: Path) -> None:
    from painlink.diary.frames import DiaryFrames
    from painlink.store.merge import MergeError, merge_day_values

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.init()
    store.write(DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["p"]})))
    with pytest.raises(MergeError, match="sleep_hours"), store.writing() as conn:
        merge_day_values(conn, "p", "sleep_hours", {dt.date(2024, 1, 1): 30.0})
    assert store.read(["p"]).days.is_empty()
