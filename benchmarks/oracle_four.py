"""The reference beside painlink on generator_four's diaries: what one could find in
each person's diary knowing the true exposure definitions.

For every person and every recorded variable, a logistic regression of attack onset
(recorded onsets, on days not already inside a recorded attack) on that variable's
exposure, adjusted for the exposures of the person's other true effects. A variable
with a true effect enters in its true form and lag (generator_four's definitions,
applied to the values as recorded, errors included); a variable without one enters
per SD at lag 1, the plain guess an analyst would make. Benjamini–Hochberg at q = 0.10
across the person's variables; a call also needs its 95% interval to exclude 1.

It reads the diary as written (recording errors, hidden calendar, cycle and all): the
gap between it and painlink is what painlink's own choices cost, while the oracle's
own false calls show what the story does to any one-person observational analysis.

    python benchmarks/oracle_four.py --patients 300 --days 365 --seed 1 --stories hijkl
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from generator_four import SPINE_VARIABLES, VARIABLES, Cohort, generate
from score_calls import CAUSE, PROTECTOR, TRIGGER, score

Q = 0.10
MIN_EVENTS = 5


def _lagged(x: np.ndarray, lag: int) -> np.ndarray:
    out = np.full_like(x, np.nan, dtype=float)
    if lag == 0:
        return x.astype(float)
    out[lag:] = x[:-lag]
    return out


def exposure(variable: str, form: str | None, lag: int, x: np.ndarray) -> np.ndarray:
    """One person's exposure series (NaN where not recorded), generator_four's true
    definitions applied to the recorded values; a null variable: per SD."""
    x = x.astype(float)
    ok = np.isfinite(x)
    if form == "below":  # short sleep: an hour or more under the person's usual
        out = np.where(ok, (x <= np.nanmean(x) - 1.0).astype(float), np.nan)
    elif form == "presence":
        cut = {"alcohol_units": 1.0, "exercise_min": 30.0, "skipped_meals": 1.0}.get(variable, 1.0)
        out = np.where(ok, (x >= cut).astype(float), np.nan)
    elif form == "drop" and variable == "caffeine_mg":  # under half the usual coffee
        out = np.where(ok, (x < 0.5 * np.nanmean(x)).astype(float), np.nan)
    elif form == "drop":  # a fall of 5 hPa or more since the day before
        diff = np.full_like(x, np.nan)
        diff[1:] = x[1:] - x[:-1]
        out = np.where(np.isfinite(diff), (diff <= -5.0).astype(float), np.nan)
    else:  # per SD
        sd = np.nanstd(x) if ok.any() else 0.0
        out = (x - np.nanmean(x)) / sd if sd > 0 else np.full_like(x, np.nan)
    return _lagged(out, lag)


def _fit(y: np.ndarray, x: np.ndarray, adjust: np.ndarray) -> tuple[float, float, float] | None:
    """log OR, its SE and p of ``x`` in a logistic regression of ``y`` (None: no fit)."""
    import statsmodels.api as sm

    if y.sum() < MIN_EVENTS or (len(y) - y.sum()) < MIN_EVENTS or np.std(x) == 0:
        return None
    design = np.column_stack([np.ones(len(y)), x, adjust]) if adjust.size else None
    if design is None:
        design = np.column_stack([np.ones(len(y)), x])
    keep = [0, 1] + [j for j in range(2, design.shape[1]) if np.std(design[:, j]) > 0]
    design = design[:, keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, design).fit(disp=0, maxiter=100, method="newton")
        except Exception:  # perfect separation, singular design: no call
            return None
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not (math.isfinite(beta) and math.isfinite(se)) or se <= 0 or se > 10:
        return None
    return beta, se, float(fit.pvalues[1])


def _bh(p: list[float], q: float = Q) -> list[bool]:
    """Benjamini–Hochberg at ``q`` over one person's p-values."""
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    passed = np.zeros(m, bool)
    ranked = np.asarray(p)[order]
    below = np.flatnonzero(ranked <= q * np.arange(1, m + 1) / m)
    if below.size:
        passed[order[: below[-1] + 1]] = True
    return passed.tolist()


def oracle(cohort: Cohort) -> pl.DataFrame:
    """The oracle's calls in score_calls' contract (one row per fitted person × variable)."""
    lat = cohort.latent
    truth = cohort.truth
    ids = cohort.patients["patient_id"].to_list()
    y_all = lat["rec_onset"]
    at_risk = lat["window"] & ~lat["rec_inside"]
    rows = []
    by_person = truth.partition_by("patient_id", as_dict=True)
    for i, pid in enumerate(ids):
        mine = by_person[(pid,)]
        spec = {
            r["variable"]: (r["form"], int(r["lag"]) if r["lag"] is not None else 1, r["role"])
            for r in mine.iter_rows(named=True)
            if r["recorded"]
        }
        series = {}
        for v, (form, lag, role) in spec.items():
            true = role in ("trigger", "protector", "cause")
            series[v] = exposure(v, form if true else None, lag if true else 1, lat[f"rec_{v}"][i])
        effects = [
            v for v, (_, _, role) in spec.items() if role in ("trigger", "protector", "cause")
        ]
        fitted = []
        for v in spec:
            others = [series[o] for o in effects if o != v]
            adjust = np.column_stack(others) if others else np.empty((len(y_all[i]), 0))
            use = at_risk[i] & np.isfinite(series[v])
            if use.sum() < 30:
                continue
            adj = adjust[use]
            if adj.size:  # an adjuster not recorded that day: its mean
                means = np.nanmean(adj, axis=0)
                adj = np.where(np.isfinite(adj), adj, np.where(np.isfinite(means), means, 0.0))
            out = _fit(y_all[i][use].astype(float), series[v][use], adj)
            if out is not None:
                fitted.append((v, *out))
        passed = _bh([f[3] for f in fitted])
        for (v, beta, se, _), ok in zip(fitted, passed, strict=True):
            lo, hi = math.exp(beta - 1.96 * se), math.exp(beta + 1.96 * se)
            form, lag, role = spec[v]
            true = role in ("trigger", "protector", "cause")
            form_used = form if true else "per_sd"
            lag_used = lag if true else 1
            call = ok and (lo > 1 or hi < 1)
            if v in SPINE_VARIABLES:
                verdict = CAUSE if call and beta > 0 else "no call"
            else:
                verdict = (TRIGGER if beta > 0 else PROTECTOR) if call else "no call"
            less = form_used in ("below", "drop")
            direction = (-1 if less else 1) * (1 if beta > 0 else -1)
            rows.append(
                (pid, v, verdict, math.exp(beta), lo, hi, form_used, str(lag_used), direction)
            )
    return pl.DataFrame(
        rows,
        schema={
            "patient_id": pl.String,
            "variable": pl.String,
            "verdict": pl.String,
            "odds_ratio": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "form": pl.String,
            "lag": pl.String,
            "direction": pl.Int64,
        },
        orient="row",
    )


def main() -> None:
    """Score the oracle on one generated cohort and print the headline rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stories", default="")
    args = parser.parse_args()
    cohort = generate(args.patients, args.days, args.seed, args.stories)
    result = score(oracle(cohort), cohort.truth)
    for key, value in result.items():
        if not isinstance(value, dict):
            print(f"{key}: {value}")
    print("false calls by variable:", result["false calls by variable"])
    assert set(VARIABLES) >= set(cohort.truth["variable"].unique())


if __name__ == "__main__":
    main()
