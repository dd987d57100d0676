"""Trigger recovery on painlink's own simulator, scored as the independent one is.

    python benchmarks/validate_triggers.py --patients 300 --days 180 365 --seeds 1 2 3

painlink's own simulator (painlink.simulate) draws attacks from the exposure
definitions in painlink/days/exposures.py. The analysis no longer tests those
definitions (it tries every recorded variable in its own forms), but the two still
share a code base, so this is the *familiar* half of the validation; the other half
is benchmarks/validate_independent.py. Both print the same table from
benchmarks/score_calls.py, with an oracle beside painlink: a per-patient logistic
model with every true exposure definition at lags 0 and 1, Benjamini–Hochberg at
q = 0.10 and a 95% interval that excludes 1.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from painlink_calls import painlink_calls as shared_calls
from score_calls import markdown, score

from painlink.analysis.logistic import fit_logit
from painlink.analysis.multiplicity import bh
from painlink.analysis.report import _days
from painlink.days.exposures import derive_exposures
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec

#: the simulator's exposures → (day column, the scorer's form: which way "more" points)
VARIABLE_OF = {
    "short_sleep": ("sleep_hours", "below"),
    "high_stress": ("stress", "above"),
    "stress_letdown": ("stress", "drop"),
    "skipped_meal": ("skipped_meals", "present"),
    "alcohol": ("alcohol_units", "above"),
    "caffeine_drop": ("caffeine_mg", "drop"),
    "pressure_drop": ("pressure_hpa", "drop"),
    "exercise": ("exercise_min", "above"),
    "menstrual_window": ("menstruation", "window"),
    "pill_free": ("contraceptive_phase", "pill_free"),
}
COLUMNS = (
    "sleep_hours", "sleep_quality", "stress", "skipped_meals", "alcohol_units", "caffeine_mg",
    "exercise_min", "screen_hours", "allergy_symptoms", "pressure_hpa", "temperature_c",
)  # fmt: skip


def truth_frame(truth: list[dict], days: pl.DataFrame) -> pl.DataFrame:
    """The simulator's truth in the scorer's contract: one row per person × variable."""
    recorded = days.group_by("patient_id").agg(
        *[pl.col(c).is_not_null().any().alias(c) for c in COLUMNS if c in days.columns],
        (pl.col("menstruation").is_not_null() & (pl.col("menstruation") != "none"))
        .any()
        .alias("menstruation"),
        (pl.col("contraceptive_phase") == "pill_free").any().alias("contraceptive_phase"),
        pl.col("factor_chocolate_craving").is_not_null().any().alias("chocolate_craving"),
    )
    rec = {r["patient_id"]: r for r in recorded.iter_rows(named=True)}
    rows = []
    for t in truth:
        pid = t["patient_id"]
        acting: dict[str, tuple[str, str, float, int | None]] = {}
        for f in t["factors"]:
            if f["role"] != "none" and f["factor"] in VARIABLE_OF:
                var, form = VARIABLE_OF[f["factor"]]
                acting[var] = (f["role"], form, math.log(f["odds_ratio"]), f["lag"])
        for var in (*COLUMNS, "menstruation", "contraceptive_phase", "chocolate_craving"):
            role, form, log_or, lag = acting.get(var, ("none", None, 0.0, None))
            if var == "chocolate_craving" and t["premonitory"]:
                role = "premonitory"
            rows.append(
                {
                    "patient_id": pid,
                    "variable": var,
                    "recorded": bool(rec.get(pid, {}).get(var, False)),
                    "role": role,
                    "form": form,
                    "lag": None if lag is None else str(lag),
                    "true_log_or": log_or,
                }
            )
        neck = t["neck_pain_role"]
        rows.append(
            {
                "patient_id": pid,
                "variable": "neck_pain",
                "recorded": True,
                "role": {"cause": "cause", "symptom": "symptom"}.get(neck, "none"),
                "form": None,
                "lag": None,
                "true_log_or": 0.0,
            }
        )
    return pl.DataFrame(rows)


def oracle_calls(days: pl.DataFrame, q: float = 0.10) -> pl.DataFrame:
    """Per person: one logistic model with every true exposure definition at lags 0 and
    1, BH at q over its coefficients, and a 95% interval that excludes 1."""
    frame = derive_exposures(days.sort("patient_id", "date"), list(VARIABLE_OF))
    out = []
    z = stats.norm.ppf(0.975)
    for (pid,), part in frame.group_by(["patient_id"], maintain_order=True):
        n = part.height
        cols, names = [np.ones(n)], []
        mask = (~part["ongoing"]).to_numpy().copy()
        for f in VARIABLE_OF:
            raw = part[f"x_{f}"].cast(pl.Float64).to_numpy()
            if np.isnan(raw).all() or np.nanstd(raw) == 0:
                continue
            for lag in (0, 1):
                x = np.full(n, np.nan)
                x[lag:] = raw[: n - lag] if lag else raw
                mask &= ~np.isnan(x)
                cols.append(np.nan_to_num(x))
                names.append((f, lag))
        if not names:
            continue
        fit = fit_logit(
            np.column_stack(cols), part["onset"].cast(pl.Float64).to_numpy(), mask, 10.0
        )
        b, se = fit.coef[0, 1:], fit.se[0, 1:]
        qv = bh(2 * stats.norm.sf(np.abs(b / se)))
        for (f, lag), bi, si, qi in zip(names, b, se, qv, strict=True):
            called = qi <= q and abs(bi / si) > z
            var, form = VARIABLE_OF[f]
            more = (1 if bi > 0 else -1) * (-1 if form in ("below", "drop") else 1)
            out.append(
                {
                    "patient_id": str(pid),
                    "variable": var,
                    "verdict": ("likely trigger" if bi > 0 else "likely protector")
                    if called
                    else "no association",
                    "odds_ratio": math.exp(bi),
                    "ci_low": math.exp(bi - z * si),
                    "ci_high": math.exp(bi + z * si),
                    "form": form,
                    "lag": str(lag),
                    "direction": more,
                }
            )
    return pl.DataFrame(out)


def painlink_calls(diary: DiaryFrames, shrink: bool) -> pl.DataFrame:
    """painlink's calls on ``diary`` (score_calls); this simulator plants neck roles only."""
    return shared_calls(diary, shrink, {"neck": "neck_pain"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--days", type=int, nargs="+", default=[180, 365])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    for days_n in args.days:
        results: dict[str, list[dict]] = {
            "oracle": [],
            "painlink, own data": [],
            "painlink, cohort model": [],
        }
        for seed in args.seeds:
            t0 = time.perf_counter()
            spec = SimulationSpec(patients=args.patients, days=days_n, seed=100 + seed)
            parts = list(simulate(spec))
            diary = DiaryFrames.concat(p[0] for p in parts)
            days = _days(diary)
            truth = truth_frame([t for p in parts for t in p[1]], days)
            results["oracle"].append(score(oracle_calls(days), truth))
            for name, shrink in (("painlink, own data", False), ("painlink, cohort model", True)):
                results[name].append(score(painlink_calls(diary, shrink), truth))
            print(f"{days_n} days, seed {seed}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        print(
            f"\n### painlink's own simulator, {args.patients} patients × {days_n} days, "
            f"seeds {args.seeds} (mean)\n"
        )
        print(markdown({k: _mean(v) for k, v in results.items()}))


def _mean(rows: list[dict]) -> dict:
    out: dict = {}
    for key, value in rows[0].items():
        if isinstance(value, dict):
            continue
        vals = [r[key] for r in rows if not (isinstance(r[key], float) and math.isnan(r[key]))]
        out[key] = sum(vals) / len(vals) if vals else math.nan
    return out


if __name__ == "__main__":
    main()
