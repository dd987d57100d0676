"""The shared-covariate kernel (logistic.fit_logit_shared, family_test.residualise_shared)
is the design-array kernel (fit_logit, residualise) computed another way: models that
differ in one column, on varied data, agree to rounding; and the trigger fit that uses
it gives the estimates of the design-array kernel."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from painlink.analysis import logistic, threads, trigger_fit
from painlink.analysis.family_test import residualise, residualise_shared
from painlink.analysis.logistic import fit_logit, fit_logit_shared
from painlink.analysis.report import _days
from painlink.analysis.triggers import TriggerAnalysis
from painlink.simulate.independent import simulate_independent


def _batch(
    seed: int, sets: int = 3, n: int = 365, q: int = 8, m: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Covariate sets (intercept first; one set with a column at zero, as the cycle's
    forms have), each model's set, exposures of several kinds (rare yes/no, separated,
    continuous), outcomes and masks; and the same models as design arrays."""
    rng = np.random.default_rng(seed)
    C = np.concatenate([np.ones((sets, n, 1)), rng.normal(size=(sets, n, q - 1))], axis=-1)
    C[-1, :, 2] = 0.0
    which = rng.integers(0, sets, m)
    x = rng.normal(size=(m, n))
    x[::4] = rng.random((len(x[::4]), n)) < 0.03  # rare: slow to converge
    x[1::4] = rng.random((len(x[1::4]), n)) < 0.3
    y = (rng.random((m, n)) < rng.uniform(0.05, 0.3)).astype(float)
    y[5, x[5] > 0.5] = 1.0  # every exposed day an onset: separation
    mask = rng.random((m, n)) < rng.uniform(0.6, 1.0)
    X = np.concatenate([C[which][:, :, :1], x[:, :, None], C[which][:, :, 1:]], axis=-1)
    return C, which, x, y, mask, X


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("prior_sd", [2.0, 0.5, None])
def test_the_shared_fit_is_the_design_array_fit(seed: int, prior_sd: float | None) -> None:
    C, which, x, y, mask, X = _batch(seed, n=200 + 100 * seed, q=4 + seed)
    ours = fit_logit_shared(C, which, x, y, mask, prior_sd=prior_sd)
    ref = fit_logit(X, y, mask, prior_sd=prior_sd)
    # plain maximum likelihood: a separated model runs off towards ±∞, where its
    # standard error is a huge, ill-conditioned number; the prior keeps every model
    finite = np.isfinite(ref.coef).all(1) & (np.abs(ref.coef[:, 1]) < 10)
    assert np.abs(ours.coef - ref.coef)[finite].max() < 1e-9
    assert np.abs(ours.se - ref.se)[finite].max() < 1e-9
    assert (ours.converged == ref.converged).all() and ours.iterations == ref.iterations
    assert np.array_equal(ours.n, ref.n) and np.array_equal(ours.events, ref.events)


def test_the_shared_fit_starts_where_it_is_told_and_ends_at_the_same_optimum() -> None:
    C, which, x, y, mask, X = _batch(7)
    start = np.random.default_rng(1).normal(0, 0.3, (len(x), X.shape[-1]))
    ours = fit_logit_shared(C, which, x, y, mask, start=start)
    ref = fit_logit(X, y, mask, start=start)
    plain = fit_logit_shared(C, which, x, y, mask)
    assert np.abs(ours.coef - ref.coef).max() < 1e-9
    assert np.abs(ours.coef - plain.coef).max() < 1e-6


def test_the_shared_residuals_are_the_design_array_residuals() -> None:
    C, which, x, _, mask, X = _batch(9, sets=5, q=10)
    w = np.random.default_rng(2).random(mask.shape) * 0.2 * mask
    design = X.copy()
    design[:, :, 1] = 0.0  # the exposure's own column, as the trigger fit passes it
    assert np.abs(residualise_shared(x, C, which, w) - residualise(x, design, w)).max() < 1e-10


def test_a_large_shared_batch_on_two_threads_is_the_batch_on_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts do not depend on the threads, so neither do the numbers, to the bit."""
    monkeypatch.setattr(logistic, "_SHARED_PART_CELLS", 200_000)  # a cohort's size, scaled
    C, which, x, y, mask, _ = _batch(11, sets=4, n=730, q=14, m=120)
    parts = logistic.shared_parts(which, *x.shape, C.shape[-1])
    assert len(parts) >= 2 and sorted(np.concatenate(parts).tolist()) == list(range(len(x)))
    monkeypatch.setattr(threads, "KERNEL_THREADS", 1)
    alone = fit_logit_shared(C, which, x, y, mask)
    monkeypatch.setattr(threads, "KERNEL_THREADS", 2)
    shared = fit_logit_shared(C, which, x, y, mask)
    for name in ("coef", "cov", "converged", "n", "events"):
        assert np.array_equal(getattr(shared, name), getattr(alone, name)), name


@pytest.mark.parametrize("sizes", ["even", "uneven"])
def test_parts_keep_their_grids_to_the_budget(monkeypatch: pytest.MonkeyPatch, sizes: str) -> None:
    """A part is laid out as sets × (the most models of one set) × days beside the sets'
    outer products: that whole grid keeps to the budget, also when one set holds many
    models and the others one each (every small set would otherwise be padded to the
    big one's size: a review found 1.9 GB for 1,000 such models of 100 days)."""
    monkeypatch.setattr(logistic, "_SHARED_PART_CELLS", 50_000)
    n, q = 100, 5
    which = (
        np.repeat(np.arange(30), 7)
        if sizes == "even"
        else np.r_[np.zeros(150, int), np.arange(1, 151), np.repeat(np.arange(151, 161), 6)]
    )
    parts = logistic.shared_parts(which, len(which), n, q)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(which)))
    for part in parts:
        _, _, _, k = logistic.set_layout(which[part])
        g = np.unique(which[part]).size
        assert len(part) == 1 or g * n * (k + q * q) <= 50_000
        assert 2 * len(part) >= g * k  # at least half the grid's places hold a model
    C = np.ones((which.max() + 1, n, q))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(len(which), n))
    y = (rng.random((len(which), n)) < 0.2).astype(float)
    X = np.concatenate([C[which][:, :, :1], x[:, :, None], C[which][:, :, 1:]], axis=-1)
    ours, ref = fit_logit_shared(C, which, x, y, np.ones_like(y)), fit_logit(X, y)
    assert np.abs(ours.coef - ref.coef).max() < 1e-9


def test_the_shared_kernels_refuse_what_they_cannot_fit() -> None:
    """A set that does not exist, or a covariate that is not a number (a set serves models
    with different masks, so a masked day's covariates cannot be zeroed per model as
    fit_logit zeroes its design rows): a clear error, not a wrong fit."""
    C, which, x, y, mask, _ = _batch(13)
    with pytest.raises(ValueError, match="sets"):
        fit_logit_shared(C, np.r_[which[:-1], len(C)], x, y, mask)
    with pytest.raises(ValueError, match="sets"):
        residualise_shared(x, C, np.r_[which[:-1], -1], mask * 1.0)
    C[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fit_logit_shared(C, which, x, y, mask)


def test_the_trigger_fit_on_the_shared_kernel_equals_it_on_design_arrays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wiring: each model's covariate set (the person's, or for the cycle's forms
    the person's without the menstrual window) is the design the old path built."""
    diary, _ = simulate_independent(24, 240, 5, dt.date(2025, 1, 1))
    days = _days(diary)
    ours = TriggerAnalysis().fit(days, shrink=False).estimates

    def design_arrays(C, which, x, y, mask, prior_sd=2.0, start=None):  # type: ignore[no-untyped-def]
        X = np.concatenate([C[which][:, :, :1], x[:, :, None], C[which][:, :, 1:]], axis=-1)
        return fit_logit(X, y, mask, prior_sd=prior_sd, start=start)

    def residuals(x, C, which, w):  # type: ignore[no-untyped-def]
        own = np.zeros_like(x)[:, :, None]  # the exposure's own column, at zero
        X = np.concatenate([C[which][:, :, :1], own, C[which][:, :, 1:]], axis=-1)
        return residualise(x, X, w)

    monkeypatch.setattr(trigger_fit, "fit_logit_shared", design_arrays)
    monkeypatch.setattr(trigger_fit, "residualise_shared", residuals)
    ref = TriggerAnalysis().fit(days, shrink=False).estimates
    assert ours.select("patient_id", "variable", "form", "lag").equals(
        ref.select("patient_id", "variable", "form", "lag")
    )
    assert ours.filter(pl.col("form").is_in(["window", "pill_free"])).height, "the cycle's forms"
    for column in ("log_or", "se", "p_family", "z_family"):
        a, b = ours[column].to_numpy(), ref[column].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        assert np.nanmax(np.abs(a - b)) < 1e-9, column


def test_models_still_moving_are_laid_out_again_and_end_where_they_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most models converge in a few steps and a rare exposure takes many: the solver
    lays out again the models still moving (as fit_logit packs them), and each model
    ends where the design-array solver ends it."""
    C, which, x, y, mask, X = _batch(12, m=60)
    x[:50] = np.random.default_rng(3).normal(size=(50, x.shape[1]))  # quick
    x[50:] = np.random.default_rng(4).random((10, x.shape[1])) < 0.01  # rare: slow
    X[:, :, 1] = x
    layouts = []
    grid = logistic._Grid

    def counted(*args):  # type: ignore[no-untyped-def]
        layouts.append(len(args[1]))
        return grid(*args)

    monkeypatch.setattr(logistic, "_Grid", counted)
    ours = fit_logit_shared(C, which, x, y, mask)
    ref = fit_logit(X, y, mask)
    # the first layout, then at least one of the models still moving, smaller
    assert len(layouts) >= 2 and layouts[0] == len(x) and min(layouts) < len(x), layouts
    assert np.abs(ours.coef - ref.coef).max() < 1e-9 and np.abs(ours.se - ref.se).max() < 1e-9
    assert (ours.converged == ref.converged).all() and ours.iterations == ref.iterations
