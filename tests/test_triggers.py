"""Trigger analysis: the logistic fit equals statsmodels; verdicts follow the simulator's truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from painlink.analysis.logistic import fit_logit
from painlink.analysis.multiplicity import bh as _bh
from painlink.analysis.triggers import TriggerAnalysis
from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from tests.day_tables import day_frame


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


def test_each_model_of_a_batch_ends_exactly_where_it_ends_alone() -> None:
    """The solver stops stepping models that have converged and packs the rest: models
    that converge at different steps (a rare exposure, a separated one, plain ones) must
    come out of one batch bit for bit as each comes out alone."""
    rng = np.random.default_rng(8)
    n = 300
    designs = []
    for kind in range(12):
        X = np.column_stack([np.ones(n), rng.standard_normal(n), rng.standard_normal(n)])
        if kind % 3 == 0:
            X[:, 2] = rng.random(n) < 0.03  # rare: slow to converge
        designs.append(X)
    X = np.stack(designs)
    y = (rng.random(n) < 0.15).astype(float)
    y[designs[3][:, 2] == 1] = 1.0  # model 3: every exposed day an onset (separation)
    mask = rng.random((12, n)) < 0.9
    batch = fit_logit(X, y, mask, prior_sd=2.0)
    alone = [fit_logit(X[i], y, mask[i], prior_sd=2.0) for i in range(12)]
    assert len({a.iterations for a in alone}) > 1, "the models should converge at different steps"
    for i, a in enumerate(alone):
        assert np.array_equal(batch.coef[i], a.coef[0]) and np.array_equal(batch.cov[i], a.cov[0])
    assert batch.iterations == max(a.iterations for a in alone)


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


#: the simulator's exposure names → the diary variable they are made from, and the sign
#: of "more of the variable" in them (a drop in caffeine is less caffeine)
VARIABLE_OF = {
    "short_sleep": ("sleep_hours", -1),
    "high_stress": ("stress", 1),
    "stress_letdown": ("stress", -1),
    "skipped_meal": ("skipped_meals", 1),
    "alcohol": ("alcohol_units", 1),
    "caffeine_drop": ("caffeine_mg", -1),
    "pressure_drop": ("pressure_hpa", -1),
    "exercise": ("exercise_min", 1),
    "menstrual_window": ("menstruation", 1),
    "pill_free": ("contraceptive_phase", 1),
}
CALLS = ("likely trigger", "likely protector", "possible early attack sign")


def _true_pairs(truth: list[dict]) -> dict[tuple[str, str], int]:
    """(patient, variable) → the true direction of "more of it", for acting factors."""
    out = {}
    for t in truth:
        for f in t["factors"]:
            if f["role"] != "none" and f["factor"] in VARIABLE_OF:
                var, sign = VARIABLE_OF[f["factor"]]
                out[(t["patient_id"], var)] = sign * (1 if f["odds_ratio"] > 1 else -1)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("shrink", [False, True])
def test_verdicts_follow_the_truth(cohort, shrink: bool) -> None:  # type: ignore[no-untyped-def]
    days, truth = cohort
    summary = TriggerAnalysis().fit(days, shrink=shrink).to_frame()
    true = _true_pairs(truth)
    cravers = {t["patient_id"] for t in truth if t["premonitory"]}
    hits, nulls = [], []
    for r in summary.filter(pl.col("verdict") != "not recorded").iter_rows(named=True):
        key = (r["patient_id"], r["variable"])
        called = r["verdict"] in CALLS
        if key in true:
            hits.append(called and r["direction"] == true[key])
        elif not (r["variable"] == "chocolate_craving" and r["patient_id"] in cravers):
            nulls.append(called)  # every positive verdict counts as a false call
    assert np.mean(hits) > 0.08
    assert np.mean(nulls) <= 0.05


@pytest.mark.slow
def test_every_call_shows_an_interval_that_excludes_one(cohort) -> None:  # type: ignore[no-untyped-def]
    days, _ = cohort
    for shrink in (False, True):
        calls = TriggerAnalysis().fit(days, shrink=shrink).calls()
        assert calls.height > 0
        assert ((calls["ci_low"] > 1) | (calls["ci_high"] < 1)).all()
        # the verdict's direction is the shown estimate's: no "early sign" below 1
        raised = calls.filter(pl.col("verdict") != "likely protector")
        assert (raised["odds_ratio"] > 1).all()
        assert (calls.filter(pl.col("verdict") == "likely protector")["odds_ratio"] < 1).all()
        # the person's own estimate stays beside the shown one
        assert calls["own_odds_ratio"].is_not_null().all()
        if shrink:  # the cohort's pooled estimate sits beside the person's own
            assert calls["pooled_odds_ratio"].is_not_null().any()
        else:
            assert set(calls["called_by"]) == {"own data"}


@pytest.mark.slow
def test_the_cohort_says_how_common_each_form_is(cohort) -> None:  # type: ignore[no-untyped-def]
    days, _ = cohort
    results = TriggerAnalysis().fit(days, shrink=True)
    c = results.cohort
    assert {"variable", "form", "lag", "share_with_effect", "evidence", "chosen"} <= set(c.columns)
    assert c.filter("chosen")["variable"].n_unique() == c["variable"].n_unique()
    # the menstrual window acts in many of the simulated women: the cohort sees it
    window = c.filter((pl.col("variable") == "menstruation") & pl.col("chosen"))
    assert window["share_with_effect"].max() > 0.2


@pytest.mark.slow
def test_premonitory_symptoms_are_not_called_triggers(cohort) -> None:  # type: ignore[no-untyped-def]
    days, truth = cohort
    summary = TriggerAnalysis().fit(days, shrink=False).to_frame()
    cravers = {t["patient_id"] for t in truth if t["premonitory"]}
    craving = summary.filter(pl.col("variable") == "chocolate_craving")
    assert set(craving["verdict"]) <= {
        "possible early attack sign",
        "no association",
        "not enough data",
        "not recorded",
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
    assert any("more attacks are needed" in n for n in rows["power_note"])


def _one_person(days: int = 730, seed: int = 5, **effects: float) -> pl.DataFrame:
    """A day table of one person whose attacks follow ``effects`` (per SD, lag 1) of
    the named variables; everything else is noise. Written here, not by the simulator."""
    rng = np.random.default_rng(seed)
    dates = pl.date_range(
        dt.date(2024, 1, 1), dt.date(2024, 1, 1) + dt.timedelta(days - 1), eager=True
    )
    values = {
        "sleep_hours": rng.normal(7, 1, days).round(1),
        "stress": rng.integers(0, 11, days).astype(float),
        "screen_hours": rng.gamma(4, 1.2, days).round(1),
    }
    eta = np.full(days, -2.6)
    for name, size in effects.items():
        z = (values[name] - values[name].mean()) / values[name].std()
        eta[1:] += size * z[:-1]
    onset = rng.random(days) < 1 / (1 + np.exp(-eta))
    return pl.DataFrame(
        {
            "patient_id": "P1",
            "date": dates,
            "onset": onset,
            "ongoing": np.zeros(days, bool),
            **values,
            "menstruation": [None] * days,
        },
        schema_overrides={"menstruation": pl.String},
    )


def test_screen_time_is_analysed_and_unrecorded_variables_say_so() -> None:
    days = _one_person(screen_hours=0.9)
    rows = TriggerAnalysis().fit(days, shrink=False).to_frame("P1")
    screen = rows.filter(pl.col("variable") == "screen_hours").row(0, named=True)
    assert screen["verdict"] == "likely trigger" and screen["direction"] == 1
    assert screen["ci_low"] > 1
    # sleep and stress are noise here
    noise = rows.filter(pl.col("variable").is_in(["sleep_hours", "stress"]))
    assert set(noise["verdict"]) == {"no association"}
    # a variable never recorded is "not recorded"; nobody recording periods is not
    # asked about the menstrual window at all
    days = days.with_columns(pl.lit(None, pl.Float64).alias("alcohol_units"))
    rows = TriggerAnalysis().fit(days, shrink=False).to_frame("P1")
    alcohol = rows.filter(pl.col("variable") == "alcohol_units")
    assert alcohol["verdict"].to_list() == ["not recorded"]
    assert rows.filter(pl.col("variable") == "menstruation").height == 0
    assert "not recorded: alcohol" in TriggerAnalysis().fit(days, shrink=False).summary("P1")


def test_a_call_is_shown_with_what_else_it_may_be() -> None:
    """A diary shows that two things go together, not why (issue 13): beside any call
    the report names the early sign, the response to a coming attack and the companion
    of the real cause; with no call there is nothing to explain."""
    called = TriggerAnalysis().fit(_one_person(screen_hours=0.9), shrink=False).summary("P1")
    assert "likely trigger" in called
    assert "Each of these may also be:" in called
    assert "early sign of the attack itself" in called and "change together" in called
    quiet = TriggerAnalysis().fit(_one_person(), shrink=False)
    assert quiet.calls("P1").height == 0
    assert "may also be" not in quiet.summary("P1")


def test_less_sleep_is_named_in_the_direction_that_goes_with_attacks() -> None:
    rows = TriggerAnalysis().fit(_one_person(sleep_hours=-0.9, seed=8), shrink=False).to_frame()
    sleep = rows.filter(pl.col("variable") == "sleep_hours").row(0, named=True)
    assert sleep["verdict"] == "likely trigger"
    assert sleep["direction"] == -1 and sleep["odds_ratio"] > 1
    assert sleep["factor"] in ("less sleep", "sleep below your usual", "a fall in sleep")


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
    # the two designs mostly agree on direction for the calls (numeric forms are shown
    # in the direction that goes with attacks; the case-crossover keeps "more of it")
    agree = [
        (r["case_crossover_or"] > 1)
        == (r["form"] not in ("per_sd", "change") or r["direction"] > 0 or r["form"] == "low")
        for r in called.iter_rows(named=True)
    ]
    assert np.mean(agree) >= 0.7


def test_bh_within_groups_equals_statsmodels_per_group_and_weights_favour_the_weighted() -> None:
    """The per-person Benjamini-Hochberg step, vectorised over people, equals
    statsmodels' on each person's p-values; with weights it is BH on p / w (weights
    averaging 1 within the person)."""
    from statsmodels.stats.multitest import multipletests

    from painlink.analysis.multiplicity import bh_within

    def weighted_bh(p: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The reference: statsmodels' BH on p / w, weights scaled to average 1."""
        return multipletests(np.minimum(p / (w / w.mean()), 1.0), method="fdr_bh")[1]

    rng = np.random.default_rng(4)
    sizes = rng.integers(1, 14, 40)
    frame = pl.DataFrame(
        {
            "pid": np.repeat([f"P{i}" for i in range(sizes.size)], sizes),
            "p": rng.random(int(sizes.sum())) ** 3,
            "w": rng.uniform(0.2, 3.0, int(sizes.sum())),
        }
    ).sample(fraction=1.0, shuffle=True, seed=1)  # rows of one person not together
    q = frame.with_columns(bh_within(frame, "p", "pid").alias("q"))
    qw = frame.with_columns(bh_within(frame, "p", "pid", "w").alias("q"))
    for (_pid,), part in q.group_by(["pid"]):
        assert np.allclose(part["q"], multipletests(part["p"].to_numpy(), method="fdr_bh")[1])
    for (_pid,), part in qw.group_by(["pid"]):
        assert np.allclose(part["q"], weighted_bh(part["p"].to_numpy(), part["w"].to_numpy()))
    # tied p-values share one q, as BH defines it
    tied = pl.DataFrame({"pid": ["a"] * 5, "p": [0.01, 0.02, 0.02, 0.04, 0.5]})
    expected = multipletests(tied["p"].to_numpy(), method="fdr_bh")[1]
    assert np.allclose(bh_within(tied, "p", "pid"), expected)
    assert np.allclose(bh_within(tied[[0, 2, 1, 4, 3]], "p", "pid"), expected[[0, 2, 1, 4, 3]])
    # a weight of 2 on the smallest p halves its share of the procedure
    p = np.array([0.004, 0.5, 0.6, 0.7])
    up, down = np.array([2.0, 0.67, 0.67, 0.66]), np.array([0.5, 1.17, 1.17, 1.16])
    one = pl.DataFrame({"pid": ["a"] * 4, "p": p})
    favoured = bh_within(one.with_columns(w=up), "p", "pid", "w")[0]
    disfavoured = bh_within(one.with_columns(w=down), "p", "pid", "w")[0]
    assert favoured < _bh(p)[0] < disfavoured


@pytest.mark.parametrize("history", [1, 3])
@pytest.mark.parametrize("adjust", [False, True])
@pytest.mark.parametrize(
    "variable,form,lag",
    [("stress", "per_sd", 1), ("alcohol_units", "present", 2), ("pressure_hpa", "change", 0)],
)
def test_a_patients_estimate_equals_statsmodels_on_the_same_design(
    variable, form, lag, adjust, history
) -> None:  # type: ignore[no-untyped-def]
    """The batched fit of one simulated patient's candidate equals statsmodels' Logit on
    a design rebuilt here from the day table (weekend, days since the last onset, the
    recent attack rate, the days after an attack, the menstrual window, one cosine of
    diary time per 90 days; with ``adjust``, the check of a call, also each of the
    person's other variables that day, standardised; with ``history`` 3, inside an
    attack 2 and 3 days before too)."""
    from painlink.analysis.attack_response import attack_changes
    from painlink.analysis.companion_design import CHECKED_FORMS
    from painlink.analysis.trigger_fit import person_estimates
    from painlink.days.candidates import candidate_columns
    from painlink.rules.triggers import SAME_DAY, TriggerSettings

    parts = list(simulate(SimulationSpec(patients=3, days=400, seed=31)))
    days = build_day_table(DiaryFrames.concat(p[0] for p in parts))
    # the model's own standard error (no allowance for serial dependence: that part is
    # checked on its own in tests/test_serial_dependence.py)
    s = TriggerSettings(
        prior_sd=None,  # type: ignore[arg-type]
        serial_lag_share=0,
        companions=True,
        attack_history_days=history,
    )
    frame, candidates, _ = candidate_columns(days, s)
    est = person_estimates(frame, candidates, s, adjust=adjust)
    pid = "SIM000002"
    row = est.filter(
        (pl.col("patient_id") == pid)
        & (pl.col("variable") == variable)
        & (pl.col("form") == form)
        & (pl.col("lag") == lag)
    ).row(0, named=True)
    if not row["enough_data"]:
        pytest.skip("this patient cannot test that form")
    one = frame.filter(pl.col("patient_id") == pid).sort("date")
    onset = one["onset"].cast(pl.Float64).to_numpy()
    inside = (one["onset"] | one["ongoing"]).cast(pl.Float64).to_numpy()
    x = one[f"x_{variable}__{form}"].cast(pl.Float64).to_numpy()
    x = np.r_[np.full(lag, np.nan), x[: len(x) - lag]] if lag else x
    last = None
    since = []
    start = one["date"][0]
    for d, o in zip(one["date"], onset, strict=True):
        since.append(np.log1p(min(max(((d - (last or start)).days), 0), 60)))
        if o:
            last = d
    recent = np.log(np.array([onset[max(0, i - 28) : i].sum() for i in range(len(onset))]) + 0.5)
    window = [c for c in frame.columns if c.endswith("__window")]
    menstrual = np.nan_to_num(one[window[0]].cast(pl.Float64).to_numpy()) if window else 0 * onset
    t = np.array([(d - start).days for d in one["date"]], dtype=float)
    span = t[-1] + 1
    waves = [np.cos(np.pi * k * (t + 0.5) / span) for k in range(1, int(span // 90) + 1)]
    assert len(waves) == 4  # 400 days
    X = np.column_stack(
        [
            np.ones(len(onset)),
            x,
            (one["date"].dt.weekday() >= 6).cast(pl.Float64).to_numpy(),
            np.array(since),
            menstrual,
            recent,
            # inside an attack 1, 2, … days before (TriggerSettings.attack_history_days)
            *(np.r_[np.zeros(k), inside[:-k]] for k in range(1, s.attack_history_days + 1)),
            *waves,
        ]
    )
    keep = ~one["ongoing"].to_numpy() & ~np.isnan(x)
    # the companions: every other variable's first column in CHECKED_FORMS' order (not the
    # menstrual or pill-free one), standardised over the person's recorded days, at the
    # candidate's lag; on the same day only where attacks do not move it
    others = []
    for other in sorted({c.variable for c in candidates} - {variable}):
        forms = [c.form for c in candidates if c.variable == other]
        first = next(f for f in CHECKED_FORMS if f in forms)
        if first in ("window", "pill_free"):
            continue
        v = one[f"x_{other}__{first}"].cast(pl.Float64).to_numpy()
        if lag == 0 and other not in SAME_DAY:
            moved, _ = attack_changes(v[None], one["ongoing"].to_numpy()[None], s.reverse_alpha)
            if moved[0]:
                continue
        if np.isnan(v).all() or not np.nanstd(v) > 0:
            continue  # never recorded, or never varies: nothing to adjust for
        z = np.nan_to_num((v - np.nanmean(v)) / np.nanstd(v))
        others.append(np.r_[np.zeros(lag), z[: len(z) - lag]] if lag else z)
    assert len(others) >= 3
    if adjust:
        X = np.column_stack([X, *others])
    ref = sm.Logit(onset[keep], X[keep]).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    assert abs(row["log_or"] - ref.params[1]) < 1e-6
    assert abs(row["se"] - ref.bse[1]) < 1e-6


def test_a_daily_amount_is_checked_for_the_attacks_response_on_its_amounts() -> None:
    """Coffee every day makes "any caffeine" constant: the check of whether attacks
    change a variable (which decides if the same day may be tried) must use the
    amounts. Attacks here do not change caffeine; they raise sleep by 2 h on attack
    days. Caffeine is tried at lag 0 and sleep is not."""
    from painlink.analysis.attack_response import attack_changes

    rng = np.random.default_rng(8)
    days = 365
    ongoing = rng.random((1, days)) < 0.15
    caffeine = rng.normal(200, 60, (1, days)).clip(20)
    present = np.ones((1, days))
    sleep = rng.normal(7, 0.7, (1, days)) + 2.0 * ongoing
    changed_amount, t_amount = attack_changes(caffeine, ongoing, 0.10)
    changed_present, t_present = attack_changes(present, ongoing, 0.10)
    changed_sleep, t_sleep = attack_changes(sleep, ongoing, 0.10)
    assert not changed_amount[0] and abs(t_amount[0]) < 2.5
    assert changed_present[0] and np.isnan(t_present[0])  # constant: nobody can tell
    assert changed_sleep[0] and t_sleep[0] > 5


def _attacks_with_a_painkiller(
    seed: int, people: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Onsets (one-day attacks, a few lasting into a second day) drawn from a same-day
    cause, and caffeine two ways: the person's habit alone, and the habit plus a
    painkiller with 130 mg of caffeine taken on the onset day and, half the time, the
    next day (as in the fourth generator's story l)."""
    rng = np.random.default_rng(seed)
    habit = rng.normal(200, 60, (people, days)).clip(0)
    cause = rng.normal(0, 1, (people, days))
    onset = rng.random((people, days)) < 1 / (1 + np.exp(-(-2.3 + 0.8 * cause)))
    ongoing = np.zeros_like(onset)
    ongoing[:, 1:] = onset[:, :-1] & (rng.random((people, days - 1)) < 0.3)
    onset &= ~ongoing
    again = np.zeros_like(onset)  # the next day, inside the attack or after it
    again[:, 1:] = onset[:, :-1] & (rng.random((people, days - 1)) < 0.5)
    tablets = 130.0 * (onset | again)
    return onset, ongoing, habit, habit + tablets


def test_a_response_on_the_onset_day_and_the_day_after_keeps_the_same_day_untried() -> None:
    """A caffeine-containing painkiller taken on the onset day and the day after makes
    caffeine go with attacks on the same day without causing them. The check on days
    inside an attack alone lets about half of such people be tried at lag 0 (the day
    before, the onset day, holds a painkiller too); the check that also
    looks at the day after an attack, with onset days left out, stops nearly all of
    them — and still lets through most people whose caffeine is only their habit."""
    from painlink.analysis.attack_response import attack_changes, moves_after_onset

    onset, ongoing, habit, with_tablets = _attacks_with_a_painkiller(5, 200, 365)
    inside_only, _ = attack_changes(with_tablets, ongoing, 0.10)
    both = inside_only | moves_after_onset(with_tablets, onset, ongoing, 0.10)
    assert both.mean() > 0.9 > inside_only.mean() + 0.3
    habit_only = attack_changes(habit, ongoing, 0.10)[0] | moves_after_onset(
        habit, onset, ongoing, 0.10
    )
    assert habit_only.mean() < 0.35  # about 2 × alpha, and those with < 3 days to check
    # fewer than 3 days after onsets recorded: nobody can tell
    sparse = np.zeros((1, 40), bool)
    sparse[0, 10] = True
    assert moves_after_onset(np.arange(40.0)[None], sparse, np.zeros_like(sparse), 0.10)[0]


@pytest.mark.slow
def test_a_persons_own_diary_never_sets_the_weights_of_their_own_forms(cohort) -> None:  # type: ignore[no-untyped-def]
    """Cross-fitting: a person's forms × lags are weighted by the other half of the
    cohort, so scrambling one person's attack days leaves their own weights exactly as
    they were (their test stays valid), while their own estimates change."""
    days, _ = cohort
    people = days["patient_id"].unique(maintain_order=True).to_list()[:60]
    days = days.filter(pl.col("patient_id").is_in(people))
    someone = people[7]
    rng = np.random.default_rng(3)
    mine = days.filter(pl.col("patient_id") == someone)
    order = rng.permutation(mine.height)
    scrambled = mine.with_columns(
        pl.Series("onset", mine["onset"].to_numpy()[order]),
        pl.Series("ongoing", mine["ongoing"].to_numpy()[order]),
    )
    other = pl.concat([days.filter(pl.col("patient_id") != someone), scrambled])
    before = TriggerAnalysis().fit(days, shrink=True).estimates
    after = TriggerAnalysis().fit(other, shrink=True).estimates

    def rows(e: pl.DataFrame) -> pl.DataFrame:
        return e.filter(pl.col("patient_id") == someone).sort("variable", "form", "lag")

    assert np.array_equal(rows(before)["form_weight"], rows(after)["form_weight"])
    assert not rows(before)["log_or"].equals(rows(after)["log_or"])
    assert before["form_weight"].n_unique() > 3  # the cohort does weigh forms differently


def test_the_cohorts_variable_weights_come_from_the_other_half() -> None:
    """The weighted Benjamini-Hochberg step stays valid only if a person's variable
    weights do not depend on their own p-values: changing one person's p leaves their
    weights as they were (and changes others' in the other half only)."""
    from painlink.analysis.trigger_verdicts import cohort_route, half_of
    from painlink.rules.triggers import TriggerSettings

    rng = np.random.default_rng(6)
    people = [f"P{i:03d}" for i in range(80)]
    rows = []
    for pid in people:
        for variable, acts in (("stress", 0.4), ("alcohol_units", 0.05)):
            z = rng.normal(3.0 if rng.random() < acts else 0.0)
            rows.append(
                {"patient_id": pid, "variable": variable, "form": "per_sd", "log_or": 0.3 * z,
                 "se": 0.3, "p_variable": float(2 * stats.norm.sf(abs(z))), "z_family": 2.6,
                 "called": False, "called_by": "own data"}
            )  # fmt: skip
    best = pl.DataFrame(rows)
    s = TriggerSettings()
    before = cohort_route(best, s)
    someone = people[0]
    changed = best.with_columns(
        pl.when(pl.col("patient_id") == someone)
        .then(1e-9)
        .otherwise(pl.col("p_variable"))
        .alias("p_variable")
    )
    after = cohort_route(changed, s)
    mine = pl.col("patient_id") == someone
    assert before.filter(mine)["variable_weight"].equals(after.filter(mine)["variable_weight"])
    same_half = half_of(before["patient_id"]) == half_of(pl.Series([someone]))[0]
    assert np.allclose(
        before.filter(pl.Series(same_half))["variable_weight"],
        after.filter(pl.Series(same_half))["variable_weight"],
    )
    # the cohort does tell the variables apart: stress acts in more people
    w = before.group_by("variable").agg(pl.col("variable_weight").mean())
    weights = dict(zip(w["variable"], w["variable_weight"], strict=True))
    assert weights["stress"] > 2 * weights["alcohol_units"]


def test_no_association_says_when_the_same_day_was_not_looked_at() -> None:
    """Attacks that never last into a second day leave nothing to show whether they
    change a variable on their day, so its same day is not tried; "no association"
    must then say it looked at the days before only — in the frame, the text and the
    web page. Two-day attacks show stress unmoved inside them: its same day is tried."""
    rng = np.random.default_rng(3)
    days, frames = 240, []
    start = dt.date(2025, 1, 1)
    dates = pl.date_range(start, start + dt.timedelta(days - 1), eager=True)
    for i in range(40):
        onset = rng.random(days) < 0.12
        onset[1:] &= ~onset[:-1]
        two_day = i % 2 == 1
        ongoing = np.r_[False, onset[:-1]] if two_day else np.zeros(days, bool)
        onset &= ~ongoing
        frames.append(
            day_frame(f"P{i:02d}", dates, onset, ongoing, stress=np.round(rng.uniform(0, 10, days)))
        )
    results = TriggerAnalysis().fit(pl.concat(frames), shrink=False)
    stress = results.to_frame().filter(pl.col("variable") == "stress")
    one_day = stress.filter(pl.col("patient_id").str.slice(1).cast(pl.Int64) % 2 == 0)
    two_day = stress.filter(pl.col("patient_id").str.slice(1).cast(pl.Int64) % 2 == 1)
    assert not one_day["same_day_checked"].any()
    assert two_day["same_day_checked"].mean() >= 0.8  # type: ignore[operator]
    quiet = one_day.filter(pl.col("verdict") == "no association")["patient_id"][0]
    text = results.summary(quiet)
    assert "only the days before were tried" in text and "stress" in text.split("tried")[-1]
    tried = two_day.filter(pl.col("same_day_checked") & (pl.col("verdict") == "no association"))
    assert "only the days before" not in results.summary(tried["patient_id"][0])
