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


def fit_logit_shared(
    covariates: np.ndarray,
    sets: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    prior_sd: float | None = 2.0,
    start: np.ndarray | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> LogitFit:
    """:func:`fit_logit` for models that differ in one column: model j's design is
    ``[covariates[sets[j]][:, 0], x[j], covariates[sets[j]][:, 1:]]``.

    Why: a person's trigger models share every column but the exposure (the intercept,
    attack history, seasons), so the information Σ_t v_t d_t d_tᵀ of the shared block
    is one matrix product of the models' weights (k, n) with the per-day outer products
    of the covariates (n, q²), computed once per covariate set, instead of a
    (models × days × columns) design array per step. ``covariates`` (S, n, q), the
    intercept in column 0; ``sets`` (m,) each model's covariate set; ``x``, ``y``,
    ``mask`` (m, n); ``start`` (m, q + 1) in the design's column order. The prior is
    :func:`fit_logit`'s (``prior_sd`` on every coefficient but the intercept) and so is
    every Newton step and stopping rule, so the fits agree to rounding (tested)."""
    C = np.asarray(covariates, dtype=float)
    sets = np.asarray(sets, dtype=int)
    check_sets(C, sets)
    x = np.asarray(x, dtype=float)
    w = np.asarray(mask, dtype=float)
    y = np.where(w > 0, np.asarray(y, dtype=float), 0.0)
    x = np.where(w > 0, x, 0.0)
    m, n = x.shape
    q = C.shape[-1]
    p = q + 1
    penalty = np.zeros(p)
    if prior_sd is not None:
        penalty[1:] = 1.0 / float(prior_sd) ** 2
    if start is None:
        rate = np.clip((w * y).sum(1) / np.maximum(w.sum(1), 1), 1e-6, 1 - 1e-6)
        start = np.zeros((m, p))
        start[:, 0] = np.log(rate / (1 - rate))
    start = np.asarray(start, dtype=float)
    beta = np.zeros((m, p))
    cov = np.zeros((m, p, p))
    converged = np.zeros(m, bool)
    settings = (penalty, max_iter, tol)
    parts = shared_parts(sets, m, n, q)
    fits = threads.in_parts(
        parts, lambda j: _fit_shared(C, sets[j], x[j], y[j], w[j], start[j], *settings)
    )
    iterations = 0
    for j, (b, c, done, its) in zip(parts, fits, strict=True):
        beta[j], cov[j], converged[j] = b, c, done
        iterations = max(iterations, its)
    return LogitFit(beta, cov, converged, iterations, w.sum(1), (w * y).sum(1))


def check_sets(covariates: np.ndarray, sets: np.ndarray) -> None:
    """The shared kernels' contract: each model's set exists, and the covariates are
    finite on every day (a set serves models with different masks, so unlike
    :func:`fit_logit`'s design rows they cannot be zeroed where a model's mask is)."""
    if sets.size and (sets.min() < 0 or sets.max() >= len(covariates)):
        raise ValueError(f"sets: indices 0–{len(covariates) - 1} of the covariate sets")
    if not np.isfinite(covariates).all():
        raise ValueError("covariates: every value finite (zero where no model uses the day)")


#: a shared-covariate batch is cut into parts of at most this many model × day cells
#: (each part's arrays: a few times this in doubles)
_SHARED_PART_CELLS = 2_000_000


def shared_parts(sets: np.ndarray, m: int, n: int, q: int) -> list[np.ndarray]:
    """The models (index arrays) of each part of a shared-covariate batch. A part is laid
    out as a grid of its g sets × k places (k: the most models of one set in it) × n
    days, beside its sets' outer products (n · q² each), and holds at most
    ``_SHARED_PART_CELLS`` of those cells; sets come in order of how many models they
    hold, and a set under half the part's widest starts a new part, so at least half of
    a grid's places hold a model (a person's cycle forms are a set of a few models
    beside their other forms' dozens). Parts bound
    memory; they are not cut for the threads: one patient's 105 models × 729 days took
    30–40 ms in one part on one thread and 48–56 ms in two halves on two (2026-12-02,
    the slow kind of machine; the halves' arrays are too small to let go of the
    interpreter lock for long). A cohort's batch comes in several parts anyway, and
    those share the threads. The cuts never depend on the threads, so neither do the
    numbers."""
    if not m:
        return []
    counts = np.bincount(sets)
    # most models first, a set's models together, each set's in the caller's order
    order = np.lexsort((np.arange(m), sets, -counts[sets]))
    parts: list[np.ndarray] = []
    first, g, k, run, last = 0, 0, 0, 0, -1
    for at, model in enumerate(order.tolist()):
        new = sets[model] != last
        g2, run2 = (g + 1, 1) if new else (g, run + 1)
        k2 = max(k, run2)
        # a new part when the grid would outgrow the budget, or be more than half empty
        # (a set under half the part's widest: a person's few cycle forms beside dozens)
        small = new and 2 * int(counts[sets[model]]) < k
        if at > first and (small or g2 * n * (k2 + q * q) > _SHARED_PART_CELLS):
            parts.append(order[first:at])
            first, g2, run2, k2 = at, 1, 1, 1
        g, run, k, last = g2, run2, k2, sets[model]
    parts.append(order[first:])
    return parts


def set_layout(sets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Models laid out per covariate set: the sets used (g,), each model's set among
    them and place in it (m,), and the most models of one set (k): model j sits at
    [local[j], rank[j]] of a (g, k) grid."""
    used, local, counts = np.unique(sets, return_inverse=True, return_counts=True)
    by_set = np.argsort(local, kind="stable")
    rank = np.empty(sets.size, int)
    rank[by_set] = np.arange(sets.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return used, local, rank, int(counts.max()) if counts.size else 0


def outer_products(covariates: np.ndarray) -> np.ndarray:
    """Each day's outer product of the covariates (g, n, q) with themselves, flattened
    (g, n, q²): Σ_t v_t c_t c_tᵀ for every model's weights v is then one matrix product."""
    g, n, q = covariates.shape
    out: np.ndarray = (covariates[:, :, :, None] * covariates[:, :, None, :]).reshape(g, n, q * q)
    return out


class _Grid:
    """Models of a shared-covariate part laid out per covariate set: g sets × k places
    (empty places masked out), with each set's covariates and outer products, so every
    product is batched over sets. Laid out again for the models still moving."""

    def __init__(
        self, covariates: np.ndarray, sets: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray
    ) -> None:
        used, self.local, self.rank, k = set_layout(sets)
        self.shape = (used.size, k)
        self.C = covariates[used]  # (g, n, q)
        self.CT = np.ascontiguousarray(self.C.transpose(0, 2, 1))  # (g, q, n)
        self.outer = outer_products(self.C)
        self.X, self.Y, self.W = self.put(x), self.put(y), self.put(w)
        self.here = self.put(np.ones(sets.size)) > 0  # (g, k): a model, not an empty place

    def put(self, a: np.ndarray) -> np.ndarray:
        """Per-model rows (m, …) on the grid (g, k, …), zero in empty places."""
        out = np.zeros((*self.shape, *a.shape[1:]))
        out[self.local, self.rank] = a
        return out

    def take(self, a: np.ndarray) -> np.ndarray:
        """The grid's (g, k, …) values back as per-model rows (m, …)."""
        out: np.ndarray = a[self.local, self.rank]
        return out

    def loglik(self, b: np.ndarray, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The penalised log-likelihood of each place at ``b`` (g, k, p), and its linear
        predictor (the next Newton step starts from the one accepted)."""
        eta = self.X * b[..., 1:2] + np.matmul(b[..., _shared(b.shape[-1])], self.CT)
        value = (self.W * (self.Y * eta - np.logaddexp(0.0, eta))).sum(-1) - 0.5 * (
            penalty * b**2
        ).sum(-1)
        return value, eta

    def information(self, v: np.ndarray) -> np.ndarray:
        """Σ_t v_t d_t d_tᵀ of each place's design d_t = (1, x_t, c_t…) with weights
        ``v`` (g, k, n): the shared block as one product with the outer products."""
        g, k = self.shape
        q = self.C.shape[-1]
        shared = _shared(q + 1)
        info = np.empty((g, k, q + 1, q + 1))
        xc = np.matmul(v * self.X, self.C)  # (g, k, q)
        info[..., 1, 1] = (v * self.X * self.X).sum(-1)
        info[..., 1, shared] = xc
        info[..., shared, 1] = xc
        info[..., shared[:, None], shared[None, :]] = np.matmul(v, self.outer).reshape(g, k, q, q)
        return info


def _shared(p: int) -> np.ndarray:
    """The covariates' coefficients among a model's p, in the design's order (the
    intercept, then after the exposure's column 1 the rest)."""
    return np.r_[0, np.arange(2, p)]


def _fit_shared(
    covariates: np.ndarray,
    sets: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    start: np.ndarray,
    penalty: np.ndarray,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One part of :func:`fit_logit_shared`: :func:`_fit`'s Newton steps on a
    :class:`_Grid`. As there, models that have converged are left out: when half of those
    held have, the rest are laid out again, so a few slow models do not keep every
    model of the part in the products."""
    m = sets.size
    p = covariates.shape[-1] + 1
    beta = np.array(start, dtype=float, copy=True)
    converged = np.zeros(m, bool)
    held = np.arange(m)
    grid = whole = _Grid(covariates, sets, x, y, w)
    b = grid.put(beta)
    current, eta = grid.loglik(b, penalty)
    done = ~grid.here  # (g, k): converged, or an empty place
    eye = np.eye(p)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007
        if 2 * int((~done).sum()) <= held.size:
            keep = ~grid.take(done)
            beta[held], converged[held] = grid.take(b), ~keep
            values, linear = grid.take(current)[keep], grid.take(eta)[keep]
            held = held[keep]
            grid = _Grid(covariates, sets[held], x[held], y[held], w[held])
            b, current, eta = grid.put(beta[held]), grid.put(values), grid.put(linear)
            done = ~grid.here
        moving = ~done
        mu = 1.0 / (1.0 + np.exp(-eta))
        r = grid.W * (grid.Y - mu)
        grad = np.empty((*grid.shape, p))
        grad[..., 1] = (r * grid.X).sum(-1)
        grad[..., _shared(p)] = np.matmul(r, grid.C)
        grad -= penalty * b
        info = grid.information(grid.W * mu * (1 - mu)) + penalty[:, None] * eye + 1e-12 * eye
        info[~grid.here] = eye  # an empty place: a step of zero, solved without a warning
        step = np.linalg.solve(info, grad[..., None])[..., 0]
        step[done] = 0.0
        scale = np.ones(grid.shape)
        before = current
        for _ in range(30):  # halve steps that lower the likelihood
            trial = b + scale[..., None] * step
            new, eta_trial = grid.loglik(trial, penalty)
            worse = (new < before - 1e-12) & moving
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        b = b + scale[..., None] * step
        eta = eta_trial
        change = np.abs(new - before)
        current = new
        done |= (np.abs(scale[..., None] * step).max(-1) < 1e-8) | (change < tol)
        if done.all():
            break
    beta[held], converged[held] = grid.take(b), grid.take(done)
    # the covariance of every model at its estimate, on the part's first layout
    b = whole.put(beta)
    mu = 1.0 / (1.0 + np.exp(-whole.loglik(b, penalty)[1]))
    info = whole.information(whole.W * mu * (1 - mu)) + penalty[:, None] * eye
    cov = _inverse(whole.take(info), penalised=bool((penalty[1:] > 0).all()))
    return beta, cov, converged, iterations
