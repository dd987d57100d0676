"""The public API: every name resolves to its module's object, importing painlink loads
none of the heavy layers, and docs/api.md's example runs as written."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import painlink
from painlink.diary.frames import DiaryFrames

ROOT = Path(__file__).resolve().parents[1]


def test_docs_api_example_runs_as_written() -> None:
    result = doctest.testfile(
        str(ROOT / "docs" / "api.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted >= 20  # the example is there, not skipped
    assert result.failed == 0


@pytest.mark.parametrize("name", sorted(set(painlink.__all__) - {"__version__"}))
def test_every_public_name_is_its_modules_object(name: str) -> None:
    module, attribute = painlink._EXPORTS[name]
    assert getattr(painlink, name) is getattr(importlib.import_module(module), attribute)
    assert name in dir(painlink)


def test_the_issue_names_are_public() -> None:
    assert set(painlink.__all__) == {"__version__", *painlink._EXPORTS}
    for name in ("read_diary", "analyze", "classify", "screen", "score", "Results"):
        assert name in painlink.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        painlink.nope  # noqa: B018


def test_import_painlink_loads_no_heavy_layer() -> None:
    """Counted in modules, not seconds (the seconds are measured in benchmarks/): the
    simulator, the database layer, the CSV reader and the statistics libraries wait
    until a name needs them."""
    code = (
        "import sys, painlink; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('painlink', 'polars', 'numpy', 'scipy', 'sqlalchemy', 'alembic', 'statsmodels'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["painlink"]


def test_classify_is_the_many_patient_classifier() -> None:
    from painlink.clinical.classify import classify_many

    assert painlink.classify is classify_many


def test_read_diary_reads_a_folder(tmp_path: Path) -> None:
    diary, _ = next(painlink.simulate(painlink.SimulationSpec(patients=2, days=40, seed=3)))
    painlink.write_diary_folder(diary, tmp_path / "d")
    back = painlink.read_diary(tmp_path / "d")
    assert isinstance(back, DiaryFrames)
    assert back.patient_ids() == diary.patient_ids()
    assert back.attacks.height == diary.attacks.height


def test_read_diary_reads_an_export_named_by_its_suffix(tmp_path: Path) -> None:
    export = tmp_path / "cycles.cluedata"
    export.write_text(
        '{"data": [{"day": "2025-03-01", "period": "heavy"}, '
        '{"day": "2025-03-02", "period": "light"}]}',
        encoding="utf-8",
    )
    diary = painlink.read_diary(export, patient_id="p1", time_zone="Europe/Oslo")
    assert diary.patient_ids() == ["p1"]
    assert diary.days.select("date", "menstruation").rows() == [
        (dt.date(2025, 3, 1), "heavy"),
        (dt.date(2025, 3, 2), "light"),
    ]


def test_read_diary_says_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        painlink.read_diary(tmp_path / "absent")
    odd = tmp_path / "notes.txt"
    odd.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match="pass source="):
        painlink.read_diary(odd)


def test_simulate_stays_the_function_after_its_subpackage_is_imported() -> None:
    """``painlink.simulate`` names both the subpackage and the function; importing the
    subpackage (as the CLI does) must not hide the function."""
    code = (
        "import painlink.simulate.simulator, painlink; "
        "print(callable(painlink.simulate), painlink.simulate.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["True", "painlink.simulate.simulator"]
