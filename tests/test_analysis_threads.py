"""The analyses use the brief's two cores: ``analyze`` runs the trigger fit on a second
thread beside the other analyses (painlink.analysis.report), and the batched kernels
(``fit_logit``, ``max_t``) share a large batch among threads (painlink.analysis.threads).
Every number must be the one a single thread gives, an error must reach the caller, and
the work must really be shared."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from painlink.analysis import family_test, logistic, report, threads, triggers
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


@pytest.fixture(scope="module")
def cohort() -> DiaryFrames:
    # enough people for the cohort model (shrink_min_patients) and treatments to compare
    parts = simulate(SimulationSpec(patients=24, days=240, seed=31))
    return DiaryFrames.concat(p[0] for p in parts)


def _everything(r: report.AnalysisReport) -> dict[str, Any]:
    """Every table the report holds, including what the web app does not show."""
    t = r.triggers
    return {
        "answer": json.dumps(r.as_dict(), sort_keys=True, default=str),
        "estimates": t.estimates,
        "cohort": t.cohort,
        "case_crossover": t.sensitivity,
        "spine": r.spine.to_frame(),
        "outcomes": r.outcomes.table,
        "forecast": r.forecast.per_patient,
        "periods": r.periods,
        "messages": json.dumps(r.messages, sort_keys=True),
    }


def test_the_report_on_two_threads_is_the_report_on_one(
    cohort: DiaryFrames, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "SECOND_THREAD", False)
    alone = _everything(report.analyze(cohort))
    monkeypatch.setattr(report, "SECOND_THREAD", True)
    assert alone["estimates"].height > 100 and alone["cohort"].height > 0, "a real cohort"
    for _ in range(2):  # a race would show as a difference in one of the runs
        beside = _everything(report.analyze(cohort))
        for name, value in alone.items():
            if isinstance(value, pl.DataFrame):
                assert_frame_equal(beside[name], value, check_exact=True)
            else:
                assert beside[name] == value, name


def test_the_trigger_fit_runs_on_its_own_thread_and_its_errors_reach_the_caller(
    cohort: DiaryFrames, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        raise RuntimeError("a fault inside the trigger fit")

    monkeypatch.setattr(triggers, "candidate_columns", broken)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="a fault inside the trigger fit"):
        report.analyze(cohort)
    assert len(seen) == 1 and seen[0].startswith("painlink-triggers"), seen
    assert threading.active_count() == before, "no thread is left behind"

    seen.clear()
    monkeypatch.setattr(report, "SECOND_THREAD", False)
    with pytest.raises(RuntimeError):
        report.analyze(cohort)
    assert seen == [threading.current_thread().name]


def _shared(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on threads.in_parts: how many parts each call shared out."""
    calls: list[int] = []
    real = threads.in_parts

    def spy(parts: Any, work: Any) -> Any:
        calls.append(len(parts))
        return real(parts, work)

    monkeypatch.setattr(threads, "in_parts", spy)
    return calls


def test_a_large_logistic_batch_on_two_threads_is_the_batch_on_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    m, n = 60, 730  # above the split: 60 models × 730 days × 8 columns
    X = np.concatenate([np.ones((m, n, 1)), rng.standard_normal((m, n, 7))], axis=-1)
    X[::5, :, 1] = rng.random((m // 5 + (m % 5 > 0), n)) < 0.03  # rare: slow to converge
    y = (rng.random((m, n)) < 0.1).astype(float)
    mask = rng.random((m, n)) < 0.9
    start = rng.standard_normal((m, 8)) * 0.1
    calls = _shared(monkeypatch)
    monkeypatch.setattr(threads, "KERNEL_THREADS", 1)
    alone = logistic.fit_logit(X, y, mask, start=start)
    monkeypatch.setattr(threads, "KERNEL_THREADS", 2)
    shared = logistic.fit_logit(X, y, mask, start=start)
    assert calls == [1, 2], "the batch was split in two, on the second call"
    for name in ("coef", "cov", "converged", "n", "events"):
        assert np.array_equal(getattr(shared, name), getattr(alone, name)), name
    assert shared.iterations == alone.iterations
    small = logistic.fit_logit(X[:10], y[:10], mask[:10])
    assert calls == [1, 2], "a small batch stays on the caller's thread"
    assert small.coef.shape == (10, 8)


def test_max_t_on_two_threads_is_max_t_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    b, k = 300, 6  # several batches of rows, in both passes (coarse, then refined)
    z = rng.standard_normal((b, k)) * 2.0
    z[rng.random((b, k)) < 0.2] = np.nan
    a = rng.standard_normal((b, k, k))
    cov = a @ np.swapaxes(a, 1, 2) + k * np.eye(k)
    d = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    r = cov / d[:, :, None] / d[:, None, :]
    weights = rng.uniform(0.5, 2.0, (b, k))
    calls = _shared(monkeypatch)
    for w in (None, weights):
        monkeypatch.setattr(threads, "KERNEL_THREADS", 1)
        p1, c1 = family_test.max_t(z, r, weights=w)
        monkeypatch.setattr(threads, "KERNEL_THREADS", 2)
        p2, c2 = family_test.max_t(z, r, weights=w)
        assert np.array_equal(p1, p2, equal_nan=True) and np.array_equal(c1, c2, equal_nan=True)
    assert min(calls) > 1, "the rows were shared out in batches"


def test_analyses_overlapping_in_a_servers_threads_each_get_their_own_report() -> None:
    """A server's handlers analyse several people at once, each analysis with its own
    second thread and kernel threads: no report may take anything from another's.

    The server holds BLAS at one thread for its whole life, as the web app does at
    start-up (``threads.hold_for_the_process``). Without that, one analysis that ends
    puts the process's BLAS setting back in the middle of another's (threadpoolctl's
    limit is the process's): that analysis then runs some products on two BLAS threads,
    and its last digits move (seen here: an adjusted interval's 19.451063997828705
    against ...687)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits

    diaries = [
        next(simulate(SimulationSpec(patients=1, days=days, seed=seed)))[0]
        for seed, days in ((41, 400), (42, 200), (43, 730))
    ]
    alone = [_everything(report.analyze(d)) for d in diaries]
    before = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    threads.hold_for_the_process()
    try:
        with ThreadPoolExecutor(max_workers=len(diaries)) as server:
            together = list(server.map(lambda d: _everything(report.analyze(d)), diaries * 2))
    finally:  # the next test in this process starts as any other would
        OpenBLASController.clear_controlling_thread(force=True)
        threadpool_limits(max(before.values(), default=None), user_api="blas")
        OpenBLASController.clear_controlling_thread(force=True)
    for i, got in enumerate(together):
        want = alone[i % len(diaries)]
        for name, value in want.items():
            if isinstance(value, pl.DataFrame):
                assert_frame_equal(got[name], value, check_exact=True)
            else:
                assert got[name] == value, name
