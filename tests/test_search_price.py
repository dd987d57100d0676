"""The sensitivity ceiling (benchmarks/search_price.py --ceiling) measures what it says:
the single-effect model finds a person whose variable acts strongly in one form, in the
direction of "more", and not a person with no effect; the ceiling calls the share of
null pairs it is asked to."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from search_price import _ceiling, _single_effect


def _estimates(effects: dict[str, tuple[str, float]], people: int = 200) -> pl.DataFrame:
    """One variable in three forms × one lag; ``effects``: person → (form, log OR)."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(people):
        pid = f"p{i:03d}"
        form, size = effects.get(pid, ("", 0.0))
        for f in ("high", "low", "per_sd"):
            se = 0.3
            b = rng.normal(size if f == form else 0.0, se)
            rows.append(
                {
                    "patient_id": pid,
                    "variable": "stress",
                    "form": f,
                    "lag": 1,
                    "log_or": b,
                    "se": se,
                    "enough_data": True,
                    "p_raw": 0.5,
                    "p_family": 0.5,
                }
            )
    return pl.DataFrame(rows)


def test_the_single_effect_model_finds_the_form_that_acts_and_its_direction() -> None:
    effects = {f"p{i:03d}": ("low", 1.5) for i in range(40)}  # "below usual" raises risk
    out = _single_effect(_estimates(effects)).sort("patient_id")
    acting = out.filter(pl.col("patient_id").is_in(list(effects)))
    quiet = out.filter(~pl.col("patient_id").is_in(list(effects)))
    assert acting["single-effect model"].median() < 0.05  # type: ignore[operator]
    assert quiet["single-effect model"].median() > 0.5  # type: ignore[operator]
    # more stress goes with *fewer* attacks when "below usual" is what acts
    assert (acting["single_dir"] == -1).mean() > 0.9


def test_the_ceiling_calls_the_asked_share_of_null_pairs() -> None:
    effects = {f"p{i:03d}": ("high", 1.2) for i in range(40)}
    est = (
        _estimates(effects)
        .with_columns(
            # a p-value that is small exactly for the people with an effect
            pl.when(pl.col("patient_id").is_in(list(effects)) & (pl.col("form") == "high"))
            .then(0.001)
            .otherwise(pl.col("log_or").abs().rank() / 1000 + 0.01)
            .alias("p_raw")
        )
        .with_columns(pl.col("p_raw").min().over("patient_id").alias("p_family"))
    )
    truth = pl.DataFrame(
        {
            "patient_id": [f"p{i:03d}" for i in range(200)],
            "variable": "stress",
            "recorded": True,
            "role": ["trigger" if f"p{i:03d}" in effects else "none" for i in range(200)],
            "form": ["above" if f"p{i:03d}" in effects else None for i in range(200)],
            "true_log_or": [1.2 if f"p{i:03d}" in effects else 0.0 for i in range(200)],
        }
    )
    oracle = truth.select(
        "patient_id", "variable", pl.lit(0.5).alias("p_value"), pl.lit(2.0).alias("odds_ratio")
    )
    table = _ceiling(est, oracle, truth)
    max_t = table.filter(pl.col("ranking") == "max-T (search paid)").row(0, named=True)
    # every true pair ranks above every null pair, in the right direction when the
    # strongest form is "high" with a positive estimate
    assert max_t["null calls 5.0%"] > 0.8
    # the oracle's p of 0.5 for everyone: the threshold at the null's 5% calls all or none
    oracle_row = table.filter(pl.col("ranking") == "oracle").row(0, named=True)
    assert oracle_row["null calls 2.5%"] in (0.0, 1.0)
