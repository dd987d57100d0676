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

Days of one diary are not independent: attacks come in bursts and exposures persist
(a stressful fortnight, a season). Two persistent series that have nothing to do with
each other then look associated far more often than a model for independent days
says (Yule 1926). Every standard error is widened by Bartlett's (1935) factor for
that, summed over lags up to a fifth of the diary (:func:`serial_inflation`), before
z_j = b_j / se_j enters the test; R stays the day-by-day correlation (the forms of one
variable share their persistence, so their factors are close and the correlation
barely moves).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import fft as sp_fft
from scipy import special, stats

from painlink.analysis import threads
from painlink.analysis.logistic import check_sets, outer_products, set_layout, shared_parts

DRAWS = 20_000
REFINE = 0.2
SEED = 20_261_130
_BATCH = 64  # person × variable rows per batch of draws: ~64 × 20,000 × 12 doubles


def _null_fitted(covariates: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The null model's fitted probabilities p̂ (m, n)."""
    out: np.ndarray = 1.0 / (
        1.0 + np.exp(-np.clip(np.einsum("mnc,mc->mn", covariates, coef), -30, 30))
    )
    return out


def null_weights(covariates: np.ndarray, coef: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The null model's weights p̂(1 − p̂) on the days each model uses (zero elsewhere):
    ``covariates`` (m, n, c) with the null fit's ``coef`` (m, c), ``mask`` (m, n)."""
    fitted = _null_fitted(covariates, coef)
    out: np.ndarray = np.where(mask, fitted * (1.0 - fitted), 0.0)
    return out


def null_residuals(
    covariates: np.ndarray, coef: np.ndarray, mask: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """The null model's residuals y − p̂ on the days each model uses (zero elsewhere):
    what :func:`serial_inflation` takes the autocorrelation of."""
    out: np.ndarray = np.where(mask, y - _null_fitted(covariates, coef), 0.0)
    return out


def residualise(x: np.ndarray, covariates: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exposures (m, n) residualised on covariates (m, n, c) by weighted least squares
    with weights ``w`` (m, n; zero where a model does not use the day); zero where
    ``w`` is zero, so sums over days run over the days each model uses."""
    # batched matrix products, not einsum: 12.7 → 4.2 ms for one patient's 105 models
    # × 729 days × 14 covariates (measured 2026-11-30; einsum does not call BLAS)
    cwt = np.ascontiguousarray((covariates * w[..., None]).transpose(0, 2, 1))
    a = np.matmul(cwt, covariates) + 1e-9 * np.eye(covariates.shape[-1])
    b = np.matmul(cwt, x[..., None])
    coef = np.linalg.solve(a, b)
    out: np.ndarray = np.where(w > 0, x - np.matmul(covariates, coef)[..., 0], 0.0)
    return out


def residualise_shared(
    x: np.ndarray, covariates: np.ndarray, sets: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """:func:`residualise` for models whose covariates are one of a few sets:
    exposure j (n,) on ``covariates[sets[j]]`` (S, n, c), weights ``w`` (m, n). The
    weighted cross-products of the covariates are one matrix product of the weights with
    each day's outer products (:func:`painlink.analysis.logistic.outer_products`), not a
    (models × days × covariates) array; equal to :func:`residualise` to rounding."""
    check_sets(covariates, sets)
    out = np.zeros_like(x, dtype=float)
    m, n = x.shape
    c = covariates.shape[-1]
    for part in shared_parts(sets, m, n, c):
        used, local, rank, k = set_layout(sets[part])
        C = covariates[used]
        g = used.size
        W = np.zeros((g, k, n))
        X = np.zeros((g, k, n))
        W[local, rank] = w[part]
        X[local, rank] = np.where(w[part] > 0, x[part], 0.0)
        a = np.matmul(W, outer_products(C)).reshape(g, k, c, c) + 1e-9 * np.eye(c)
        b = np.matmul(W * X, C)[..., None]
        coef = np.linalg.solve(a, b)[..., 0]  # (g, k, c)
        fitted = np.matmul(coef, C.transpose(0, 2, 1))  # (g, k, n)
        out[part] = np.where(w[part] > 0, x[part] - fitted[local, rank], 0.0)
    return out


#: rows transformed at a time by :func:`_autocorrelations` (× ~n + lags complex values)
_SERIAL_ROWS = 4096


def _autocorrelations(a: np.ndarray, lags: int) -> np.ndarray:
    """r(l) = Σ_t a_t a_{t−l} / Σ_t a_t² for l = 1…``lags`` of each row of ``a`` (m, n),
    by the FFT (every lag at once; zero-padded to at least n + ``lags`` days, so no lag
    asked for wraps around), ``_SERIAL_ROWS`` rows at a time."""
    n = a.shape[-1]
    size = sp_fft.next_fast_len(n + lags, real=True)
    out = np.empty((len(a), lags))
    for at in range(0, len(a), _SERIAL_ROWS):
        spectrum = sp_fft.rfft(np.asarray(a[at : at + _SERIAL_ROWS], float), size, axis=-1)
        g = sp_fft.irfft(spectrum.real**2 + spectrum.imag**2, size, axis=-1)
        out[at : at + _SERIAL_ROWS] = g[:, 1 : lags + 1] / np.maximum(g[:, :1], 1e-300)
    return out


def serial_inflation(
    xt: np.ndarray, e: np.ndarray, share: float, e_rows: np.ndarray | None = None
) -> np.ndarray:
    """The factor (m,) by which each model's standard error grows for serial dependence.

    The score of an exposure is U = Σ_t x̃_t e_t: the exposure residualised on the
    covariates (``xt``, m × n, zero on days a model does not use) against the null
    model's residuals (``e``: m × n, or one row per person with ``e_rows``). Given the
    exposure series, its variance is σ² Σ x̃_t² · (1 + 2 Σ_l r_x(l) ρ_e(l)) — r_x(l) =
    Σ_t x̃_t x̃_{t−l} / Σ_t x̃_t², and ρ_e the attacks' autocorrelation left by the
    model — where a model for independent
    days counts the 1 alone. This is Bartlett's (1935) variance of a cross-correlation
    between two persistent series, the correction for Yule's (1926) "nonsense
    correlations" (Pyper & Peterman 1998). The sum runs over lags 1…``share`` × the
    days the row spans (a fifth: autocorrelations beyond about n/5 lags rest on too few
    pairs to be trusted, the limit Pyper & Peterman use after Box & Jenkins), with no
    taper: Bartlett's kernel weights of a Newey–West estimator (1 − l/(L+1)) shrink the
    long lags where a drift of weeks lives, and with 14 lags they counted about 40% of
    the inflation of two AR(1) series with persistence 0.95 and 0.97
    (docs/analysis.md, "Days that depend on each other"). Each autocorrelation uses a
    whole series, so the factor is steady with a few dozen attacks (Newey–West's
    cross-products of the score itself were not). Never below 1: a diary whose days
    look independent keeps the model's own error. ``share`` 0: no widening.

    ``e_rows`` (m,): model j's residuals are ``e[e_rows[j]]`` — one row per person,
    whose many models share it, so its autocorrelations are computed once."""
    m, n = xt.shape
    if share <= 0 or n < 2 or m == 0:
        return np.ones(m)
    if e_rows is None:
        e_rows = np.arange(m)
    used = e != 0  # the null model's residual y − p̂ is never 0 on a day it uses
    first = np.argmax(used, axis=1)
    last = n - 1 - np.argmax(used[:, ::-1], axis=1)
    span = np.where(used.any(axis=1), last - first + 1, 0)
    reach = np.minimum(np.floor(share * span).astype(int), n - 1)[e_rows]  # lags per model
    lags = int(reach.max())
    if lags < 1:
        return np.ones(m)
    rx = _autocorrelations(xt, lags)
    re = _autocorrelations(e, lags)[e_rows]
    within = np.arange(1, lags + 1)[None, :] <= reach[:, None]
    total = np.where(within, rx * re, 0.0).sum(axis=1)
    out: np.ndarray = np.sqrt(np.clip(1.0 + 2.0 * total, 1.0, None))
    return out


def score_correlation(xt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Correlation (B, K, K) of the score statistics of K exposures per row, from
    residualised exposures ``xt`` (B, K, n; zero on days a model does not use) and the
    null model's weights ``w`` (B, n). An exposure with no information gets a unit
    diagonal and zero correlations."""
    g = np.matmul(xt * w[:, None, :], xt.transpose(0, 2, 1))  # a batched product, as above
    d = np.sqrt(np.clip(np.diagonal(g, axis1=1, axis2=2), 0.0, None))
    ok = d > 0
    denom = np.where(ok[:, :, None] & ok[:, None, :], d[:, :, None] * d[:, None, :], 1.0)
    r = np.where(ok[:, :, None] & ok[:, None, :], g / denom, 0.0)
    k = r.shape[-1]
    r[:, np.arange(k), np.arange(k)] = 1.0
    out: np.ndarray = np.clip(r, -1.0, 1.0)
    return out


def max_t(
    z: np.ndarray,
    r: np.ndarray,
    level: float = 0.95,
    draws: int = DRAWS,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``z`` (B, K; NaN: not tested) with correlation ``r`` (B, K, K): the
    max-T p-value of the variable and each form's simultaneous critical value (B, K):
    the intervals b_j ± c_j·se_j hold together with probability ``level``. Rows with
    nothing tested get NaN.

    With ``weights`` (B, K; scaled here to average 1 over the tested forms), the
    statistic is min_j p_j / w_j (weighted max-T): a form given more weight needs less
    evidence, c_j = z at w_j·a/2 with a chosen so that all intervals hold together, and
    the test stays valid whatever the weights, provided they were not fitted to this
    row's own data. Equal weights give the plain test."""
    z = np.asarray(z, float)
    b, k = z.shape
    p_out = np.full(b, np.nan)
    c_out = np.full((b, k), np.nan)
    tested = ~np.isnan(z)
    rows = np.flatnonzero(tested.any(1))
    if not rows.size:
        return p_out, c_out
    w = np.where(tested, 1.0 if weights is None else np.asarray(weights, float), 0.0)
    w = np.where(tested, np.maximum(w, 1e-12), 0.0)
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-300) * tested.sum(1, keepdims=True)
    g = _draws(draws, k)
    # every row with a tenth of the draws; the rows whose p could matter to a decision
    # (p < REFINE: a false-discovery step at q = 0.10 never calls beyond it) again
    # with all of them. A row left at the tenth keeps critical values from 2,000 draws:
    # its intervals (never a call's) hold together 94.5–95.5% of the time
    coarse = g[: max(draws // 10, 1000)]

    def run(draws_used: np.ndarray, which: np.ndarray) -> None:
        # the batches are independent (each row is its own test, against the same
        # draws): shared among threads (painlink.analysis.threads), each writing its rows
        def one(sel: np.ndarray) -> None:
            p_out[sel], c_out[sel] = _batch(z[sel], r[sel], w[sel], tested[sel], draws_used, level)

        threads.in_parts([which[i : i + _BATCH] for i in range(0, which.size, _BATCH)], one)

    run(coarse, rows)
    run(g, rows[p_out[rows] < REFINE])
    return p_out, c_out


@functools.lru_cache(maxsize=8)
def _draws(draws: int, k: int) -> np.ndarray:
    """The fixed normal draws (the same for every call, so results are reproducible);
    made once per size: generating them took a third of a single person's analyses."""
    g = np.random.default_rng(SEED).standard_normal((draws, k)).astype(np.float32)
    g.flags.writeable = False
    return g


def _batch(
    z: np.ndarray, r: np.ndarray, ws: np.ndarray, t: np.ndarray, g: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """max_t for a few rows with the draws ``g``."""
    k = z.shape[1]
    draws = g.shape[0]
    tail = 1.0 - level
    rr = np.where(t[:, :, None] & t[:, None, :], r, 0.0)
    rr[:, np.arange(k), np.arange(k)] = 1.0
    root = np.where(t[:, :, None], _root(rr), 0.0).astype(np.float32)  # untested never counts
    sims = np.abs(g[None, :, :] @ np.swapaxes(root, 1, 2))  # (rows, draws, K)
    top = sims.max(-1)  # (rows, draws): the strongest form of each draw
    p_obs = np.where(t, 2.0 * stats.norm.sf(np.abs(np.nan_to_num(z))), np.inf)
    observed = np.min(p_obs / np.where(t, ws, 1.0), axis=1)  # min p_j / w_j
    # P(min_j p*_j / w_j ≤ observed) = P(any |Z*_j| ≥ z at w_j · observed / 2)
    cut = _cut(ws, observed).astype(np.float32)
    # a row whose tested forms share one weight (every row of the plain test) needs only
    # each draw's strongest form: "any form beyond the cut" is "the strongest beyond
    # it", and min_j p*_j / w is p* of the strongest over w (p* falls as |Z*| rises), so
    # the counts and critical values are the same to the last bit, from a tenth of the work
    weight = np.where(t, ws, -np.inf).max(1)
    same = weight == np.where(t, ws, np.inf).min(1)
    beyond = np.empty(top.shape, bool)
    beyond[same] = top[same] >= np.where(t, cut, -np.inf)[same].max(1)[:, None]
    beyond[~same] = (sims[~same] >= cut[~same][:, None, :]).any(-1)
    monte_carlo = (1.0 + beyond.sum(1)) / (1.0 + draws)
    # beyond the draws' resolution, (weighted) Bonferroni — always valid — is sharper
    bonferroni = np.minimum(1.0, t.sum(1) * observed)
    # the critical a: the `tail` quantile of min_j p*_j / w_j over the draws. It is at
    # most `tail` (the largest weight is ≥ 1), and a draw can be that small only if it
    # passes the largest weight's cut at `tail`; with a margin of 2 for the draws' own
    # scatter, the others stay ∞ (each form's cut at 2 × tail is used again below; an
    # untested form has weight 0 and an infinite cut, so the row's smallest is the gate)
    far = _cut(ws, np.full(len(z), 2.0 * tail))
    gate = far.min(1)
    reach = top >= gate[:, None]
    stat = np.full(reach.shape, np.inf)
    who, draw = np.nonzero(reach)
    plain = same[who]
    w_, d_ = who[plain], draw[plain]
    stat[w_, d_] = 2.0 * special.ndtr(-top[w_, d_].astype(float)) / weight[w_]
    who, draw = who[~plain], draw[~plain]
    # of a weighted row's forms, only those beyond their cut at 2 × tail can give a draw
    # a statistic that matters: a form short of it has p*_j / w_j > 2 × tail, which is
    # never the draw's minimum when that is ≤ tail, and a draw's statistic above tail
    # only has to stay above the quantile (which is clipped to tail). The others are left
    # at ∞, so the quantile is the same to the last bit, from a fraction of the normal
    # tail probabilities (most draws pass one form's cut, not all K)
    x = sims[who, draw]
    counts = t[who] & (x >= far[who])
    values = np.full(x.shape, np.inf)
    values[counts] = 2.0 * special.ndtr(-x[counts].astype(float)) / ws[who][counts]
    stat[who, draw] = values.min(1, initial=np.inf)
    rank = max(int(np.ceil(tail * draws)) - 1, 0)
    a = np.partition(stat, rank, axis=1)[:, rank]
    # a lies between Bonferroni's tail / k and tail (one test) whatever R is: keep the
    # draws' scatter inside those bounds (one tested form gets exactly 1.96)
    a = np.clip(a, tail / np.maximum(t.sum(1), 1), tail)
    return np.minimum(monte_carlo, bonferroni), np.where(t, _cut(ws, a), np.nan)


#: added to R's diagonal before its Cholesky factor: forms that say exactly the same
#: thing (correlation 1) make R singular; this changes no probability visibly
_JITTER = 1e-9


def _root(r: np.ndarray) -> np.ndarray:
    """A square root L of each R (L Lᵀ = R): the Cholesky factor, which is unique and
    changes smoothly with R, so a last-bit change in R (another BLAS, another order of
    summation) moves the Monte Carlo p by as little — an eigenvector root can rotate
    (its signs and order are arbitrary) and move it by the draws' own error. Falls back
    to the eigenvector root (eigenvalues clipped at 0) for a batch that is not
    positive semi-definite enough to factor."""
    k = r.shape[-1]
    try:
        out: np.ndarray = np.linalg.cholesky(r + _JITTER * np.eye(k))
        return out
    except np.linalg.LinAlgError:
        val, vec = np.linalg.eigh(r)
        root: np.ndarray = vec * np.sqrt(np.clip(val, 0.0, None))[:, None, :]
        return root


def _cut(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """|z| beyond which a two-sided p is at most w·a (inf where w is 0)."""
    level = np.clip(w * a[:, None], 0.0, 1.0)
    with np.errstate(divide="ignore"):
        out: np.ndarray = np.where(level > 0, stats.norm.isf(level / 2.0), np.inf)
    return out
