"""The analyses run BLAS on one thread and give the caller's setting back afterwards
(painlink.analysis.threads: many small models, where a thread pool only waits)."""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

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
