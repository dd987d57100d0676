"""A diary written by hand in a spreadsheet imports: ordinary choices are not refused.

The folder is written here with the plain ``csv`` module — never with painlink's
exporter — the way a person or a study team would save sheets as CSV.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.diary.frames import TABLES, TableSpec
from painlink.interop.csv_cells import OPTIONAL_IN_CSV
from painlink.interop.csv_diary import DiaryFormatError, read_diary_folder
from painlink.store.store import Store

DOCS = Path(__file__).parents[1] / "docs" / "csv-format.md"


def _sheet(folder: Path, name: str, rows: list[list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _spreadsheet_diary(folder: Path) -> Path:
    _sheet(
        folder,
        "patients.csv",
        [
            ["Patient_ID", "Sex", "Birth_Year", "History_Cancer", "Anticoagulants"],
            ["s1", "F", "1980", "No", "FALSE"],
            ["s2", "m", "1975", "YES", "true"],
            ["s3", "Woman", "1990", "n", "0"],
            ["s4", "MAN", "1991", "y", "1"],
            ["s5", "female", "1992", "", ""],
            ["s6", "Other", "1993", "", ""],
            ["s7", "UNKNOWN", "1994", "", ""],
            ["s8", "f", "1995", "", ""],
            ["s9", "", "1996", "", ""],
        ],
    )
    _sheet(
        folder,
        "attacks.csv",
        [
            ["patient_id", "start", "end", "intensity", "nausea", "photophobia", "aura"],
            ["s1", "2025-03-01 14:30", "2025-03-01 22:00", "3", "Yes", "TRUE", "no"],
            ["s1", "2025-03-04 08:00", "2025-03-04 16:00", "2", "N", "1", "No"],
            # two attacks starting in the same minute (two patients, and one patient twice)
            ["s2", "2025-03-01 14:30", "", "moderate", "y", "0", ""],
            ["s2", "2025-03-01 14:30", "2025-03-01 15:00", "1", "false", "", ""],
        ],
    )
    _sheet(
        folder,
        "medications.csv",
        [
            ["patient_id", "taken_at", "drug"],
            ["s1", "2025-03-01 15:00", "ibuprofen"],
        ],
    )
    _sheet(
        folder,
        "days.csv",
        [
            ["patient_id", "date", "allergy_symptoms", "red_wine"],
            ["s1", "2025-03-01", "Y", "yes"],
            ["s1", "2025-03-02", "N", "NO"],
        ],
    )
    return folder


def test_a_hand_written_folder_reads_with_its_ordinary_choices(tmp_path: Path) -> None:
    diary = read_diary_folder(_spreadsheet_diary(tmp_path / "sheet"))
    sex = dict(diary.patients.select("patient_id", "sex").iter_rows())
    assert sex == {
        "s1": "female",
        "s2": "male",
        "s3": "female",
        "s4": "male",
        "s5": "female",
        "s6": "other",
        "s7": "unknown",
        "s8": "female",
        "s9": "unknown",
    }
    cancer = dict(diary.patients.select("patient_id", "history_cancer").iter_rows())
    assert (cancer["s1"], cancer["s2"], cancer["s3"], cancer["s4"], cancer["s5"]) == (
        False,
        True,
        False,
        True,
        None,
    )
    a = diary.attacks.sort("patient_id", "attack_id")
    assert a["attack_id"].to_list() == [
        "202503011430",
        "202503040800",
        "202503011430",
        "202503011430-2",
    ]
    assert a["nausea"].to_list() == [True, False, True, False]
    assert a["photophobia"].to_list() == [True, True, False, None]
    assert a["intensity"].to_list() == [3, 2, 2, 1]
    days = diary.days.sort("date")
    assert days["allergy_symptoms"].to_list() == [True, False]


def test_given_and_derived_attack_ids_never_collide(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    _sheet(folder, "patients.csv", [["patient_id"], ["p"]])
    _sheet(
        folder,
        "attacks.csv",
        [
            ["patient_id", "attack_id", "start"],
            ["p", "202503011430", "2025-02-01 09:00"],  # a person's own id that looks derived
            ["p", "", "2025-03-01 14:30"],
        ],
    )
    ids = sorted(read_diary_folder(folder).attacks["attack_id"].to_list())
    assert ids == ["202503011430", "202503011430-2"]


@pytest.mark.parametrize(("value", "ok"), [("W", False), ("fem", False), ("2", False)])
def test_an_unknown_sex_word_is_still_refused_with_its_place(
    tmp_path: Path, value: str, ok: bool
) -> None:
    folder = tmp_path / "bad"
    _sheet(folder, "patients.csv", [["patient_id", "sex"], ["p", value]])
    with pytest.raises(DiaryFormatError) as info:
        read_diary_folder(folder)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("patients.csv", 2, "sex")


def test_the_spreadsheet_folder_imports_into_the_database(tmp_path: Path, db_url: str) -> None:
    folder = _spreadsheet_diary(tmp_path / "sheet")
    result = CliRunner().invoke(app, ["import", str(folder), "--db", db_url])
    assert result.exit_code == 0, result.output
    counts = Store(db_url).counts()
    assert counts["attacks"] == 4 and counts["patients"] == 9


# ---- docs/csv-format.md lists every column, and marks exactly the required ones ----


def _section(text: str, file: str) -> str:
    start = text.index(f"**{file}**")
    following = re.search(r"\n\*\*[a-z_]+\.csv\*\*", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


@pytest.mark.parametrize("spec", [t for t in TABLES if t.csv_file], ids=lambda t: t.csv_file)
def test_every_column_of_the_model_is_documented(spec: TableSpec) -> None:
    section = _section(DOCS.read_text(encoding="utf-8"), spec.csv_file)
    missing = [f.csv_name for f in spec.fields if f"`{f.csv_name}`" not in section]
    assert not missing, f"{spec.csv_file}: not in docs/csv-format.md: {missing}"


def test_the_required_columns_table_matches_the_importer() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("## Required columns") :]
    documented: dict[str, set[str]] = {}
    for line in table.splitlines()[1:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`") and cells[0].endswith(".csv`"):
            documented[cells[0].strip("`")] = set(re.findall(r"`([a-z_0-9]+)`", cells[1]))
        elif documented and not line.startswith("|"):
            break
    expected = {
        t.csv_file: {
            f.csv_name
            for f in t.fields
            if f.required and f.name not in OPTIONAL_IN_CSV.get(t.name, set())
        }
        for t in TABLES
        if t.csv_file
    }
    assert documented == expected


def test_aura_succession_is_read_from_the_csv(tmp_path: Path) -> None:
    folder = tmp_path / "succ"
    _sheet(folder, "patients.csv", [["patient_id"], ["p"]])
    _sheet(
        folder,
        "attacks.csv",
        [
            ["patient_id", "attack_id", "start", "aura", "aura_succession"],
            ["p", "a", "2025-01-01 08:00", "yes", "Yes"],
        ],
    )
    attacks = read_diary_folder(folder).attacks
    assert attacks.select(pl.col("aura_succession")).item() is True


def test_empty_rows_and_an_empty_unnamed_column_are_ignored(tmp_path: Path) -> None:
    """What a spreadsheet leaves behind when saved: blank rows, a trailing comma."""
    folder = tmp_path / "blank"
    _sheet(folder, "patients.csv", [["patient_id", ""], ["p", ""], ["", ""]])
    _sheet(
        folder,
        "attacks.csv",
        [
            ["patient_id", "start", "intensity", ""],
            ["p", "2025-03-01 14:30", "2", ""],
            ["", "", "", ""],
            ["p", "2025-03-02 09:00", "bad", ""],
            ["", "", "", ""],
        ],
    )
    with pytest.raises(DiaryFormatError) as info:
        read_diary_folder(folder)
    # only the real problem, on its physical line
    assert [(p.file, p.line, p.column) for p in info.value.problems] == [
        ("attacks.csv", 4, "intensity")
    ]
    _sheet(
        folder,
        "attacks.csv",
        [["patient_id", "start", ""], ["p", "2025-03-01 14:30", ""], ["", "", ""]],
    )
    assert read_diary_folder(folder).attacks.height == 1


def test_an_unnamed_column_with_values_is_still_refused(tmp_path: Path) -> None:
    folder = tmp_path / "unnamed"
    _sheet(folder, "patients.csv", [["patient_id", ""], ["p", "x"]])
    with pytest.raises(DiaryFormatError, match="unknown column"):
        read_diary_folder(folder)


def test_screening_answers_may_be_written_as_yes_and_no(tmp_path: Path) -> None:
    folder = tmp_path / "screen"
    _sheet(folder, "patients.csv", [["patient_id"], ["p"]])
    _sheet(
        folder,
        "screenings.csv",
        [
            ["patient_id", "at", "context", "question", "answer"],
            ["p", "2025-03-01 10:00", "intake", "thunderclap", "No"],
            ["p", "2025-03-01 10:00", "intake", "history_cancer", "YES"],
            ["p", "2025-03-01 10:00", "intake", "age", "44"],
        ],
    )
    answers = read_diary_folder(folder).screening_answers.sort("question")
    assert answers.select("question", "answer").rows() == [
        ("age", 44.0),
        ("history_cancer", 1.0),
        ("thunderclap", 0.0),
    ]


def test_a_yes_for_an_age_is_still_refused(tmp_path: Path) -> None:
    folder = tmp_path / "age"
    _sheet(folder, "patients.csv", [["patient_id"], ["p"]])
    _sheet(
        folder,
        "screenings.csv",
        [
            ["patient_id", "at", "context", "question", "answer"],
            ["p", "2025-03-01", "intake", "age", "yes"],
        ],
    )
    with pytest.raises(DiaryFormatError, match="answer"):
        read_diary_folder(folder)
