"""The analyses run BLAS on one thread and give the caller's setting back afterwards
(painlink.analysis.threads: many small models, where a thread pool only waits)."""

from __future__ import annotations

import threading
from pathlib import Path

from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits

import painlink
from painlink.analysis import threads
from painlink.analysis.triggers import TriggerAnalysis


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_blas_is_one_thread_inside_an_analysis_and_the_callers_setting_after() -> None:
    seen: list[set[int]] = []
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        threads.one_blas_thread(lambda: seen.append(_blas_threads()))()
        assert seen == [{1}]
        assert _blas_threads() == before
    # the public entry points carry the limit
    for entry in (painlink.analyze, TriggerAnalysis.fit):
        assert getattr(entry, "__wrapped__", None) is not None, entry


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
