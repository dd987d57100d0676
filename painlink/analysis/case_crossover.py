"""Time-stratified case-crossover: the sensitivity analysis of the trigger model.

Each attack onset day (the case) is compared with referent days of the same person
chosen in advance — the same weekday in the same calendar month — so anything
constant within a month (season, the person's habits, slow disease activity) cancels
out, and referents do not depend on when attacks happened (no overlap bias: Janes,
Sheppard & Lumley 2005). Conditional logistic regression per person, factor and lag:

    L(b) = Π_cases exp(b·x_case) / Σ_{j in stratum} exp(b·x_j)

fitted by Newton–Raphson with a normal prior (SD 2) on b; without the prior it equals
statsmodels' ``ConditionalLogit`` (tested). Referent days inside an attack are
dropped (a person cannot start an attack then).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.trigger_exposures import exposure_columns
from painlink.rules.triggers import TriggerSettings


def conditional_logit_1d(
    x: np.ndarray, case: np.ndarray, stratum: np.ndarray, prior_sd: float | None = 2.0
) -> tuple[float, float]:
    """Coefficient and SE of a single exposure in a 1:k conditional logit."""
    penalty = 0.0 if prior_sd is None else 1.0 / prior_sd**2
    _, inverse = np.unique(stratum, return_inverse=True)
    k = inverse.max() + 1 if inverse.size else 0
    b = 0.0
    info = penalty
    for _ in range(50):
        w = np.exp(b * x)
        s0 = np.bincount(inverse, w, k)
        s1 = np.bincount(inverse, w * x, k)
        s2 = np.bincount(inverse, w * x * x, k)
        cases = np.bincount(inverse, case.astype(float), k)
        mean = s1 / np.maximum(s0, 1e-300)
        grad = (x * case).sum() - (cases * mean).sum() - penalty * b
        info = (cases * (s2 / np.maximum(s0, 1e-300) - mean**2)).sum() + penalty
        if info <= 0:
            return float("nan"), float("nan")
        step = grad / info
        b += step
        if abs(step) < 1e-10:
            break
    return float(b), float(1 / np.sqrt(info))


def case_crossover(days: pl.DataFrame, settings: TriggerSettings | None = None) -> pl.DataFrame:
    """Odds ratios per person, factor and lag from the time-stratified case-crossover."""
    s = settings or TriggerSettings()
    frame, factors = exposure_columns(days)
    frame = frame.with_columns(
        (
            pl.col("date").dt.strftime("%Y-%m") + "-" + pl.col("date").dt.weekday().cast(pl.String)
        ).alias("stratum")
    )
    rows = []
    z = stats.norm.ppf(1 - s.alpha / 2)
    for (pid,), part in frame.group_by(["patient_id"], maintain_order=True):
        at_risk = ~part["ongoing"].to_numpy()
        case = part["onset"].to_numpy() & at_risk
        strata = part["stratum"].to_numpy()
        # keep strata with at least one case and one referent
        has_case = (
            pl.DataFrame({"s": strata, "c": case, "r": at_risk})
            .group_by("s")
            .agg(pl.col("c").sum(), pl.col("r").sum())
        )
        useful = set(
            has_case.filter((pl.col("c") > 0) & (pl.col("r") > pl.col("c")))["s"].to_list()
        )
        base = at_risk & np.isin(strata, list(useful))
        for f in factors:
            raw = part[f"x_{f}"].cast(pl.Float64).to_numpy()
            for lag in s.lags:
                x = np.full(len(raw), np.nan)
                x[lag:] = raw[: len(raw) - lag] if lag else raw
                keep = base & ~np.isnan(x)
                cases = int(case[keep].sum())
                discordant = np.unique(strata[keep & (x == 1)]).size
                if cases < s.min_attacks or discordant < 2:
                    rows.append(
                        {
                            "patient_id": str(pid),
                            "factor": f,
                            "lag": lag,
                            "cases": cases,
                            "odds_ratio": None,
                            "ci_low": None,
                            "ci_high": None,
                            "p": None,
                        }
                    )
                    continue
                b, se = conditional_logit_1d(x[keep], case[keep], strata[keep], s.prior_sd)
                rows.append(
                    {
                        "patient_id": str(pid),
                        "factor": f,
                        "lag": lag,
                        "cases": cases,
                        "odds_ratio": float(np.exp(b)),
                        "ci_low": float(np.exp(b - z * se)),
                        "ci_high": float(np.exp(b + z * se)),
                        "p": float(2 * stats.norm.sf(abs(b / se))),
                    }
                )
    return pl.DataFrame(rows, infer_schema_length=None)


def case_crossover_columns(
    frame: pl.DataFrame, columns: list[str], lags: tuple[int, ...], settings: TriggerSettings
) -> pl.DataFrame:
    """Per patient × column × lag: the case-crossover odds ratio of numeric columns."""
    s = settings
    frame = frame.sort("patient_id", "date").with_columns(
        (
            pl.col("date").dt.strftime("%Y-%m") + "-" + pl.col("date").dt.weekday().cast(pl.String)
        ).alias("_stratum")
    )
    rows = []
    z = stats.norm.ppf(1 - s.alpha / 2)
    for (pid,), part in frame.group_by(["patient_id"], maintain_order=True):
        at_risk = ~part["ongoing"].to_numpy()
        case = part["onset"].to_numpy() & at_risk
        strata = part["_stratum"].to_numpy()
        for col in columns:
            raw = part[col].cast(pl.Float64).to_numpy()
            for lag in lags:
                x = np.full(len(raw), np.nan)
                x[lag:] = raw[: len(raw) - lag] if lag else raw
                keep = at_risk & ~np.isnan(x)
                cases = int(case[keep].sum())
                row: dict[str, object] = {
                    "patient_id": str(pid),
                    "column": col,
                    "lag": lag,
                    "cases": cases,
                    "log_or": None,
                    "se": None,
                    "odds_ratio": None,
                    "ci_low": None,
                    "ci_high": None,
                    "p": None,
                }
                if cases >= s.min_attacks and np.unique(x[keep]).size > 1:
                    b, se = conditional_logit_1d(x[keep], case[keep], strata[keep], s.prior_sd)
                    if np.isfinite(b) and np.isfinite(se):
                        row.update(
                            log_or=b,
                            se=se,
                            odds_ratio=float(np.exp(b)),
                            ci_low=float(np.exp(b - z * se)),
                            ci_high=float(np.exp(b + z * se)),
                            p=float(2 * stats.norm.sf(abs(b / se))),
                        )
                rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)
