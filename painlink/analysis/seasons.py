"""Slow change across one person's diary — a season, a new job, a drift — as covariates.

When the attack rate and an unrelated variable both move over months (more screen time
and more attacks in winter; less exercise as a job gets harder), a model that compares
days across the whole diary credits the variable with the season. Epidemiology's
answer for short-term effects is to compare a day with days of the same stretch of
time: the time-stratified case-crossover compares within a calendar month (Janes,
Sheppard & Lumley 2005), the case time series design adds smooth functions of time to
each subject's series (Gasparrini 2021). painlink adds a small cosine basis of the
diary's own time to each person's model, one term per ``days_per_term`` days of diary:
what remains to be explained is the day-to-day and week-to-week variation, which is
where a trigger acts. A variable that only moves with the seasons is then not found
at all — honest, since one person's year cannot tell its effect from the season's.
"""

from __future__ import annotations

import numpy as np


def term_counts(
    span: np.ndarray,
    logged: np.ndarray,
    days_per_term: int,
    min_terms: int = 0,
    max_terms: int = 16,
    logged_per_term: int = 30,
) -> np.ndarray:
    """How many slow terms each person gets: K = N // ``days_per_term`` for a diary
    whose first and last days are ``span`` (N) apart, inclusive, but no more than one
    per ``logged_per_term`` days with an entry (``logged``), so that two entries years
    apart earn none; at least ``min_terms`` and at most ``max_terms`` (0 when
    ``days_per_term`` is 0 and ``min_terms`` 0). People with the same count are fitted
    together, so one long diary does not widen every model of a cohort."""
    span = np.asarray(span, dtype=float)
    k_each = np.zeros(len(span), dtype=int)
    if days_per_term > 0:
        by_span = span // days_per_term
        by_logged = np.asarray(logged, dtype=float) // max(logged_per_term, 1)
        k_each = np.minimum(by_span, by_logged).astype(int)
    out: np.ndarray = np.minimum(np.maximum(k_each, min_terms), max(max_terms, min_terms))
    return out


def slow_terms(day: np.ndarray, span: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cosine terms cos(π k (t + ½) / N), k = 1…K, of each person's diary time.

    ``day`` (P, n): days since the person's first diary day (NaN on padding); ``span``
    (P,): days from the first to the last diary day, inclusive (N); ``counts`` (P,):
    each person's K (:func:`term_counts`). The rest of the (P, n, max K) array is zero,
    which a fit with a prior on each coefficient leaves at zero. The first term is a
    one-way drift, the second a dip or a hump, then shorter waves: the shortest has a
    period of 2N/K. Cosines of a discrete cosine transform are nearly uncorrelated with
    each other and with a constant, so adding terms does not destabilise the intercept
    the way powers of time do."""
    k_each = np.asarray(counts, dtype=int)
    k_max = int(k_each.max()) if len(k_each) else 0
    out = np.zeros((*day.shape, k_max))
    if k_max == 0:
        return out
    k = np.arange(1, k_max + 1)
    safe_span = np.maximum(np.asarray(span, dtype=float), 1.0)[:, None, None]
    t = np.nan_to_num(day)[..., None]
    wave = np.cos(np.pi * k * (t + 0.5) / safe_span)
    used = (k[None, :] <= k_each[:, None])[:, None, :] & ~np.isnan(day)[..., None]
    out[used] = wave[used]
    return out
