"""The analyses run their linear algebra on one BLAS thread.

Why: painlink's models are many small ones solved in batches (a few dozen columns ×
a few hundred days each), where a BLAS thread pool has little to split and a lot to
wait for. Measured 2026-11-30 on the 2-core machine (``python
benchmarks/analysis_latency.py`` with ``--blas-threads 1`` or without, alternating,
painlink's own simulator): one patient with two years of diary, median 194–200 ms
with OpenBLAS's threads against 201–206 ms on one thread on an idle machine; with two
busy processes beside it (``--load 2``) 527–530 ms with threads against 291–320 ms on
one; 300 patients × 365 days 40.7 s against 40.6 s. A web server answering several
people at once, or a machine doing anything else, is the loaded case. Parallel work
across many patients belongs to processes (or Spark), not to BLAS threads.

``threadpoolctl`` (the library scikit-learn uses for the same purpose) sets the limit
for the duration of a call and puts the library's own setting back afterwards, so
code around painlink keeps its threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import ThreadpoolController

P = ParamSpec("P")
R = TypeVar("R")

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
