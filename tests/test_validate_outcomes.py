"""The outcome scorer (benchmarks/validate_outcomes.py) counts what it says it counts:
coverage of the treatment's own effect, errors on the log scale with a rate ratio of 0
left out, and "fewer" said when a treatment does nothing."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from validate_outcomes import score_changes, score_rates, summarise_changes, summarise_rates


def _truth() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "name": ["drug", "drug", "drug"],
            "enrolled_at_peak": [False, False, False],
            "causal_rate_ratio": [0.5, 1.0, 1.0],
            "causal_duration_ratio": [0.6, 1.0, 1.0],
        }
    )


def test_rate_rows_are_scored_against_the_treatments_own_effect() -> None:
    out = pl.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "treatment": ["drug"] * 3,
            "endpoint": ["attacks"] * 3,
            "rate_ratio": [0.55, 0.0, 0.7],
            "ci_low": [0.3, 0.0, 0.5],
            "ci_high": [0.9, 0.8, 0.95],
            "verdict": ["fewer during treatment"] * 3,
            "regression_to_mean_warning": [False, False, True],
        }
    )
    rows = score_rates(out, _truth())
    table = summarise_rates(rows).to_dicts()
    acts = next(r for r in table if r["treatment effect"] == "acts")
    nothing = next(r for r in table if r["treatment effect"] == "does nothing")
    assert acts["treatments"] == 1 and acts["95% CI covers own effect"] == 1.0
    assert acts["median error, log RR vs own effect"] == pytest.approx(math.log(0.55 / 0.5))
    # b's interval (0–0.8) and c's (0.5–0.95) both miss 1: coverage 0, "fewer" said twice
    assert nothing["treatments"] == 2 and nothing["95% CI covers own effect"] == 0.0
    assert nothing['"fewer" said'] == 1.0 and nothing["none during"] == 1
    # b's rate ratio of 0 has no log: the error is c's alone
    assert nothing["median error, log RR vs own effect"] == pytest.approx(math.log(0.7))
    assert nothing["RTM warning"] == 0.5


def test_duration_rows_count_coverage_and_false_improvements() -> None:
    out = pl.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "treatment": ["drug"] * 3,
            "endpoint": ["attack_duration"] * 3,
            "change": [0.62, 0.8, 1.1],
            "change_low": [0.5, 0.7, 0.9],
            "change_high": [0.8, 0.95, 1.3],
            "verdict": ["shorter during treatment", "shorter during treatment", "no clear change"],
        }
    )
    table = summarise_changes(score_changes(out, _truth())).to_dicts()
    nothing = next(r for r in table if r["treatment effect"] == "does nothing")
    assert nothing["treatments"] == 2 and nothing["95% CI covers own effect"] == 0.5
    assert nothing['"shorter"/"milder" said'] == 0.5
