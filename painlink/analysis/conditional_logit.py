"""Exact conditional logistic regression for one exposure, many models at once.

A stratum of n days holding d attack onsets contributes the probability that exactly
*these* d days were the cases, given that d of its n days were:

    P(case set) = exp(b·Σ x_cases) / Σ_{subsets S of size d} exp(b·Σ_{i∈S} x_i)

This is the exact conditional likelihood (R ``survival::clogit``'s default and what
statsmodels' ``ConditionalLogit`` maximises). The Breslow-type form painlink used
before — each case against its whole stratum — equals it only when d = 1, and in a
time-stratified diary (same weekday, same month) most fitted strata hold two or more
attack days.

The denominator is a sum over C(n, d) subsets. For the small strata of a
time-stratified design (≤ 5 days, so at most 10 subsets) the subsets' x-sums are
formed once and the denominator, its first and second derivatives in b are plain
weighted sums at every Newton step. Larger strata use the elementary symmetric
polynomial e_d(w) of the weights w_i = exp(b·x_i) and its derivatives, by the
recursion e_j ← e_j + w_k·e_{j−1} over the stratum's days: O(n·d), not O(C(n, d)).
Weights are scaled before summing (the factor cancels in the derivatives and is
added back to the log-likelihood) and the recursion renormalises at every day, so
nothing overflows or underflows, even for a stratum of thousands of days.

Everything is batched: ``x`` is (models, rows); strata are laid out once as a dense
(strata, days) grid shared by every model, and a model's missing days are weights
of zero. ``by=`` fits one coefficient per model *and* person in the same call
(stratum ids need only be unique within a person), which is how a cohort of 300
people × 60 exposure forms × 3 lags is fitted in one pass of vectorised Newton
steps. A stratum in which every day is a case, or none is, carries no information
and is dropped, per model, after that model's missing days are removed.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

#: strata whose d-subsets number at most this are summed subset by subset;
#: larger ones go through the elementary-symmetric-polynomial recursion
MAX_SUBSETS = 64


def _last(op: np.ufunc, a: np.ndarray) -> np.ndarray:
    """``op`` folded over the last axis column by column.

    The last axis here is short (a stratum's days, or its d-subsets), and numpy's
    reductions over a short last axis run an order of magnitude slower than a
    handful of whole-array operations.
    """
    if a.shape[-1] > 64:
        return op.reduce(a, axis=-1)
    return functools.reduce(op, (a[..., k] for k in range(1, a.shape[-1])), a[..., 0].copy())


def _count(a: np.ndarray) -> np.ndarray:
    """How many entries along the last axis are True."""
    return _last(np.add, a.astype(np.int64))


def _sum(a: np.ndarray) -> np.ndarray:
    return np.einsum("...k->...", a)


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
    """Strata of one size, as a dense grid shared by every model."""

    rows: np.ndarray  # (strata, width) row index, -1 for padding
    person: np.ndarray  # (strata,) person code


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
    owner = person[rows[starts]]
    buckets = []
    for width in np.unique(sizes):
        sel = sizes == width
        buckets.append(_Bucket(grid[sel, :width], owner[sel]))
    return buckets


@dataclass
class _Block:
    """The informative (model, stratum) pairs holding d cases: (pairs, width) arrays."""

    x: np.ndarray  # per day, or per d-subset of days when ``subsets``; 0 where missing
    valid: np.ndarray  # 1.0 on days (subsets) that count, else 0.0
    sx_case: np.ndarray  # Σ x over the case days
    index: np.ndarray  # coefficient index of each pair
    # How the weights exp(b·x) are scaled before summing, exp(b·x − shift):
    # subsets: shift = b·top (b ≥ 0) or b·low (b < 0), top/low the largest and
    # smallest subset sum, so the largest weight is 1 and none overflows;
    # recursion: shift = b·top + low, top the mean x over the days and
    # low = log((n − d)/d), so the sums peak at e_d and e_d cannot underflow.
    top: np.ndarray
    low: np.ndarray
    d: int
    subsets: bool  # x holds every d-subset's sum: the denominator is a plain sum
    weight: np.ndarray  # how many identical pairs this one stands for


def _identical_pairs(
    x: np.ndarray, valid: np.ndarray, sx: np.ndarray, d: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One representative per set of identical 0/1 pairs, and how many it stands for.

    With a 0/1 exposure a stratum's contribution depends only on its days, exposed
    days, cases and exposed cases; a person's 30–50 strata fall into a handful of
    such patterns, each evaluated once and counted as often as it occurs.
    """
    width = x.shape[1] + 1
    if x.shape[0] == 0 or (int(index.max()) + 1) * width**4 >= 2**62:
        return np.arange(x.shape[0]), np.ones(x.shape[0])  # the key would overflow
    binary = _last(np.logical_and, (x == 0.0) | (x == 1.0) | ~valid)
    n = _count(valid)
    ones = _sum(np.where(valid, x, 0.0)).astype(np.int64)
    pattern = ((n * width + ones) * width + d) * width + sx.round().astype(np.int64)
    key = np.where(binary, index * width**4 + pattern, -1 - np.arange(x.shape[0]))
    _, first, weight = np.unique(key, return_index=True, return_counts=True)
    return first, weight.astype(float)


def _blocks(
    bucket: _Bucket, x: np.ndarray, valid: np.ndarray, case: np.ndarray, persons: int
) -> tuple[list[_Block], np.ndarray, np.ndarray, np.ndarray]:
    """Split one bucket by each model's own case count, dropping uninformative pairs.

    Also returns, per pair kept, its coefficient index, d and whether x varies.
    """
    pad = bucket.rows < 0
    at = np.where(pad, 0, bucket.rows)
    vb = valid[:, at] & ~pad
    cb = vb & case[at]
    d = _count(cb)
    keep = (d > 0) & (d < _count(vb))
    model, stratum = np.nonzero(keep)
    index = model * persons + bucket.person[stratum]
    v = vb[model, stratum]
    xs = np.where(v, x[model[:, None], at[stratum]], 0.0)
    dk = d[model, stratum]
    top = _last(np.maximum, np.where(v, xs, -np.inf))
    bottom = _last(np.minimum, np.where(v, xs, np.inf))
    moves = top > bottom
    # A stratum whose days share one x contributes a constant: no score, no
    # information. Only the others are evaluated, with x measured from the
    # stratum's smallest (b·d·min cancels; no digits are lost to a large level).
    keep_x = np.flatnonzero(moves)
    xs = np.where(v[keep_x], xs[keep_x] - bottom[keep_x, None], 0.0)
    sx = _sum(xs * cb[model[keep_x], stratum[keep_x]])
    vx = v[keep_x]
    first, weight = _identical_pairs(xs, vx, sx, dk[keep_x], index[keep_x])
    xs, vx, sx = xs[first], vx[first], sx[first]
    dkx, ikx = dk[keep_x][first], index[keep_x][first]
    blocks = []
    for depth in np.unique(dkx):
        sel = dkx == depth
        width = xs.shape[1]
        subsets = math.comb(width, int(depth)) <= MAX_SUBSETS
        if subsets:
            # few subsets (time-stratified strata hold ≤ 5 days): their sums do not
            # depend on b, so they are added up once, here, not at every Newton step
            combos = np.array(list(itertools.combinations(range(width), int(depth))))
            t = _sum(xs[sel][:, combos])
            tv = _last(np.logical_and, vx[sel][:, combos])
            scale_top = _last(np.maximum, np.where(tv, t, -np.inf))
            scale_low = _last(np.minimum, np.where(tv, t, np.inf))
        else:
            t, tv = xs[sel], vx[sel]
            n_valid = _count(tv)
            scale_top = _sum(np.where(tv, t, 0.0)) / n_valid
            scale_low = np.log((n_valid - depth) / depth)
        blocks.append(
            _Block(
                x=np.where(tv, t, 0.0),
                valid=tv.astype(float),
                sx_case=sx[sel],
                index=ikx[sel],
                top=scale_top,
                low=scale_low,
                d=int(depth),
                subsets=subsets,
                weight=weight[sel],
            )
        )
    return blocks, index, dk, moves


def _evaluate(blocks: list[_Block], b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, score and information (unpenalised) per coefficient at ``b``."""
    size = b.size
    ll = np.zeros(size)
    score = np.zeros(size)
    info = np.zeros(size)
    for blk in blocks:
        with np.errstate(all="ignore"):  # hostile x (1e308) ends as NaN, then halving
            part_ll, part_score, part_info = _stratum_terms(blk, b)
        ll += np.bincount(blk.index, part_ll * blk.weight, size)
        score += np.bincount(blk.index, part_score * blk.weight, size)
        info += np.bincount(blk.index, part_info * blk.weight, size)
    return ll, score, info


def _stratum_terms(blk: _Block, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (model, stratum) pair's log-likelihood, score and information at ``b``.

    The weights are divided by the pair's largest, exp(max b·x), before summing.
    """
    bg = b[blk.index]
    shift = np.where(bg >= 0, bg * blk.top, bg * blk.low) if blk.subsets else bg * blk.top + blk.low
    w = bg[:, None] * blk.x
    w -= shift[:, None]
    if blk.subsets:
        np.minimum(w, 0.0, out=w)  # rounding only: no subset outweighs the largest
    np.exp(w, out=w)
    w *= blk.valid
    log_size: float | np.ndarray = 0.0
    if blk.subsets:  # the denominator is a plain sum over the d-subsets
        den = _sum(w)
        w *= blk.x
        m1 = _sum(w)
        w *= blk.x
        m2 = _sum(w)
        scale = 1
    else:
        shape = (w.shape[0], blk.d + 1)
        e0 = np.zeros(shape)
        e0[:, 0] = 1.0
        e1 = np.zeros(shape)
        e2 = np.zeros(shape)
        log_size = np.zeros(w.shape[0])
        for k in range(w.shape[1]):
            wk = w[:, k, None]
            ak = blk.x[:, k, None]
            wa = wk * ak
            e2[:, 1:] += wk * e2[:, :-1] + 2.0 * wa * e1[:, :-1] + wa * ak * e0[:, :-1]
            e1[:, 1:] += wk * e1[:, :-1] + wa * e0[:, :-1]
            e0[:, 1:] += wk * e0[:, :-1]
            # C(n, d) outgrows floating point past n ≈ 1,000: keep the sums near 1
            size = _last(np.maximum, e0)[:, None]
            e0 /= size
            e1 /= size
            e2 /= size
            log_size += np.log(size[:, 0])
        den, m1, m2 = e0[:, -1], e1[:, -1], e2[:, -1]
        scale = blk.d  # each of the d days in a subset was divided by exp(shift)
    mean = m1 / den
    part_ll = bg * blk.sx_case - scale * shift - np.log(den) - log_size
    return part_ll, blk.sx_case - mean, m2 / den - mean**2


def _subset(blocks: list[_Block], wanted: np.ndarray) -> list[_Block]:
    """The blocks cut down to the pairs whose coefficient is still being fitted."""
    if wanted.sum() > 0.7 * wanted.size:
        return blocks  # copying would cost more than evaluating the few settled ones
    out = []
    for blk in blocks:
        sel = wanted[blk.index]
        if sel.all():
            out.append(blk)
        elif sel.any():
            out.append(
                _Block(
                    blk.x[sel],
                    blk.valid[sel],
                    blk.sx_case[sel],
                    blk.index[sel],
                    blk.top[sel],
                    blk.low[sel],
                    blk.d,
                    blk.subsets,
                    blk.weight[sel],
                )
            )
    return out


def _newton(
    blocks: list[_Block], size: int, penalty: float, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton–Raphson with step halving, all coefficients of a chunk side by side.

    Only the coefficients still moving are evaluated: most settle in a few steps,
    and a handful of near-separated ones should not cost the whole batch.
    """
    b = np.zeros(size)
    ll, score, info = _evaluate(blocks, b)
    f = ll - 0.5 * penalty * b**2
    g = score - penalty * b
    h = info + penalty
    converged = np.zeros(size, dtype=bool)
    stuck = np.zeros(size, dtype=bool)
    for _ in range(max_iter):
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(h > 0, g / h, np.nan)
        converged |= np.abs(step) < tol
        active = ~converged & ~stuck & np.isfinite(step)
        if not active.any():
            break
        step = np.where(active, step, 0.0)
        live = _subset(blocks, active)
        pending = active.copy()
        scale = np.ones(size)
        for _ in range(60):
            cand = b + scale * step
            ll2, score2, info2 = _evaluate(live, cand)
            f2 = ll2 - 0.5 * penalty * cand**2
            better = pending & np.isfinite(f2) & (f2 >= f - 1e-12 * (1.0 + np.abs(f)))
            b = np.where(better, cand, b)
            f = np.where(better, f2, f)
            g = np.where(better, score2 - penalty * cand, g)
            h = np.where(better, info2 + penalty, h)
            pending &= ~better
            if not pending.any():
                break
            scale = np.where(pending, scale / 2, scale)
            live = _subset(live, pending)
        stuck |= pending  # no step of any length improves: give up on these
    converged &= ~stuck
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
        size = (hi - lo) * persons
        blocks: list[_Block] = []
        n_cases = np.zeros(size)
        n_strata = np.zeros(size)
        n_varying = np.zeros(size)
        for bk in buckets:
            with np.errstate(all="ignore"):  # hostile x: inf spreads, the fit says NaN
                found, index, d, moves = _blocks(bk, xc, valid[lo:hi], case_r, persons)
            blocks += found
            n_cases += np.bincount(index, d.astype(float), size)
            n_strata += np.bincount(index, minlength=size)
            n_varying += np.bincount(index, moves.astype(float), size)
        b, s, ok = _newton(blocks, size, penalty, tol, max_iter)
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
