"""``painlink experiment``: a design start or a design file edited by hand is refused with
a plain error, never a traceback or a result the design did not plan.

Found by probing: ``design --start 9999-12-20`` overflowed the calendar; a design file
whose block said ``"condition": "maybe"``, whose ``patient_id`` was a list or whose
blocks were gone stopped ``analyze`` with a KeyError, TypeError or ZeroDivisionError;
and the same blocks listed many times over were counted many times over — "Fewer
attacks with caffeine (95% CI 0.68–0.75)" from a four-pair experiment whose own data
showed no clear difference.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from painlink.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], Path]:
    """A 200-day simulated diary in a database, and a 4-pair design over its days."""
    from painlink.simulate.output import run_simulation
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.store import Store

    folder = tmp_path_factory.mktemp("nof1")
    url = f"sqlite:///{folder / 'e.db'}"
    store = Store(url)
    store.init()
    run_simulation(
        SimulationSpec(patients=1, days=200, seed=7, id_prefix="EX"),
        store=store,
        truth_path=folder / "truth.json",
    )
    first = store.read(["EX000001"]).days["date"].min()
    assert isinstance(first, dt.date)
    design = folder / "design.json"
    result = runner.invoke(
        app,
        ["experiment", "design", "--patient", "EX000001", "--change", "caffeine",
         "--start", str(first + dt.timedelta(days=60)), "--seed", "1", "--db", url,
         "--out", str(design)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return url, json.loads(design.read_text()), folder


def _analyze(
    world: tuple[str, dict[str, Any], Path], edit: Callable[[dict[str, Any]], None]
) -> Any:
    url, design, folder = world
    changed = copy.deepcopy(design)
    edit(changed)
    path = folder / "edited.json"
    path.write_text(json.dumps(changed))
    return runner.invoke(app, ["experiment", "analyze", str(path), "--db", url])


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.__setitem__(key, value)


def _block(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["blocks"][0].__setitem__(key, value)


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "condition maybe": _block("condition", "maybe"),
    "patient id a list": _set("patient_id", ["EX000001"]),
    "no blocks": _set("blocks", []),
    "blocks repeated": lambda d: d.__setitem__("blocks", d["blocks"] * 50),
    "a block over the others": _block("start", "1900-01-01"),
    "a block in year 1": lambda d: d["blocks"][0].update(start="0001-01-01", end="0001-01-14"),
    "an end before the start": _block("end", "1901-01-01"),
    "block days negative": _set("block_days", -5),
    "block days a string": _set("block_days", "14"),
    "pair 2**63": _block("pair", 2**63),
    "two 'on' in a pair": _block("condition", "on"),
    "dispersion below 1": _set("dispersion", 0.01),
    "rate ratio 0": _set("assumed_rate_ratio", 0),
    "a block a string": lambda d: d["blocks"].__setitem__(0, "x"),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_an_edited_design_is_refused_plainly(
    world: tuple[str, dict[str, Any], Path], edit: str
) -> None:
    result = _analyze(world, EDITS[edit])
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert result.output.startswith("error:") and "Traceback" not in result.output


def test_the_design_as_written_is_analysed(world: tuple[str, dict[str, Any], Path]) -> None:
    result = _analyze(world, lambda d: None)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "caffeine: rate ratio" in result.output


@pytest.mark.parametrize("start", ["9999-12-20", "9999-01-01", "0001-01-01", "1899-12-31"])
def test_a_start_no_diary_can_reach_is_refused(
    world: tuple[str, dict[str, Any], Path], start: str
) -> None:
    url = world[0]
    result = runner.invoke(
        app,
        ["experiment", "design", "--patient", "EX000001", "--change", "caffeine",
         "--start", start, "--db", url],
    )  # fmt: skip
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert result.output.startswith("error:") and start in result.output


def test_what_changes_is_printed_as_typed(world: tuple[str, dict[str, Any], Path]) -> None:
    url, design, _ = world
    result = runner.invoke(
        app,
        ["experiment", "design", "--patient", "EX000001", "--change", "[/x] no wine",
         "--start", design["blocks"][0]["start"], "--db", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "[/x] no wine" in result.output
