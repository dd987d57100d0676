"""Where painlink's trigger sensitivity goes: the search over forms × lags, or the forms?

    python benchmarks/search_price.py --patients 300 --days 365 --seeds 1 2 3

On the independent simulator, for true trigger/protector pairs and for null pairs,
the share whose p-value is below 0.001, 0.01 and 0.05 for

- the oracle (benchmarks/oracle_independent.py: the true form and lag, one test);
- painlink's strongest form × lag, unadjusted (what painlink would find if it knew
  which of its forms to look at);
- painlink's max-T p-value for the variable (the search paid for).

If the unadjusted strongest form matches the oracle on true pairs, painlink's forms
capture the signal and the gap in sensitivity is the price of the search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from oracle_independent import oracle_calls

from painlink.analysis.report import _days
from painlink.analysis.triggers import TriggerAnalysis
from painlink.simulate.independent import simulate_independent

START = dt.date(2025, 1, 1)
LEVELS = (0.001, 0.01, 0.05)


def shares(patients: int, days: int, seed: int) -> pl.DataFrame:
    diary, truth = simulate_independent(patients, days, seed, START)
    oracle = oracle_calls(diary, truth, START, days).select(
        "patient_id", "variable", pl.col("p_value").alias("oracle")
    )
    estimates = TriggerAnalysis().fit(_days(diary), shrink=False).estimates
    painlink = (
        estimates.filter(pl.col("enough_data"))
        .group_by("patient_id", "variable")
        .agg(
            pl.col("p_raw").min().alias("strongest, unadjusted"),
            pl.col("p_family").first().alias("max-T (search paid)"),
        )
    )
    pairs = (
        truth.filter(pl.col("recorded") & pl.col("role").is_in(["trigger", "protector", "none"]))
        .with_columns(
            pl.when(pl.col("role") == "none").then(pl.lit("null")).otherwise(pl.lit("true"))
        )
        .rename({"literal": "pairs"})
        .join(painlink, on=["patient_id", "variable"])
        .join(oracle, on=["patient_id", "variable"], how="left")
    )
    rows = []
    for (kind,), part in pairs.group_by(["pairs"], maintain_order=True):
        for name in ("oracle", "strongest, unadjusted", "max-T (search paid)"):
            rows.append(
                {"pairs": kind, "p-value": name, "n": part.height}
                | {f"p < {a:g}": float((part[name] < a).mean() or 0.0) for a in LEVELS}
            )
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    frames = [shares(args.patients, args.days, seed) for seed in args.seeds]
    mean = (
        pl.concat(frames)
        .group_by("pairs", "p-value", maintain_order=True)
        .agg(pl.all().mean())
        .sort("pairs", descending=True)
    )
    print(f"{args.patients} patients × {args.days} days, mean of seeds {args.seeds}")
    with pl.Config(tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True, float_precision=3):
        print(mean)


if __name__ == "__main__":
    main()
