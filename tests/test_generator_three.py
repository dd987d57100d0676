"""benchmarks/generator_three.py writes a diary painlink reads and a truth the scorer
takes, and each story flag changes the data the way the story says (small cohorts)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

from generator_three import VARIABLES, Stories, generate  # noqa: E402
from score_calls import score  # noqa: E402

N, D = 80, 150


def _within_corr(x: np.ndarray, y: np.ndarray) -> float:
    """Mean over people of the correlation of x and y across that person's days."""
    out = []
    for a, b in zip(x, y, strict=True):
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() > 10 and a[ok].std() > 0 and b[ok].std() > 0:
            out.append(np.corrcoef(a[ok], b[ok])[0, 1])
    return float(np.mean(out))


def test_the_diary_loads_and_the_truth_scores(tmp_path: Path) -> None:
    from painlink.interop.csv_diary import read_diary_folder

    cohort = generate(12, 60, seed=3, stories="abcdefg")
    diary = read_diary_folder(cohort.write(tmp_path / "diary"))
    assert diary.patients.height == 12
    assert diary.days.height == cohort.days.height
    assert diary.attacks.height == cohort.attacks.height > 0
    assert set(diary.factors["name"].to_list()) == {"chocolate"}
    truth = pl.read_csv(tmp_path / "diary.truth.csv", schema_overrides={"lag": pl.String})
    assert truth.height == 12 * len(VARIABLES)
    calls = pl.DataFrame(
        {
            "patient_id": [truth["patient_id"][0]],
            "variable": ["stress"],
            "verdict": ["likely trigger"],
            "odds_ratio": [2.0],
            "ci_low": [1.2],
            "ci_high": [3.0],
        }
    )
    result = score(calls, truth)
    assert (
        result["null pairs"] == truth.filter(pl.col("recorded") & (pl.col("role") == "none")).height
    )
    assert result["displayed calls"] == 1


def test_time_confounding_gives_null_exposures_the_risk_trend() -> None:
    on, off = generate(N, D, 1, "a"), generate(N, D, 1, "")
    for name, sign in (("screen_hours", 1), ("temperature_c", -1), ("exercise_min", -1)):
        corr = sign * _within_corr(on.latent[f"value:{name}"], on.latent["base_logit"])
        assert corr > 0.3, (name, corr)
        assert abs(_within_corr(off.latent[f"value:{name}"], off.latent["attack"] * 1.0)) < 0.05
    assert np.ptp(off.latent["base_logit"], axis=1).max() == 0  # flat without the story
    truth = on.truth.filter(pl.col("variable").is_in(["screen_hours", "temperature_c"]))
    assert set(truth["role"]) == {"none"}


def test_correlated_exposures_lean_on_the_true_cause() -> None:
    on, off = generate(N, D, 2, "b"), generate(N, D, 2, "")
    caffeine, sleep = "value:caffeine_mg", "sleep_true"
    assert _within_corr(on.latent[caffeine], on.latent[sleep]) < -0.5
    assert abs(_within_corr(off.latent[caffeine], off.latent[sleep])) < 0.1
    drinks = on.latent["drinks"].astype(float)
    assert _within_corr(on.latent["value:screen_hours"], drinks) > 0.3
    assert abs(_within_corr(off.latent["value:screen_hours"], off.latent["drinks"] * 1.0)) < 0.1
    assert _within_corr(on.latent["value:sleep_quality"], on.latent["stress_true"]) < -0.3


def test_reverse_causation_moves_behaviour_after_and_before_attacks() -> None:
    on, off = generate(N, D, 4, "c"), generate(N, D, 4, "")

    def after_ratio(c: object) -> float:
        a = c.latent["attack"]
        day_after = np.zeros_like(a)
        day_after[:, 1:] = a[:, :-1]
        ex = c.latent["value:exercise_min"]
        quiet = ~a & ~day_after
        return ex[day_after & ~a].mean() / ex[quiet].mean()

    assert after_ratio(on) < 0.5
    assert 0.85 < after_ratio(off) < 1.15
    prodrome = on.truth.filter(
        (pl.col("variable") == "chocolate") & (pl.col("role") == "premonitory")
    )["patient_id"]
    rows = np.array([int(p[3:]) for p in prodrome])
    a = on.latent["attack"][rows]
    eve = np.zeros_like(a)
    eve[:, :-1] = a[:, 1:]
    choc = on.latent["value:chocolate"][rows]
    assert choc[eve & ~a].mean() > 2 * choc[~eve & ~a].mean()
    assert set(off.truth["role"]) <= {"none", "trigger"}


def test_autocorrelation_makes_persistent_exposures_and_bursts() -> None:
    on, off = generate(N, D, 5, "d"), generate(N, D, 5, "")

    def lag1(x: np.ndarray) -> float:
        return _within_corr(x[:, 1:], x[:, :-1])

    assert lag1(on.latent["stress_true"]) > 0.75
    assert lag1(off.latent["stress_true"]) < 0.45

    def burst(c: object) -> float:
        a = c.latent["attack"]
        return a[:, 1:][a[:, :-1]].mean() / a.mean()

    assert burst(on) > 1.5
    assert burst(off) < 1.3


def test_shapes_act_outside_any_fixed_family() -> None:
    c = generate(N, D, 6, "e")
    forms = set(c.truth.filter(pl.col("role") == "trigger")["form"])
    assert {"u_shape", "debt3", "after_short_sleep"} <= forms
    u_people = c.truth.filter(
        (pl.col("variable") == "sleep_hours") & (pl.col("form") == "u_shape")
    )["patient_id"]
    rows = np.array([int(p[3:]) for p in u_people])
    sleep, eff = c.latent["sleep_true"][rows], c.latent["effect:sleep"][rows]
    assert eff[sleep > 9.3].min() > 0 and eff[sleep < 5.5].min() > 0
    assert eff[(sleep > 6.2) & (sleep < 8.6)].max() == 0
    alc, short = c.latent["effect:alcohol"], c.latent["sleep_true"] < 6.3
    assert alc[~short].max() == 0 and alc[short].max() > 0
    # short sleep is half of the interaction, so it is a true cause for those people too
    drinkers = c.truth.filter(
        (pl.col("variable") == "alcohol_units") & (pl.col("role") == "trigger")
    )["patient_id"]
    sleep_roles = c.truth.filter(
        (pl.col("variable") == "sleep_hours") & pl.col("patient_id").is_in(drinkers.to_list())
    )["role"]
    assert set(sleep_roles) == {"trigger"}


def test_recording_habits() -> None:
    c = generate(200, D, 7, "f")
    truth = c.truth
    kinds = set(truth["kind"])
    assert {"few", "near_daily", "usual"} <= kinds
    blank = truth.filter(pl.col("recording") == "only_nonzero")["patient_id"]
    days = c.days.filter(pl.col("patient_id").is_in(blank.to_list()))
    assert days["alcohol_units"].drop_nulls().min() > 0
    heaped = truth.filter(pl.col("recording") == "heaped_5_8")["patient_id"].to_list()
    assert set(c.days.filter(pl.col("patient_id").is_in(heaped))["stress"].drop_nulls()) <= {5, 8}
    present = c.latent["present"]
    longest = max(
        max((len(run) for run in "".join("1" if p else "0" for p in row).split("1")), default=0)
        for row in present
    )
    assert longest >= 14
    assert c.days.height < 200 * D
    attacks = c.attacks.group_by("patient_id").len()
    assert attacks["len"].max() > 0.6 * D  # a near-daily person


@pytest.mark.parametrize("stories", ["g", "abcdefg"])
def test_nothing_acting_means_no_trigger_roles(stories: str) -> None:
    c = generate(N, D, 8, stories)
    assert set(c.truth.filter(pl.col("variable") != "neck_pain")["role"]) <= {"none", "premonitory"}
    assert "trigger" not in set(c.truth["role"]) and "protector" not in set(c.truth["role"])
    assert np.abs(c.latent["effect"]).max() == 0


def test_stories_parse_and_same_seed_same_diary() -> None:
    assert Stories.parse("all") == Stories.parse("abcdef")
    assert Stories.parse("ag").letters == "ag"
    with pytest.raises(ValueError):
        Stories.parse("z")
    assert generate(5, 30, 9, "all").days.equals(generate(5, 30, 9, "all").days)


def test_the_oracle_finds_true_doses_and_spares_plain_nulls() -> None:
    from oracle_three import oracle, rates

    plain = rates(oracle(generate(150, 365, 11, "")))
    assert plain["sensitivity (right direction)"] > 0.4
    assert plain["false calls on null pairs"] < 0.05
    nothing = rates(oracle(generate(150, 365, 11, "g")))
    assert nothing["false calls on null pairs"] < 0.05
    assert math.isnan(nothing["sensitivity (right direction)"])
    seasons = rates(oracle(generate(150, 365, 11, "a")))
    assert seasons["false calls by variable"]["temperature_c"] > 0.15  # the shared winter


def test_effect_lag_moves_stress_and_sleep_to_the_row_before() -> None:
    from oracle_three import oracle, rates

    moved = generate(150, 365, 12, "", effect_lag=1)
    lags = set(moved.truth.filter(pl.col("variable").is_in(["stress", "sleep_hours"]))["lag"])
    assert lags == {"1", None}
    same = generate(150, 365, 12, "")
    assert np.array_equal(moved.latent["effect:sleep"][:, 1:], same.latent["effect:sleep"][:, :-1])
    assert rates(oracle(moved))["sensitivity (right direction)"] > 0.4
