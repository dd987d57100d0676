"""Batched penalised logistic regression: many small models fitted at once.

A per-person trigger analysis fits dozens of small logistic models (one per factor
and lag) on a few hundred days each; a cohort fits that for every patient. Looping
over statsmodels costs ~1.5 ms a model (statistics.md §5.3); a Newton solver batched
with numpy over models fits them together. The penalty is a normal prior with
standard deviation ``prior_sd`` on every coefficient but the intercept — a weak
prior keeps estimates finite when a 2×2 table has an empty cell, which happens for
a quarter of patients at 90 days. With ``prior_sd=None`` the fit is plain maximum
likelihood and equals statsmodels' ``Logit`` (tested to 1e-6).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from painlink.analysis import threads


@dataclass(frozen=True)
class LogitFit:
    coef: np.ndarray  # (models, p)
    cov: np.ndarray  # (models, p, p): inverse of the (penalised) information
    converged: np.ndarray  # (models,)
    iterations: int
    n: np.ndarray  # (models,) rows used
    events: np.ndarray  # (models,) outcomes = 1

    @property
    def se(self) -> np.ndarray:
        se: np.ndarray = np.sqrt(np.clip(np.diagonal(self.cov, axis1=1, axis2=2), 0, None))
        return se


def fit_logit(
    X: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray | None = None,
    prior_sd: float | np.ndarray | None = 2.0,
    max_iter: int = 50,
    tol: float = 1e-10,
    prior_mean: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> LogitFit:
    """Fit models ``y ~ X`` for a batch: X (m, n, p) with the intercept in column 0.

    ``mask`` (m, n) drops rows per model (missing exposure, not at risk). Newton–Raphson
    with step halving on the penalised log-likelihood. ``prior_mean`` (p,) centres the
    normal prior on other coefficients than zero, e.g. a cohort's (the intercept stays free);
    ``prior_sd`` (m,) and ``prior_mean`` (m, p) give each model its own prior, so models
    that differ only in their prior and rows — a forecast's origins — are one batch.
    ``start`` (m, p) is where Newton begins: the covariates' fit without the exposure
    saves a few iterations on thousands of models (the optimum does not depend on it).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim == 2:
        X, y = X[None], y[None]
        mask = None if mask is None else np.asarray(mask)[None]
    m, n, p = X.shape
    if y.shape == (n,):
        y = np.broadcast_to(y, (m, n))
    w = np.ones((m, n)) if mask is None else np.asarray(mask, dtype=float)
    start = None if start is None else np.asarray(start, dtype=float)
    penalty, centre = _prior(prior_sd, prior_mean, m, p)
    settings = (max_iter, tol)
    if m < _SPLIT_MODELS or m * n * p < _SPLIT_CELLS:
        return _fit(X, y, w, start, penalty, centre, *settings)
    # a large batch in halves on two threads (painlink.analysis.threads): each model's
    # Newton steps use its own rows alone, so every model ends where it ends in one batch
    # (slices: views of the caller's arrays, so a split batch holds no more memory)
    cuts = np.linspace(0, m, threads.KERNEL_THREADS + 1).astype(int).tolist()
    halves = [slice(a, b) for a, b in itertools.pairwise(cuts)]
    fits = threads.in_parts(
        halves,
        lambda h: _fit(
            X[h], y[h], w[h], None if start is None else start[h], penalty[h], centre[h], *settings
        ),
    )
    return LogitFit(
        np.concatenate([f.coef for f in fits]),
        np.concatenate([f.cov for f in fits]),
        np.concatenate([f.converged for f in fits]),
        max(f.iterations for f in fits),
        np.concatenate([f.n for f in fits]),
        np.concatenate([f.events for f in fits]),
    )


#: a batch is split over threads from this many models and model × day × column cells
#: (below, a thread costs more than it saves): measured 2026-12-01, docs/validation.md
_SPLIT_MODELS = 16
_SPLIT_CELLS = 300_000


def _prior(
    prior_sd: float | np.ndarray | None, prior_mean: np.ndarray | None, m: int, p: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each model's prior as (m, p) precisions (0 on the intercept, and everywhere for
    plain maximum likelihood) and (m, p) means."""
    if prior_sd is None:
        penalty = np.zeros((m, p))
    else:
        precision = 1.0 / np.broadcast_to(np.asarray(prior_sd, dtype=float), (m,)) ** 2
        penalty = np.repeat(precision[:, None], p, axis=1)
        penalty[:, 0] = 0.0
    centre = np.zeros((m, p))
    if prior_mean is not None:
        centre[:] = np.asarray(prior_mean, dtype=float)
    return penalty, centre


def _inverse(info: np.ndarray, penalised: bool) -> np.ndarray:
    """The covariance: each information matrix's inverse. A prior on every coefficient
    but the intercept makes the information positive definite, so a plain inverse is
    exact (and a fifth of the pseudo-inverse's time: no SVD); plain maximum likelihood,
    or an inverse that fails or overflows, gets the pseudo-inverse (a separated model's
    information is singular)."""
    if penalised:
        try:
            out: np.ndarray = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            pass
        else:
            if np.isfinite(out).all():
                return out
    pseudo: np.ndarray = np.linalg.pinv(info)
    return pseudo


def _fit(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    start: np.ndarray | None,
    penalty: np.ndarray,
    centre: np.ndarray,
    max_iter: int,
    tol: float,
) -> LogitFit:
    """:func:`fit_logit` on one batch, its inputs already shaped (m, n, p) and (m, n), its
    prior as (m, p) precisions and means (:func:`_prior`)."""
    m, _, p = X.shape
    X = np.where(w[..., None] > 0, X, 0.0)
    y = np.where(w > 0, y, 0.0)
    beta = centre.copy()
    rate = np.clip((w * y).sum(1) / np.maximum(w.sum(1), 1), 1e-6, 1 - 1e-6)
    beta[:, 0] = np.log(rate / (1 - rate))
    if start is not None:
        beta = np.array(start, dtype=float, copy=True)

    # columns first (m, p, n), and one batched matrix product per step: re-measured
    # 2026-11-30 (NumPy 2, OpenBLAS, 2 cores) against a loop over columns (linear
    # predictor) or column pairs (information), the products were 3× faster for the
    # linear predictor and 1.5–2.5× for the information, from one patient (180 models ×
    # 730 days × 15 columns) to a cohort (8,000 × 365 × 11); an older build had it the
    # other way round
    Xc = np.ascontiguousarray(X.transpose(0, 2, 1))

    def linear(b: np.ndarray, xc: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.matmul(b[:, None, :], xc)[:, 0, :]
        return out

    def information(weights: np.ndarray, xc: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.matmul(xc * weights[:, None, :], xc.transpose(0, 2, 1))
        return out

    def loglik(
        b: np.ndarray,
        xc: np.ndarray,
        wa: np.ndarray,
        ya: np.ndarray,
        pen: np.ndarray,
        mid: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The penalised log-likelihood of each model at ``b``, and its linear predictor
        (the next Newton step starts from the one accepted: not computed twice)."""
        eta = linear(b, xc)
        value: np.ndarray = (wa * (ya * eta - np.logaddexp(0.0, eta))).sum(1) - 0.5 * (
            pen * (b - mid) ** 2
        ).sum(1)
        return value, eta

    current, eta = loglik(beta, Xc, w, y, penalty, centre)
    converged = np.zeros(m, dtype=bool)
    iterations = 0
    eye = np.eye(p)
    # Newton steps only for the models still moving: each model's steps depend on its
    # own rows alone, so a model that has converged is left out of the products (the
    # arrays are packed again when half of those held have converged) and every model
    # ends where it would have ended in the whole batch
    held = np.arange(m)
    xc, wa, ya, pen, mid = Xc, w, y, penalty, centre
    for iterations in range(1, max_iter + 1):  # noqa: B007
        moving = ~converged[held]
        if 2 * int(moving.sum()) <= held.size:
            held = held[moving]
            xc, wa, ya, pen, mid = Xc[held], w[held], y[held], penalty[held], centre[held]
            eta = eta[moving]
            moving = np.ones(held.size, bool)
        b = beta[held]
        mu = 1.0 / (1.0 + np.exp(-eta))
        grad = np.matmul(xc, (wa * (ya - mu))[..., None])[..., 0] - pen * (b - mid)
        info = information(wa * mu * (1 - mu), xc) + pen[:, :, None] * eye
        info += 1e-12 * eye
        step = np.linalg.solve(info, grad[..., None])[..., 0]
        step[~moving] = 0.0
        scale = np.ones(held.size)
        before = current[held]
        for _ in range(30):  # halve steps that lower the likelihood
            trial = b + scale[:, None] * step
            new, eta_trial = loglik(trial, xc, wa, ya, pen, mid)
            worse = (new < before - 1e-12) & moving
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        beta[held] = b + scale[:, None] * step
        eta = eta_trial  # the last trial is the step taken
        change = np.abs(new - before)
        current[held] = new
        converged[held] |= (np.abs(scale[:, None] * step).max(1) < 1e-8) | (change < tol)
        if converged.all():
            break
    eta = linear(beta, Xc)
    mu = 1.0 / (1.0 + np.exp(-eta))
    info = information(w * mu * (1 - mu), Xc) + penalty[:, :, None] * eye
    cov = _inverse(info, penalised=bool((penalty[:, 1:] > 0).all()))
    return LogitFit(beta, cov, converged, iterations, w.sum(1), (w * y).sum(1))
