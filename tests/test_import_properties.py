"""Property tests over every importer: whatever the bytes, only the documented error
escapes — :class:`DiaryFormatError` from the diary and app readers (a ValueError,
with the place of each problem), :class:`QuestionnaireError` from the FHIR reader —
never a RecursionError, OverflowError, UnicodeDecodeError, polars or csv error."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from painlink.clinical.questionnaires import QuestionnaireError, score_response
from painlink.diary import files
from painlink.diary.errors import DiaryFormatError
from painlink.interop.apple_health import read_apple_health
from painlink.interop.clue import read_clue
from painlink.interop.csv_diary import read_diary_folder
from painlink.interop.migraine_buddy import read_migraine_buddy
from tests.hostile_files import ATTACKS, DAYS, PATIENTS, ah_record, ah_text, mb_row, mb_text

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

#: text that looks like what the formats hold, and what they must survive
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "NaN",
            "inf",
            "-inf",
            "1e308",
            "-1",
            "0",
            "9" * 400,
            "0001-01-01",
            "9999-12-31",
            "12/31/99 23:59",
            "02/30/24 10:00",
            "99999999d 00h 00m",
            "40d 01h 00m",
            "=1+1",
            "'",
            '"',
            "\x00",
            "\r\n",
            "é",
            "\ud7ff",
            "2024-03-01T09:00+14:00",
        ]
    ),
)


def _write(data: bytes | str, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="painlink-fuzz-"))
    path = folder / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def _only_documented(call: object, *args: object) -> None:
    try:
        call(*args)  # type: ignore[operator]
    except DiaryFormatError as exc:
        assert exc.problems and all(p.file and p.reason for p in exc.problems)


@FUZZ
@given(st.binary(max_size=2_000))
def test_any_bytes_decode_or_are_refused_never_replaced(data: bytes) -> None:
    try:
        text = files.decode_text(data, "x.csv")
    except DiaryFormatError as exc:
        assert exc.problems[0].reason
        return
    assert (
        "\ufffd" not in text or "\ufffd".encode() in data or data[:2] in (b"\xff\xfe", b"\xfe\xff")
    )


@FUZZ
@given(st.binary(max_size=3_000))
def test_migraine_buddy_any_bytes(data: bytes) -> None:
    _only_documented(read_migraine_buddy, _write(data, "mb.csv"), "P1", "Europe/Berlin")


@FUZZ
@given(cell, cell, cell, cell)
def test_migraine_buddy_any_cells(started: str, lasted: str, level: str, notes: str) -> None:
    text = mb_text(mb_row(started, lasted, level, notes))
    _only_documented(read_migraine_buddy, _write(text, "mb.csv"), "P1", "Pacific/Kiritimati")


@FUZZ
@given(st.binary(max_size=3_000))
def test_apple_health_any_bytes(data: bytes) -> None:
    _only_documented(read_apple_health, _write(data, "export.xml"), "P1", "UTC")


@FUZZ
@given(cell, cell, cell, cell)
def test_apple_health_any_attributes(start: str, end: str, value: str, born: str) -> None:
    def attr(s: str) -> str:
        return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    record = ah_record(attr(start), attr(end), value=attr(value))
    sleep = ah_record(attr(start), attr(end), "HKCategoryTypeIdentifierSleepAnalysis", "3")
    summary = f' <ActivitySummary dateComponents="{attr(start)}" appleExerciseTime="{attr(end)}"/>'
    text = ah_text(record, sleep, me=attr(born), extra=summary + "\n")
    _only_documented(read_apple_health, _write(text, "export.xml"), "P1", "America/New_York")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cell,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(cell, inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(st.binary(max_size=2_000))
def test_clue_any_bytes(data: bytes) -> None:
    _only_documented(read_clue, _write(data, "backup.cluedata"), "UTC")


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["day", "period", "pain", "tags"]), json_values, max_size=4
        ),
        max_size=6,
    )
)
def test_clue_any_entries(entries: list[dict[str, object]]) -> None:
    text = json.dumps({"data": entries})
    _only_documented(read_clue, _write(text, "backup.cluedata"), "Asia/Tokyo")


@FUZZ
@given(json_values, cell)
def test_fhir_any_json(answer: object, authored: str) -> None:
    doc = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "authored": authored,
        "item": [{"linkId": "midas-1", "answer": [answer]}, {"linkId": "midas-2"}],
    }
    path = _write(json.dumps(doc), "response.json")
    try:
        score_response(path)
    except QuestionnaireError as exc:
        assert str(exc)


@FUZZ
@given(st.binary(max_size=2_000))
def test_fhir_any_bytes(data: bytes) -> None:
    try:
        score_response(_write(data, "response.json"))
    except QuestionnaireError as exc:
        assert str(exc)


def _folder(**files_: str | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="painlink-fuzz-"))
    for name, content in (
        {"patients.csv": PATIENTS, "days.csv": DAYS, "attacks.csv": ATTACKS} | files_
    ).items():
        data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


@FUZZ
@given(
    st.sampled_from(["patients.csv", "days.csv", "attacks.csv", "painlink.json"]),
    st.binary(max_size=2_000),
)
def test_diary_folder_any_bytes(name: str, data: bytes) -> None:
    _only_documented(read_diary_folder, _folder(**{name: data}))


@FUZZ
@given(cell, cell, cell, cell)
def test_diary_folder_any_cells(date: str, sleep: str, start: str, notes: str) -> None:
    def quoted(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    days = f"patient_id,date,sleep_hours,mood\nP1,{quoted(date)},{quoted(sleep)},{quoted(notes)}\n"
    attacks = f"patient_id,attack_id,start,notes\nP1,a1,{quoted(start)},{quoted(notes)}\n"
    _only_documented(read_diary_folder, _folder(**{"days.csv": days, "attacks.csv": attacks}))


@pytest.mark.parametrize("levels", [65, 1_000, 200_000])
def test_deep_json_everywhere_is_a_refusal(levels: int) -> None:
    deep = '{"data": ' + "[" * levels + "]" * levels + "}"
    with pytest.raises(DiaryFormatError, match="nested more than"):
        read_clue(_write(deep, "backup.cluedata"))
    with pytest.raises(QuestionnaireError, match="nested more than"):
        score_response(_write(deep, "response.json"))
    with pytest.raises(DiaryFormatError, match="nested more than"):
        read_diary_folder(_folder(**{"painlink.json": deep}))


def test_web_import_any_bytes_never_a_server_error(tmp_path: Path) -> None:
    """Random uploads to the patient's import form and the clinician's FHIR upload: a
    400 with the reason beside the form, or an import; never a 5xx, never half a diary."""
    from tests.hostile_run import patient_client, row_counts, web_app

    app = web_app(f"sqlite:///{tmp_path / 'web.db'}")
    client, _, csrf = patient_client(app)

    @FUZZ
    @given(
        st.sampled_from(["migraine-buddy", "apple-health", "clue"]),
        st.one_of(
            st.binary(max_size=2_000),
            st.builds(
                lambda *c: mb_text(mb_row(*c)).encode("utf-8", "surrogatepass"),
                cell,
                cell,
                cell,
                cell,
            ),
            st.builds(
                lambda e: json.dumps({"data": e}).encode(), st.lists(json_values, max_size=4)
            ),
        ),
    )
    def upload(source: str, data: bytes) -> None:
        before = row_counts(app.state.store.engine)
        r = client.post(
            "/account/import",
            data={"csrf_token": csrf, "source": source},
            files={"file": ("export", data)},
        )
        assert r.status_code < 500, r.text[:300]
        if r.status_code == 400:
            assert 'id="import-error"' in r.text
            assert row_counts(app.state.store.engine) == before

    upload()


@pytest.mark.slow
def test_cli_import_any_cells_reports_cleanly(tmp_path: Path) -> None:
    """The CLI prints whatever a cell holds as text (a cell "[/x]" once crashed Rich's
    markup parser while reporting the problem), and exits 0 or 1, never with a traceback."""
    from typer.testing import CliRunner

    from painlink.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    @FUZZ
    @given(st.one_of(cell, st.sampled_from(["[/x]", "[bold]", "[link=x]y[/link]", "\\[", "[/]"])))
    def run(value: str) -> None:
        quoted = '"' + value.replace('"', '""') + '"'
        folder = _folder(**{"days.csv": f"patient_id,date,sleep_hours\nP1,2024-01-01,{quoted}\n"})
        result = runner.invoke(app, ["import", str(folder), "--db", db, "--report-bad"])
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
        if result.exit_code == 0:  # a number that fits: undo it for the next example
            assert runner.invoke(app, ["delete", "P1", "--db", db, "--yes"]).exit_code == 0

    run()
