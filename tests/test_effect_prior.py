"""The cohort model's population distribution and posteriors (painlink.analysis.effect_prior)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from painlink.analysis.effect_prior import EffectPrior, fit_prior, posterior


def _reference(b: float, s: float, prior: EffectPrior) -> tuple[float, float, float, float]:
    """Posterior mean, P(β < 0), P(β > 0) and P(β = 0) by numerical integration of
    prior × likelihood: the reference the closed forms must equal."""
    k = len(prior.widths)
    like = lambda beta: stats.norm.pdf(b, beta, s)  # noqa: E731
    p0 = prior.weights[0] * like(0.0)
    parts_up, parts_down = [], []
    for j, width in enumerate(prior.widths):
        dens = lambda beta, w=width: 2 * stats.norm.pdf(beta, 0, w) * like(beta)  # noqa: E731
        hi = 12 * width + abs(b) + 12 * s
        up = integrate.quad(dens, 0, hi, epsabs=1e-14, limit=200)[0]
        up_m = integrate.quad(lambda x, f=dens: x * f(x), 0, hi, epsabs=1e-14, limit=200)[0]
        down = integrate.quad(dens, -hi, 0, epsabs=1e-14, limit=200)[0]
        down_m = integrate.quad(lambda x, f=dens: x * f(x), -hi, 0, epsabs=1e-14, limit=200)[0]
        parts_up.append((prior.weights[1 + j] * up, prior.weights[1 + j] * up_m))
        parts_down.append((prior.weights[1 + k + j] * down, prior.weights[1 + k + j] * down_m))
    total = p0 + sum(u for u, _ in parts_up) + sum(d for d, _ in parts_down)
    mean = (sum(m for _, m in parts_up) + sum(m for _, m in parts_down)) / total
    return (
        mean,
        sum(d for d, _ in parts_down) / total,
        sum(u for u, _ in parts_up) / total,
        p0 / total,
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_posterior_equals_numerical_integration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    widths = np.array([0.1, 0.4, 1.2])
    weights = rng.dirichlet(np.ones(7))
    prior = EffectPrior(weights, widths, 100)
    b = rng.normal(0, 1, 6)
    s = rng.uniform(0.15, 0.8, 6)
    post = posterior(b, s, prior)
    for i in range(6):
        mean, below, above, zero = _reference(b[i], s[i], prior)
        assert abs(post.mean[i] - mean) < 1e-6
        assert abs(post.p_zero[i] - zero) < 1e-6
        assert abs(post.lfsr[i] - (zero + min(below, above))) < 1e-6


def test_interval_is_the_posterior_quantiles() -> None:
    rng = np.random.default_rng(7)
    prior = EffectPrior(rng.dirichlet(np.ones(7)), np.array([0.1, 0.4, 1.2]), 100)
    b, s = np.array([0.9, -0.3, 0.05]), np.array([0.3, 0.5, 0.4])
    post = posterior(b, s, prior)
    # draw from the posterior by sampling the prior and weighting by the likelihood
    k = 3
    comp = rng.choice(7, size=400_000, p=prior.weights)
    width = np.r_[0.0, prior.widths, prior.widths][comp]
    sign = np.where(comp > k, -1.0, 1.0)
    beta = sign * np.abs(rng.normal(0, 1, comp.size)) * width
    for i in range(3):
        w = stats.norm.pdf(b[i], beta, s[i])
        order = np.argsort(beta)
        cdf = np.cumsum(w[order]) / w.sum()
        lo = beta[order][np.searchsorted(cdf, 0.025)]
        hi = beta[order][np.searchsorted(cdf, 0.975)]
        assert abs(post.low[i] - lo) < 0.03 and abs(post.high[i] - hi) < 0.03


def test_a_cohort_of_small_effects_does_not_call_the_people_without_one() -> None:
    """The failure the two-groups fit had: with a third of people at OR 1.2 and noisy
    estimates, it decided everyone had the small effect and called the slightly
    positive nulls. A distribution unimodal at zero cannot: null people are called no
    more often than the interval's error rate allows."""
    rng = np.random.default_rng(11)
    n = 3000
    beta = np.where(rng.random(n) < 0.33, np.log(1.2), 0.0)
    s = rng.uniform(0.3, 0.6, n)
    b = beta + rng.normal(0, s)
    post = posterior(b, s, fit_prior(b, s))
    called = (post.low > 0) | (post.high < 0)
    assert called[beta == 0].mean() < 0.01


def test_intervals_cover_the_truth_when_the_cohort_is_the_population() -> None:
    rng = np.random.default_rng(12)
    n = 4000
    acting = rng.random(n) < 0.25
    beta = np.where(acting, rng.normal(0.8, 0.4, n), 0.0)
    s = rng.uniform(0.2, 0.6, n)
    b = beta + rng.normal(0, s)
    post = posterior(b, s, fit_prior(b, s))
    covered = (post.low <= beta) & (beta <= post.high)
    assert 0.93 <= covered.mean() <= 0.985
    called = (post.low > 0) | (post.high < 0)
    assert called[acting].mean() > 0.15 and called[~acting].mean() < 0.02
