"""The case-crossover's conditional logit against statsmodels and against brute force.

Time-stratified strata (same weekday, same month) hold 2–5 days and, in real diaries,
usually two or more attack days: the data here are tied on purpose.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings

import numpy as np
import polars as pl
import pytest
from scipy import optimize

from painlink.analysis.case_crossover import case_crossover, case_crossover_columns
from painlink.analysis.conditional_logit import conditional_logit
from painlink.rules.triggers import TriggerSettings


def _breslow(x: np.ndarray, case: np.ndarray, stratum: np.ndarray) -> float:
    """The likelihood painlink fitted before: each case against its whole stratum."""
    _, inverse = np.unique(stratum, return_inverse=True)
    k = inverse.max() + 1
    b = 0.0
    for _ in range(50):
        w = np.exp(b * x)
        s0 = np.bincount(inverse, w, k)
        s1 = np.bincount(inverse, w * x, k)
        s2 = np.bincount(inverse, w * x * x, k)
        cases = np.bincount(inverse, case.astype(float), k)
        mean = s1 / s0
        grad = (x * case).sum() - (cases * mean).sum()
        info = (cases * (s2 / s0 - mean**2)).sum()
        b += grad / info
    return float(b)


def _data(
    seed: int, continuous: bool, ties: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strata of 2–5 days; 0..all cases per stratum (or exactly one without ties)."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(25, 90))
    sizes = rng.integers(2, 6, k)
    stratum = np.repeat(np.arange(k), sizes) * 7 + 3  # labels need not be 0..k-1
    n = stratum.size
    x = rng.normal(0.5, 1.3, n) if continuous else (rng.random(n) < 0.4).astype(float)
    case = np.zeros(n, dtype=bool)
    for s in np.unique(stratum):
        idx = np.flatnonzero(stratum == s)
        d = int(rng.integers(0, idx.size + 1)) if ties else 1
        w = np.exp(0.8 * x[idx])
        case[rng.choice(idx, d, replace=False, p=w / w.sum())] = True
    return x, case, stratum


def _statsmodels(x: np.ndarray, case: np.ndarray, stratum: np.ndarray) -> tuple[float, float]:
    from statsmodels.discrete.conditional_models import ConditionalLogit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ConditionalLogit(case.astype(float), x[:, None], groups=stratum).fit(
            disp=0, method="newton", tol=1e-12, maxiter=200
        )
    return float(ref.params[0]), float(ref.bse[0])


@pytest.mark.parametrize("continuous", [False, True])
def test_exact_conditional_logit_equals_statsmodels_on_tied_data(continuous: bool) -> None:
    tied = 0
    for seed in range(30):
        x, case, stratum = _data(seed, continuous)
        counts = np.bincount(np.unique(stratum, return_inverse=True)[1], case)
        tied += int((counts >= 2).sum())
        fit = conditional_logit(x, case, stratum, prior_sd=None)
        b, se = _statsmodels(x, case, stratum)
        assert fit.converged
        assert abs(float(fit.coef) - b) < 1e-6, seed
        assert abs(float(fit.se) - se) < 1e-6, seed
    assert tied > 300  # the comparison really is about strata with several cases


def test_strata_that_are_all_cases_or_none_are_dropped() -> None:
    x, case, stratum = _data(5, continuous=True)
    sizes = np.bincount(np.unique(stratum, return_inverse=True)[1])
    counts = np.bincount(np.unique(stratum, return_inverse=True)[1], case)
    uninformative = (counts == 0) | (counts == sizes)
    assert uninformative.sum() >= 5
    keep = ~uninformative[np.unique(stratum, return_inverse=True)[1]]
    full = conditional_logit(x, case, stratum, prior_sd=None)
    trimmed = conditional_logit(x[keep], case[keep], stratum[keep], prior_sd=None)
    assert float(full.coef) == pytest.approx(float(trimmed.coef), abs=1e-12)
    assert float(full.se) == pytest.approx(float(trimmed.se), abs=1e-12)
    assert int(full.strata) == int((~uninformative).sum())
    assert int(full.cases) == int(case[keep].sum())


def test_the_old_breslow_likelihood_differs_on_tied_data() -> None:
    """What the old test could not see: with ties Breslow is a different estimate."""
    x, case, stratum = _data(11, continuous=False)
    exact = float(conditional_logit(x, case, stratum, prior_sd=None).coef)
    assert abs(exact - _statsmodels(x, case, stratum)[0]) < 1e-6
    assert abs(_breslow(x, case, stratum) - exact) > 0.05
    # ...and without ties the two likelihoods are the same one
    x1, case1, stratum1 = _data(11, continuous=False, ties=False)
    one = float(conditional_logit(x1, case1, stratum1, prior_sd=None).coef)
    assert abs(_breslow(x1, case1, stratum1) - one) < 1e-8


def _brute_force(
    x: np.ndarray, case: np.ndarray, stratum: np.ndarray, prior_sd: float
) -> tuple[float, float]:
    """Penalised exact likelihood by enumerating every subset; SE by finite differences."""
    parts = []
    for s in np.unique(stratum):
        idx = np.flatnonzero(stratum == s)
        d = int(case[idx].sum())
        if 0 < d < idx.size:
            sums = np.array([x[list(c)].sum() for c in itertools.combinations(idx, d)])
            parts.append((x[idx][case[idx]].sum(), sums))

    def nll(b: float) -> float:
        total = sum(b * top - np.logaddexp.reduce(b * sums) for top, sums in parts)
        return -(total - 0.5 * b * b / prior_sd**2)

    b = optimize.minimize_scalar(nll, bounds=(-20, 20), method="bounded", options={"xatol": 1e-12})
    h = 1e-4
    curvature = (nll(b.x + h) - 2 * nll(b.x) + nll(b.x - h)) / h**2
    return float(b.x), float(1 / np.sqrt(curvature))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_prior_fit_equals_brute_force_enumeration(seed: int) -> None:
    x, case, stratum = _data(seed, continuous=bool(seed % 2))
    fit = conditional_logit(x, case, stratum, prior_sd=0.7)
    b, se = _brute_force(x, case, stratum, 0.7)
    assert float(fit.coef) == pytest.approx(b, abs=1e-6)
    assert float(fit.se) == pytest.approx(se, abs=1e-4)


def test_batched_fits_equal_one_at_a_time() -> None:
    """Many models, per-model missing days and masks, several persons: one call."""
    rng = np.random.default_rng(8)
    xs, cases, strata, persons = [], [], [], []
    for p in range(6):
        x, case, stratum = _data(100 + p, continuous=bool(p % 2))
        xs.append(x)
        cases.append(case)
        strata.append(stratum)  # the same stratum labels in every person
        persons.append(np.full(x.size, f"P{p}"))
    case = np.concatenate(cases)
    stratum = np.concatenate(strata)
    person = np.concatenate(persons)
    base = np.concatenate(xs)
    models = np.stack([base, base**2, (base > 0.5).astype(float), rng.normal(size=base.size)])
    models[rng.random(models.shape) < 0.15] = np.nan
    mask = rng.random(models.shape) > 0.05
    batched = conditional_logit(models, case, stratum, prior_sd=2.0, mask=mask, by=person)
    assert batched.coef.shape == (4, 6)
    assert list(batched.by) == [f"P{p}" for p in range(6)]
    for m in range(4):
        for p in range(6):
            rows = person == f"P{p}"
            one = conditional_logit(
                models[m, rows], case[rows], stratum[rows], prior_sd=2.0, mask=mask[m, rows]
            )
            assert float(batched.coef[m, p]) == pytest.approx(float(one.coef), abs=1e-10)
            assert float(batched.se[m, p]) == pytest.approx(float(one.se), abs=1e-10)
            assert int(batched.cases[m, p]) == int(one.cases)
    # chunking the models does not change a number
    small = conditional_logit(
        models, case, stratum, prior_sd=2.0, mask=mask, by=person, chunk_cells=1
    )
    np.testing.assert_allclose(small.coef, batched.coef, atol=1e-12)


def test_hostile_values_give_numbers_or_nan_never_an_error() -> None:
    x, case, stratum = _data(3, continuous=True)
    for bad in (1e308, -1e308, np.inf, 1e-308):
        y = x.copy()
        y[::7] = bad
        fit = conditional_logit(y, case, stratum, prior_sd=2.0)
        assert np.isnan(fit.coef) or np.isfinite(fit.coef)
    empty = conditional_logit(np.array([]), np.array([], dtype=bool), np.array([]), None)
    assert np.isnan(empty.coef) and int(empty.cases) == 0
    separated = conditional_logit(
        np.array([1.0, 0, 0, 1, 0, 0]), np.array([1, 0, 0, 1, 0, 0], bool), [1, 1, 1, 2, 2, 2], None
    )
    assert np.isnan(separated.coef) and not separated.converged


def _day_frame(seed: int = 4, people: int = 3, days: int = 240) -> pl.DataFrame:
    """A small diary table: a float column with gaps, a 0/1 column, ties in strata."""
    rng = np.random.default_rng(seed)
    frames = []
    for p in range(people):
        n = days - 40 * p
        dates = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(n)]
        if p == 1:  # a gap of a week: the day after it has no lag-1 value
            dates = dates[:100] + dates[107:]
        m = len(dates)
        stress = rng.normal(5, 2, m)
        stress[rng.random(m) < 0.1] = np.nan
        sleep_short = (rng.random(m) < 0.3).astype(float)
        risk = -1.6 + 0.35 * np.nan_to_num(stress - 5) + 0.8 * sleep_short
        onset = rng.random(m) < 1 / (1 + np.exp(-risk))
        ongoing = np.r_[False, onset[:-1]] & (rng.random(m) < 0.3)
        frames.append(
            pl.DataFrame(
                {
                    "patient_id": f"P{p}",
                    "date": dates,
                    "onset": onset & ~ongoing,
                    "ongoing": ongoing,
                    "stress": stress,
                    "sleep_short": sleep_short,
                }
            ).with_columns(pl.col("stress").fill_nan(None))
        )
    return pl.concat(frames)


def test_columns_equal_one_fit_per_person_lagged_by_date() -> None:
    frame = _day_frame()
    out = case_crossover_columns(frame, ["stress", "sleep_short"], (0, 1, 2))
    assert out.columns == [
        "patient_id", "column", "lag", "cases", "log_or", "se",
        "odds_ratio", "ci_low", "ci_high", "p",
    ]  # fmt: skip
    assert out.height == 3 * 2 * 3
    checked = 0
    for (pid,), part in frame.group_by(["patient_id"]):
        by_date = dict(zip(part["date"].to_list(), part["stress"].to_list(), strict=True))
        risk = part.filter(~pl.col("ongoing"))
        for lag in (0, 1, 2):
            x = np.array(
                [by_date.get(d - dt.timedelta(days=lag)) for d in risk["date"]], dtype=float
            )
            d = risk["date"]
            stratum = ((d.dt.year() * 100 + d.dt.month()) * 10 + d.dt.weekday()).to_numpy()
            one = conditional_logit(x, risk["onset"].to_numpy(), stratum, prior_sd=2.0)
            row = out.filter(
                (pl.col("patient_id") == pid)
                & (pl.col("column") == "stress")
                & (pl.col("lag") == lag)
            ).row(0, named=True)
            assert row["cases"] == int(one.cases)
            assert row["log_or"] == pytest.approx(float(one.coef), abs=1e-10)
            assert row["se"] == pytest.approx(float(one.se), abs=1e-10)
            assert row["odds_ratio"] == pytest.approx(np.exp(float(one.coef)))
            checked += 1
    assert checked == 9
    # the simulated stress effect (+0.35 per point at lag 0) is seen by everyone
    lag0 = out.filter((pl.col("column") == "stress") & (pl.col("lag") == 0))
    assert (lag0["log_or"] > 0.1).all()


def test_columns_say_not_enough_data_for_people_and_columns_without_it() -> None:
    frame = _day_frame().with_columns(
        pl.when(pl.col("patient_id") == "P2").then(None).otherwise(pl.col("stress")).alias("stress")
    )
    quiet = pl.DataFrame(
        {
            "patient_id": "Q",
            "date": [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(60)],
            "onset": [i in (3, 40) for i in range(60)],
            "ongoing": False,
            "stress": 4.0,
            "sleep_short": 0.0,
        }
    )
    out = case_crossover_columns(
        pl.concat([frame, quiet], how="vertical_relaxed"), ["stress", "sleep_short"], (0, 1)
    )
    assert out.height == 4 * 2 * 2
    p2 = out.filter((pl.col("patient_id") == "P2") & (pl.col("column") == "stress"))
    assert p2["cases"].to_list() == [0, 0] and p2["odds_ratio"].is_null().all()
    q = out.filter(pl.col("patient_id") == "Q")
    assert q["odds_ratio"].is_null().all() and (q["cases"] < 8).all()
    assert out.filter(pl.col("patient_id") == "P0")["odds_ratio"].is_not_null().all()


def test_columns_survive_hostile_rows() -> None:
    frame = _day_frame(people=1)
    hostile = frame.with_columns(
        pl.when(pl.col("date").dt.day() == 9)
        .then(1e308)
        .otherwise(pl.col("stress"))
        .alias("stress")
    )
    far = frame.head(3).with_columns(
        pl.Series("date", [dt.date(9999, 12, 29), dt.date(9999, 12, 30), dt.date(9999, 12, 31)])
    )
    nobody = frame.head(5).with_columns(pl.lit(None, pl.String).alias("patient_id"))
    undated = frame.head(5).with_columns(pl.lit(None, pl.Date).alias("date"))
    # duplicated days count once; rows without a person or a date are no days
    twice = pl.concat([hostile, hostile.head(20), far, nobody, undated])
    out = case_crossover_columns(twice, ["stress", "sleep_short"], (0, 1, 2))
    assert out.height == 6
    finite = out["odds_ratio"].drop_nulls()
    assert finite.is_finite().all()


def test_case_crossover_keeps_its_output_columns() -> None:
    from painlink.days.day_table import build_day_table
    from painlink.diary.frames import DiaryFrames
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    parts = list(simulate(SimulationSpec(patients=4, days=240, seed=5)))
    days = build_day_table(DiaryFrames.concat(p[0] for p in parts))
    out = case_crossover(days, TriggerSettings())
    assert out.columns == [
        "patient_id", "factor", "lag", "cases", "odds_ratio", "ci_low", "ci_high", "p",
    ]  # fmt: skip
    assert out["odds_ratio"].is_not_null().any()
    assert not out["factor"].str.starts_with("x_").any()


def test_large_strata_use_the_recursion_and_still_equal_statsmodels() -> None:
    """A whole month as one stratum: C(n, d) is too many subsets to sum one by one."""
    rng = np.random.default_rng(12)
    sizes = rng.integers(8, 20, 25)
    stratum = np.repeat(np.arange(sizes.size), sizes)
    x = rng.normal(size=stratum.size)
    case = np.zeros(stratum.size, dtype=bool)
    for s in range(sizes.size):
        idx = np.flatnonzero(stratum == s)
        d = int(rng.integers(1, idx.size))
        w = np.exp(0.6 * x[idx])
        case[rng.choice(idx, d, replace=False, p=w / w.sum())] = True
    fit = conditional_logit(x, case, stratum, prior_sd=None)
    b, se = _statsmodels(x, case, stratum)
    assert abs(float(fit.coef) - b) < 1e-6 and abs(float(fit.se) - se) < 1e-6


def test_subset_sums_and_the_recursion_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import painlink.analysis.conditional_logit as kernel

    x, case, stratum = _data(21, continuous=True)
    by_sums = conditional_logit(x, case, stratum, prior_sd=2.0)
    monkeypatch.setattr(kernel, "MAX_SUBSETS", 0)
    by_recursion = conditional_logit(x, case, stratum, prior_sd=2.0)
    assert float(by_sums.coef) == pytest.approx(float(by_recursion.coef), abs=1e-10)
    assert float(by_sums.se) == pytest.approx(float(by_recursion.se), abs=1e-10)


def test_columns_with_nothing_to_fit_return_an_empty_or_null_table() -> None:
    frame = _day_frame(people=1)
    assert case_crossover_columns(frame, [], (0, 1)).height == 0
    assert case_crossover_columns(frame.head(0), ["stress"], (0, 1)).height == 0
    inside = case_crossover_columns(frame.with_columns(ongoing=True), ["stress"], (0,))
    assert inside["cases"].to_list() == [0] and inside["odds_ratio"].is_null().all()


def test_a_stratum_of_thousands_of_days_does_not_overflow() -> None:
    """C(3000, 1500) is far beyond floating point; the recursion rescales as it goes."""
    rng = np.random.default_rng(2)
    stratum = np.repeat([1, 2], 3000)
    x = rng.normal(size=stratum.size)
    case = rng.random(stratum.size) < 1 / (1 + np.exp(-0.5 * x))
    fit = conditional_logit(x, case, stratum, prior_sd=None)
    assert fit.converged and 0.3 < float(fit.coef) < 0.7
    assert np.isfinite(fit.se)


def test_simulated_patients_equal_statsmodels() -> None:
    """Test patients from painlink's simulator: real strata, real ties, real gaps."""
    from painlink.days.day_table import build_day_table
    from painlink.diary.frames import DiaryFrames
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    parts = list(simulate(SimulationSpec(patients=6, days=365, seed=9)))
    days = build_day_table(DiaryFrames.concat(p[0] for p in parts))
    checked = tied = 0
    for (_pid,), part in days.filter(~pl.col("ongoing")).group_by(["patient_id"]):
        d = part["date"]
        stratum = ((d.dt.year() * 100 + d.dt.month()) * 10 + d.dt.weekday()).to_numpy()
        case = part["onset"].to_numpy()
        tied += int((np.bincount(np.unique(stratum, return_inverse=True)[1], case) >= 2).sum())
        for column in ("sleep_hours", "stress", "caffeine_mg"):
            x = part[column].cast(pl.Float64).to_numpy()
            keep = np.isfinite(x)
            fit = conditional_logit(x, case, stratum, prior_sd=None)
            if not fit.converged or int(fit.varying) < 2:
                continue
            b, se = _statsmodels(x[keep], case[keep], stratum[keep])
            assert abs(float(fit.coef) - b) < 1e-6 and abs(float(fit.se) - se) < 1e-6
            checked += 1
    assert checked >= 12 and tied >= 20


def test_identical_binary_strata_counted_once_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import painlink.analysis.conditional_logit as kernel

    rng = np.random.default_rng(30)
    parts = [_data(200 + p, continuous=False) for p in range(5)]
    x = np.concatenate([p[0] for p in parts])
    case = np.concatenate([p[1] for p in parts])
    stratum = np.concatenate([p[2] for p in parts])
    person = np.repeat(np.arange(5), [p[0].size for p in parts])
    models = np.stack([x, 1 - x, np.where(rng.random(x.size) < 0.2, np.nan, x)])
    packed = conditional_logit(models, case, stratum, prior_sd=2.0, by=person)
    monkeypatch.setattr(
        kernel, "_identical_pairs", lambda x, *_: (np.arange(x.shape[0]), np.ones(x.shape[0]))
    )
    plain = conditional_logit(models, case, stratum, prior_sd=2.0, by=person)
    np.testing.assert_allclose(packed.coef, plain.coef, atol=1e-10)
    np.testing.assert_allclose(packed.se, plain.se, atol=1e-10)
    np.testing.assert_array_equal(packed.cases, plain.cases)
    np.testing.assert_allclose(packed.coef[0], -packed.coef[1], atol=1e-10)


def test_columns_refuse_a_lag_into_the_future_and_fit_a_repeated_column_once() -> None:
    frame = _day_frame(people=1)
    with pytest.raises(ValueError, match="negative"):
        case_crossover_columns(frame, ["stress"], (0, -1))
    assert case_crossover_columns(frame, ["stress", "stress"], (1, 1)).height == 1
