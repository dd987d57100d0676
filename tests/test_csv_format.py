"""The CSV diary format: lossless round trips and bad rows that stop an import."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.interop.csv_diary import (
    DiaryFormatError,
    read_diary_folder,
    write_diary_folder,
)
from painlink.store.store import Store

runner = CliRunner()
CSV_FILES = [
    "patients.csv",
    "days.csv",
    "attacks.csv",
    "intensity_readings.csv",
    "aura.csv",
    "medications.csv",
    "spine_pain.csv",
    "treatments.csv",
    "visits.csv",
    "exams.csv",
    "questionnaires.csv",
]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_simulate_import_export_round_trip(tmp_path: Path, db_url: str) -> None:
    d, e = tmp_path / "D", tmp_path / "E"
    code, output = _run("simulate", "--patients", "50", "--days", "180", "--out", str(d))
    assert code == 0, output
    code, output = _run("import", str(d), "--db", db_url)
    assert code == 0, output
    code, output = _run("export", "--out", str(e), "--db", db_url)
    assert code == 0, output
    for name in CSV_FILES:
        assert (d / name).read_bytes() == (e / name).read_bytes(), name
    # and the rows are really there, not just two empty files
    assert pl.read_csv(e / "attacks.csv").height > 500
    assert pl.read_csv(e / "days.csv").height > 50 * 150


def _append(path: Path, line: str) -> None:
    with path.open("a") as handle:
        handle.write(line + "\n")


def _set_cell(path: Path, row: int, column: str, value: str) -> int:
    """Change one cell of data row ``row`` (0-based); returns its physical line number."""
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    frame.write_csv(path)
    return row + 2


@pytest.mark.parametrize(
    ("file", "column", "value", "reason"),
    [
        ("days.csv", "date", "2025-02-30", "not a date"),
        ("attacks.csv", "intensity", "14", "above the maximum 3"),
        ("attacks.csv", "end", "2020-01-01T00:00", "end is before start"),
        ("medications.csv", "class", "homeopathy", "not one of"),
    ],
)
def test_bad_cell_names_file_line_column_and_changes_nothing(
    diary_copy: Path, db_url: str, tmp_path: Path, file: str, column: str, value: str, reason: str
) -> None:
    # the database already holds another diary, which must survive the failed import
    other = tmp_path / "other"
    assert (
        _run(
            "simulate",
            "--patients",
            "3",
            "--days",
            "30",
            "--out",
            str(other),
            "--seed",
            "99",
            "--id-prefix",
            "OTHER",
            "--truth",
            str(tmp_path / "t.json"),
        )[0]
        == 0
    )
    assert _run("import", str(other), "--db", db_url)[0] == 0
    before = Store(db_url).counts()

    line = _set_cell(diary_copy / file, 3, column, value)
    code, output = _run("import", str(diary_copy), "--db", db_url)
    assert code != 0
    assert f"{file}, line {line}, column '{column}'" in output
    assert reason in output
    assert Store(db_url).counts() == before


def test_report_bad_lists_every_bad_row_as_json(diary_copy: Path, tmp_path: Path) -> None:
    lines = [_set_cell(diary_copy / "attacks.csv", r, "intensity", "14") for r in (0, 5, 9)]
    code, output = _run(
        "import",
        str(diary_copy),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        "--report-bad",
        "--json",
    )
    assert code == 1
    result = json.loads(output)
    assert result["ok"] is False
    assert [p["line"] for p in result["problems"]] == lines
    assert {p["column"] for p in result["problems"]} == {"intensity"}


_Q_HEADER = "patient_id,completed_on,instrument,item,value"
_S_HEADER = "patient_id,at,context,question,answer,attack_id"


def _tiny(folder: Path, attacks: str, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patients.csv").write_text("patient_id,sex,time_zone\np1,female,Europe/Berlin\n")
    (folder / "attacks.csv").write_text(attacks)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


def test_quoted_newlines_keep_physical_line_numbers(tmp_path: Path) -> None:
    folder = _tiny(
        tmp_path,
        "patient_id,attack_id,start,end,intensity,notes\n"
        'p1,a1,2025-01-01T08:00,2025-01-01T12:00,2,"first line\nsecond line"\n'
        "p1,a2,2025-01-03T08:00,2025-01-02T12:00,2,\n",
    )
    with pytest.raises(DiaryFormatError) as info:
        read_diary_folder(folder)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("attacks.csv", 4, "end")


def test_utc_offsets_become_the_patients_wall_clock(tmp_path: Path) -> None:
    folder = _tiny(
        tmp_path,
        "patient_id,attack_id,start,end\np1,a1,2025-07-01T06:30:00Z,2025-07-01 10:00:00+02:00\n",
    )
    attack = read_diary_folder(folder).attacks.row(0, named=True)
    assert attack["start"].isoformat() == "2025-07-01T08:30:00"  # Berlin is UTC+2 in July
    assert attack["end"].isoformat() == "2025-07-01T10:00:00"


@pytest.mark.parametrize(
    ("extra", "file", "column", "reason"),
    [
        (
            {"medications.csv": "patient_id,taken_at,drug\np1,2025-01-01T09:00,Unobtainium\n"},
            "medications.csv",
            "class",
            "not in painlink's drug table",
        ),
        (
            {
                "medications.csv": "patient_id,taken_at,drug,attack_id\n"
                "p1,2025-01-01T09:00,ibuprofen,zz\n"
            },
            "medications.csv",
            "attack_id",
            "no such attack",
        ),
        (
            {"days.csv": "patient_id,date,stress,colour\np1,2025-01-01,3,blue\n"},
            "days.csv",
            "colour",
            "not a number",
        ),
        (
            {"days.csv": "patient_id,date,mood\np1,2025-01-01,1\np1,2025-01-01,2\n"},
            "days.csv",
            "date",
            "duplicate",
        ),
        (
            {"aura.csv": "patient_id,attack_id,type\np1,a1,visual\n"},
            "attacks.csv",
            "aura",
            "aura.csv lists aura symptoms",
        ),
        (
            {"spine_pain.csv": "patient_id,region,start,nrs\np1,neck,2025-01-01T08:00,4\n"},
            "spine_pain.csv",
            "region",
            "not one of",
        ),
        (
            {"treatments.csv": "patient_id,name,kind,start,colour\np1,x,other,2025-01-01,red\n"},
            "treatments.csv",
            "colour",
            "unknown column",
        ),
        ({"visits.csv": "patient_id,kind\np1,intake\n"}, "visits.csv", "at", "required column"),
        (
            {"questionnaires.csv": f"{_Q_HEADER}\np1,2025-01-01,hit6,hit6-1,7\n"},
            "questionnaires.csv",
            "value",
            "not a valid Headache Impact Test (HIT-6) answer (6, 8, 10, 11, 13)",
        ),
        (
            {"questionnaires.csv": f"{_Q_HEADER}\np1,2025-01-01,ndi,odi-1,2\n"},
            "questionnaires.csv",
            "item",
            "not an item of Neck Disability Index",
        ),
        (
            {
                "questionnaires.csv": f"{_Q_HEADER}\np1,2025-01-01,ndi,ndi-1,2\n"
                "p1,2025-01-01,ndi,ndi-1,3\n"
            },
            "questionnaires.csv",
            "item",
            "duplicate",
        ),
        (
            {"screenings.csv": f"{_S_HEADER}\np1,2025-01-01T08:00,attack,fever,2,a1\n"},
            "screenings.csv",
            "answer",
            "a yes/no answer is 1 or 0",
        ),
        (
            {"screenings.csv": f"{_S_HEADER}\np1,2025-01-01T08:00,attack,fever,1,zz\n"},
            "screenings.csv",
            "attack_id",
            "no such attack",
        ),
        (
            {"screenings.csv": f"{_S_HEADER}\np1,2025-01-01T08:00,attack,shoe_size,1,\n"},
            "screenings.csv",
            "question",
            "not one of",
        ),
    ],
)
def test_cross_file_and_header_rules(
    tmp_path: Path, extra: dict[str, str], file: str, column: str, reason: str
) -> None:
    folder = _tiny(tmp_path, "patient_id,attack_id,start,aura\np1,a1,2025-01-01T08:00,no\n", extra)
    with pytest.raises(DiaryFormatError) as info:
        read_diary_folder(folder)
    assert any(
        p.file == file and p.column == column and reason in p.reason for p in info.value.problems
    ), info.value.problems


def test_own_factors_keep_their_kind(tmp_path: Path) -> None:
    folder = _tiny(
        tmp_path,
        "patient_id,attack_id,start\n",
        {"days.csv": "patient_id,date,red_wine,steps\np1,2025-01-01,yes,8000\np1,2025-01-02,no,\n"},
    )
    diary = read_diary_folder(folder)
    assert dict(diary.factors.select("name", "kind").iter_rows()) == {
        "red_wine": "boolean",
        "steps": "numeric",
    }
    out = tmp_path / "out"
    write_diary_folder(diary, out)
    assert (out / "days.csv").read_text().splitlines()[1].endswith(",yes,8000")


def test_missing_folder_and_missing_patients_file(tmp_path: Path) -> None:
    code, output = _run("import", str(tmp_path / "nope"), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and "is not a folder" in output
    (tmp_path / "empty").mkdir()
    code, output = _run("import", str(tmp_path / "empty"), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and "patients.csv" in output


def test_intensity_may_be_written_as_the_ihs_words(tmp_path: Path) -> None:
    folder = _tiny(
        tmp_path,
        "patient_id,attack_id,start,intensity\n"
        "p1,a1,2025-01-01T08:00,Severe\np1,a2,2025-01-02T08:00,mild\np1,a3,2025-01-03T08:00,1\n",
    )
    assert read_diary_folder(folder).attacks["intensity"].to_list() == [3, 1, 1]
    (folder / "attacks.csv").write_text(
        "patient_id,attack_id,start,intensity\np1,a1,2025-01-01T08:00,awful\n"
    )
    with pytest.raises(DiaryFormatError, match="not a number"):
        read_diary_folder(folder)


def test_questionnaires_and_screens_round_trip_through_the_database(
    tmp_path: Path, db_url: str
) -> None:
    folder = _tiny(
        tmp_path / "in",
        "patient_id,attack_id,start\np1,a1,2025-01-01T08:00\n",
        {
            "questionnaires.csv": f"{_Q_HEADER},recorded_by\n"
            + "".join(
                f"p1,2025-01-02,hit6,hit6-{i},{v},Dr A\n"
                for i, v in enumerate([6, 8, 10, 11, 13, 13], 1)
            )
            + "p1,2025-01-02,midas,midas-1,12,\n",
            "screenings.csv": f"{_S_HEADER}\n"
            "p1,2025-01-01T08:05,attack,thunderclap,0,a1\n"
            "p1,2025-01-01T08:05,attack,fever,1,a1\n"
            "p1,2024-12-01T10:00,history,headache_onset_age,14,\n",
        },
    )
    code, output = _run("import", str(folder), "--db", db_url)
    assert code == 0, output
    out = tmp_path / "out"
    code, output = _run("export", "--out", str(out), "--db", db_url)
    assert code == 0, output
    stored = pl.read_csv(out / "questionnaires.csv")
    assert stored.height == 7
    assert stored.filter(pl.col("instrument") == "hit6")["value"].sum() == 61
    screens = pl.read_csv(out / "screenings.csv")
    assert screens.sort("question")["question"].to_list() == [
        "fever",
        "headache_onset_age",
        "thunderclap",
    ]
    # exporting what was imported and importing it again changes nothing
    again = tmp_path / "again"
    write_diary_folder(read_diary_folder(out), again)
    for name in ("questionnaires.csv", "screenings.csv"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_screening_questions_match_the_screen() -> None:
    from painlink.diary.vocabulary import ScreeningQuestion
    from painlink.rules.screening_questions import Presentation

    assert [q.value for q in ScreeningQuestion] == list(Presentation.model_fields)
