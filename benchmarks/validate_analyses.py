"""Neck/back timing, treatment outcomes and forecasts against the simulator's truth.

    python benchmarks/validate_analyses.py --seeds 3 --patients 300

Prints markdown tables for docs/validation.md.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.forecast import forecast
from painlink.analysis.logistic import fit_logit
from painlink.analysis.outcomes import treatment_outcomes
from painlink.analysis.spine_link import spine_link
from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate_with_risk
from painlink.simulate.spec import SimulationSpec

warnings.filterwarnings("ignore")


def cohort(seed: int, patients: int, days: int) -> tuple[DiaryFrames, dict, pl.DataFrame]:
    parts = list(
        simulate_with_risk(
            SimulationSpec(patients=patients, days=days, seed=seed, id_prefix=f"V{seed}_")
        )
    )
    return (
        DiaryFrames.concat(p[0] for p in parts),
        {t["patient_id"]: t for p in parts for t in p[1]},
        pl.concat(p[2] for p in parts),
    )


def neck_oracle(days: pl.DataFrame) -> dict[str, bool]:
    """The true definition (neck pain ≥4 the day before) in a per-patient logistic model."""
    out = {}
    for (pid,), part in days.sort("patient_id", "date").group_by(
        ["patient_id"], maintain_order=True
    ):
        pain = part["neck_pain_max"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        x = np.r_[np.nan, (pain[:-1] >= 4).astype(float)]
        x[1:][np.isnan(pain[:-1])] = np.nan
        mask = ~part["ongoing"].to_numpy() & ~np.isnan(x)
        y = part["onset"].cast(pl.Float64).to_numpy()
        fit = fit_logit(
            np.column_stack([np.ones(len(x)), np.nan_to_num(x)]), y, mask, prior_sd=10.0
        )
        out[str(pid)] = bool(fit.coef[0, 1] - 1.96 * fit.se[0, 1] > 0)
    return out


def table(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join(
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.iter_rows()
    )
    return head + "\n" + body


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--patients", type=int, default=300)
    args = ap.parse_args()
    neck_rows, out_rows, fc_rows = [], [], []
    for days_n in (90, 180, 365):
        for s in range(args.seeds):
            diary, truth, risk = cohort(200 + s, args.patients, days_n)
            days = build_day_table(diary)
            oracle = neck_oracle(days)
            link = spine_link(days).to_frame().filter(pl.col("region") == "neck")
            for r in link.iter_rows(named=True):
                neck_rows.append(
                    {
                        "days": days_n,
                        "role": truth[r["patient_id"]]["neck_pain_role"],
                        "verdict": r["verdict"],
                        "oracle_cause": oracle[r["patient_id"]],
                    }
                )
            if days_n == 365:
                o = treatment_outcomes(days, diary.treatments, diary.attacks).filter(
                    pl.col("endpoint") == "attacks"
                )
                for r in o.iter_rows(named=True):
                    t = truth[r["patient_id"]]
                    err = math.log(r["rate_ratio"]) - math.log(t["treatment"]["rate_ratio"])
                    out_rows.append(
                        {
                            "peak": t["enrolled_at_peak"],
                            "true_rr": t["treatment"]["rate_ratio"],
                            "error": err,
                            "covered": r["ci_low"] <= t["treatment"]["rate_ratio"] <= r["ci_high"],
                            "warning": r["regression_to_mean_warning"],
                        }
                    )
                if s < 2:
                    f = forecast(days, risk).per_patient.drop_nans("auc")
                    fc_rows.append(f)
    neck = pl.DataFrame(neck_rows)
    summary = (
        neck.group_by("days", "role")
        .agg(
            pl.len().alias("patients"),
            (pl.col("verdict") == "symptom of the attack").mean().alias("called symptom"),
            (pl.col("verdict") == "candidate cause").mean().alias("called cause"),
            (pl.col("verdict") == "not enough data").mean().alias("not enough data"),
            pl.col("oracle_cause").mean().alias("oracle: cause"),
        )
        .sort("days", "role")
    )
    print("## Neck pain\n")
    print(table(summary))
    out = pl.DataFrame(out_rows)
    print("\n## Treatment rate ratios (365 days)\n")
    print(
        table(
            out.group_by("peak", "true_rr")
            .agg(
                pl.len().alias("patients"),
                pl.col("error").mean().alias("mean error of log RR"),
                pl.col("covered").mean().alias("95% CI coverage"),
                pl.col("warning").mean().alias("RTM warning"),
            )
            .sort("peak", "true_rr")
        )
    )
    print(
        table(
            out.group_by("peak")
            .agg(
                pl.len().alias("patients"),
                pl.col("error").mean().alias("mean error of log RR"),
                pl.col("covered").mean().alias("95% CI coverage"),
                pl.col("warning").mean().alias("RTM warning"),
            )
            .sort("peak")
        )
    )
    fc = pl.concat(fc_rows)
    print("\n## Forecast (365 days, rolling origin from day 90)\n")
    diff = (fc["auc"] - fc["oracle_auc"]).to_numpy()
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    print(
        table(
            pl.DataFrame(
                {
                    "patients": [fc.height],
                    "mean AUC": [fc["auc"].mean()],
                    "oracle AUC": [fc["oracle_auc"].mean()],
                    "difference (95% CI)": [
                        f"{diff.mean():.3f} ({diff.mean() - half:.3f} to {diff.mean() + half:.3f})"
                    ],
                    "mean Brier": [fc["brier"].mean()],
                    "median Brier skill": [fc["brier_skill"].median()],
                    "shown to patient": [fc["show_to_patient"].mean()],
                }
            )
        )
    )


if __name__ == "__main__":
    main()
