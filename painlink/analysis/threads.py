"""The analyses' threads: BLAS on one, and the brief's two cores used by Python threads.

Why: painlink's models are many small ones solved in batches (a few dozen columns ×
a few hundred days each), where a BLAS thread pool has little to split and a lot to
wait for. Measured 2026-11-30 on the 2-core machine (``python
benchmarks/analysis_latency.py`` with and without ``--blas-threads 0``, alternating;
docs/validation.md, "Speed"): one patient with two years of diary, on an idle machine
183–200 ms with OpenBLAS's threads against 190–206 ms on one; with two busy processes
beside it (``--load 2``) a median of 535 ms against 373 ms; 300 patients × 365 days
40.7 s against 40.6 s. A web server answering several
people at once, or a machine doing anything else, is the loaded case. Parallel work
across many patients belongs to processes (or Spark), not to BLAS threads.

``threadpoolctl`` (the library scikit-learn uses for the same purpose) sets the limit
for the duration of a call and puts the library's own setting back afterwards, so
code around painlink keeps its threads. The limit is the process's, and with
OpenBLAS's own thread pool threadpoolctl lets only the thread that first set one
change it until that thread lets go: an analysis in another of a server's threads
then runs with whatever is set, and one thread's setting put back can land in the
middle of another's analysis. A server therefore holds one thread for its whole life
(:func:`hold_for_the_process`, at the web app's start-up): its start-up thread keeps
the control, and every handler's analysis finds one thread and leaves one.

The two cores are used one level up, where the work divides cleanly: ``analyze`` runs
the trigger fit on a second thread beside the other analyses, and a batched kernel
(the logistic solver, the max-T Monte Carlo) shares a large batch among
:data:`KERNEL_THREADS` threads (:func:`in_parts`). Their work is in NumPy's compiled
loops and Polars' engine, which let go of the GIL; each row of a batch is computed
alone, so the numbers are those of one thread to the last bit
(``tests/test_analysis_threads.py``). Measured in docs/validation.md, "Speed".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from threadpoolctl import ThreadpoolController

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Python threads a batched kernel splits a large batch over (``fit_logit``, ``max_t``):
#: the brief's two cores. Their work is NumPy's, which lets go of the GIL, and each row
#: of a batch is computed alone, so the split changes no number (tested). 1 turns it off
KERNEL_THREADS: int = 2

#: BLAS threads during an analysis; None leaves the library's own setting (the
#: benchmark's ``--blas-threads 0``, to measure the difference)
LIMIT: int | None = 1

_controller: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    # made on first use, when NumPy's and SciPy's BLAS libraries are loaded (a
    # controller only knows the libraries loaded when it was made)
    global _controller
    if _controller is None:
        import numpy  # noqa: F401
        import scipy.linalg  # noqa: F401

        _controller = ThreadpoolController()
    return _controller


def one_blas_thread(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with BLAS limited to :data:`LIMIT` threads (see the module)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if LIMIT is None:
            return function(*args, **kwargs)
        with _blas().limit(limits=LIMIT, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


def hold_for_the_process() -> None:
    """Limit BLAS to :data:`LIMIT` threads from now on, in every thread of the process
    (see the module: a server whose analyses overlap)."""
    if LIMIT is not None:
        _blas().limit(limits=LIMIT, user_api="blas")


def in_parts(parts: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """``[work(p) for p in parts]``, the parts shared among :data:`KERNEL_THREADS`
    threads; results in the order of ``parts``.

    For a kernel's large batch cut into independent pieces: a cohort's models, a
    folder's max-T rows. One part, or one thread, runs on the caller's thread alone. A
    new pool per call, so one analysis never waits behind another's pieces."""
    if KERNEL_THREADS <= 1 or len(parts) <= 1:
        return [work(p) for p in parts]
    with ThreadPoolExecutor(max_workers=min(KERNEL_THREADS, len(parts))) as pool:
        return list(pool.map(work, parts))
