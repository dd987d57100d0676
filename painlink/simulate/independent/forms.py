"""How a day variable acts, as arrays: the exposure definitions of the independent story.

Every function takes a (patients, days) array with NaN for a day not recorded and
returns an array of the same shape (NaN where the exposure cannot be known). The
simulator applies them to the complete latent series; the oracle in
``benchmarks/oracle_independent.py`` applies the very same definitions to what the
diary recorded, so "the oracle knows the true exposure" is literally true.

Nothing here comes from painlink's analyses or from painlink's own simulator: the
forms, their parameters and their lags are this story's own.
"""

from __future__ import annotations

import numpy as np

#: forms whose exposure is a yes/no (odds ratio for exposed vs not exposed)
BINARY_FORMS = frozenset({"above", "below", "present", "drop", "rise", "window", "pill_free"})
#: forms per person-SD of the amount (odds ratio for a 1-SD higher amount)
PER_SD_FORMS = frozenset({"per_sd", "log_per_sd"})
#: days without bleeding before a bleeding day for it to count as the onset of a period
PERIOD_GAP_DAYS = 10


def lagged(x: np.ndarray, lag: int) -> np.ndarray:
    """The value ``lag`` days earlier, NaN where it falls before the diary."""
    if lag == 0:
        return x.astype(float, copy=True)
    out = np.full(x.shape, np.nan)
    out[:, lag:] = x[:, :-lag]
    return out


def previous_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Mean of the ``k`` days before each day, from at least half of them recorded:
    the person's recent baseline that a change is measured from."""
    seen = ~np.isnan(x)
    vals = np.where(seen, x, 0.0)
    zero = np.zeros((x.shape[0], 1))
    csum = np.concatenate([zero, np.cumsum(vals, axis=1)], axis=1)
    ccnt = np.concatenate([zero, np.cumsum(seen, axis=1)], axis=1)
    days = x.shape[1]
    end = np.arange(days)  # window covers t-k .. t-1  → cumulative [max(t-k,0), t)
    start = np.maximum(end - k, 0)
    total = csum[:, end] - csum[:, start]
    count = ccnt[:, end] - ccnt[:, start]
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.where(count >= max(2, (k + 1) // 2), mean, np.nan)


def period_onsets(bleeding: np.ndarray) -> np.ndarray:
    """1 on a bleeding day preceded by :data:`PERIOD_GAP_DAYS` days without bleeding
    (a day not recorded counts as no bleeding), else 0."""
    bleed = np.nan_to_num(bleeding, nan=0.0) > 0
    before = np.zeros_like(bleed)
    for lag in range(1, PERIOD_GAP_DAYS + 1):
        before[:, lag:] |= bleed[:, :-lag]
    return (bleed & ~before).astype(float)


def window_around_onset(bleeding: np.ndarray, first: int, last: int) -> np.ndarray:
    """1 on days ``first``..``last`` relative to a period's onset (−2 = two days before)."""
    onsets = period_onsets(bleeding)
    out = np.zeros_like(onsets)
    for offset in range(first, last + 1):
        # day t is in the window if an onset fell on t - offset
        if offset >= 0:
            out[:, offset:] = np.maximum(out[:, offset:], onsets[:, : onsets.shape[1] - offset])
        else:
            out[:, :offset] = np.maximum(out[:, :offset], onsets[:, -offset:])
    return out


def _on_day(
    x: np.ndarray,
    form: str,
    threshold: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    baseline_days: int,
    window: tuple[int, int],
) -> np.ndarray:
    """The exposure of each day itself (lag 0). ``threshold``, ``center`` and ``scale``
    are per patient (shape (patients, 1))."""
    seen = ~np.isnan(x)

    def flag(cond: np.ndarray) -> np.ndarray:
        return np.where(seen, cond.astype(float), np.nan)

    with np.errstate(invalid="ignore"):
        if form == "per_sd":
            return (x - center) / scale
        if form == "log_per_sd":
            return (np.log1p(np.maximum(x, 0.0)) - center) / scale
        if form == "above":
            return flag(x > threshold)
        if form == "below":
            return flag(x < threshold)
        if form in ("present", "pill_free"):
            return flag(x > 0)
        if form in ("drop", "rise"):
            base = previous_mean(x, baseline_days)
            change = base - x if form == "drop" else x - base
            return np.where(seen & ~np.isnan(base), (change > threshold).astype(float), np.nan)
        if form == "window":
            return window_around_onset(x, *window)
    raise ValueError(f"unknown form {form!r}")


def parse_lags(text: str) -> tuple[int, ...]:
    """ "1" → (1,); "0,1" → (0, 1): an effect spread evenly over two lags."""
    return tuple(int(part) for part in str(text).split(","))


def exposure(
    x: np.ndarray,
    form: str,
    lags: str,
    *,
    threshold: np.ndarray | float = np.nan,
    center: np.ndarray | float = 0.0,
    scale: np.ndarray | float = 1.0,
    baseline_days: int = 5,
    window: tuple[int, int] = (-2, 3),
) -> np.ndarray:
    """The exposure acting on each day: the day form of ``x`` at the lag, or the mean of
    it over two lags (the effect spread over both)."""

    def per_patient(v: np.ndarray | float) -> np.ndarray:
        return np.asarray(v, dtype=float).reshape(-1, 1) if np.ndim(v) else np.asarray(v)

    today = _on_day(
        x,
        form,
        per_patient(threshold),
        per_patient(center),
        per_patient(scale),
        baseline_days,
        window,
    )
    parts = [lagged(today, lag) for lag in parse_lags(lags)]
    return parts[0] if len(parts) == 1 else np.mean(parts, axis=0)
