"""Time-stratified case-crossover: the sensitivity analysis of the trigger model.

Each attack onset day (the case) is compared with referent days of the same person
chosen in advance — the same weekday in the same calendar month — so anything
constant within a month (season, the person's habits, slow disease activity) cancels
out, and referents do not depend on when attacks happened (no overlap bias: Janes,
Sheppard & Lumley 2005). Conditional logistic regression per person, exposure and
lag, with the exact conditional likelihood: a stratum of n days holding d onsets
contributes exp(b·Σx_cases) / Σ_{|S|=d} exp(b·Σx_S) — see
:mod:`painlink.analysis.conditional_logit`. Most strata of a real diary hold two or
more onsets, where the Breslow-type form (each case against the whole stratum)
painlink fitted before gives a different estimate. A normal prior (SD
``settings.prior_sd``) on b keeps sparse fits finite; without it the fit equals
statsmodels' ``ConditionalLogit`` (tested on tied data). Referent days inside an
attack are dropped (a person cannot start an attack then).

``case_crossover_columns`` is the batched entry point: any numeric day columns (0/1,
counts, per-SD forms; nulls are missing days), every person at once.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.conditional_logit import conditional_logit
from painlink.analysis.trigger_exposures import exposure_columns
from painlink.rules.triggers import TriggerSettings

COLUMNS = ("patient_id", "column", "lag", "cases", "log_or", "se")
ESTIMATES = ("odds_ratio", "ci_low", "ci_high", "p")


def _at_risk_rows(frame: pl.DataFrame, columns: list[str], lags: tuple[int, ...]) -> pl.DataFrame:
    """The days that can inform a fit, with each column ``lag`` calendar days earlier.

    A day inside an attack is no referent (no attack can start then); a stratum
    needs an onset and a referent. Lags go by date, not by row: after a gap in the
    diary the day has no value for the days that were not recorded.
    """
    date = pl.col("date")
    stratum = (date.dt.year().cast(pl.Int64) * 100 + date.dt.month()) * 10 + date.dt.weekday()
    days = (
        frame.select("patient_id", "date", "onset", "ongoing", *columns)
        .with_columns(
            pl.col("patient_id").cast(pl.String),
            date.cast(pl.Date),
            pl.col("onset").fill_null(False),
        )
        .drop_nulls(["patient_id", "date"])
        .unique(["patient_id", "date"], keep="first", maintain_order=True)
    )
    out = (
        days.filter(~pl.col("ongoing").fill_null(False))
        .select("patient_id", "date", "onset", stratum.alias("stratum"))
        .filter(
            pl.col("onset").any().over("patient_id", "stratum")
            & (~pl.col("onset")).any().over("patient_id", "stratum")
        )
    )
    for lag in lags:
        earlier = days.select(
            "patient_id",
            (date + pl.duration(days=lag)).alias("date"),
            *[pl.col(c).cast(pl.Float64).alias(f"{c}@lag{lag}") for c in columns],
        )
        out = out.join(earlier, on=["patient_id", "date"], how="left", maintain_order="left")
    return out


def case_crossover_columns(
    frame: pl.DataFrame,
    columns: list[str],
    lags: tuple[int, ...] | list[int] = (0, 1, 2),
    settings: TriggerSettings | None = None,
) -> pl.DataFrame:
    """Time-stratified case-crossover of every person × column × lag in one batched fit.

    ``frame`` holds one row per person and day: ``patient_id``, ``date``, ``onset``
    and ``ongoing`` (booleans) and the numeric ``columns`` (nulls = not recorded).
    Returns one row per person × column × lag: ``cases`` (onsets in strata that
    inform the fit), ``log_or`` and ``se`` (per unit of the column) and the odds
    ratio with its interval and p — null when the person has fewer than
    ``settings.min_attacks`` such onsets or the column varies within fewer than two
    strata.
    """
    s = settings or TriggerSettings()
    lags = tuple(dict.fromkeys(int(lag) for lag in lags))
    if any(lag < 0 for lag in lags):
        raise ValueError("a lag looks back: it cannot be negative")
    columns = list(dict.fromkeys(columns))
    people = frame["patient_id"].cast(pl.String).drop_nulls().unique(maintain_order=True)
    ready = _at_risk_rows(frame, columns, lags)
    names = [(c, lag) for c in columns for lag in lags]
    x = (
        ready.select([pl.col(f"{c}@lag{lag}") for c, lag in names]).to_numpy().T.astype(float)
        if ready.height and names
        else np.empty((len(names), ready.height))
    )
    fit = conditional_logit(
        x,
        ready["onset"].to_numpy(),
        ready["stratum"].to_numpy(),
        s.prior_sd,
        by=ready["patient_id"].to_numpy(),
    )
    labels = [] if fit.by is None else [str(v) for v in fit.by]
    b, se, cases = fit.coef.ravel(), fit.se.ravel(), fit.cases.ravel()
    usable = (
        (cases >= s.min_attacks)
        & (fit.varying.ravel() >= 2)
        & np.isfinite(b)
        & np.isfinite(se)
        & (se > 0)
    )
    b = np.where(usable, b, np.nan)
    se = np.where(usable, se, np.nan)
    z = float(stats.norm.ppf(1 - s.alpha / 2))
    with np.errstate(all="ignore"):
        found = {
            "log_or": b,
            "se": se,
            "odds_ratio": np.exp(b),
            "ci_low": np.exp(b - z * se),
            "ci_high": np.exp(b + z * se),
            "p": 2 * stats.norm.sf(np.abs(b / se)),
        }
    table = pl.DataFrame(
        {
            "patient_id": [p for _ in names for p in labels],
            "column": [c for c, _ in names for _ in labels],
            "lag": [lag for _, lag in names for _ in labels],
            "cases": cases,
            **found,
        },
        schema={
            "patient_id": pl.String,
            "column": pl.String,
            "lag": pl.Int64,
            "cases": pl.Int64,
            **dict.fromkeys(found, pl.Float64),
        },
    ).fill_nan(None)
    grid = pl.DataFrame({"patient_id": people}).join(
        pl.DataFrame(
            {"column": [c for c, _ in names], "lag": [lag for _, lag in names]},
            schema={"column": pl.String, "lag": pl.Int64},
        ),
        how="cross",
    )
    return (
        grid.join(table, on=["patient_id", "column", "lag"], how="left", maintain_order="left")
        .with_columns(pl.col("cases").fill_null(0))
        .select(*COLUMNS, *ESTIMATES)
    )


def case_crossover(days: pl.DataFrame, settings: TriggerSettings | None = None) -> pl.DataFrame:
    """Odds ratios per person, factor and lag from the time-stratified case-crossover."""
    s = settings or TriggerSettings()
    frame, factors = exposure_columns(days)
    found = case_crossover_columns(frame, [f"x_{f}" for f in factors], s.lags, s)
    return found.select(
        "patient_id",
        pl.col("column").str.strip_prefix("x_").alias("factor"),
        "lag",
        "cases",
        *ESTIMATES,
    )
