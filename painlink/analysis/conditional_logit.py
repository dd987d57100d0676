"""Exact conditional logistic regression for one exposure, many models at once.

A stratum of n days holding d attack onsets contributes the probability that exactly
*these* d days were the cases, given that d of its n days were:

    P(case set) = exp(b·Σ x_cases) / Σ_{subsets S of size d} exp(b·Σ_{i∈S} x_i)

This is the exact conditional likelihood (R ``survival::clogit``'s default and what
statsmodels' ``ConditionalLogit`` maximises). The Breslow-type form painlink used
before — each case against its whole stratum — equals it only when d = 1, and in a
time-stratified diary (same weekday, same month) most fitted strata hold two or more
attack days.

The denominator is the elementary symmetric polynomial e_d(w) of the weights
w_i = exp(b·x_i); it and its first and second derivatives in b come from the
recursion e_j ← e_j + w_k·e_{j−1} over the stratum's days, so a stratum costs
O(n·d) instead of O(C(n, d)). Weights are divided by the stratum's largest before
the recursion (the constant cancels in the log-likelihood's derivatives), so nothing
overflows for any b a fit can reach.

Everything is batched: ``x`` is (models, rows); strata are laid out once as a dense
(strata, days) grid shared by every model, and a model's missing days are weights
of zero. ``by=`` fits one coefficient per model *and* person in the same call
(stratum ids need only be unique within a person), which is how a cohort of 300
people × 60 exposure forms × 3 lags is fitted in one pass of vectorised Newton
steps. A strata in which every day is a case, or none is, carries no information
and is dropped, per model, after that model's missing days are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConditionalLogitFit:
    """Per model (× person when ``by=`` was given): the estimate and what it rests on."""

    coef: np.ndarray  # log odds ratio per unit of x
    se: np.ndarray  # from the (penalised) observed information at the estimate
    cases: np.ndarray  # case days in informative strata
    strata: np.ndarray  # informative strata: at least one case and one referent
    varying: np.ndarray  # informative strata in which x is not constant
    converged: np.ndarray
    by: np.ndarray | None = None  # labels of the last axis, when ``by=`` was given


@dataclass(frozen=True)
class _Bucket:
    """Strata sharing a case count d (their ESP needs e_0..e_d), as a dense grid."""

    rows: np.ndarray  # (strata, width) row index, -1 for padding
    person: np.ndarray  # (strata,) person code
    depth: int  # the largest number of cases in these strata


def _layout(
    case: np.ndarray, stratum: np.ndarray, person: np.ndarray, usable: np.ndarray
) -> list[_Bucket]:
    """Dense (strata × days) grids of the strata that can be informative for some model."""
    _, s0 = np.unique(stratum, return_inverse=True)
    s0 = s0.reshape(-1)
    key = person.astype(np.int64) * (int(s0.max(initial=0)) + 1) + s0
    _, code = np.unique(key, return_inverse=True)
    code = code.reshape(-1)
    k0 = int(code.max(initial=-1)) + 1
    n_all = np.bincount(code[usable], minlength=k0)
    n_case = np.bincount(code[usable], weights=case[usable].astype(float), minlength=k0)
    keep = (n_case > 0) & (n_all > n_case)
    rows = np.flatnonzero(usable & keep[code])
    if rows.size == 0:
        return []
    rows = rows[np.argsort(code[rows], kind="stable")]
    grp = code[rows]
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    sizes = np.diff(np.r_[starts, rows.size])
    pos = np.arange(rows.size) - np.repeat(starts, sizes)
    which = np.repeat(np.arange(starts.size), sizes)
    grid = np.full((starts.size, int(sizes.max())), -1, dtype=np.int64)
    grid[which, pos] = rows
    depth = n_case[grp[starts]].astype(int)
    owner = person[rows[starts]]
    buckets = []
    for d in np.unique(depth):
        sel = depth == d
        width = int(sizes[sel].max())
        buckets.append(_Bucket(grid[sel, :width], owner[sel], int(d)))
    return buckets


@dataclass
class _Block:
    """One bucket's data for a chunk of models: (models, strata, width) arrays."""

    x: np.ndarray
    valid: np.ndarray
    sx_case: np.ndarray  # Σ x over the case days, per model and stratum
    d: np.ndarray  # cases per model and stratum (after missing days)
    informative: np.ndarray
    index: np.ndarray  # coefficient index per model and stratum
    depth: int


def _block(
    bucket: _Bucket, x: np.ndarray, valid: np.ndarray, case: np.ndarray, persons: int
) -> _Block:
    pad = bucket.rows < 0
    at = np.where(pad, 0, bucket.rows)
    xb = x[:, at]
    vb = valid[:, at] & ~pad
    cb = vb & case[at]
    d = cb.sum(-1)
    informative = (d > 0) & (d < vb.sum(-1))
    vb &= informative[..., None]
    cb &= vb
    xb = np.where(vb, xb, 0.0)
    models = np.arange(x.shape[0])[:, None]
    return _Block(
        x=xb,
        valid=vb,
        sx_case=(xb * cb).sum(-1),
        d=np.where(informative, d, 0),
        informative=informative,
        index=models * persons + bucket.person[None, :],
        depth=bucket.depth,
    )


def _evaluate(blocks: list[_Block], b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, score and information (unpenalised) per coefficient at ``b``."""
    size = b.size
    ll = np.zeros(size)
    score = np.zeros(size)
    info = np.zeros(size)
    for blk in blocks:
        with np.errstate(all="ignore"):  # hostile x (1e308) ends as NaN, then halving
            part_ll, part_score, part_info = _stratum_terms(blk, b)
        flat = blk.index.reshape(-1)
        ll += np.bincount(flat, part_ll.reshape(-1), size)
        score += np.bincount(flat, part_score.reshape(-1), size)
        info += np.bincount(flat, part_info.reshape(-1), size)
    return ll, score, info


def _stratum_terms(blk: _Block, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (model, stratum)'s log-likelihood, score and information at ``b``."""
    bg = b[blk.index]
    bx = bg[..., None] * blk.x
    shift = np.where(blk.valid, bx, -np.inf).max(-1)
    shift = np.where(blk.informative, shift, 0.0)
    w = np.where(blk.valid, np.exp(bx - shift[..., None]), 0.0)
    shape = (*w.shape[:-1], blk.depth + 1)
    e0 = np.zeros(shape)
    e0[..., 0] = 1.0
    e1 = np.zeros(shape)
    e2 = np.zeros(shape)
    for k in range(w.shape[-1]):
        wk = w[..., k, None]
        ak = blk.x[..., k, None]
        wa = wk * ak
        e2[..., 1:] += wk * e2[..., :-1] + 2.0 * wa * e1[..., :-1] + wa * ak * e0[..., :-1]
        e1[..., 1:] += wk * e1[..., :-1] + wa * e0[..., :-1]
        e0[..., 1:] += wk * e0[..., :-1]
    d = blk.d[..., None]
    den = np.take_along_axis(e0, d, -1)[..., 0]
    m1 = np.take_along_axis(e1, d, -1)[..., 0]
    m2 = np.take_along_axis(e2, d, -1)[..., 0]
    ok = blk.informative
    mean = np.where(ok, m1 / den, 0.0)
    part_ll = np.where(ok, bg * blk.sx_case - blk.d * shift - np.log(den), 0.0)
    part_info = np.where(ok, m2 / den - mean**2, 0.0)
    part_score = np.where(ok, blk.sx_case - mean, 0.0)
    return part_ll, part_score, part_info


def _newton(
    blocks: list[_Block], size: int, penalty: float, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton–Raphson with step halving, all coefficients of a chunk side by side."""
    b = np.zeros(size)
    ll, score, info = _evaluate(blocks, b)
    f = ll - 0.5 * penalty * b**2
    g = score - penalty * b
    h = info + penalty
    converged = np.zeros(size, dtype=bool)
    for _ in range(max_iter):
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(h > 0, g / h, np.nan)
        converged |= np.abs(step) < tol
        active = ~converged & np.isfinite(step)
        if not active.any():
            break
        step = np.where(active, step, 0.0)
        scale = np.ones(size)
        for _ in range(40):
            cand = b + scale * step
            ll2, score2, info2 = _evaluate(blocks, cand)
            f2 = ll2 - 0.5 * penalty * cand**2
            worse = active & ~(f2 >= f - 1e-12 * (1.0 + np.abs(f)))
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        b = np.where(active, cand, b)
        f = np.where(active, f2, f)
        g = np.where(active, score2 - penalty * cand, g)
        h = np.where(active, info2 + penalty, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(h > 0, 1.0 / np.sqrt(h), np.nan)
    return b, se, converged


def conditional_logit(
    x: np.ndarray,
    case: np.ndarray,
    stratum: np.ndarray,
    prior_sd: float | None = 2.0,
    *,
    mask: np.ndarray | None = None,
    by: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    chunk_cells: int = 1 << 20,
) -> ConditionalLogitFit:
    """Fit exact conditional logits of ``case`` on ``x`` within ``stratum``.

    ``x`` is (rows,) or (models, rows); NaN marks a missing day. ``case`` and
    ``stratum`` are per row, shared by every model; ``mask`` (rows,) or (models,
    rows) drops days (e.g. a referent inside an attack). With ``by`` (rows,) one
    coefficient is fitted per model and ``by`` label — strata are nested in it — and
    the results gain a last axis in the order of ``fit.by``. ``prior_sd`` is the SD
    of a normal prior on the coefficient (``None``: plain maximum likelihood).
    A coefficient whose Newton steps do not settle (separation without a prior) is
    NaN with ``converged`` False.
    """
    xs = np.asarray(x, dtype=float)
    single = xs.ndim == 1
    xm = np.atleast_2d(xs)
    models, n_rows = xm.shape
    case_r = np.asarray(case, dtype=bool).reshape(-1)
    stratum_r = np.asarray(stratum).reshape(-1)
    if case_r.size != n_rows or stratum_r.size != n_rows:
        raise ValueError("case and stratum need one value per row of x")
    valid = np.isfinite(xm)
    if mask is not None:
        valid &= np.broadcast_to(np.asarray(mask, dtype=bool), xm.shape)
    if by is None:
        labels, person = None, np.zeros(n_rows, dtype=np.int64)
    else:
        labels, person = np.unique(np.asarray(by).reshape(-1), return_inverse=True)
        person = person.reshape(-1)
    persons = 1 if labels is None else labels.size
    shape = (models, persons)
    coef = np.full(shape, np.nan)
    se = np.full(shape, np.nan)
    cases = np.zeros(shape, dtype=np.int64)
    strata = np.zeros(shape, dtype=np.int64)
    varying = np.zeros(shape, dtype=np.int64)
    converged = np.zeros(shape, dtype=bool)
    buckets = _layout(case_r, stratum_r, person, valid.any(0)) if n_rows else []
    penalty = 0.0 if prior_sd is None else 1.0 / prior_sd**2
    cells = sum(bk.rows.size for bk in buckets)
    step = max(1, chunk_cells // max(cells, 1))
    for lo in range(0, models if buckets else 0, step):
        hi = min(models, lo + step)
        xc = np.where(valid[lo:hi], xm[lo:hi], 0.0)
        blocks = [_block(bk, xc, valid[lo:hi], case_r, persons) for bk in buckets]
        size = (hi - lo) * persons
        b, s, ok = _newton(blocks, size, penalty, tol, max_iter)
        n_cases = np.zeros(size)
        n_strata = np.zeros(size)
        n_varying = np.zeros(size)
        for blk in blocks:
            flat = blk.index.reshape(-1)
            spread = np.where(blk.valid, blk.x, -np.inf).max(-1) - np.where(
                blk.valid, blk.x, np.inf
            ).min(-1)
            n_cases += np.bincount(flat, blk.d.reshape(-1).astype(float), size)
            n_strata += np.bincount(flat, blk.informative.reshape(-1).astype(float), size)
            moves = blk.informative & (spread > 0)
            n_varying += np.bincount(flat, moves.reshape(-1).astype(float), size)
        coef[lo:hi] = np.where(ok, b, np.nan).reshape(hi - lo, persons)
        se[lo:hi] = np.where(ok, s, np.nan).reshape(hi - lo, persons)
        converged[lo:hi] = ok.reshape(hi - lo, persons)
        cases[lo:hi] = n_cases.reshape(hi - lo, persons)
        strata[lo:hi] = n_strata.reshape(hi - lo, persons)
        varying[lo:hi] = n_varying.reshape(hi - lo, persons)

    def out(a: np.ndarray) -> np.ndarray:
        if labels is None:
            a = a[:, 0]
        return a[0] if single else a

    return ConditionalLogitFit(
        coef=out(coef),
        se=out(se),
        cases=out(cases),
        strata=out(strata),
        varying=out(varying),
        converged=out(converged),
        by=labels,
    )
