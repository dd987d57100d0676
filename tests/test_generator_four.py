"""benchmarks/generator_four.py: each story does what it says on the latent arrays, the
truth is in score_calls' contract and the written folder is a diary painlink reads
(small cohorts, a few seconds in all)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

from generator_four import VARIABLES, Cohort, generate  # noqa: E402

N, D = 150, 240


@pytest.fixture(scope="module")
def cohorts() -> dict[str, Cohort]:
    return {s: generate(N, D, 3, s) for s in ("", "h", "i", "j", "k", "l", "m", "hijklmn")}


def _rate(onset: np.ndarray, mask: np.ndarray) -> float:
    return float(onset[mask].mean())


def test_truth_contract_and_base_world(cohorts: dict[str, Cohort]) -> None:
    c = cohorts[""]
    t = c.truth
    assert t.columns == ["patient_id", "variable", "recorded", "role", "form", "lag", "true_log_or"]
    assert t.height == N * len(VARIABLES)
    assert t["lag"].dtype == pl.String
    body = t.filter(~pl.col("variable").is_in(["neck_pain", "low_back_pain"]))
    assert set(body["role"]) <= {"trigger", "protector", "none"}
    spine = t.filter(pl.col("variable").is_in(["neck_pain", "low_back_pain"]))
    assert set(spine["role"]) <= {"cause", "symptom", "none"}
    per_person = body.filter(pl.col("role") != "none").group_by("patient_id").len()["len"]
    assert per_person.min() >= 1 and per_person.max() <= 3
    ors = np.exp(np.abs(t.filter(pl.col("role") != "none")["true_log_or"].to_numpy()))
    ors = ors[ors > 1]
    assert ors.min() >= 1.5 - 1e-9 and ors.max() <= 3 + 1e-9
    months = c.latent["window"].sum() / 30.4
    assert 2.0 <= c.attacks.height / months <= 7.0
    assert "menstruation" not in c.days.columns  # nobody records periods


def test_folder_reads_back(cohorts: dict[str, Cohort], tmp_path: Path) -> None:
    from painlink.interop.csv_diary import read_diary_folder

    folder = cohorts["hijklmn"].write(tmp_path / "diary")
    assert (tmp_path / "truth.csv").exists()
    read_diary_folder(folder)  # raises on any cell the format refuses


def test_h_one_calendar(cohorts: dict[str, Cohort]) -> None:
    c, lat = cohorts["h"], cohorts["h"].latent
    firsts = c.days.group_by("patient_id").agg(pl.col("date").min())["date"].unique()
    assert firsts.len() <= 3  # 2025-01-01, unless that day's check-in was skipped
    pressure = lat["pressure_hpa"]
    assert np.allclose(pressure, pressure[0])  # one city's weather
    hol, behaves = lat["holiday"], lat["holiday_behaves"]
    assert lat["alcohol_units"][hol & behaves].mean() > 1.5 * lat["alcohol_units"][~hol].mean()
    assert lat["stress"][hol & behaves].mean() < lat["stress"][~hol].mean() - 0.5
    risky = lat["hidden_log_or"] > 0
    assert risky.any() and (risky <= hol).all()
    assert _rate(lat["onset"], risky) > 1.3 * _rate(lat["onset"], ~hol)
    drop = c.truth.filter((pl.col("variable") == "pressure_hpa") & (pl.col("role") != "none"))
    assert 0.1 * N < drop.height < 0.4 * N and set(drop["form"]) == {"drop"}


def test_i_the_week(cohorts: dict[str, Cohort]) -> None:
    c, lat = cohorts["i"], cohorts["i"].latent
    weekend = lat["dow"] >= 5
    assert lat["stress"][~weekend].mean() > lat["stress"][weekend].mean() + 1.0
    assert lat["sleep_hours"][weekend].mean() > lat["sleep_hours"][~weekend].mean() + 0.8
    assert lat["caffeine_diet"][weekend].mean() < 0.8 * lat["caffeine_diet"][~weekend].mean()
    let_down = np.isin(lat["weekly_shape"], ["weekend", "both"])
    saturday, wednesday = let_down & (lat["dow"] == 5), let_down & (lat["dow"] == 2)
    assert (lat["hidden_log_or"][saturday] > 0).all()
    assert _rate(lat["onset"], saturday) > 1.2 * _rate(lat["onset"], wednesday)
    drop = c.truth.filter((pl.col("variable") == "caffeine_mg") & (pl.col("form") == "drop"))
    assert drop.height > 0 and set(drop["role"]) == {"trigger"}


def test_j_unrecorded_cycle(cohorts: dict[str, Cohort]) -> None:
    c, base, lat = cohorts["j"], cohorts[""], cohorts["j"].latent
    window, mm = lat["menstrual_window"], lat["menstrual_migraine"]
    assert _rate(lat["onset"], window & mm) > 1.5 * _rate(lat["onset"], ~window & mm)
    cycling = lat["cycling"]
    assert (
        lat["sleep_quality"][window].mean() < lat["sleep_quality"][cycling & ~window].mean() - 0.3
    )
    pre = lat["premenstrual"]
    assert lat["stress"][pre].mean() > lat["stress"][cycling & ~pre].mean() + 0.4
    assert lat["skipped_meals"][pre].mean() > lat["skipped_meals"][cycling & ~pre].mean()
    # the cycle moves variables but gives nobody a new effect: the truth is the base's
    assert c.truth.equals(base.truth)


def test_k_recording_errors(cohorts: dict[str, Cohort]) -> None:
    c, lat = cohorts["k"], cohorts["k"].latent
    sleep = c.days["sleep_hours"].drop_nulls()
    assert (sleep >= 15).sum() > 0 and sleep.max() <= 24
    assert c.days["caffeine_mg"].max() <= 5000
    assert c.days.height < cohorts[""].days.height * 0.97  # long gaps
    late = lat["late_entry"]
    assert late.any()
    assert lat["rec_onset"].sum() < lat["onset"][lat["window"]].sum()  # gaps lose some
    # zeros written for blanks land more on attack days, where people skip questions
    stress, attack = lat["rec_stress"], lat["onset"] | lat["inside"]
    zero = stress == 0
    assert zero[attack].mean() > 1.5 * zero[~attack].mean()


def test_l_acute_medicine(cohorts: dict[str, Cohort]) -> None:
    c, base, lat = cohorts["l"], cohorts[""], cohorts["l"].latent
    tablets = lat["tablet_caffeine"]
    assert tablets[lat["onset"]].mean() > 5 * tablets[~(lat["onset"] | lat["inside"])].mean()
    assert (lat["moh_log"] > 0).any()
    assert c.medications.height > 0
    assert c.truth.equals(base.truth)  # painkiller caffeine gives caffeine no effect


def test_m_varied_diaries(cohorts: dict[str, Cohort]) -> None:
    c, lat = cohorts["m"], cohorts["m"].latent
    spans = c.days.group_by("patient_id").agg(pl.col("date").min().alias("first"))
    assert (spans["first"].max() - spans["first"].min()).days > 365
    lengths = lat["window"].sum(1)
    assert lengths.min() >= 60 and lengths.max() <= D and lengths.std() > 20
    kind = lat["rate_kind"][:, 0]
    assert (kind == 1).any() and (kind == 2).any()
    assert lat["onset"][kind == 2].mean() > 5 * lat["onset"][kind == 1].mean()


def test_n_nothing_acts(cohorts: dict[str, Cohort]) -> None:
    c, lat = cohorts["hijklmn"], cohorts["hijklmn"].latent
    assert set(c.truth["role"]) == {"none"}
    assert np.allclose(lat["linear"], lat["hidden_log_or"] - lat["hidden_log_or"].mean(1)[:, None])
    assert (lat["hidden_log_or"] > 0).any()  # the unrecorded stories still act


def test_fast() -> None:
    import time

    started = time.perf_counter()
    generate(300, 365, 1, "hijklm")
    assert time.perf_counter() - started < 5
