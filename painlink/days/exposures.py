"""Binary exposure definitions: what the trigger analysis tests and the simulator draws from.

The simulator decides attack risk from these definitions, and an "oracle" analysis
(one that knows the true definitions) computes the same columns from a day table,
so the two can never drift apart. Each definition reads the day table's columns
for the same day or the previous one; lags are applied by the caller.
"""

from __future__ import annotations

import polars as pl

_BY_PATIENT = "patient_id"


def _prev(col: str) -> pl.Expr:
    return pl.col(col).shift(1).over(_BY_PATIENT)


def _bleeding(expr: pl.Expr) -> pl.Expr:
    return expr.is_not_null() & ~expr.is_in(["none"])


def _menses_onset() -> pl.Expr:
    today = _bleeding(pl.col("menstruation"))
    yesterday = _bleeding(pl.col("menstruation").shift(1).over(_BY_PATIENT))
    return today & ~yesterday


#: name → (definition in words, Polars expression over a day table sorted by patient, date)
EXPOSURES: dict[str, tuple[str, pl.Expr]] = {
    "short_sleep": ("slept less than 6 hours", pl.col("sleep_hours") < 6),
    "high_stress": ("stress 7 or more of 10", pl.col("stress") >= 7),
    "stress_letdown": (
        "stress fell by 3 or more points since the day before",
        (_prev("stress") - pl.col("stress")) >= 3,
    ),
    "skipped_meal": ("skipped at least one meal", pl.col("skipped_meals") >= 1),
    "alcohol": ("2 or more units of alcohol", pl.col("alcohol_units") >= 2),
    "caffeine_drop": (
        "caffeine 100 mg or more below the day before",
        (_prev("caffeine_mg") - pl.col("caffeine_mg")) >= 100,
    ),
    "pressure_drop": (
        "air pressure 5 hPa or more below the day before",
        (_prev("pressure_hpa") - pl.col("pressure_hpa")) >= 5,
    ),
    "menstrual_window": (
        "from 2 days before to 3 days after the first day of bleeding",
        pl.any_horizontal(
            [_menses_onset().shift(-k).over(_BY_PATIENT).fill_null(False) for k in range(-3, 3)]
        ),
    ),
    "pill_free": (
        "pill-free week of a combined contraceptive",
        pl.col("contraceptive_phase") == "pill_free",
    ),
    "neck_pain": ("neck pain 4 or more of 10", pl.col("neck_pain") >= 4),
    "exercise": ("30 minutes or more of exercise", pl.col("exercise_min") >= 30),
}


def derive_exposures(days: pl.DataFrame, names: list[str] | None = None) -> pl.DataFrame:
    """Add one boolean column per exposure (null where its inputs are missing).

    ``days`` must hold consecutive dates per patient, sorted by patient and date, as
    the day table does; otherwise "the day before" would mean the previous record.
    """
    chosen = names or list(EXPOSURES)
    return days.with_columns([EXPOSURES[n][1].alias(f"x_{n}") for n in chosen])


def log_days_since_last_onset(cap: int = 60) -> pl.Expr:
    """log(1 + days since the previous attack onset), capped; from the diary start before
    the first attack. A covariate of both the trigger model and the forecast."""
    last_onset = (
        pl.when(pl.col("onset"))
        .then(pl.col("date"))
        .otherwise(None)
        .shift(1)
        .forward_fill()
        .over(_BY_PATIENT)
    )
    start = pl.col("date").min().over(_BY_PATIENT)
    return (pl.col("date") - pl.coalesce(last_onset, start)).dt.total_days().clip(0, cap).log1p()
