"""A cohort's distribution of one effect, and each person's posterior under it.

Adaptive shrinkage (Stephens 2017, "False discovery rates: a new deal",
Biostatistics 18:275): the population distribution of a log odds ratio is

    g(β) = π₀·δ₀(β) + Σ_k π_k·N(β; 0, σ_k²)

over a fixed grid of widths σ_k, with the weights π fitted by maximum likelihood
(EM; a mild prior on π₀ leans towards "no effect" when the data cannot tell). Each
person's estimate b ~ N(β, s²) then gives a posterior that is a mixture of a point
mass at zero and normals; its mean, 95% interval and local false-sign rate (the
probability that the sign is wrong or the effect is zero) are what is shown.

Why this shape: being unimodal at zero, g cannot "decide" that nearly everyone has
a small effect away from zero (a two-groups fit with a free slab mean did, and then
called anyone slightly positive a trigger); a person's call needs their own
evidence, and the cohort only says how common and how large effects are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

#: the widths of the non-null components, log odds ratio scale (OR ~1.05 … ~55)
GRID = 0.05 * np.sqrt(2.0) ** np.arange(13)
NULL_PRIOR = 10.0  # Dirichlet weight on π₀ (ash's "nullbiased" default)


@dataclass(frozen=True)
class EffectPrior:
    """The fitted population distribution: weights of the null and of each width."""

    weights: np.ndarray  # (K + 1,): π₀ then π_k
    widths: np.ndarray  # (K,)
    people: int

    @property
    def share_with_effect(self) -> float:
        """The estimated share of people in whom the effect is not zero."""
        return float(1.0 - self.weights[0])

    @property
    def typical_size(self) -> float:
        """The root mean square of the non-null effects (log odds ratio)."""
        w = self.weights[1:]
        if w.sum() <= 0:
            return 0.0
        return float(np.sqrt((w * self.widths**2).sum() / w.sum()))


def _likelihoods(b: np.ndarray, s: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """(n, K + 1) marginal densities of each estimate under each component."""
    sd = np.sqrt(np.concatenate([np.zeros(1), widths**2])[None, :] + s[:, None] ** 2)
    return stats.norm.pdf(b[:, None], 0.0, sd)


def fit_prior(
    b: np.ndarray, s: np.ndarray, widths: np.ndarray = GRID, iterations: int = 500
) -> EffectPrior:
    """Maximum-likelihood mixture weights by EM (a convex problem: one optimum)."""
    lik = _likelihoods(b, s, widths)
    k = lik.shape[1]
    pi = np.full(k, 1.0 / k)
    pi[0] = 0.5
    pi /= pi.sum()
    penalty = np.zeros(k)
    penalty[0] = NULL_PRIOR - 1.0
    for _ in range(iterations):
        joint = lik * pi
        resp = joint / np.maximum(joint.sum(1, keepdims=True), 1e-300)
        new = resp.sum(0) + penalty
        new /= new.sum()
        if np.abs(new - pi).max() < 1e-8:
            pi = new
            break
        pi = new
    return EffectPrior(pi, np.asarray(widths, float), len(b))


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    lfsr: np.ndarray  # local false-sign rate
    p_zero: np.ndarray  # posterior probability of no effect


def posterior(b: np.ndarray, s: np.ndarray, prior: EffectPrior, level: float = 0.95) -> Posterior:
    """Each estimate's posterior under ``prior``: mean, equal-tailed interval, lfsr."""
    b = np.asarray(b, float)
    s = np.asarray(s, float)
    lik = _likelihoods(b, s, prior.widths)
    joint = lik * prior.weights
    w = joint / np.maximum(joint.sum(1, keepdims=True), 1e-300)
    var = 1.0 / (1.0 / s[:, None] ** 2 + 1.0 / prior.widths[None, :] ** 2)
    m = var * b[:, None] / s[:, None] ** 2
    sd = np.sqrt(var)
    wk = w[:, 1:]
    mean = (wk * m).sum(1)
    below = (wk * stats.norm.cdf(-m / sd)).sum(1)
    above = (wk * stats.norm.sf(-m / sd)).sum(1)
    p_zero = w[:, 0]
    lfsr = p_zero + np.minimum(below, above)
    tail = (1.0 - level) / 2
    low = _quantile(tail, w, m, sd)
    high = _quantile(1.0 - tail, w, m, sd)
    return Posterior(mean, low, high, np.clip(lfsr, 0.0, 1.0), p_zero)


def _cdf(x: np.ndarray, w: np.ndarray, m: np.ndarray, sd: np.ndarray) -> np.ndarray:
    point = w[:, 0] * (x >= 0)
    return point + (w[:, 1:] * special.ndtr((x[:, None] - m) / sd)).sum(1)


def _quantile(q: float, w: np.ndarray, m: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vectorised bisection on the mixture's CDF (a point mass makes it jump at 0)."""
    lo = np.minimum((m - 8 * sd).min(1), 0.0) - 1e-9
    hi = np.maximum((m + 8 * sd).max(1), 0.0) + 1e-9
    for _ in range(45):  # 2⁻⁴⁵ of the bracket: far below any shown digit
        mid = (lo + hi) / 2
        below = _cdf(mid, w, m, sd) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    # snap to exactly zero where the point mass holds the quantile
    out = (lo + hi) / 2
    at_zero = (_cdf(np.zeros_like(out) - 1e-12, w, m, sd) < q) & (
        _cdf(np.zeros_like(out), w, m, sd) >= q
    )
    return np.where(at_zero, 0.0, out)
