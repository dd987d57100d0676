"""Treatment outcomes: the rate ratio is the ratio of rates, intervals widen with drift."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from painlink.analysis.day_table import build_day_table
from painlink.analysis.outcomes import blocks, fit_rate_ratio, treatment_outcomes, weekly_counts
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import SimulationSpec, simulate


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
