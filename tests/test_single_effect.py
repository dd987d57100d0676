"""The cohort's single-effect model (painlink.analysis.single_effect) against a reference
written from its definition, person by person with SciPy's densities, and the
cohort route that uses it (painlink.analysis.trigger_verdicts.single_effect_route)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from painlink.analysis.effect_prior import GRID, NULL_PRIOR
from painlink.analysis.single_effect import fit_single_effect, svalues

FORMS = ("per_sd@1", "high@1", "change@2", "low@0", "present@0")


def _cohort(seed: int, people: int = 60) -> pl.DataFrame:
    """Estimates of one variable in five forms × lags; a third of the people have a
    true effect in one form (per SD the day before, or below the usual level the same
    day, either direction); some forms untested for some people."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(people):
        acts = rng.random() < 0.33
        form = FORMS[0] if rng.random() < 0.6 else FORMS[3]
        beta = rng.choice([-1, 1]) * rng.uniform(0.3, 1.2) if acts else 0.0
        for f in FORMS:
            if f != FORMS[0] and rng.random() < 0.15:
                continue  # not tested in this form
            se = rng.uniform(0.15, 0.7)
            truth = beta if f == form else 0.3 * beta * (f != FORMS[4])
            name, lag = f.split("@")
            rows.append(
                {"patient_id": f"P{i:03d}", "variable": "stress", "form": name,
                 "lag": int(lag), "log_or": float(rng.normal(truth, se)), "se": se}
            )  # fmt: skip
    return pl.DataFrame(rows)


def _reference(
    tested: pl.DataFrame, weights: np.ndarray | None = None
) -> tuple[dict[str, tuple[float, int, str]], float, float]:
    """lfsr, direction of "more" and shown form × lag per person, from the definition:
    per person the components are "no form acts" and (form, width, side); the marginal
    density of the form's estimate under a half-normal effect over that under none is
    2·N(b; 0, s² + w²)·Φ(±m/v) / N(b; 0, s²); the weights maximise the likelihood with a
    Dirichlet(NULL_PRIOR) weight on "none" (plain EM, run to a step of 1e-13). Also
    returns the penalised log likelihood at those weights and at ``weights``."""
    people = sorted(set(tested["patient_id"]))
    forms = sorted({f"{f}@{lag}" for f, lag in tested.select("form", "lag").iter_rows()})
    comps = [(f, w, side) for f in forms for w in GRID for side in (1, -1)]
    lik = np.zeros((len(people), 1 + len(comps)))
    est = {(p, f"{f}@{lag}"): (b, s) for p, f, lag, b, s in tested.select(
        "patient_id", "form", "lag", "log_or", "se").iter_rows()}  # fmt: skip
    for i, p in enumerate(people):
        lik[i, 0] = 1.0
        for j, (f, w, side) in enumerate(comps, start=1):
            if (p, f) not in est:
                continue
            b, s = est[(p, f)]
            v2 = 1 / (1 / s**2 + 1 / w**2)
            m = v2 * b / s**2
            ratio = stats.norm.pdf(b, 0, np.hypot(s, w)) / stats.norm.pdf(b, 0, s)
            lik[i, j] = 2 * ratio * stats.norm.cdf(side * m / np.sqrt(v2))
    pi = np.full(lik.shape[1], 0.5 / (lik.shape[1] - 1))
    pi[0] = 0.5
    for _ in range(100_000):
        resp = lik * pi
        resp /= resp.sum(1, keepdims=True)
        counts = resp.sum(0)
        counts[0] += NULL_PRIOR - 1
        new = counts / counts.sum()
        if np.abs(new - pi).max() < 1e-13:
            pi = new
            break
        pi = new

    def objective(w: np.ndarray) -> float:
        return float(np.log(lik @ w).sum() + (NULL_PRIOR - 1) * np.log(w[0]))

    resp = lik * pi
    resp /= resp.sum(1, keepdims=True)
    out = {}
    for i, p in enumerate(people):
        up = down = 0.0
        by_form: dict[tuple[str, int], float] = {}
        for j, (f, _w, side) in enumerate(comps, start=1):
            more = side * (-1 if f.startswith("low@") else 1)
            up += resp[i, j] * (more > 0)
            down += resp[i, j] * (more < 0)
            by_form[(f, more)] = by_form.get((f, more), 0.0) + resp[i, j]
        direction = 1 if up >= down else -1
        shown = max(
            (f for f, d in by_form if d == direction), key=lambda f: by_form[(f, direction)]
        )
        out[p] = (resp[i, 0] + min(up, down), direction, shown)
    return out, objective(pi), objective(weights) if weights is not None else np.nan


@pytest.mark.parametrize("seed", range(6))
def test_the_model_equals_a_reference_written_from_its_definition(seed: int) -> None:
    """The weights are at least as likely as a long plain EM's (the optimum), and every
    lfsr, direction and shown form is the reference's. The likelihood is so flat near
    its optimum that weights 1e-7 less likely moved an lfsr by 1e-4 (seed 2, when the
    fit stopped at a gain of 1e-10): the lfsr is compared to 1e-5, the likelihood to
    1e-8 (the fit stops at a gain below 1e-12)."""
    from painlink.analysis import single_effect

    tested = _cohort(seed)
    got = fit_single_effect(tested, min_people=20)
    b, s, _ = _wide(tested)
    want, best, at_ours = _reference(tested, single_effect._fit(b, s, 3000)["weights"])
    assert at_ours >= best - 1e-8
    assert got.height == len(want)
    for p, form, lag, lfsr, direction in got.select(
        "patient_id", "form", "lag", "lfsr", "direction"
    ).iter_rows():
        ref_lfsr, ref_dir, ref_form = want[p]
        assert lfsr == pytest.approx(ref_lfsr, abs=1e-5)
        if ref_lfsr < 0.45:  # a near tie between the directions may fall either way
            assert direction == ref_dir
            assert f"{form}@{lag}" == ref_form


def _wide(tested: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Estimates and standard errors as (people, forms × lags), forms in sorted order."""
    keyed = tested.with_columns((pl.col("form") + "@" + pl.col("lag").cast(pl.String)).alias("fl"))
    wide_b = keyed.pivot(on="fl", index="patient_id", values="log_or", sort_columns=True)
    forms = [c for c in wide_b.columns if c != "patient_id"]
    b = wide_b.select(forms).to_numpy()
    s = keyed.pivot(on="fl", index="patient_id", values="se").select(forms).to_numpy()
    return b, s, forms


@pytest.mark.parametrize("seed", range(3))
def test_the_posterior_interval_is_the_forms_posterior_given_it_acts(seed: int) -> None:
    """The shown 95% interval and mean against the posterior of the shown form's log
    odds ratio given it acts, integrated numerically from the fitted weights: each
    component's normal, truncated to its side, on a fine grid."""
    from painlink.analysis import single_effect

    tested = _cohort(seed)
    b, s, forms = _wide(tested)
    fit = single_effect._fit(b, s, 3000)
    got = fit_single_effect(tested, min_people=20)
    xs = np.linspace(-12, 12, 96_001)
    n, k = len(b), len(GRID)
    parts = fit["resp"][:, 1:].reshape(n, len(forms), k, 2)
    for i, (form, lag, mean, low, high) in enumerate(
        got.select("form", "lag", "post_mean", "post_low", "post_high").iter_rows()
    ):
        f = forms.index(f"{form}@{lag}")
        density = np.zeros_like(xs)
        for c in range(k):
            m, sd = fit["m"][i, f, c], fit["sd"][i, f, c]
            normal = stats.norm.pdf(xs, m, sd)
            density += parts[i, f, c, 0] * normal * (xs > 0) / stats.norm.sf(0, m, sd)
            density += parts[i, f, c, 1] * normal * (xs < 0) / stats.norm.cdf(0, m, sd)
        density /= np.trapezoid(density, xs)
        cdf = np.cumsum(density) * (xs[1] - xs[0])
        assert low == pytest.approx(xs[np.searchsorted(cdf, 0.025)], abs=2e-3)
        assert high == pytest.approx(xs[np.searchsorted(cdf, 0.975)], abs=2e-3)
        assert mean == pytest.approx(np.trapezoid(xs * density, xs), abs=2e-3)


def test_svalues_are_the_mean_lfsr_of_every_call_at_least_as_strong() -> None:
    lfsr = np.random.default_rng(1).uniform(0, 1, 200)
    want = [lfsr[lfsr <= x].mean() for x in lfsr]
    np.testing.assert_allclose(svalues(lfsr), want, rtol=1e-12)


def test_a_cohort_with_no_effects_calls_almost_no_one() -> None:
    """Null estimates only: the fitted null weight is near 1 and no lfsr is small."""
    rng = np.random.default_rng(9)
    rows = [
        {"patient_id": f"P{i:03d}", "variable": "sleep_hours", "form": form, "lag": lag,
         "log_or": float(rng.normal(0, se)), "se": se}
        for i in range(300)
        for form, lag, se in (("per_sd", 1, 0.3), ("low", 1, 0.5), ("change", 0, 0.4))
    ]  # fmt: skip
    got = fit_single_effect(pl.DataFrame(rows), min_people=20)
    assert got["share_with_effect"][0] < 0.05
    assert (svalues(got["lfsr"].to_numpy()) <= 0.10).sum() == 0


def test_too_few_people_are_not_modelled() -> None:
    tested = _cohort(0, people=19)
    assert fit_single_effect(tested, min_people=20).height == 0
    assert fit_single_effect(tested, min_people=19).height == 19


@pytest.mark.slow
def test_the_cohort_routes_calls_and_the_rows_it_does_not_call() -> None:
    """On a cohort from painlink's simulator, the single-effect route chosen (not the
    default, docs/validation.md): every call the model makes shows an
    interval excluding 1 with its s-value at most q, in the direction it names; a
    variable the model does not call shows the own route's strongest form and its
    simultaneous interval, as a person analysed alone would see it."""
    from painlink.analysis.report import _days
    from painlink.analysis.triggers import TriggerAnalysis
    from painlink.diary.frames import DiaryFrames
    from painlink.rules.triggers import TriggerSettings
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    parts = list(simulate(SimulationSpec(patients=40, days=365, seed=4)))
    days = _days(DiaryFrames.concat(p[0] for p in parts))
    chosen = TriggerSettings(cohort_model="single_effect")
    cohort = TriggerAnalysis(chosen).fit(days, shrink=True).to_frame()
    by_model = cohort.filter(pl.col("called_by") == "the cohort's single-effect model")
    assert by_model.height > 0
    assert ((by_model["ci_low"] > 1) | (by_model["ci_high"] < 1)).all()
    assert (by_model["q"] <= 0.10).all()
    assert (by_model["odds_ratio"] > 1).all()  # shown in the direction that goes with attacks
    # a call shows the posterior given it acts, shrunk from the person's own estimate
    assert (by_model["odds_ratio"] != by_model["own_odds_ratio"]).all()
    # ... and an interval that holds the person's own 95% interval too
    assert (by_model["ci_low"] <= by_model["own_ci_low"] + 1e-12).all()
    assert (by_model["ci_high"] >= by_model["own_ci_high"] - 1e-12).all()
    assert ((by_model["own_ci_low"] > 1) | (by_model["own_ci_high"] < 1)).all()
    quiet = cohort.filter(pl.col("verdict") == "no association")
    assert quiet.height > 0
    np.testing.assert_allclose(quiet["odds_ratio"], quiet["own_odds_ratio"], rtol=1e-12)
    # ... with the simultaneous interval of the max-T test, wider than its own 95% one
    assert (quiet["ci_high"] >= quiet["own_ci_high"] - 1e-12).all()
    assert (quiet["ci_high"] > quiet["own_ci_high"]).mean() > 0.5


def test_an_unknown_cohort_model_is_refused() -> None:
    import datetime as dt

    from painlink.analysis.triggers import TriggerAnalysis
    from painlink.rules.triggers import TriggerSettings
    from tests.day_tables import logistic_cohort

    rng = np.random.default_rng(2)
    dates = pl.date_range(dt.date(2025, 1, 1), dt.date(2025, 6, 30), eager=True)

    def person(_i: int) -> tuple[np.ndarray, dict[str, object]]:
        stress = rng.integers(0, 11, len(dates)).astype(float)
        return np.full(len(dates), -2.0), {"stress": stress}

    days = logistic_cohort(rng, 25, dates, person)
    with pytest.raises(ValueError, match="cohort_model"):
        TriggerAnalysis(TriggerSettings(cohort_model="two_groups")).fit(days, shrink=True)
