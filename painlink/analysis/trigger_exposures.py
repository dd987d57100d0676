"""The exposures the trigger model and its case-crossover sensitivity analysis both test.

Its own module so that :mod:`painlink.analysis.case_crossover` and
:mod:`painlink.analysis.triggers` share it without importing each other.
"""

from __future__ import annotations

import polars as pl

from painlink.days.exposures import EXPOSURES, derive_exposures


def exposure_columns(days: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The day table with one 0/1 column per testable factor (own yes/no factors too)."""
    frame = derive_exposures(days.sort("patient_id", "date"))
    names = list(EXPOSURES)
    own = [c for c in days.columns if c.startswith("factor_")]
    for col in own:
        values = days[col].drop_nulls()
        if not values.len():
            continue
        name = col.removeprefix("factor_")
        if values.is_in([0.0, 1.0]).all():
            frame = frame.with_columns((pl.col(col) > 0).alias(f"x_{name}"))
        else:
            # a numeric own factor: "above this person's usual (median) level"
            name = f"high_{name}"
            frame = frame.with_columns(
                (pl.col(col) > pl.col(col).median().over("patient_id")).alias(f"x_{name}")
            )
        names.append(name)
    return frame, names
