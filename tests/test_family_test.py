"""The max-T test of one variable's forms × lags (painlink.analysis.family_test),
checked against closed forms, against simulated null data, and against statsmodels'
Wald statistics on repeated null diaries."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from painlink.analysis.family_test import max_t, residualise, score_correlation


def test_independent_tests_give_the_sidak_p_value_and_critical_value() -> None:
    """With R = I the max of k |Z| has a closed form: P(max ≥ m) = 1 − (1 − 2Φ(−m))^k."""
    k = 9
    z = np.array([[2.9, 0.3, -1.1, 0.2, 0.0, 1.5, -0.4, 0.8, 0.1], [1.2] * k])
    p, c = max_t(z, np.broadcast_to(np.eye(k), (2, k, k)).copy())
    exact = 1 - (1 - 2 * stats.norm.sf(np.abs(z).max(1))) ** k
    # Monte Carlo error: all 20,000 draws for a p that may matter, 2,000 beyond REFINE
    draws = np.where(exact < 0.2, 20_000, 2_000)
    assert (np.abs(p - exact) < 4 * np.sqrt(exact * (1 - exact) / draws)).all(), (p, exact)
    sidak_crit = stats.norm.isf((1 - 0.95 ** (1 / k)) / 2)
    assert np.allclose(c, sidak_crit, atol=0.03)  # every form of both rows


def test_identical_tests_charge_nothing_for_the_search() -> None:
    """k copies of one test are one test: p is the single test's p, c is 1.96."""
    k = 6
    z = np.full((1, k), 2.2)
    p, c = max_t(z, np.ones((1, k, k)))
    assert p[0] == pytest.approx(2 * stats.norm.sf(2.2), abs=0.003)
    assert np.allclose(c[0], 1.96, atol=0.03)


def test_untested_forms_do_not_count_and_nothing_tested_is_nan() -> None:
    z = np.array([[2.5, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    p, c = max_t(z, np.broadcast_to(np.eye(3), (2, 3, 3)).copy())
    assert p[0] == pytest.approx(2 * stats.norm.sf(2.5), abs=0.003)
    assert c[0, 0] == pytest.approx(1.96, abs=0.03) and np.isnan(c[0, 1:]).all()
    assert np.isnan(p[1]) and np.isnan(c[1]).all()


def test_far_beyond_the_draws_the_bonferroni_bound_is_used() -> None:
    z = np.array([[7.0, 0.1, 0.2]])
    p, _ = max_t(z, np.broadcast_to(np.eye(3), (1, 3, 3)).copy())
    assert p[0] == pytest.approx(3 * 2 * stats.norm.sf(7.0), rel=1e-9)


def test_p_values_are_uniform_under_the_null_for_correlated_tests() -> None:
    """Draws of Z ~ N(0, R) for varied R (forms correlated, lags less so): the share of
    p < α is α (binomial error) at α = 0.01, 0.05 and 0.2."""
    rng = np.random.default_rng(11)
    n, k = 3000, 8
    a = rng.normal(size=(n, k, 3))
    r = np.einsum("nkc,njc->nkj", a, a) + np.eye(k)[None] * rng.uniform(0.2, 2.0, (n, 1, 1))
    d = np.sqrt(np.diagonal(r, axis1=1, axis2=2))
    r = r / d[:, :, None] / d[:, None, :]
    z = np.einsum("nkj,nj->nk", np.linalg.cholesky(r), rng.normal(size=(n, k)))
    p, _ = max_t(z, r, draws=4000)
    for alpha in (0.01, 0.05, 0.2):
        share = (p < alpha).mean()
        assert abs(share - alpha) < 4 * np.sqrt(alpha * (1 - alpha) / n), (alpha, share)


def test_weights_keep_the_test_valid_and_favour_the_weighted_form() -> None:
    """Fixed weights (as a cohort would give): equal weights are the plain test; under
    the null the weighted p is uniform and the weighted critical values hold together
    95% of the time; a form with more weight needs a smaller |z| than the others."""
    rng = np.random.default_rng(12)
    n, k = 3000, 6
    a = rng.normal(size=(n, k, 2))
    r = np.einsum("nkc,njc->nkj", a, a) + np.eye(k)[None]
    d = np.sqrt(np.diagonal(r, axis1=1, axis2=2))
    r = r / d[:, :, None] / d[:, None, :]
    z = np.einsum("nkj,nj->nk", np.linalg.cholesky(r), rng.normal(size=(n, k)))
    plain_p, plain_c = max_t(z[:50], r[:50], draws=4000)
    same_p, same_c = max_t(z[:50], r[:50], draws=4000, weights=np.full((50, k), 3.0))
    assert np.allclose(plain_p, same_p, atol=1e-9) and np.allclose(plain_c, same_c, atol=0.02)
    weights = np.array([4.0, 1.0, 0.5, 0.25, 0.125, 0.125])
    p, c = max_t(z, r, draws=4000, weights=np.broadcast_to(weights, (n, k)))
    for alpha in (0.01, 0.05, 0.2):
        share = (p < alpha).mean()
        assert abs(share - alpha) < 4 * np.sqrt(alpha * (1 - alpha) / n), (alpha, share)
    held = (np.abs(z) <= c).all(1).mean()
    assert abs(held - 0.95) < 4 * np.sqrt(0.05 * 0.95 / n), held
    assert (c[:, 0] < c[:, 1]).all() and (c[:, 1] < c[:, 5]).all()


def test_score_correlation_matches_statsmodels_wald_statistics_on_null_diaries() -> None:
    """One person's design (a weekday rhythm covariate), three exposures built from one
    daily series (per SD today, per SD yesterday, above the upper quarter today):
    across 300 null diaries the correlation of statsmodels' Wald z statistics equals
    the score correlation computed once from the design."""
    rng = np.random.default_rng(5)
    n = 365
    weekend = (np.arange(n) % 7 >= 5).astype(float)
    series = np.convolve(rng.normal(size=n + 6), np.ones(7) / 3, "valid")[:n]
    series = (series - series.mean()) / series.std()
    exposures = np.stack(
        [series, np.r_[0.0, series[:-1]], (series > np.quantile(series, 0.75)).astype(float)]
    )
    covariates = np.stack([np.ones(n), weekend], axis=1)
    p0 = 1 / (1 + np.exp(-(-2.0 + 0.4 * weekend)))
    w = p0 * (1 - p0)
    resid = residualise(exposures, np.broadcast_to(covariates, (3, n, 2)), np.tile(w, (3, 1)))
    predicted = score_correlation(resid[None], w[None])[0]
    zs = []
    for _ in range(300):
        y = (rng.random(n) < p0).astype(float)
        row = []
        for x in exposures:
            fit = sm.Logit(y, np.column_stack([covariates, x])).fit(disp=0)
            row.append(fit.params[-1] / fit.bse[-1])
        zs.append(row)
    observed = np.corrcoef(np.array(zs).T)
    assert np.allclose(observed, predicted, atol=0.12), (observed, predicted)
    assert predicted[0, 2] > 0.5  # per SD and "above the upper quarter" say much the same


def test_a_last_bit_change_in_r_leaves_p_and_the_critical_values_alone() -> None:
    """Equicorrelated forms have K − 1 equal eigenvalues, so an eigenvector root of R is
    arbitrary up to a rotation that a last-bit change (another BLAS) can flip, moving the
    Monte Carlo p by its own error. The Cholesky root does not: p stays put."""
    from painlink.analysis.family_test import max_t

    rng = np.random.default_rng(3)
    k, rows = 6, 40
    r = np.full((rows, k, k), 0.5)
    r[:, np.arange(k), np.arange(k)] = 1.0
    z = rng.normal(0, 1.5, (rows, k))
    noise = rng.normal(0, 1e-13, (rows, k, k))
    bumped = r + (noise + np.swapaxes(noise, 1, 2)) / 2
    bumped[:, np.arange(k), np.arange(k)] = 1.0
    p, c = max_t(z, r)
    p2, c2 = max_t(z, bumped)
    assert np.max(np.abs(p - p2)) < 1e-6
    assert np.max(np.abs(c - c2)) < 1e-4
