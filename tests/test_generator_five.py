"""benchmarks/generator_five.py (written blind): the truth is in score_calls' contract,
the written folder is a diary painlink reads, and the stories the validation leans on
do what they say on the latent arrays and the written diary (small cohorts, a few
seconds in all)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

from generator_five import Cohort, generate  # noqa: E402

N, D = 120, 240


@pytest.fixture(scope="module")
def cohorts() -> dict[str, Cohort]:
    return {s: generate(N, D, 3, s) for s in ("", "p", "q", "v")}


def test_truth_contract(cohorts: dict[str, Cohort]) -> None:
    t = cohorts[""].truth
    assert {"patient_id", "variable", "recorded", "role", "form", "lag", "true_log_or"} <= set(
        t.columns
    )
    body = t.filter(~pl.col("variable").is_in(["neck_pain", "low_back_pain"]))
    assert set(body["role"]) <= {"trigger", "protector", "premonitory", "none"}
    spine = t.filter(pl.col("variable").is_in(["neck_pain", "low_back_pain"]))
    assert set(spine["role"]) <= {"cause", "symptom", "premonitory", "none"}
    causes = t.filter(pl.col("role").is_in(["trigger", "protector", "cause"]))
    assert 0 < causes.height <= 3 * N
    with pytest.raises(ValueError):
        generate(5, 30, 1, "px")


def test_folder_reads_back(cohorts: dict[str, Cohort], tmp_path: Path) -> None:
    from painlink.interop.csv_diary import read_diary_folder

    c = cohorts["p"]
    diary = read_diary_folder(c.write(tmp_path / "diary"))
    assert diary.attacks.height == c.attacks.height
    assert (tmp_path / "truth.csv").exists()


def test_p_good_days_go_unrecorded(cohorts: dict[str, Cohort]) -> None:
    """Missing not at random: check-ins near attacks are kept, ordinary days are not."""
    c = cohorts["p"]
    near = c.latent["onset"].copy()
    near[:, 1:] |= c.latent["onset"][:, :-1]
    near[:, :-1] |= c.latent["onset"][:, 1:]
    inside = c.latent["window"]
    checked = c.latent["checkin"]
    assert checked[near & inside].mean() > checked[~near & inside].mean() + 0.1


def test_q_attack_days_are_rated_worse(cohorts: dict[str, Cohort]) -> None:
    """Recall and reporting bias: the *recorded* stress on onset days rises against the
    same world without the story (the days before it are the same), and the colouring
    gives no pair a role the base world did not."""

    def onset_stress(c: Cohort) -> float:
        onsets = c.attacks.select("patient_id", pl.col("start").str.slice(0, 10).alias("date"))
        rows = c.days.with_columns(pl.col("date").cast(pl.String)).join(
            onsets.unique(), on=["patient_id", "date"]
        )
        return float(rows["stress"].mean())  # type: ignore[arg-type]

    assert onset_stress(cohorts["q"]) > onset_stress(cohorts[""]) + 0.5
    roles = ["patient_id", "variable", "role"]
    assert cohorts["q"].truth.select(roles).equals(cohorts[""].truth.select(roles))


def test_v_nothing_acts(cohorts: dict[str, Cohort]) -> None:
    assert set(cohorts["v"].truth["role"]) == {"none"}
