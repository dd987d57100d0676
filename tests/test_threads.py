"""The analyses run BLAS on one thread and give the caller's setting back afterwards
(painlink.analysis.threads: many small models, where a thread pool only waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits

import painlink
from painlink.analysis import report, threads, triggers
from painlink.analysis.triggers import TriggerAnalysis
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_blas_is_one_thread_inside_an_analysis_and_the_callers_setting_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    diary, _ = next(simulate(SimulationSpec(patients=1, days=60, seed=3)))
    seen: dict[str, set[int]] = {}

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            seen[name] = _blas_threads()
            return original(*args, **kwargs)

        return run

    # a step inside each public entry point records the threads it runs with
    monkeypatch.setattr(report, "_days", spy("analyze", report._days))
    monkeypatch.setattr(triggers, "candidate_columns", spy("fit", triggers.candidate_columns))
    with threadpool_limits(2, user_api="blas"):
        assert _blas_threads() == {2}
        painlink.analyze(diary)
        assert seen == {"analyze": {1}, "fit": {1}}
        assert _blas_threads() == {2}, "the caller's setting is put back"
        seen.clear()
        TriggerAnalysis().fit(report._days(diary))
        assert seen["fit"] == {1} and _blas_threads() == {2}


def test_a_server_holds_one_blas_thread_for_its_whole_life(tmp_path: Path) -> None:
    """Overlapping analyses in a server's threads each put back what they found; with
    the process held at one thread from the start, what they find is one. (With
    OpenBLAS's own threads, only the thread that first set a limit can change it:
    threadpoolctl's rule. The server's start-up is that thread.)"""
    from fastapi.testclient import TestClient

    from painlink.web.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'web.db'}")
    threadpool_limits(2, user_api="blas")  # as a machine may start: two threads
    OpenBLASController.clear_controlling_thread(force=True)
    assert _blas_threads() == {2}
    try:
        with TestClient(app, base_url="https://testserver"):  # runs the app's start-up
            assert _blas_threads() == {1}
            seen: list[set[int]] = []
            handler = threading.Thread(
                target=threads.one_blas_thread(lambda: seen.append(_blas_threads()))
            )
            handler.start()
            handler.join()
            assert seen == [{1}] and _blas_threads() == {1}
    finally:  # the next test in this process starts as any other would
        OpenBLASController.clear_controlling_thread(force=True)
