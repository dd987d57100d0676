"""The command line prints what patients typed as text, never as instructions.

A patient names a preventive or an own factor in the web app; the clinician later runs
``painlink summary`` or ``painlink analyze`` on the database. The terminal library
(rich) reads ``[...]`` in printed text as markup: a preventive called ``[/x] evil``
stopped both commands with a traceback (a closing tag with no opening one), and
``[link=...]`` would have put a hidden link in the clinician's terminal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painlink.cli import app

runner = CliRunner()
PATIENT = ["--patient", "MK000001"]
TYPED = "[/x] evil [link=https://example.org]click[/link] [bold]"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A simulated patient × 120 days in a database: a preventive and an own factor
    named with markup, as the web app's forms accept them, and a HIT-6 before and after
    the preventive began (its comparison prints ``[unverified]``)."""
    from painlink.clinical.questionnaires import INSTRUMENTS
    from painlink.services import clinical_records, medicines
    from painlink.services import diary as diary_service
    from painlink.simulate.output import run_simulation
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.store import Store

    folder = tmp_path_factory.mktemp("cli-markup")
    url = f"sqlite:///{folder / 'p.db'}"
    store = Store(url)
    store.init()
    run_simulation(
        SimulationSpec(patients=1, days=120, seed=7, id_prefix="MK"),
        store=store,
        truth_path=folder / "truth.json",
    )
    pid = store.patient_ids()[0]
    first = store.read([pid]).days["date"].min()
    assert isinstance(first, dt.date)
    with store.writing() as conn:
        medicines.start_preventive(conn, pid, TYPED, first + dt.timedelta(days=60))
        diary_service.add_factor(conn, pid, "wine [/]", "boolean")
        for day, answer in (
            (first + dt.timedelta(days=50), 13.0),
            (first + dt.timedelta(days=110), 8.0),
        ):
            items = {link: answer for link in INSTRUMENTS["hit6"].items}
            clinical_records.save_questionnaire(conn, pid, "hit6", day, items, "Dr. Test")
    return url


@pytest.mark.parametrize("command", ["summary", "analyze", "classify"])
def test_patient_text_is_printed_as_typed(db: str, command: str) -> None:
    result = runner.invoke(app, [command, "--db", db, *([] if command == "summary" else PATIENT)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Traceback" not in result.output
    if command == "summary":
        assert "[/x] evil" in result.output and "[link=" in result.output
    if command == "analyze":
        assert "[/x] evil" in result.output
        # the words in brackets that painlink writes itself stay too (rich dropped them)
        assert "(HIT-6)" in result.output and "[unverified]" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["report", "MK000001", "--pdf", "{tmp}"],
        ["report", "MK000001", "--html", "{tmp}/no/such/folder/r.html"],
        ["days", "--out", "{tmp}"],
        ["days", "--out", "{tmp}/no/such/folder/d.csv"],
        ["experiment", "design", "--patient", "MK000001", "--change", "x", "--start",
         "2025-03-01", "--out", "{tmp}/no/such/folder/d.json"],
    ],
    ids=["pdf into a folder", "html into no folder", "days into a folder",
         "days into no folder", "design into no folder"],
)  # fmt: skip
def test_a_file_that_cannot_be_written_is_a_plain_error(
    db: str, tmp_path: Path, args: list[str]
) -> None:
    """Found by probing: an output path that is a folder, in a folder that does not
    exist, or on a full disk ended every writing command in an OSError traceback."""
    result = runner.invoke(app, [*(a.replace("{tmp}", str(tmp_path)) for a in args), "--db", db])
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.output.startswith("error:") and str(tmp_path) in result.output
