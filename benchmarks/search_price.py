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

A second table (``--ceiling``) asks whether *any* threshold on these statistics could
reach the oracle: for each ranking of the person × variable pairs it picks, knowing the
truth, the threshold that calls exactly 2.5% or 5% of the null pairs (the issue's
false-call budget is 5%) and reports the share of true pairs called in the right
direction. Beside the oracle's p, painlink's max-T p and its strongest unadjusted p
(not a valid test: shown for reference), it ranks by a **single-effect model**
averaged over forms (the single-effect regression of Wang et al. 2020, "SuSiE",
JRSS-B 82:1273, with the cohort's effect distribution fitted by maximum likelihood
as in adaptive shrinkage): a person's variable acts in at most one of its forms ×
lags, and the posterior probability of "no effect or the other direction" averages
the evidence over the forms instead of charging for the strongest. Under the local
normal approximation the likelihood ratio for "form f acts with log OR β" depends on
form f's own estimate only, so the Bayes factors need no correlation matrix.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from oracle_independent import oracle_calls

from painlink.analysis.effect_prior import GRID
from painlink.analysis.report import _days
from painlink.analysis.triggers import TriggerAnalysis
from painlink.simulate.independent import simulate_independent

START = dt.date(2025, 1, 1)
LEVELS = (0.001, 0.01, 0.05)
NULL_CALL_RATES = (0.025, 0.05)


def shares(patients: int, days: int, seed: int, ceiling: bool = False) -> pl.DataFrame:
    diary, truth = simulate_independent(patients, days, seed, START)
    oracle_frame = oracle_calls(diary, truth, START, days)
    oracle = oracle_frame.select("patient_id", "variable", pl.col("p_value").alias("oracle"))
    estimates = TriggerAnalysis().fit(_days(diary), shrink=False).estimates
    if ceiling:
        return _ceiling(estimates, oracle_frame, truth)
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


def _ceiling(estimates: pl.DataFrame, oracle: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Sensitivity in the right direction at a truth-chosen threshold (see the module)."""
    tested = estimates.filter(pl.col("enough_data") & pl.col("p_raw").is_not_null())
    # direction of "more of the variable" for each painlink form (below-usual flips)
    more = pl.col("log_or").sign() * pl.when(pl.col("form") == "low").then(-1).otherwise(1)
    strongest = (
        tested.sort("p_raw")
        .group_by("patient_id", "variable")
        .first()
        .select(
            "patient_id",
            "variable",
            pl.col("p_raw").alias("strongest, unadjusted"),
            pl.col("p_family").alias("max-T (search paid)"),
            more.alias("painlink_dir"),
        )
    )
    single = _single_effect(tested)
    true_dir = (
        pl.when(pl.col("form").is_in(["below", "drop"])).then(-1).otherwise(1)
        * pl.col("true_log_or").sign()
    )
    pairs = (
        truth.filter(pl.col("recorded") & pl.col("role").is_in(["trigger", "protector", "none"]))
        .select("patient_id", "variable", "role", true_dir.alias("true_dir"), "true_log_or")
        .join(strongest, on=["patient_id", "variable"], how="left")
        .join(single, on=["patient_id", "variable"], how="left")
        .join(
            oracle.select(
                "patient_id",
                "variable",
                pl.col("p_value").alias("oracle"),
                pl.col("odds_ratio").log().sign().alias("oracle_sign"),
            ),
            on=["patient_id", "variable"],
            how="left",
        )
    )
    null = pairs.filter(pl.col("role") == "none")
    true = pairs.filter(pl.col("role") != "none")
    right = {
        "oracle": (true["oracle_sign"] == true["true_log_or"].sign()).fill_null(False),
        "strongest, unadjusted": (true["painlink_dir"] == true["true_dir"]).fill_null(False),
        "max-T (search paid)": (true["painlink_dir"] == true["true_dir"]).fill_null(False),
        "single-effect model": (true["single_dir"] == true["true_dir"]).fill_null(False),
    }
    rows = []
    for name, ok in right.items():
        ranks = null[name].fill_null(1.0).fill_nan(1.0).to_numpy()
        values = true[name].fill_null(1.0).fill_nan(1.0).to_numpy()
        row: dict[str, object] = {"ranking": name}
        for rate in NULL_CALL_RATES:
            cut = np.quantile(ranks, rate)
            row[f"null calls {rate:.1%}"] = float(((values <= cut) & ok.to_numpy()).mean())
        rows.append(row)
    return pl.DataFrame(rows)


def _single_effect(tested: pl.DataFrame, null_prior: float = 10.0) -> pl.DataFrame:
    """Per person × variable: the posterior probability of "no effect, or an effect in
    the other direction" under the single-effect model with the cohort's effect
    distribution (see the module), and the more likely direction of "more"."""
    out = []
    tested = tested.with_columns(
        (pl.col("form") + "@" + pl.col("lag").cast(pl.String)).alias("form_lag")
    )
    for (variable,), part in tested.group_by(["variable"], maintain_order=True):
        b_wide = part.pivot(on="form_lag", index="patient_id", values="log_or")
        forms = [c for c in b_wide.columns if c != "patient_id"]
        s_wide = part.pivot(on="form_lag", index="patient_id", values="se").select(
            "patient_id", *forms
        )
        b = b_wide.select(forms).to_numpy().astype(float)
        s = s_wide.select(forms).to_numpy().astype(float)
        n, k = b.shape[0], len(forms)
        # log Bayes factor of each (form, width, side) component against "no effect"
        s2, w2 = s[..., None] ** 2, GRID**2
        var = 1.0 / (1.0 / s2 + 1.0 / w2)
        m = var * b[..., None] / s2
        sd = np.sqrt(var)
        log_normal = -0.5 * (np.log(s2 + w2) + b[..., None] ** 2 / (s2 + w2))
        log_null = -0.5 * (np.log(s2) + b[..., None] ** 2 / s2)
        sides = [
            np.log(2.0) + log_normal + special.log_ndtr(side * m / sd) - log_null
            for side in (1, -1)
        ]
        log_bf = np.nan_to_num(np.stack(sides, -1), nan=0.0).reshape(n, -1)  # untested: 1
        full = np.column_stack([np.zeros(n), log_bf])
        lik = np.exp(full - full.max(1, keepdims=True))
        pi = np.full(full.shape[1], 0.5 / (full.shape[1] - 1))
        pi[0] = 0.5
        penalty = np.zeros_like(pi)
        penalty[0] = null_prior - 1.0
        for _ in range(2000):  # EM for the mixture weights (a convex problem)
            resp = lik * pi
            resp /= resp.sum(1, keepdims=True)
            new = resp.sum(0) + penalty
            new /= new.sum()
            done = np.abs(new - pi).max() < 1e-8
            pi = new
            if done:
                break
        resp = lik * pi
        resp /= resp.sum(1, keepdims=True)
        parts = resp[:, 1:].reshape(n, k, len(GRID), 2).sum(2)  # (n, form, side)
        flip = np.array([-1 if f.startswith("low@") else 1 for f in forms])[None, :]
        up = np.where(flip > 0, parts[..., 0], parts[..., 1]).sum(1)
        down = np.where(flip > 0, parts[..., 1], parts[..., 0]).sum(1)
        out.append(
            pl.DataFrame(
                {
                    "patient_id": b_wide["patient_id"],
                    "variable": [variable] * n,
                    "single-effect model": resp[:, 0] + np.minimum(up, down),
                    "single_dir": np.where(up >= down, 1, -1),
                }
            )
        )
    return pl.concat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="sensitivity at a truth-chosen threshold calling 2.5%% or 5%% of null pairs",
    )
    args = parser.parse_args()
    frames = [shares(args.patients, args.days, seed, args.ceiling) for seed in args.seeds]
    key = ["ranking"] if args.ceiling else ["pairs", "p-value"]
    mean = pl.concat(frames).group_by(key, maintain_order=True).agg(pl.all().mean())
    if not args.ceiling:
        mean = mean.sort("pairs", descending=True)
    print(f"{args.patients} patients × {args.days} days, mean of seeds {args.seeds}")
    with pl.Config(tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True, float_precision=3):
        print(mean)


if __name__ == "__main__":
    main()
