"""The rate ratio of a treatment when counts are small or zero: an interval that exists.

Every count here is drawn in the test itself with numpy (not painlink's simulator),
from a known rate ratio, so coverage is measured against the truth.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson_2indep

from painlink.analysis.outcomes import exact_rate_ratio, fit_rate_ratio, quasi_poisson

#: (rate before per day, true rate ratio, days before, days during): the first ones make
#: zero events during a treatment common (the case that once raised OverflowError)
REGIMES = [
    (0.10, 0.2, 28, 28),
    (0.10, 0.5, 28, 56),
    (0.05, 1.0, 90, 28),
    (0.20, 0.1, 90, 90),
    (0.30, 0.7, 60, 120),
    (0.15, 2.0, 28, 28),
]


@pytest.mark.slow
@pytest.mark.parametrize(("rate", "ratio", "t0", "t1"), REGIMES)
def test_exact_interval_covers_the_true_ratio_and_is_always_finite_below(
    rate: float, ratio: float, t0: int, t1: int
) -> None:
    rng = np.random.default_rng(int(rate * 1000 + ratio * 100 + t0 + t1))
    before = rng.poisson(rate * t0, 4000)
    during = rng.poisson(rate * ratio * t1, 4000)
    keep = before > 0  # with no events before, painlink reports "not enough data"
    covered, zeros = [], 0
    for y0, y1 in zip(before[keep], during[keep], strict=True):
        r = exact_rate_ratio(int(y1), t1, int(y0), t0)
        assert math.isfinite(r.ci_low) and r.ci_low >= 0
        assert math.isfinite(r.ci_high) and r.ci_high > r.ci_low
        assert 0 <= r.p <= 1 and 0 <= r.p_reduction_50 <= 1
        zeros += y1 == 0
        covered.append(r.ci_low <= ratio <= r.ci_high)
    coverage = float(np.mean(covered))
    # Clopper–Pearson is conservative: at least 95% given the total count, and with
    # two or three events in all it reaches 99.5% (discreteness), which is allowed
    assert 0.94 <= coverage <= 0.997, coverage
    if ratio <= 0.2:
        assert zeros > 100  # the regime really exercises zero counts


def test_zero_events_during_gives_zero_and_a_finite_upper_limit() -> None:
    r = exact_rate_ratio(0, 56, 12, 90)
    assert r.rate_ratio == 0 and r.ci_low == 0
    # the upper limit is the one-sided 97.5% Poisson-ratio bound: solve it independently
    upper_pi = 1 - 0.025 ** (1 / 12)  # Beta(1, 12) quantile in closed form
    assert r.ci_high == pytest.approx(upper_pi / (1 - upper_pi) * 90 / 56, rel=1e-9)
    assert r.p < 0.05 and r.p_reduction_50 > 0.9


def test_nonzero_counts_agree_with_statsmodels_on_varied_data() -> None:
    """Against statsmodels' Clopper–Pearson ("beta") interval of the split of events,
    scipy's binomial tails for the p-value, and — for large counts — statsmodels'
    score interval for two Poisson rates, which the exact one approaches."""
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        for size in (3, 30, 300):
            t0, t1 = rng.integers(28, 365, 2)
            y0 = int(rng.poisson(size)) + 1
            y1 = int(rng.poisson(size * rng.uniform(0.2, 2.0))) + 1
            r = exact_rate_ratio(y1, t1, y0, t0)
            n = y0 + y1
            lo_pi, hi_pi = proportion_confint(y1, n, alpha=0.05, method="beta")
            assert r.ci_low == pytest.approx(lo_pi / (1 - lo_pi) * t0 / t1, rel=1e-8)
            assert r.ci_high == pytest.approx(hi_pi / (1 - hi_pi) * t0 / t1, rel=1e-8)
            assert r.rate_ratio == pytest.approx((y1 / t1) / (y0 / t0), rel=1e-12)
            p0 = t1 / (t0 + t1)
            central = min(1.0, 2 * min(stats.binom.cdf(y1, n, p0), stats.binom.sf(y1 - 1, n, p0)))
            assert r.p == pytest.approx(central, rel=1e-7, abs=1e-12)
            if size >= 300:
                score = confint_poisson_2indep(y1, t1, y0, t0, method="score", compare="ratio")
                assert r.ci_low == pytest.approx(score[0], rel=0.05)
                assert r.ci_high == pytest.approx(score[1], rel=0.05)


def test_dispersion_widens_the_exact_interval() -> None:
    plain = exact_rate_ratio(3, 60, 20, 60)
    wide = exact_rate_ratio(3, 60, 20, 60, dispersion=2.5)
    assert wide.ci_low < plain.ci_low and wide.ci_high > plain.ci_high
    assert exact_rate_ratio(3, 60, 20, 60, dispersion=0.3) == plain  # never narrower


def test_quasi_poisson_matches_statsmodels_scale_x2_where_that_works() -> None:
    """The refit (scale 1, errors widened afterwards) gives statsmodels' quasi-Poisson
    numbers on varied block data, and answers where ``scale="X2"`` raises."""
    for seed in range(6):
        rng = np.random.default_rng(seed)
        k = int(rng.integers(4, 12))
        days = rng.integers(20, 29, k).astype(float)
        treated = (np.arange(k) >= k // 2).astype(float)
        y = rng.negative_binomial(3, 3 / (3 + 0.2 * days * (1 - 0.4 * treated)))
        X = sm.add_constant(treated)
        mine = quasi_poisson(y, X, days)
        ref = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(days)).fit(scale="X2")
        assert mine is not None
        assert mine.params == pytest.approx(ref.params, rel=1e-5)
        assert mine.poisson_se * math.sqrt(mine.dispersion) == pytest.approx(ref.bse, rel=1e-5)
    equal = np.array([8, 8, 8])
    X = sm.add_constant(np.array([-3.0, -2.0, -1.0]))
    with pytest.raises(ValueError):
        sm.GLM(equal, X, family=sm.families.Poisson(), offset=np.log([16.0, 28, 28])).fit(
            scale="X2"
        )
    assert quasi_poisson(equal, X, np.array([16.0, 28, 28])) is not None


def test_the_glm_declines_a_rate_ratio_it_cannot_estimate() -> None:
    weeks = pl.DataFrame(
        {
            "week": list(range(-8, 8)),
            "y": [2, 1, 3, 2, 1, 2, 2, 1] + [0] * 8,
            "days": [7] * 16,
            "treated": [0.0] * 8 + [1.0] * 8,
        }
    )
    assert fit_rate_ratio(weeks) is None
