"""One test per variable from its forms × lags: the max-T test and its simultaneous
interval, batched across people.

A variable is tried in several forms and at several lags (:mod:`painlink.days.candidates`)
and the strongest is shown. Its p-value must account for that search, and it should not
pay for tests that say nearly the same thing: "more caffeine" per SD, "caffeine above
your usual" and "a rise in caffeine" on one day are strongly correlated. Simes' test
or Bonferroni over the k tests charges close to k for the strongest; on diaries
painlink did not write, the unadjusted strongest test found about as many true
triggers as a per-person oracle that knows the true form, and all the loss was the
charge for searching (docs/validation.md).

The max-T method (Westfall & Young 1993; Hothorn, Bretz & Westfall 2008, the
``multcomp`` package) charges only for the search actually made: under "no effect in
any form or lag", the Wald statistics z₁…z_k of one person's variable are jointly
normal with the correlation R of their score statistics, and

    p_family = P(max_j |Z_j| ≥ max_j |z_j|),  Z ~ N(0, R)

is a valid p-value for the variable; the 95% quantile c of max_j |Z_j| gives
simultaneous intervals b_j ± c·se_j, so the shown (strongest) form's interval covers
its truth with 95% probability although it was chosen after looking, and it
excludes 1 exactly when p_family < 0.05.

R comes from the null model (the person's covariates, no exposure): the score of b_j
at b = 0 is Σ_t x̃_jt (y_t − p̂_t) with x̃_j the exposure residualised on the
covariates (weights p̂(1 − p̂)), so cov(U_j, U_k) = Σ_t p̂_t(1 − p̂_t) x̃_jt x̃_kt over
the days both models use. The probability is estimated from a fixed set of normal
draws (the same for everyone, so results are reproducible): ``DRAWS`` draws give a
Monte Carlo error of about 0.0007 at p = 0.01; below the draws' resolution the
Bonferroni bound (k × the smallest p, always valid) is used where it is smaller.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

DRAWS = 20_000
SEED = 20_261_130
_BATCH = 64  # person × variable rows per batch of draws: ~64 × 20,000 × 12 doubles


def residualise(x: np.ndarray, covariates: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exposures (m, n) residualised on covariates (m, n, c) by weighted least squares
    with weights ``w`` (m, n; zero where a model does not use the day); zero where
    ``w`` is zero, so sums over days run over the days each model uses."""
    cw = covariates * w[..., None]
    a = np.einsum("mnc,mnd->mcd", cw, covariates) + 1e-9 * np.eye(covariates.shape[-1])
    b = np.einsum("mnc,mn->mc", cw, x)
    coef = np.linalg.solve(a, b[..., None])[..., 0]
    out: np.ndarray = np.where(w > 0, x - np.einsum("mnc,mc->mn", covariates, coef), 0.0)
    return out


def score_correlation(xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Correlation (B, K, K) of the score statistics of K exposures per row, from
    residualised exposures ``xt`` (B, K, n; zero on days a model does not use) and the
    null model's weights ``w`` (B, n). An exposure with no information gets a unit
    diagonal and zero correlations."""
    g = np.einsum("bkn,bjn->bkj", xt * w[:, None, :], xt)
    d = np.sqrt(np.clip(np.diagonal(g, axis1=1, axis2=2), 0.0, None))
    ok = d > 0
    denom = np.where(ok[:, :, None] & ok[:, None, :], d[:, :, None] * d[:, None, :], 1.0)
    r = np.where(ok[:, :, None] & ok[:, None, :], g / denom, 0.0)
    k = r.shape[-1]
    r[:, np.arange(k), np.arange(k)] = 1.0
    out: np.ndarray = np.clip(r, -1.0, 1.0)
    return out


def max_t(
    z: np.ndarray, r: np.ndarray, level: float = 0.95, draws: int = DRAWS
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``z`` (B, K; NaN: not tested) with correlation ``r`` (B, K, K): the
    max-T p-value of the largest |z| and the ``level`` quantile of max |Z| (the
    simultaneous critical value). Rows with nothing tested get NaN for both."""
    z = np.asarray(z, float)
    b, k = z.shape
    p_out = np.full(b, np.nan)
    c_out = np.full(b, np.nan)
    tested = ~np.isnan(z)
    rows = np.flatnonzero(tested.any(1))
    if not rows.size:
        return p_out, c_out
    g = np.random.default_rng(SEED).standard_normal((draws, k))
    for first in range(0, rows.size, _BATCH):
        sel = rows[first : first + _BATCH]
        t = tested[sel]
        rr = np.where(t[:, :, None] & t[:, None, :], r[sel], 0.0)
        rr[:, np.arange(k), np.arange(k)] = 1.0
        # a square root of R that tolerates near-collinear forms (eigenvalues ≥ 0)
        val, vec = np.linalg.eigh(rr)
        root = vec * np.sqrt(np.clip(val, 0.0, None))[:, None, :]
        root = np.where(t[:, :, None], root, 0.0)  # an untested form never counts
        sims = np.abs(g[None, :, :] @ np.swapaxes(root, 1, 2)).max(-1)  # (rows, draws)
        observed = np.nanmax(np.abs(z[sel]), axis=1)
        monte_carlo = (1.0 + (sims >= observed[:, None]).sum(1)) / (1.0 + draws)
        # beyond the draws' resolution, Bonferroni (always valid) is the sharper bound
        bonferroni = np.minimum(1.0, t.sum(1) * 2.0 * stats.norm.sf(observed))
        p_out[sel] = np.minimum(monte_carlo, bonferroni)
        c_out[sel] = np.quantile(sims, level, axis=1)
    return p_out, c_out
