"""Treatment outcomes and the forecast against two simulators' truth.

    python benchmarks/validate_outcomes.py --patients 300 --days 365 --seeds 1 2 3

For each seed, diaries come from the **independent** simulator
(:func:`painlink.simulate.independent.simulate_treated`, written without reading the
analyses; its treatments change attack frequency with a ramp, duration and intensity,
some start right after a bad spell) and from **painlink's own** simulator (rate
effects only). painlink's outcome analysis (:func:`painlink.analysis.outcomes.
treatment_outcomes`) runs on each diary as the app runs it; the rows are scored
against the truth:

- rate endpoints (attacks, migraine days): the error of the log rate ratio against
  the treatment's own (causal) effect and against the expected before/after ratio (what
  a perfect before/after comparison sees on average: the causal effect plus drift and
  regression to the mean), the 95% interval's coverage of each, how often "fewer during
  treatment" is said when the treatment does nothing, and how often the
  regression-to-the-mean warning fires, by whether care began at a peak;
- attack duration and intensity: coverage of the treatment's own effect, and how often
  "shorter"/"milder" is said when the treatment does not change them;
- the forecast: within-person AUC beside the AUC of the simulator's true daily risk
  (the oracle), Brier score, and the share of people it is shown to.

Every figure comes from the diaries simulated in this run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
import warnings
from pathlib import Path

import polars as pl
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painlink.analysis.forecast import forecast
from painlink.analysis.outcomes import treatment_outcomes
from painlink.analysis.questionnaire_outcomes import questionnaire_outcomes
from painlink.clinical.day_counts import classify_days
from painlink.diary.frames import DiaryFrames

warnings.filterwarnings("ignore")
START = dt.date(2025, 1, 1)
#: the truth columns the scorer reads, per endpoint: (causal, expected before/after)
RATE_TRUTH = {
    "attacks": ("causal_rate_ratio", "expected_before_after_ratio"),
    "migraine_days": ("causal_migraine_day_ratio", "expected_before_after_migraine_day_ratio"),
    # the simulator's "migraine day" is any day with an attack going on: painlink's
    # headache day; painlink's migraine day also asks the day definition (an attack
    # shortened below 4 h by a treatment is no longer a migraine day)
    "headache_days": ("causal_migraine_day_ratio", "expected_before_after_migraine_day_ratio"),
}
CHANGE_TRUTH = {
    "attack_duration": ("causal_duration_ratio", 1.0, "shorter during treatment"),
    "attack_intensity": ("causal_intensity_shift", 0.0, "milder during treatment"),
}
#: HIT-6's important change (painlink.rules.questionnaires), restated so the truth is
#: not read from the rules under test
IMPORTANT_HIT6 = 6.0
#: a treatment whose own effect is within this of none counts as "does nothing"
NULL_TOL = 0.02
#: the independent simulator's HIT-6 truth per seed (its latent totals)
HIT6: dict[int, pl.DataFrame] = {}


def day_table(diary: DiaryFrames) -> pl.DataFrame:
    """The classified day table, as the app's outcome analysis gets it."""
    return classify_days(diary).with_columns(pl.col("headache_day_def").alias("headache_day"))


def independent(
    patients: int, days: int, seed: int
) -> tuple[DiaryFrames, pl.DataFrame, pl.DataFrame]:
    """The independent simulator's diary, treatment truth and daily true risk."""
    from painlink.simulate.independent import simulate_treated

    c = simulate_treated(patients, days, seed, START)
    HIT6[seed] = c.hit6
    return c.diary, c.treatments, c.risk


def own(patients: int, days: int, seed: int) -> tuple[DiaryFrames, pl.DataFrame, pl.DataFrame]:
    """painlink's own simulator in the same shape: its treatment multiplies the daily
    risk from the start (no ramp), so the causal rate ratio is the multiplier; it has
    no duration or intensity effect and no expected before/after ratio."""
    from painlink.simulate.simulator import simulate_with_risk
    from painlink.simulate.spec import SimulationSpec

    parts = list(
        simulate_with_risk(
            SimulationSpec(patients=patients, days=days, seed=seed, id_prefix=f"O{seed}_")
        )
    )
    diary = DiaryFrames.concat(p[0] for p in parts)
    rows = []
    for p in parts:
        for t in p[1]:
            tr = t.get("treatment")
            if not tr:
                continue
            rows.append(
                {
                    "patient_id": t["patient_id"],
                    "name": tr["name"],
                    "enrolled_at_peak": bool(t["enrolled_at_peak"]),
                    "causal_rate_ratio": float(tr["rate_ratio"]),
                }
            )
    return diary, pl.DataFrame(rows), pl.concat(p[2] for p in parts)


def score_rates(out: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """painlink's rate rows joined with the truth, with their errors and coverage."""
    frames = []
    for endpoint, (causal, expected) in RATE_TRUTH.items():
        if causal not in truth.columns:
            continue
        rows = out.filter((pl.col("endpoint") == endpoint) & pl.col("rate_ratio").is_not_null())
        cols = [causal] + ([expected] if expected in truth.columns else [])
        j = rows.join(
            truth.select(
                "patient_id", pl.col("name").alias("treatment"), "enrolled_at_peak", *cols
            ),
            on=["patient_id", "treatment"],
        )
        if not j.height:
            continue
        j = j.with_columns(
            pl.lit(endpoint).alias("endpoint"),
            pl.col(causal).alias("own_effect"),
            pl.when((pl.col(causal) - 1).abs() <= NULL_TOL)
            .then(pl.lit("does nothing"))
            .otherwise(pl.lit("acts"))
            .alias("treatment effect"),
            # a rate ratio of 0 (nothing during) has no log: left out of the errors
            (pl.col("rate_ratio").log() - pl.col(causal).log()).alias("err_causal"),
            ((pl.col("ci_low") <= pl.col(causal)) & (pl.col(causal) <= pl.col("ci_high"))).alias(
                "cov_causal"
            ),
            *(
                [
                    (pl.col("rate_ratio").log() - pl.col(expected).log()).alias("err_expected"),
                    (
                        (pl.col("ci_low") <= pl.col(expected))
                        & (pl.col(expected) <= pl.col("ci_high"))
                    ).alias("cov_expected"),
                ]
                if expected in truth.columns
                else [
                    pl.lit(None, pl.Float64).alias("err_expected"),
                    pl.lit(None, pl.Boolean).alias("cov_expected"),
                ]
            ),
        )
        frames.append(j)
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def summarise_rates(rows: pl.DataFrame) -> pl.DataFrame:
    """The rate rows of every seed, one line per endpoint × effect × peak."""
    if not rows.height:
        return rows
    return (
        rows.group_by("endpoint", "treatment effect", "enrolled_at_peak")
        .agg(
            pl.len().alias("treatments"),
            pl.col("own_effect").log().mean().exp().alias("own effect (geometric mean)"),
            (pl.col("rate_ratio") == 0).sum().alias("none during"),
            pl.col("err_causal")
            .filter(pl.col("err_causal").is_finite())
            .median()
            .alias("median error, log RR vs own effect"),
            pl.col("cov_causal").mean().alias("95% CI covers own effect"),
            pl.col("err_expected")
            .filter(pl.col("err_expected").is_finite())
            .median()
            .alias("median error vs expected before/after"),
            pl.col("cov_expected").mean().alias("95% CI covers expected before/after"),
            (pl.col("verdict") == "fewer during treatment").mean().alias('"fewer" said'),
            pl.col("regression_to_mean_warning").mean().alias("RTM warning"),
        )
        .sort("endpoint", "treatment effect", "enrolled_at_peak")
    )


def score_changes(out: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """One row per attack endpoint × (does nothing / acts): coverage of the treatment's
    own effect, and how often an improvement is said."""
    frames = []
    for endpoint, (column, null, better) in CHANGE_TRUTH.items():
        if column not in truth.columns or "change" not in out.columns:
            continue
        rows = out.filter((pl.col("endpoint") == endpoint) & pl.col("change").is_not_null())
        j = rows.join(
            truth.select("patient_id", pl.col("name").alias("treatment"), column),
            on=["patient_id", "treatment"],
        )
        if not j.height:
            continue
        frames.append(
            j.with_columns(
                pl.lit(endpoint).alias("endpoint"),
                pl.when((pl.col(column) - null).abs() <= NULL_TOL)
                .then(pl.lit("does nothing"))
                .otherwise(pl.lit("acts"))
                .alias("treatment effect"),
                (
                    (pl.col("change_low") <= pl.col(column))
                    & (pl.col(column) <= pl.col("change_high"))
                ).alias("covered"),
                (pl.col("verdict") == better).alias("better said"),
                pl.col("verdict").str.contains("longer|more severe").alias("worse said"),
            )
        )
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def summarise_changes(rows: pl.DataFrame) -> pl.DataFrame:
    """The duration and intensity rows of every seed, one line per endpoint × effect."""
    if not rows.height:
        return rows
    return (
        rows.group_by("endpoint", "treatment effect")
        .agg(
            pl.len().alias("treatments"),
            pl.col("covered").mean().alias("95% CI covers own effect"),
            pl.col("better said").mean().alias('"shorter"/"milder" said'),
            pl.col("worse said").mean().alias('"longer"/"more severe" said'),
        )
        .sort("endpoint", "treatment effect")
    )


def score_hit6(diary: DiaryFrames, hit6: pl.DataFrame) -> pl.DataFrame:
    """painlink's HIT-6 rows (one score before a treatment, one during) against the
    simulator's latent totals on the same two dates: did the person's HIT-6 truly move by
    the important change (6 points), and what did painlink say?"""
    rows = questionnaire_outcomes(diary.questionnaire_items, diary.treatments).filter(
        (pl.col("endpoint") == "hit6") & pl.col("score_change").is_not_null()
    )
    if not rows.height or not hit6.height:
        return pl.DataFrame()
    latent = hit6.select("patient_id", "completed_on", "latent_total")
    j = rows.join(
        latent.rename({"completed_on": "before_on", "latent_total": "latent_before"}),
        on=["patient_id", "before_on"],
    ).join(
        latent.rename({"completed_on": "during_on", "latent_total": "latent_during"}),
        on=["patient_id", "during_on"],
    )
    true_change = pl.col("latent_during") - pl.col("latent_before")
    return j.with_columns(
        pl.when(true_change <= -IMPORTANT_HIT6)
        .then(pl.lit("improved by ≥ 6"))
        .when(true_change >= IMPORTANT_HIT6)
        .then(pl.lit("worse by ≥ 6"))
        .otherwise(pl.lit("within 6"))
        .alias("truth (latent HIT-6)"),
        pl.col("verdict").str.starts_with("improved by at least").alias("improved said"),
        pl.col("verdict").str.starts_with("worse by at least").alias("worse said"),
        pl.col("verdict").str.contains("measurement error").alias("within error said"),
        (pl.col("score_change") - true_change).alias("error"),
    )


def summarise_hit6(rows: pl.DataFrame) -> pl.DataFrame:
    if not rows.height:
        return rows
    return (
        rows.group_by("truth (latent HIT-6)")
        .agg(
            pl.len().alias("treatments"),
            pl.col("improved said").mean().alias('"improved" said'),
            pl.col("worse said").mean().alias('"worse" said'),
            pl.col("within error said").mean().alias('"… but within the measurement error"'),
            pl.col("error").abs().median().alias("median |observed − latent change|"),
        )
        .sort("truth (latent HIT-6)")
    )


def score_forecast(days: pl.DataFrame, risk: pl.DataFrame) -> pl.DataFrame:
    """painlink's per-person forecast results with the oracle's AUC beside them."""
    return forecast(days, risk.select("patient_id", "date", "true_risk")).per_patient.drop_nans(
        "auc"
    )


def summarise_forecast(f: pl.DataFrame) -> pl.DataFrame:
    """Mean AUC against the oracle's, with a t interval of the paired difference."""
    diff = (f["auc"] - f["oracle_auc"]).drop_nans().to_numpy()
    half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / math.sqrt(diff.size)
    return pl.DataFrame(
        {
            "people forecast": [f.height],
            "mean AUC": [f["auc"].mean()],
            "oracle AUC (true daily risk)": [f["oracle_auc"].drop_nans().mean()],
            "AUC − oracle (95% CI)": [
                f"{diff.mean():.3f} ({diff.mean() - half:.3f} to {diff.mean() + half:.3f})"
            ],
            "mean Brier": [f["brier"].mean()],
            "median Brier skill": [f["brier_skill"].median()],
            "shown to the patient": [f["show_to_patient"].mean()],
        }
    )


def table(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join(
        "| "
        + " | ".join(
            "–"
            if v is None or (isinstance(v, float) and math.isnan(v))
            else f"{v:.3f}"
            if isinstance(v, float)
            else str(v)
            for v in row
        )
        + " |"
        for row in frame.iter_rows()
    )
    return head + "\n" + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--simulators", nargs="+", default=["independent", "own"])
    ap.add_argument("--no-forecast", action="store_true")
    args = ap.parse_args()
    for name in args.simulators:
        make = independent if name == "independent" else own
        rates, changes, fc, hit6_rows = [], [], [], []
        for seed in args.seeds:
            t0 = time.perf_counter()
            diary, truth, risk = make(args.patients, args.days, seed)
            t1 = time.perf_counter()
            days = day_table(diary)
            out = treatment_outcomes(days, diary.treatments, diary.attacks)
            t2 = time.perf_counter()
            rates.append(score_rates(out, truth))
            if name == "independent":
                hit6_rows.append(score_hit6(diary, HIT6[seed]))
            changes.append(score_changes(out, truth))
            if not args.no_forecast:
                fc.append(score_forecast(days, risk))
            print(
                f"{name}, {args.patients} × {args.days} days, seed {seed}: simulate "
                f"{t1 - t0:.1f} s, outcomes {t2 - t1:.1f} s",
                file=sys.stderr,
            )
        seeds = ", ".join(map(str, args.seeds))
        print(
            f"\n### {name} simulator: {args.patients} patients × {args.days} days, seeds {seeds}\n"
        )
        print("Rate endpoints\n")
        rate_rows = [r for r in rates if r.height]
        print(table(summarise_rates(pl.concat(rate_rows, how="diagonal_relaxed"))))
        change_rows = [c for c in changes if c.height]
        ch = (
            summarise_changes(pl.concat(change_rows, how="diagonal_relaxed"))
            if change_rows
            else pl.DataFrame()
        )
        if ch.height:
            print("\nAttack duration and intensity\n")
            print(table(ch))
        scored_hit6 = [h for h in hit6_rows if h.height]
        if scored_hit6:
            print("\nHIT-6 before and during (one score each side)\n")
            print(table(summarise_hit6(pl.concat(scored_hit6))))
        if fc:
            print("\nForecast (rolling origin from day 90)\n")
            print(table(summarise_forecast(pl.concat(fc))))


if __name__ == "__main__":
    main()
