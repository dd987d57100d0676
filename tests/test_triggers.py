"""Trigger analysis: the logistic fit equals statsmodels; verdicts follow the simulator's truth."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import optimize

from painlink.analysis.logistic import fit_logit
from painlink.analysis.triggers import TriggerAnalysis, _bh
from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def _data(seed: int, n: int = 730) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.random(n) < 0.3, rng.random(n) < 0.2, rng.normal(size=n)])
    eta = -2.0 + 1.1 * X[:, 1] - 0.5 * X[:, 2] + 0.3 * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unpenalised_fit_equals_statsmodels_logit(seed: int) -> None:
    X, y = _data(seed)
    ours = fit_logit(X, y, prior_sd=None)
    ref = sm.Logit(y, X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    assert np.abs(ours.coef[0] - ref.params).max() < 1e-6
    assert np.abs(ours.se[0] - ref.bse).max() < 1e-6


def test_penalised_fit_is_the_penalised_likelihood_maximum() -> None:
    X, y = _data(4)
    prior = 2.0

    def negative(b: np.ndarray) -> float:
        eta = X @ b
        return -(y * eta - np.logaddexp(0, eta)).sum() + 0.5 * (b[1:] ** 2).sum() / prior**2

    ref = optimize.minimize(negative, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    ours = fit_logit(X, y, prior_sd=prior)
    assert np.abs(ours.coef[0] - ref.x).max() < 1e-5


def test_batched_models_with_masks_equal_separate_fits() -> None:
    X, y = _data(5)
    mask = np.ones((2, len(y)), dtype=bool)
    mask[1, ::3] = False
    batch = fit_logit(np.stack([X, X]), y, mask, prior_sd=None)
    alone = sm.Logit(y[mask[1]], X[mask[1]]).fit(disp=0, method="newton", tol=1e-12)
    assert np.abs(batch.coef[1] - alone.params).max() < 1e-6


def test_empty_cell_stays_finite_with_the_prior() -> None:
    X, y = _data(6, n=120)
    y = np.where(X[:, 1] == 1, 1.0, y)  # every exposed day has an onset: separation
    fit = fit_logit(X, y, prior_sd=2.0)
    assert np.isfinite(fit.coef).all() and fit.converged.all()


def test_benjamini_hochberg_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.01, 0.02, 0.04, 0.3, 0.8, np.nan])
    ours = _bh(p)
    ref = multipletests(p[:-1], method="fdr_bh")[1]
    assert np.allclose(ours[:-1], ref) and np.isnan(ours[-1])


def _hand_written_bh(p: np.ndarray) -> np.ndarray:
    """The step-up procedure as painlink wrote it before scipy's was used: the reference."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return q
    values = p[ok]
    order = np.argsort(values)
    ranked = values[order] * len(values) / (np.arange(len(values)) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(values)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q


@pytest.mark.parametrize(
    "p",
    [
        np.array([]),
        np.array([np.nan, np.nan]),
        np.array([0.5]),
        np.array([np.nan, 0.03]),
        np.array([0.0, 1.0, 0.0, 1.0]),  # the ends of the range
        np.array([0.02, 0.02, 0.02, np.nan, 0.02]),  # ties
        np.array([0.9, 0.8, 0.7, 0.04, 0.01]),  # reversed order
        *[
            np.where(
                np.random.default_rng(seed).random(40) < 0.2,
                np.nan,
                np.random.default_rng(seed + 100).random(40) ** 3,
            )
            for seed in range(5)
        ],
    ],
)
def test_benjamini_hochberg_equals_the_hand_written_step_up(p: np.ndarray) -> None:
    ours = _bh(p)
    ref = _hand_written_bh(p)
    assert ours.shape == p.shape
    assert np.array_equal(np.isnan(ours), np.isnan(p))  # NaN in, NaN out, nowhere else
    assert np.allclose(ours[~np.isnan(p)], ref[~np.isnan(p)], rtol=1e-12, atol=0)


def test_case_crossover_and_triggers_do_not_import_each_other() -> None:
    """The trigger model runs the case-crossover; the case-crossover needs only the shared
    exposures, so the two modules are not a cycle."""
    import ast
    from pathlib import Path

    import painlink.analysis.case_crossover as cc

    tree = ast.parse(Path(cc.__file__).read_text(encoding="utf-8"))
    imported = {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module is not None
    }
    assert "painlink.analysis.triggers" not in imported
    assert "painlink.analysis.trigger_exposures" in imported


@pytest.fixture(scope="module")
def cohort() -> tuple[pl.DataFrame, list[dict]]:
    parts = list(simulate(SimulationSpec(patients=200, days=365, seed=21)))
    diary = DiaryFrames.concat(p[0] for p in parts)
    return build_day_table(diary), [t for p in parts for t in p[1]]


def _truth_pairs(truth: list[dict], role: str) -> set[tuple[str, str]]:
    return {
        (t["patient_id"], f["factor"]) for t in truth for f in t["factors"] if f["role"] == role
    }


@pytest.mark.slow
@pytest.mark.parametrize("shrink", [False, True])
def test_verdicts_follow_the_truth(cohort, shrink: bool) -> None:  # type: ignore[no-untyped-def]
    days, truth = cohort
    summary = TriggerAnalysis().fit(days, shrink=shrink).to_frame()
    calls = {(r["patient_id"], r["factor"]): r["verdict"] for r in summary.iter_rows(named=True)}
    triggers = [calls.get(k) for k in _truth_pairs(truth, "trigger") if k in calls]
    symptom_necks = {
        (t["patient_id"], "neck_pain") for t in truth if t["neck_pain_role"] == "symptom"
    }
    nulls = [calls.get(k) for k in _truth_pairs(truth, "none") - symptom_necks if k in calls]
    hit = np.mean([v in ("likely trigger", "possible early attack sign") for v in triggers])
    false = np.mean(
        [v in ("likely trigger", "likely protector", "possible early attack sign") for v in nulls]
    )
    assert hit > 0.25
    assert false <= 0.05


@pytest.mark.slow
def test_the_cohort_adds_calls_and_says_where_each_came_from(cohort) -> None:  # type: ignore[no-untyped-def]
    days, _ = cohort
    called = ("likely trigger", "likely protector", "possible early attack sign")
    alone = TriggerAnalysis().fit(days, shrink=False).to_frame()
    joint = TriggerAnalysis().fit(days, shrink=True).to_frame()
    own = set(alone.filter(pl.col("verdict").is_in(called)).select("patient_id", "factor").rows())
    both = joint.filter(pl.col("verdict").is_in(called))
    assert own <= set(both.select("patient_id", "factor").rows())
    assert len(both) > len(own)
    assert set(both["called_by"]) == {"own data", "cohort"}


@pytest.mark.slow
def test_premonitory_symptoms_are_not_called_triggers(cohort) -> None:  # type: ignore[no-untyped-def]
    days, truth = cohort
    summary = TriggerAnalysis().fit(days, shrink=False).to_frame()
    cravers = {t["patient_id"] for t in truth if t["premonitory"]}
    craving = summary.filter(pl.col("factor") == "chocolate_craving")
    assert set(craving["verdict"]) <= {
        "possible early attack sign",
        "no association",
        "not enough data",
    }
    found = craving.filter(pl.col("verdict") == "possible early attack sign")["patient_id"]
    assert set(found) <= cravers and len(found) > 0.5 * len(cravers)


@pytest.mark.slow
def test_not_enough_data_says_how_many_more_attacks(cohort) -> None:  # type: ignore[no-untyped-def]
    days, _ = cohort
    short = days.filter(pl.col("date") < pl.date(2025, 1, 25))
    summary = TriggerAnalysis().fit(short, shrink=False).to_frame("SIM000002")
    rows = summary.filter(pl.col("verdict") == "not enough data")
    assert rows.height > 0
    assert rows["odds_ratio"].is_null().all()
    assert any("more attacks to detect an odds ratio of 2" in n for n in rows["power_note"])


def test_forest_plot_is_drawn(cohort, tmp_path) -> None:  # type: ignore[no-untyped-def]
    days, _ = cohort
    results = TriggerAnalysis().fit(days.filter(pl.col("patient_id") == "SIM000003"), shrink=False)
    results.plot("SIM000003", str(tmp_path / "forest.png"))
    assert (tmp_path / "forest.png").stat().st_size > 5_000


def test_case_crossover_sits_beside_each_verdict(cohort) -> None:  # type: ignore[no-untyped-def]
    days, _truth = cohort
    some = days.filter(pl.col("patient_id").is_in([f"SIM{i:06d}" for i in range(1, 31)]))
    summary = TriggerAnalysis().fit(some, shrink=False, case_crossover=True).to_frame()
    assert {"case_crossover_or", "case_crossover_ci_low"} <= set(summary.columns)
    called = summary.filter(pl.col("verdict") == "likely trigger").drop_nulls("case_crossover_or")
    assert called.height > 0
    # the two designs mostly agree on direction for the calls
    assert (called["case_crossover_or"] > 1).mean() >= 0.8
