"""Hostile files through every importer, by the CLI and by the web upload.

The corpus (tests/hostile_files.py) is generated fresh: truncated, empty, NUL bytes,
UTF-16 with and without its mark, Latin-1, CRLF, BOM, huge fields, a million
columns, formula cells, years 1 and 9999, NaN/inf/1e308, duplicate ids, a billion
laughs, 200,000-deep JSON, links to /dev/zero, broken links, FIFOs, files over the
size limit. Every one must end in a clear refusal naming the place (or, for the few
legitimate oddities, a clean import), never a traceback or a 5xx, and a refused file
must leave every diary table as it was.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from painlink.diary import files
from painlink.diary.errors import DiaryFormatError
from tests.hostile_files import SOURCES, hostile_corpus
from tests.hostile_run import cli_outcomes, patient_client, web_app, web_outcomes


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list:
    return hostile_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.mark.slow
def test_the_corpus_covers_every_importer(corpus: list) -> None:
    assert len(corpus) >= 60
    per_source = Counter(c.source for c in corpus)
    assert set(per_source) == set(SOURCES) and min(per_source.values()) >= 10


@pytest.mark.slow
def test_every_hostile_file_through_the_cli(corpus: list, tmp_path: Path) -> None:
    outcomes = cli_outcomes(corpus, tmp_path)
    wrong = [
        f"{o.case} (expect {o.case.cli_expect or o.case.expect}): refused={o.refused} "
        f"crashed={o.crashed} rows_changed={o.rows_changed} {o.message[:120]}"
        for o in outcomes
        if not o.ok
    ]
    assert not wrong, "\n".join(wrong)
    assert not any(o.crashed for o in outcomes)
    assert sum(o.refused for o in outcomes) >= 90


@pytest.mark.slow
def test_every_hostile_upload_through_the_web(corpus: list, tmp_path: Path) -> None:
    """The patient's import form, the clinician's FHIR upload and the FHIR API."""
    result = web_outcomes(corpus, tmp_path)
    assert not result.wrong, "\n".join(result.wrong)
    assert result.server_errors == 0 and result.tried >= 60


def test_a_refusal_names_the_file_line_and_reason_beside_the_form(tmp_path: Path) -> None:
    app = web_app(f"sqlite:///{tmp_path / 'web.db'}")
    ana, _, csrf = patient_client(app)
    latin = '{"data": [{"day": "2024-03-01", "period": "heavy", "note": "caf\xe9"}]}'
    r = ana.post(
        "/account/import",
        data={"csrf_token": csrf, "source": "clue"},
        files={"file": ("backup.cluedata", latin.encode("latin-1"))},
    )
    assert r.status_code == 400
    error = re.search(r'id="import-error"[^>]*>(.*?)<', r.text, re.DOTALL)
    assert error is not None
    assert "backup.cluedata, line 1" in error.group(1) and "not UTF-8" in error.group(1)
    assert "byte offset 63" in error.group(1)


# ------------------------------------------------------------------ the file door itself


def test_encodings_decided(tmp_path: Path) -> None:
    text = "patient_id,display_name\nP1,Anaïs\n"
    assert files.decode_text(text.encode("utf-16"), "x") == text
    assert files.decode_text(b"\xef\xbb\xbf" + text.encode(), "x") == text
    assert files.decode_text(text.encode("utf-32"), "x") == text
    with pytest.raises(DiaryFormatError) as latin:
        files.decode_text(text.encode("latin-1"), "patients.csv")
    problem = latin.value.problems[0]
    assert problem.line == 2 and "byte offset 30" in problem.reason and "0xef" in problem.reason
    with pytest.raises(DiaryFormatError, match="NUL"):
        files.decode_text("patient_id\nP1\n".encode("utf-16-le"), "patients.csv")
    with pytest.raises(DiaryFormatError, match="UTF-16 without its byte-order mark"):
        files.decode_text(text.encode("utf-16-le"), "patients.csv")


def test_special_files_are_refused_before_reading(tmp_path: Path) -> None:
    import os

    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "broken").symlink_to(tmp_path / "nothing")
    os.mkfifo(tmp_path / "fifo")
    for name, reason in [
        ("zero", "a device (through a symbolic link)"),
        ("broken", "a symbolic link to a file that does not exist"),
        ("fifo", "a FIFO"),
        ("missing", "no such file"),
        ("", "a folder"),
    ]:
        with pytest.raises(DiaryFormatError, match=re.escape(reason)):
            files.read_bytes(tmp_path / name, "clue")


def test_json_depth_is_limited_before_parsing() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(DiaryFormatError, match="nested more than 64"):
        files.parse_json(deep, "x.json")
    assert files.parse_json('{"a": "[[[[[[[[" }', "x.json") == {"a": "[[[[[[[["}
    assert files.parse_json("[" * 64 + "]" * 64, "x.json") is not None
    with pytest.raises(DiaryFormatError, match="NaN"):
        files.parse_json('{"a": NaN}', "x.json")


def test_a_merge_refuses_an_attack_the_diary_could_not_hold(tmp_path: Path) -> None:
    """Readers check their fields, and the merge checks again: a value the database's
    CHECK would refuse is a MergeError in words, not a server error."""
    import datetime as dt

    import polars as pl

    from painlink.diary.frames import DiaryFrames
    from painlink.store.merge import MergeError, merge_diary
    from painlink.store.store import Store

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.init()
    patients = pl.DataFrame({"patient_id": ["P1"], "time_zone": ["UTC"]})
    store.write(DiaryFrames.from_tables(patients=patients))
    attacks = pl.DataFrame(
        {
            "patient_id": ["P1"],
            "attack_id": ["x1"],
            "start": [dt.datetime(2024, 3, 1, 9)],
            "intensity_nrs": [55.0],
        }
    )
    bad = DiaryFrames.from_tables(patients=patients, attacks=attacks)
    with pytest.raises(MergeError, match="intensity_nrs"), store.writing() as conn:
        merge_diary(conn, "P1", bad)
    assert store.read(["P1"]).attacks.is_empty()


def test_line_numbers_survive_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    from painlink.interop.csv_diary import read_diary_folder

    (tmp_path / "patients.csv").write_text("patient_id\nP1\n")
    (tmp_path / "attacks.csv").write_text(
        'patient_id,attack_id,start,notes\nP1,a1,2024-01-01T08:00,"two\nlines"\n\n'
        "P1,a2,2024-01-02T08:00,fine\nP1,a3,not a time,x\n"
    )
    with pytest.raises(DiaryFormatError) as caught:
        read_diary_folder(tmp_path)
    lines = {(p.line, p.column) for p in caught.value.problems}
    assert lines == {(6, "start")}  # the blank line 4 is skipped, but still counted
