"""Every analysis answers through one contract: ``fit(...) -> Results`` with ``summary``,
``plot``, ``to_frame`` and ``to_dict``, and each runs on a simulated diary."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import pkgutil
from typing import Any

import polars as pl
import pytest

import painlink.analysis
from painlink.analysis.results import Results
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec

METHODS = ("summary", "plot", "to_frame", "to_dict")


def _results_classes() -> set[type]:
    """Every class in painlink.analysis that declares the contract (found, not listed:
    a new analysis's results are checked without editing this test)."""
    found = set()
    for module in pkgutil.iter_modules(painlink.analysis.__path__):
        mod = importlib.import_module(f"painlink.analysis.{module.name}")
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if cls is not Results and issubclass(cls, Results) and cls.__module__ == mod.__name__:
                found.add(cls)
    return found


@pytest.fixture(scope="module")
def fitted() -> dict[type, tuple[Any, str]]:
    """Each analysis's ``fit`` on a simulated diary of two people: results and a person."""
    from painlink.analysis import forecast, nof1, outcome_results, report, spine_link, triggers
    from painlink.clinical.day_counts import classify_days

    diary = DiaryFrames.concat(p[0] for p in simulate(SimulationSpec(patients=2, days=240, seed=4)))
    pid = diary.patient_ids()[0]
    days = classify_days(diary).with_columns(pl.col("headache_day_def").alias("headache_day"))
    one = days.filter(pl.col("patient_id") == pid)
    start = one["date"].max() - dt.timedelta(days=8 * 14 - 1)
    design = nof1.design_experiment(one.filter(pl.col("date") < start), "x", start, seed=1)
    answers = [
        triggers.fit(days),
        spine_link.fit(days),
        outcome_results.fit(diary, days),
        forecast.fit(days),
        nof1.fit(one, design),
        report.fit(diary),
    ]
    return {type(r): (r, pid) for r in answers}


def test_every_results_class_is_fitted_here(fitted: dict[type, tuple[Any, str]]) -> None:
    classes = _results_classes()
    assert len(classes) >= 6
    assert classes == set(fitted), "a Results class without a fit in this test"


@pytest.mark.parametrize("method", METHODS)
def test_every_results_class_implements_the_contract(method: str) -> None:
    for cls in _results_classes():
        own = getattr(cls, method)
        assert own is not getattr(Results, method), f"{cls.__name__}.{method} is the protocol's"
        assert callable(own)


def test_every_method_runs_on_a_simulated_diary(fitted: dict[type, tuple[Any, str]]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    for cls, (result, pid) in fitted.items():
        name = cls.__name__
        assert isinstance(result, Results), name
        text = result.summary(pid)
        assert isinstance(text, str) and text.strip(), name
        assert isinstance(result.summary(), str), name
        frame = result.to_frame(pid)
        assert isinstance(frame, pl.DataFrame) and frame.height, name
        if "patient_id" in frame.columns:
            assert set(frame["patient_id"].to_list()) == {pid}, name
        as_dict = result.to_dict()
        assert isinstance(as_dict, dict) and as_dict, name
        json.dumps(as_dict, default=str, allow_nan=False)  # JSON-ready: no NaN left
        fig = result.plot(pid)
        assert isinstance(fig, Figure) and fig.axes, name
        plt.close(fig)


def test_a_picture_of_several_people_asks_which(fitted: dict[type, tuple[Any, str]]) -> None:
    from painlink.analysis.triggers import TriggerResults

    result, _ = fitted[TriggerResults]
    with pytest.raises(ValueError, match="name one"):
        result.plot()


def test_the_report_text_is_the_parts_summaries(fitted: dict[type, tuple[Any, str]]) -> None:
    """The report reads each part's own words, so the two can never disagree."""
    from painlink.analysis.report import AnalysisReport

    report, pid = fitted[AnalysisReport]
    text = report.summary(pid)
    assert text.startswith(f"── {pid} ──")
    for part in (report.triggers, report.spine, report.forecast):
        assert part.summary(pid) in text
    verdicts = report.to_frame(pid)
    assert set(verdicts["analysis"].to_list()) >= {"triggers", "spine", "forecast"}
