"""Treatment outcomes: the rate ratio is the ratio of rates, intervals widen with drift."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from painlink.analysis.outcomes import blocks, fit_rate_ratio, treatment_outcomes, weekly_counts
from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def _days(
    rate_before: float, rate_after: float, n_before: int = 120, n_after: int = 180, seed: int = 1
):
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 1)
    dates = [start + dt.timedelta(days=i) for i in range(n_before + n_after)]
    onset = np.r_[rng.random(n_before) < rate_before, rng.random(n_after) < rate_after]
    frame = pl.DataFrame({"patient_id": "p", "date": dates, "onset": onset, "logged": True})
    return frame, start + dt.timedelta(days=n_before)


def test_rate_ratio_is_the_ratio_of_rates_and_equals_statsmodels() -> None:
    days, start = _days(0.2, 0.1)
    weeks = weekly_counts(days, "onset", start)
    b, se, p, df = fit_rate_ratio(weeks)
    before = weeks.filter(pl.col("treated") == 0)
    after = weeks.filter(pl.col("treated") == 1)
    ratio = (after["y"].sum() / after["days"].sum()) / (before["y"].sum() / before["days"].sum())
    assert math.exp(b) == pytest.approx(ratio, rel=1e-9)
    blk = blocks(weeks)
    ref = sm.GLM(
        blk["y"].to_numpy(),
        sm.add_constant(blk["treated"].to_numpy()),
        family=sm.families.Poisson(),
        offset=np.log(blk["days"].to_numpy()),
    ).fit(scale="X2")
    assert abs(ref.params[1] - b) < 1e-6
    assert (
        se >= ref.bse[1] * math.sqrt(1 / max(ref.scale, 1e-9)) - 1e-12
    )  # never narrower than Poisson
    assert 0 < p < 1 and df == blk.height - 2


def test_outcomes_table_has_intervals_responders_and_the_caveat() -> None:
    parts = list(simulate(SimulationSpec(patients=60, days=365, seed=8)))
    diary = DiaryFrames.concat(p[0] for p in parts)
    truth = {t["patient_id"]: t for p in parts for t in p[1]}
    out = treatment_outcomes(build_day_table(diary), diary.treatments, diary.attacks)
    attacks = out.filter(pl.col("endpoint") == "attacks")
    assert attacks.height == diary.treatments.height
    assert (attacks["ci_low"] <= attacks["rate_ratio"]).all() and (
        attacks["rate_ratio"] <= attacks["ci_high"]
    ).all()
    assert attacks["note"].str.contains("uncontrolled").all()
    strong = [
        r
        for r in attacks.iter_rows(named=True)
        if truth[r["patient_id"]]["treatment"]["rate_ratio"] == 0.5
    ]
    assert np.median([r["rate_ratio"] for r in strong]) < 0.7
    assert set(out["endpoint"]) >= {"attacks", "headache_days", "acute_medication_days"}
    assert {"mean_duration_h_before", "p_reduction_50", "its_level_change"} <= set(out.columns)


def test_short_baseline_is_not_enough_data() -> None:
    days, start = _days(0.2, 0.1, n_before=20)
    treatments = pl.DataFrame(
        {"patient_id": ["p"], "name": ["x"], "kind": ["other"], "start": [start], "end": [None]},
        schema_overrides={"end": pl.Date},
    )
    days = days.with_columns(
        pl.lit(False).alias("headache_day"), pl.lit(False).alias("acute_med_day")
    )
    out = treatment_outcomes(days, treatments)
    assert out["verdict"].to_list() == ["not enough data"]
    assert "≥28 days before" in out["note"][0]


def _ndi(pid: str, day: str, value: int) -> list[dict]:
    return [
        {
            "patient_id": pid,
            "completed_on": dt.date.fromisoformat(day),
            "instrument": "ndi",
            "item": f"ndi-{i}",
            "value": float(value),
        }
        for i in range(1, 11)
    ]


def test_questionnaire_scores_before_and_during_a_treatment() -> None:
    from painlink.analysis.questionnaire_outcomes import questionnaire_outcomes

    items = pl.DataFrame(
        _ndi("a", "2025-01-02", 3)  # 30 points, too early: superseded by the next
        + _ndi("a", "2025-02-28", 2)  # 20: the baseline, the latest on or before the start
        + _ndi("a", "2025-03-05", 0)  # 5 days in: too early to judge
        + _ndi("a", "2025-05-20", 1)  # 10: follow-up, 20 days after the end
        + _ndi("a", "2025-09-01", 0)  # long after: not this treatment's
        + _ndi("b", "2025-04-01", 2)  # only during: not enough data
    )
    treatments = pl.DataFrame(
        {
            "patient_id": ["a", "b"],
            "name": ["manual therapy", "manual therapy"],
            "kind": ["manual_therapy", "manual_therapy"],
            "start": [dt.date(2025, 3, 1)] * 2,
            "end": [dt.date(2025, 4, 30)] * 2,
        }
    )
    out = questionnaire_outcomes(items, treatments).sort("patient_id")
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert (a["before_score"], a["during_score"], a["score_change"]) == (20.0, 10.0, -10.0)
    assert a["before_on"] == dt.date(2025, 2, 28) and a["during_on"] == dt.date(2025, 5, 20)
    assert a["verdict"] == "improved by at least the minimal clinically important change"
    assert b["verdict"] == "not enough data" and "before the start" in b["note"]
    # a change under the NDI's important change (5 points) is not called a change
    items2 = pl.DataFrame(
        _ndi("a", "2025-02-28", 2)
        + [{**r, "value": 2.0 if r["item"] != "ndi-1" else 0.0} for r in _ndi("a", "2025-04-01", 0)]
    )
    row = questionnaire_outcomes(items2, treatments.head(1)).row(0, named=True)
    assert row["score_change"] == -2.0 and row["verdict"].startswith("change within")


def test_stored_questionnaires_reach_the_report() -> None:
    from painlink.analysis.report import analyze

    parts = list(simulate(SimulationSpec(patients=1, days=365, seed=3)))
    diary = parts[0][0]
    t = diary.treatments.row(0, named=True)
    before = (t["start"] - dt.timedelta(days=3)).isoformat()
    during = (t["start"] + dt.timedelta(days=40)).isoformat()
    pid = t["patient_id"]
    diary = DiaryFrames.from_tables(
        **{name: frame for name, frame in diary.items() if name != "questionnaire_items"},
        questionnaire_items=pl.DataFrame(_ndi(pid, before, 3) + _ndi(pid, during, 2)),
    )
    report = analyze(diary)
    assert report.outcomes.table.filter(pl.col("endpoint") == "ndi")["score_change"].to_list() == [
        -10.0
    ]
    assert "Neck Disability Index (NDI): 30 (" in report.text(pid)


def test_regression_to_the_mean_warning_follows_a_falling_baseline() -> None:
    from painlink.analysis.outcomes import _falling_before

    def history(falling: bool, seed: int) -> tuple[pl.DataFrame, dt.date]:
        rng = np.random.default_rng(seed)
        n = 168
        rate = np.linspace(0.40, 0.08, n) if falling else np.full(n, 0.2)
        start = dt.date(2025, 1, 1)
        dates = [start + dt.timedelta(days=i) for i in range(n)]
        onset = rng.random(n) < rate
        return pl.DataFrame({"patient_id": "p", "date": dates, "onset": onset}), dates[-1]

    falling = [_falling_before(*history(True, s)) for s in range(40)]
    flat = [_falling_before(*history(False, s)) for s in range(40)]
    assert np.mean([w for w, _, _ in falling]) >= 0.6  # power is 70% here, not more
    assert np.mean([w for w, _, _ in flat]) <= 0.15
    _, per_28d, p = falling[0]
    assert per_28d < 1 and 0 <= p < 1


def test_welch_change_equals_statsmodels_on_varied_data() -> None:
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    from painlink.analysis.outcomes import welch_change

    rng = np.random.default_rng(5)
    for n_b, n_d, sd_b, sd_d, shift in [(5, 5, 1, 1, 0), (40, 7, 0.3, 2, -1), (12, 90, 3, 0.5, 2)]:
        b, d = rng.normal(0, sd_b, n_b), rng.normal(shift, sd_d, n_d)
        est, low, high, p = welch_change(b, d)
        ref = CompareMeans(DescrStatsW(d), DescrStatsW(b))
        ref_low, ref_high = ref.tconfint_diff(usevar="unequal")
        assert est == pytest.approx(d.mean() - b.mean(), abs=1e-12)
        assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-9)
        assert p == pytest.approx(ref.ttest_ind(usevar="unequal")[1], abs=1e-9)


def _attacks(hours_before: list[float], hours_during: list[float], start: dt.date) -> pl.DataFrame:
    rows = []
    for i, h in enumerate(hours_before):  # intensity 2, 3, 2, 3, …: mean 2.5
        on = dt.datetime.combine(start, dt.time(8)) - dt.timedelta(days=3 * (i + 1))
        rows.append((on, h, 2 + i % 2))
    for i, h in enumerate(hours_during):  # 1, 2, 1, 2, …: mean 1.5
        on = dt.datetime.combine(start, dt.time(8)) + dt.timedelta(days=3 * i + 1)
        rows.append((on, h, 1 + i % 2))
    return pl.DataFrame(
        {
            "patient_id": "p",
            "attack_id": [f"a{i}" for i in range(len(rows))],
            "start": [r[0] for r in rows],
            "end": [r[0] + dt.timedelta(hours=r[1]) for r in rows],
            "intensity": [r[2] for r in rows],
        }
    )


def test_attack_duration_and_intensity_are_compared_with_intervals() -> None:
    from painlink.analysis.outcomes import _attack_periods, attack_changes

    start = dt.date(2025, 6, 1)
    rng = np.random.default_rng(2)
    before = list(np.exp(rng.normal(np.log(24), 0.4, 20)))
    during = list(np.exp(rng.normal(np.log(12), 0.4, 20)))
    attacks = _attacks(before, during, start)
    # an attack long before the baseline window is not part of the comparison
    old = attacks.head(1).with_columns(
        pl.lit("old").alias("attack_id"),
        pl.lit(dt.datetime(2024, 1, 1, 8)).alias("start"),
        pl.lit(dt.datetime(2024, 1, 20, 8)).alias("end"),
    )
    periods = _attack_periods(pl.concat([attacks, old]), start - dt.timedelta(days=90), start, None)
    changes = {c.endpoint: c for c in attack_changes(*periods)}
    duration, intensity = changes["attack_duration"], changes["attack_intensity"]
    assert duration.n_before == 20 and duration.n_during == 20
    expected = math.exp(np.mean(np.log(during)) - np.mean(np.log(before)))
    assert duration.estimate == pytest.approx(expected, rel=1e-9)
    assert duration.ci_low < duration.estimate < duration.ci_high < 1
    assert intensity.estimate == pytest.approx(-1.0) and intensity.ci_high < 0
    # too few attacks on one side: no comparison, rather than an interval from 3 attacks
    few = _attacks(before, during[:4], start)
    assert attack_changes(*_attack_periods(few, start - dt.timedelta(days=90), start, None)) == []


def test_attack_duration_interval_covers_no_change_about_95_percent() -> None:
    from painlink.analysis.outcomes import welch_change

    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(2000):
        b = rng.normal(np.log(10), 0.7, rng.integers(5, 30))
        d = rng.normal(np.log(10), 0.5, rng.integers(5, 30))
        _, low, high, _ = welch_change(b, d)
        covered += low <= 0 <= high
    assert 0.935 <= covered / 2000 <= 0.965


def test_treatment_outcomes_carry_duration_and_intensity_rows() -> None:
    parts = list(simulate(SimulationSpec(patients=20, days=365, seed=8)))
    diary = DiaryFrames.concat(p[0] for p in parts)
    out = treatment_outcomes(build_day_table(diary), diary.treatments, diary.attacks)
    rows = out.filter(pl.col("endpoint").is_in(["attack_duration", "attack_intensity"]))
    assert rows.height > 0
    assert (rows["change_low"] <= rows["change"]).all() and (
        rows["change"] <= rows["change_high"]
    ).all()
    assert (rows["attacks_before"] >= 5).all() and (rows["attacks_during"] >= 5).all()
    assert set(rows["verdict"]) <= {
        "shorter during treatment",
        "longer during treatment",
        "milder during treatment",
        "more severe during treatment",
        "no clear change",
    }


def test_a_change_two_single_scores_can_show_by_chance_is_not_called_a_change() -> None:
    """HIT-6: one score's 95% error is ±5 (Kosinski 2003), so two scores differ by up to
    ±7.1 by chance; a 6-point fall reaches the important change but is said to be within
    that error. NDI: SEM 2 (Stratford 1999) → ±5.5 for a change of two scores."""
    from painlink.analysis.questionnaire_outcomes import _verdict

    assert _verdict("hit6", 60, 54) == (
        "improved by the within-person important change (conservative) [unverified], "
        "but within the measurement error of two single scores (±7.1)"
    )
    assert _verdict("hit6", 60, 52).startswith("improved by at least")
    assert _verdict("hit6", 52, 60).startswith("worse by at least")
    assert "measurement error" in _verdict("hit6", 52, 59)  # +7 < 7.07
    assert _verdict("hit6", 60, 56).startswith("change within")
    assert "measurement error" in _verdict("ndi", 20, 15)
    assert _verdict("ndi", 20, 14).startswith("improved by at least")
    # ODI's threshold is already its minimal detectable change: no second bar
    assert _verdict("odi", 40, 30).startswith("improved by at least")
