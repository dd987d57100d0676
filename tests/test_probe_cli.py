"""The command line prints what patients typed as text, never as instructions.

A patient names a preventive or an own factor in the web app; the clinician later runs
``painlink summary`` or ``painlink analyze`` on the database. The terminal library
(rich) reads ``[...]`` in printed text as markup: a preventive called ``[/x] evil``
stopped both commands with a traceback (a closing tag with no opening one), and
``[link=...]`` would have put a hidden link in the clinician's terminal.
"""

from __future__ import annotations

import datetime as dt

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
