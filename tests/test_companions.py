"""Companions: a variable written from the real causes is not a trigger of its own.

Each call is fitted again beside the person's other variables on the same day of its
lag (``TriggerSettings.companions``, :mod:`painlink.analysis.companions`). Sleep
quality written from last night's sleep and the day's stress goes with attacks wherever
stress acts; beside stress and sleep it has nothing left to explain, and its call is
withdrawn as "explained by other records"."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from painlink.analysis.companion_design import standardised
from painlink.analysis.triggers import TriggerAnalysis
from painlink.rules.triggers import CALLS, EXPLAINED, TriggerSettings
from tests.day_tables import day_frame, logistic_cohort


def test_standardised_values_and_a_variable_never_recorded() -> None:
    """Each person's values per their own mean and SD; a person who never recorded the
    variable (or never varied it) gets 0 every day: a column that adjusts for nothing."""
    rng = np.random.default_rng(5)
    raw = rng.normal(5, 2, (3, 90))
    raw[0, ::7] = np.nan
    raw[1] = np.nan
    raw[2] = 4.0
    level = standardised(raw)
    ok = ~np.isnan(raw[0])
    assert np.allclose(level[0, ok], (raw[0, ok] - raw[0, ok].mean()) / raw[0, ok].std())
    assert np.all(level[0, ~ok] == 0)
    assert np.all(level[1] == 0) and np.all(level[2] == 0)


def _companion_cohort(seed: int, people: int = 200, days: int = 365) -> pl.DataFrame:
    """Stress and last night's sleep move day to day; for the first half of the people
    a stressful day raises the odds of an attack starting the next day. Sleep quality
    is written from the night's sleep and the day's stress, with noise of its own, and
    does nothing."""
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 6)
    dates = pl.date_range(start, start + dt.timedelta(days - 1), eager=True)

    def person(i: int) -> tuple[np.ndarray, dict[str, object]]:
        stress = np.clip(np.round(rng.normal(4.5, 1.8, days)), 0, 10)
        sleep = np.round(rng.normal(7.0, 1.0, days) * 2) / 2
        quality = 6.5 + 0.9 * (sleep - 7.0) - 0.6 * (stress - 4.5) + rng.normal(0, 0.7, days)
        effect = 0.4 * np.r_[0.0, stress[:-1] - 4.5] if i < people // 2 else 0.0
        return np.log(0.12 / 0.88) + effect, {
            "stress": stress,
            "sleep_hours": sleep,
            "sleep_quality": np.clip(np.round(quality), 0, 10),
        }

    return logistic_cohort(rng, people, dates, person)


def _rates(table: pl.DataFrame, settings: TriggerSettings) -> tuple[float, float, pl.DataFrame]:
    """Share of people whose sleep quality is called (it does nothing in anyone), share
    of stress effects found, and the verdicts."""
    calls = {"likely trigger", "likely protector", "possible early attack sign"}
    frame = TriggerAnalysis(settings).fit(table, shrink=False).to_frame()
    called = frame.with_columns(pl.col("verdict").is_in(list(calls)).alias("called"))
    acts = pl.col("patient_id").str.slice(1).cast(pl.Int64) < 100
    quality = called.filter(pl.col("variable") == "sleep_quality")["called"].mean()
    stress = called.filter((pl.col("variable") == "stress") & acts)
    found = (stress["verdict"] == "likely trigger").mean()
    return float(quality), float(found), frame  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_companion_of_the_cause_is_withdrawn_and_the_cause_is_still_found() -> None:
    """Measured at seed 3: sleep quality called in 17.5% of people with the check, 38%
    without; stress effects found 0.90 against 0.97 (the rest of the sleep-quality
    calls keep more than half their size beside stress and sleep: chosen for their
    large estimates, they carry their own luck into the adjusted model too)."""
    table = _companion_cohort(3)
    quality, found, frame = _rates(table, TriggerSettings())
    quality_off, found_off, frame_off = _rates(table, TriggerSettings(companions=False))
    assert quality_off > 0.25, quality_off  # without the check the companion is called
    assert quality <= 0.6 * quality_off, (quality, quality_off)
    assert found >= 0.85 * found_off and found > 0.5, (found, found_off)
    # what was withdrawn says what it moves with and its estimate beside the others
    gone = frame.filter(pl.col("verdict") == EXPLAINED)
    assert gone.height and set(gone["variable"]) <= {"sleep_quality", "sleep_hours", "stress"}
    assert (gone["moves_with"].str.contains("stress|sleep")).all()
    # ... beside them it no longer lies wholly in the call's direction (above 1)
    assert (gone["adjusted_ci_low"] <= 1).all()
    # every call that stays was checked (its adjusted estimate is shown), and no
    # verdict is withdrawn without the check
    kept = frame.filter(pl.col("verdict").is_in(CALLS))
    assert kept["adjusted_odds_ratio"].is_not_null().all()
    # ... in the call's own direction ("less sleep quality" stays "less" beside the
    # others): a kept call's adjusted estimate and its own lie on the same side of 1,
    # unless nothing it moves with holds a call of its own — then the diary cannot tell
    # which of them acts, and the call stays with its adjusted estimate shown (1 of 132
    # at seed 3 since the widening for serial dependence sums to a fifth of the diary:
    # sleep quality 1.66 alone, 0.90 beside stress, whose own test no longer passes)
    same_side = (kept["adjusted_odds_ratio"] > 1) == (kept["own_odds_ratio"] > 1)
    flipped = kept.filter(~same_side)
    assert flipped.height <= 0.02 * kept.height, flipped
    linked = {"sleep_quality", "sleep_hours", "stress"}
    for pid, variable in flipped.select("patient_id", "variable").iter_rows():
        theirs = kept.filter((pl.col("patient_id") == pid) & (pl.col("variable") != variable))
        assert not linked & set(theirs["variable"]), (pid, variable)
    assert (kept["own_odds_ratio"] < 1).any() or (kept["form"] == "per_sd").any()
    assert EXPLAINED not in set(frame_off["verdict"])
    text = TriggerAnalysis().fit(table.filter(pl.col("patient_id") == gone["patient_id"][0]))
    assert "no more than what it moves with" in text.summary()


@pytest.mark.slow
def test_a_near_copy_of_the_cause_is_withdrawn_far_more_often_than_the_cause() -> None:
    """Sleep quality written as a near copy of last night's sleep (r ≈ 0.95), and short
    sleep raising the next day's odds of an attack in everyone. Beside each other the
    cause keeps its size and the copy fades, so the copy is what gets withdrawn (seed
    7: sleep quality in 38 of 60 people, sleep in 11); and whatever is withdrawn is
    withdrawn in favour of a record that kept its call — two copies that both fade
    both stay."""
    rng = np.random.default_rng(7)
    start = dt.date(2025, 1, 6)
    days = 365
    dates = pl.date_range(start, start + dt.timedelta(days - 1), eager=True)

    def person(i: int) -> tuple[np.ndarray, dict[str, object]]:
        sleep = rng.normal(7.0, 1.0, days)
        quality = 6.0 + 1.5 * (sleep - 7.0) + rng.normal(0, 0.5, days)
        stress = np.clip(np.round(rng.normal(4.5, 1.8, days)), 0, 10)
        return np.log(0.12 / 0.88) - 0.7 * np.r_[0.0, sleep[:-1] - 7.0], {
            "sleep_hours": np.round(sleep, 1),
            "sleep_quality": np.clip(np.round(quality, 1), 0, 10),
            "stress": stress,
        }

    table = logistic_cohort(rng, 60, dates, person)
    frame = TriggerAnalysis().fit(table, shrink=False).to_frame()
    gone = frame.filter(pl.col("verdict") == EXPLAINED)
    copies = gone.filter(pl.col("variable") == "sleep_quality").height
    causes = gone.filter(pl.col("variable") == "sleep_hours").height
    assert copies >= 20 and copies >= 3 * causes, (copies, causes)
    named = {"sleep_hours": "sleep", "sleep_quality": "sleep quality", "stress": "stress"}
    for row in gone.iter_rows(named=True):
        mine = frame.filter(pl.col("patient_id") == row["patient_id"])
        kept = mine.filter(pl.col("verdict").is_in(CALLS))["variable"].to_list()
        assert any(named[v] in row["moves_with"].split(", ") for v in kept), row


def test_only_fits_the_named_models_exactly_as_the_full_fit_across_diary_lengths() -> None:
    """``person_estimates(only=…)`` (what the check refits) gives the named models the
    numbers the full fit gives them — unadjusted and adjusted — in a cohort whose
    diaries earn different numbers of seasonal terms (fitted in separate groups), and
    leaves every other model without data."""
    from painlink.analysis.trigger_fit import person_estimates
    from painlink.days.candidates import candidate_columns

    table = _companion_cohort(11, people=4, days=365)
    short = table.filter(pl.col("patient_id") == "P003").head(150)
    table = pl.concat([table.filter(pl.col("patient_id") != "P003"), short])
    s = TriggerSettings()
    frame, candidates, _ = candidate_columns(table, s)
    keys = ["patient_id", "variable", "form", "lag"]
    for adjust in (False, True):
        full = person_estimates(frame, candidates, s, adjust=adjust).filter(pl.col("enough_data"))
        named = pl.concat(
            [
                full.filter(pl.col("patient_id") == "P000").head(3),
                full.filter(pl.col("patient_id") == "P003").tail(2),
            ]
        ).select(keys)
        some = person_estimates(frame, candidates, s, adjust=adjust, only=named)
        fitted = some.filter(pl.col("enough_data"))
        assert fitted.select(keys).sort(keys).equals(named.sort(keys))
        both = fitted.join(full, on=keys, suffix="_full")
        assert np.allclose(both["log_or"], both["log_or_full"], atol=1e-10)
        assert np.allclose(both["se"], both["se_full"], atol=1e-10)


def _pill_cohort(seed: int, people: int = 100, days: int = 365) -> pl.DataFrame:
    """Women on a 21/7 combined pill: the pill-free week triples the odds of an attack
    starting; each week's withdrawal bleed starts on its day 1-4 and lasts 3-5 days, so
    the recorded menstrual window (2 days before to 3 after the first day of bleeding)
    overlaps the pill-free week but does nothing of its own. Stress does nothing."""
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 6)
    dates = pl.date_range(start, start + dt.timedelta(days - 1), eager=True)
    frames = []
    for i in range(people):
        free = (np.arange(days) + rng.integers(28)) % 28 >= 21
        bleed = np.full(days, "none", object)
        for first in np.flatnonzero(free & ~np.r_[False, free[:-1]]):
            b = first + rng.integers(1, 5)
            bleed[b : b + rng.integers(3, 6)] = "medium"
        stress = np.clip(np.round(rng.normal(4.5, 1.8, days)), 0, 10)
        logit = np.log(0.1 / 0.9) + np.log(3.0) * free
        onset = rng.random(days) < 1 / (1 + np.exp(-logit))
        phase = np.where(free, "pill_free", "active").tolist()
        frame = day_frame(f"P{i:03d}", dates, onset, stress=stress, contraceptive_phase=phase)
        frames.append(frame.with_columns(pl.Series("menstruation", bleed.tolist(), pl.String)))
    return pl.concat(frames)


@pytest.mark.slow
def test_the_cycles_two_forms_are_checked_beside_each_other() -> None:
    """The menstrual window and the pill-free week are near copies in a woman on the
    pill; the other models carry the window as a covariate, but these two were never
    checked beside each other, and the window was called in 8-9% of the women it does
    nothing in on the independent simulator (docs/validation.md). Seed 1: without the
    check the window is called in 73 of 100 women, with it in 33 (40 withdrawn in
    favour of the pill-free week); the pill-free week is kept in 78 of the 85 found."""
    table = _pill_cohort(1)
    on = TriggerAnalysis().fit(table, shrink=False).to_frame()
    off = TriggerAnalysis(TriggerSettings(companions=False)).fit(table, shrink=False).to_frame()

    def called(frame: pl.DataFrame, variable: str) -> int:
        mine = frame.filter((pl.col("variable") == variable) & pl.col("verdict").is_in(CALLS))
        return mine.height

    assert called(off, "menstruation") >= 50
    assert called(on, "menstruation") <= 0.6 * called(off, "menstruation")
    assert called(on, "contraceptive_phase") >= 0.85 * called(off, "contraceptive_phase")
    gone = on.filter((pl.col("variable") == "menstruation") & (pl.col("verdict") == EXPLAINED))
    assert gone.height >= 20 and (gone["moves_with"].str.contains("pill-free week")).all()
