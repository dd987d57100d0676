"""The forecast: a prior centred on the cohort, and no peeking at the future."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import optimize

from painlink.analysis import forecast as fc
from painlink.analysis import logistic, threads
from painlink.analysis.logistic import fit_logit
from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def test_prior_centred_on_the_cohort_is_the_penalised_maximum() -> None:
    rng = np.random.default_rng(5)
    n = 400
    X = np.column_stack([np.ones(n), rng.random(n) < 0.3, rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.8 * X[:, 1])))).astype(float)
    centre, sd = np.array([0.0, 1.5, -0.4]), 0.5

    def negative(b: np.ndarray) -> float:
        eta = X @ b
        return (
            -(y * eta - np.logaddexp(0, eta)).sum()
            + 0.5 * ((b[1:] - centre[1:]) ** 2).sum() / sd**2
        )

    ref = optimize.minimize(negative, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    ours = fit_logit(X, y, prior_sd=sd, prior_mean=centre)
    assert np.abs(ours.coef[0] - ref.x).max() < 1e-5
    # and statsmodels' penalised Logit of the same model (the prior's centre as an
    # offset, the L2 penalty on the departure from it) agrees to 1e-6
    from statsmodels.base._penalized import PenalizedMixin
    from statsmodels.base._penalties import L2
    from statsmodels.discrete.discrete_model import Logit

    class PenalisedLogit(PenalizedMixin, Logit):  # type: ignore[misc]
        pass

    weights = np.r_[0.0, np.full(2, 0.5 / sd**2)]
    sm_fit = PenalisedLogit(
        y, X, offset=X[:, 1:] @ centre[1:], penal=L2(weights=weights), pen_weight=1.0
    ).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    assert np.abs(ours.coef[0] - (sm_fit.params + np.r_[0.0, centre[1:]])).max() < 1e-6
    # and it is pulled toward the centre compared with a prior around zero
    plain = fit_logit(X, y, prior_sd=sd)
    assert abs(ours.coef[0, 2] - centre[2]) < abs(plain.coef[0, 2] - centre[2])


@pytest.mark.parametrize("split", [False, True])
def test_models_with_their_own_priors_in_one_batch_end_where_each_ends_alone(
    split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forecast fits all its origins in one batch, each with its own rows, prior sd
    and centre (a cohort's at that date, or zero): each must come out as fitted alone,
    to the last bit, whether the batch runs on one thread or is split over two."""
    if split:  # a batch this small is split only when told to
        monkeypatch.setattr(logistic, "_SPLIT_CELLS", 0)
        monkeypatch.setattr(threads, "KERNEL_THREADS", 2)
    rng = np.random.default_rng(9)
    n, p, m = 300, 4, 20
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + X[:, 1])))).astype(float)
    masks = np.array([np.arange(n) < 40 + 13 * k for k in range(m)])
    sds = np.where(np.arange(m) % 3 == 0, 1.0, 0.5)
    centres = np.where((np.arange(m) % 3 == 0)[:, None], 0.0, rng.normal(size=(m, p)))
    batch = fit_logit(np.broadcast_to(X, (m, n, p)), y, masks, prior_sd=sds, prior_mean=centres)
    for k in range(m):
        alone = fit_logit(X, y, masks[k], prior_sd=float(sds[k]), prior_mean=centres[k])
        np.testing.assert_array_equal(batch.coef[k], alone.coef[0])
        np.testing.assert_array_equal(batch.cov[k], alone.cov[0])


def _cohort() -> pl.DataFrame:
    parts = list(simulate(SimulationSpec(patients=30, days=240, seed=12)))
    return build_day_table(DiaryFrames.concat(p[0] for p in parts))


def test_forecasts_use_only_the_past() -> None:
    days = _cohort()
    cut = days["date"].min() + dt.timedelta(days=150)  # type: ignore[operator]
    before = fc.forecast(days).predictions
    # rewrite everything from the cut on: other attacks, other exposures
    rng = np.random.default_rng(0)
    later = pl.col("date") >= cut
    changed = days.with_columns(
        pl.when(later)
        .then(pl.Series(rng.random(days.height) < 0.5))
        .otherwise(pl.col("onset"))
        .alias("onset"),
        pl.when(later).then(pl.lit(2.0)).otherwise(pl.col("sleep_hours")).alias("sleep_hours"),
    )
    after = fc.forecast(changed).predictions
    early = pl.col("date") < cut
    a = before.filter(early).sort("patient_id", "date")
    b = after.filter(early).sort("patient_id", "date")
    assert a.height > 1000
    assert np.allclose(a["risk"].to_numpy(), b["risk"].to_numpy(), atol=1e-12)


def test_the_cohort_prior_is_used_only_with_a_cohort() -> None:
    days = _cohort()
    _, names = fc._features(days)
    frame, _ = fc._features(days)
    priors = fc._cohort_priors(frame, names)
    first = days["date"].min()
    assert min(priors) == first + dt.timedelta(days=fc.FIRST_ORIGIN_DAYS)  # type: ignore[operator]
    one = frame.filter(pl.col("patient_id") == frame["patient_id"][0])
    assert fc._cohort_priors(one, names) == {}
    assert fc._prior_for(priors, first) is None  # type: ignore[arg-type]


def test_tomorrow_is_forecast_from_today() -> None:
    days = _cohort()
    pid = days["patient_id"][0]
    last = days.filter(pl.col("patient_id") == pid)["date"].max()
    today = (pl.col("patient_id") == pid) & (pl.col("date") == last)

    def run(neck: float) -> tuple[float, pl.DataFrame]:
        changed = days.with_columns(
            pl.when(today)
            .then(pl.lit(neck))
            .otherwise(pl.col("neck_pain_max"))
            .alias("neck_pain_max")
        )
        result = fc.forecast(changed)
        return result.tomorrow(pid)["tomorrow_risk"], result.predictions  # type: ignore[return-value]

    calm, calm_days = run(0.0)
    sore, sore_days = run(10.0)
    assert 0 < calm < 1 and calm != sore  # today's neck pain is tomorrow's "yesterday"
    assert calm_days.equals(sore_days)  # and changes no forecast of a recorded day
