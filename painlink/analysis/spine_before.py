"""The neck/back *before* test: does raised pain on one day go with more attacks
starting the next? (:mod:`painlink.analysis.spine_link` asks it with the *with* test
as one family per person.)

Yesterday's pain two ways — ≥ threshold and per SD of the person's ratings — as one
max-T test (:mod:`painlink.analysis.family_test`), in a penalised logistic regression of
onset on the days not inside an attack, adjusted for a slow drift over diary time and
for the trigger model's attack history; standard errors widened for persistent pain
and bursts of attacks. Every person and region is one batched Newton fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from painlink.analysis.family_test import (
    max_t,
    null_residuals,
    null_weights,
    residualise,
    score_correlation,
    serial_inflation,
)
from painlink.analysis.logistic import fit_logit
from painlink.analysis.seasons import slow_terms, term_counts
from painlink.rules.spine import SETTINGS, SpineSettings

#: the before test's forms of yesterday's pain: the clinical cut (≥ threshold) and the
#: person's own scale (per SD of their ratings), one max-T test over both
BEFORE_FORMS: tuple[str, ...] = ("threshold", "per_sd")


#: a before design: exposures (n, forms), onsets (n,), the rows at risk (n,), and the
#: attack-history covariates (n, HISTORY_TERMS)
Design = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
HISTORY_TERMS = 3


def history_columns(
    onset: np.ndarray, ongoing: np.ndarray, s: SpineSettings = SETTINGS
) -> np.ndarray:
    """(n, 3) per day: log(onsets in the previous ``recent_window_days`` + ½), log(1 +
    days since the previous onset, capped; from the diary's first day before the first
    attack), and whether yesterday was inside an attack — the trigger model's
    attack-history terms (:mod:`painlink.analysis.trigger_fit`). Attacks come in bursts
    and pain can linger after one: without these, pain the day after an attack in a
    burst is "pain the day before" the next and looks like a cause."""
    n = len(onset)
    o = onset.astype(float)
    cum = np.concatenate([[0.0], np.cumsum(o)])
    day = np.arange(n)
    recent = cum[day] - cum[np.maximum(day - s.recent_window_days, 0)]
    last = np.maximum.accumulate(np.where(onset.astype(bool), day, -1))
    previous = np.concatenate([[-1], last[:-1]]) if n else last
    since = np.where(previous >= 0, day - previous, day)
    inside = (onset.astype(bool) | ongoing.astype(bool)).astype(float)
    yesterday = np.concatenate([[0.0], inside[:-1]]) if n else inside
    return np.column_stack(
        [np.log(recent + 0.5), np.log1p(np.clip(since, 0, s.days_since_cap)), yesterday]
    )


def before_design(
    pain: np.ndarray, onset: np.ndarray, ongoing: np.ndarray, s: SpineSettings = SETTINGS
) -> Design:
    """Exposures X (n, 2): yesterday's pain ≥ threshold, and yesterday's pain per SD of
    the person's ratings (centred on their mean); outcome y (onset); the rows at risk
    (not inside an attack, yesterday rated) of one person and region; and the
    attack-history covariates (:func:`history_columns`)."""
    n = len(pain)
    x = np.zeros((n, len(BEFORE_FORMS)))
    keep = np.zeros(n, dtype=bool)
    if n > 1:
        rated = ~np.isnan(pain[:-1])
        keep[1:] = rated & ~ongoing[1:]
        x[1:, 0] = np.where(rated, pain[:-1] >= s.pain_threshold, False)
        values = pain[~np.isnan(pain)]
        sd = float(values.std()) if values.size > 1 else 0.0
        if sd > 0:
            x[1:, 1] = np.where(rated, (pain[:-1] - values.mean()) / sd, 0.0)
    return x, onset.astype(float), keep, history_columns(onset, ongoing, s)


@dataclass(frozen=True)
class Before:
    """The before test of one person and region: the shown form's odds ratio with its
    simultaneous 95% interval (both forms together), the max-T p over the two forms,
    onsets at risk and days with pain ≥ threshold the day before; per form the raw
    estimate and SE (log odds ratio; NaN: not tested); ``sd``: points per SD."""

    odds_ratio: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p: float = math.nan
    events: int = 0
    exposed: int = 0
    form: str | None = None
    sd: float = math.nan
    log_or: tuple[float, ...] = (math.nan, math.nan)
    se: tuple[float, ...] = (math.nan, math.nan)

    @property
    def forms_tested(self) -> int:
        """How many forms were fitted: with one, the interval is its own 95% interval."""
        return sum(not math.isnan(v) for v in self.log_or)


def trend_columns(n: int, s: SpineSettings = SETTINGS) -> np.ndarray:
    """Cosine terms of diary time (n, K) for the before model
    (:func:`painlink.analysis.seasons.slow_terms`; K = n // ``trend_days``, at least
    ``trend_min_terms``, at most ``trend_max_terms``).

    When pain and the attack rate both drift over months (a new job, a season), pain
    the day before would go with more attacks for no other reason: on noise pain with
    such a drift, 5–8% of people were called "candidate cause" without slow terms."""
    span = np.array([n])
    counts = term_counts(span, span, s.trend_days, s.trend_min_terms, s.trend_max_terms)
    out: np.ndarray = slow_terms(np.arange(n, dtype=float)[None, :], span, counts)[0]
    return out


def before_tests(
    designs: list[Design],
    s: SpineSettings = SETTINGS,
    sds: list[float] | None = None,
) -> list[Before]:
    """The *before* test for many person–region designs in one batched fit: each form
    (pain ≥ threshold; per SD) is fitted where it can be (enough onsets; enough days
    with and without pain ≥ threshold; ratings that vary), and the two are one max-T
    test (:mod:`painlink.analysis.family_test`), so looking at two forms is paid for
    and the shown interval holds although the form was chosen after looking."""
    out = [Before() for _ in designs]
    jobs: list[tuple[int, int]] = []  # (design, form)
    for k, (x, y, keep, _) in enumerate(designs):
        if not len(x):
            continue
        exposed = int(x[keep, 0].sum())
        events = int(y[keep].sum())
        unexposed = int(keep.sum()) - exposed
        sd = sds[k] if sds is not None else math.nan
        out[k] = Before(events=events, exposed=exposed, sd=sd)
        if events < s.min_attacks:
            continue
        if min(exposed, unexposed) >= s.min_days_each:
            jobs.append((k, 0))
        if keep.sum() >= s.min_days_numeric and np.ptp(x[keep, 1]) > 0:
            jobs.append((k, 1))
    if not jobs:
        return out
    n = max(len(designs[k][0]) for k, _ in jobs)
    trends = {k: trend_columns(len(designs[k][0]), s) for k, _ in jobs}
    k_trend = max(t.shape[1] for t in trends.values())
    cols = 2 + k_trend + HISTORY_TERMS
    X = np.zeros((len(jobs), n, cols))
    Y = np.zeros((len(jobs), n))
    M = np.zeros((len(jobs), n), dtype=bool)
    for j, (k, form) in enumerate(jobs):
        x, y, keep, history = designs[k]
        X[j, : len(x), 0] = 1.0
        X[j, : len(x), 1] = x[:, form]
        X[j, : len(x), 2 : 2 + trends[k].shape[1]] = trends[k]
        X[j, : len(x), 2 + k_trend :] = history
        Y[j, : len(y)] = y
        M[j, : len(keep)] = keep
    fit = fit_logit(X, Y, M, prior_sd=s.prior_sd)
    covariates = np.delete(X, 1, axis=2)
    # the null model (no pain term) is one per design: both forms share its days at risk
    designs_fitted = sorted({k for k, _ in jobs})
    row_of = {k: i for i, k in enumerate(designs_fitted)}
    first_job = [next(j for j, (k, _) in enumerate(jobs) if k == d) for d in designs_fitted]
    null_x, null_y, null_m = covariates[first_job], Y[first_job], M[first_job]
    null = fit_logit(null_x, null_y, null_m, prior_sd=s.prior_sd).coef
    weights = null_weights(null_x, null, null_m)
    rows = [row_of[k] for k, _ in jobs]
    resid = residualise(X[:, :, 1], covariates, weights[rows])
    # pain persists and attacks come in bursts: widen each error for that (Bartlett)
    residuals = null_residuals(null_x, null, null_m, null_y)
    widen = serial_inflation(resid, residuals, s.serial_lag_share, np.asarray(rows))
    forms = len(BEFORE_FORMS)
    b = np.full((len(designs_fitted), forms), np.nan)
    se = np.full((len(designs_fitted), forms), np.nan)
    xt = np.zeros((len(designs_fitted), forms, n))
    for j, (k, form) in enumerate(jobs):
        coef, err = float(fit.coef[j, 1]), float(fit.se[j, 1] * widen[j])
        if math.isfinite(coef) and math.isfinite(err) and err > 0:
            b[row_of[k], form], se[row_of[k], form] = coef, err
        xt[row_of[k], form] = resid[j]
    r = score_correlation(xt, weights)
    p_family, crit = max_t(b / se, r)
    for i, k in enumerate(designs_fitted):
        z = np.abs(b[i] / se[i])
        if np.isnan(z).all():
            continue
        f = int(np.nanargmax(z))
        lo, hi = b[i, f] - crit[i, f] * se[i, f], b[i, f] + crit[i, f] * se[i, f]
        ci = np.exp(np.clip([b[i, f], lo, hi], -700, 700))
        out[k] = Before(
            odds_ratio=float(ci[0]),
            ci_low=float(ci[1]),
            ci_high=float(ci[2]),
            p=float(p_family[i]),
            events=out[k].events,
            exposed=out[k].exposed,
            form=BEFORE_FORMS[f],
            sd=out[k].sd,
            log_or=tuple(float(v) for v in b[i]),
            se=tuple(float(v) for v in se[i]),
        )
    return out
