"""A first look at each diary: how much was recorded and how often headache came.

Rates are per 30 days of diary and count only what was recorded, so the summary
also says how many days had any entry; no clinical label is given here.
"""

from __future__ import annotations

import polars as pl


def diary_summary(day_table: pl.DataFrame) -> pl.DataFrame:
    per_30 = 30.0 / pl.len()
    return (
        day_table.group_by("patient_id")
        .agg(
            pl.col("date").min().alias("first_date"),
            pl.col("date").max().alias("last_date"),
            pl.len().alias("days"),
            pl.col("logged").mean().alias("share_logged"),
            (pl.col("onsets").sum() * per_30).alias("attacks_per_30d"),
            (pl.col("headache_day").sum() * per_30).alias("headache_days_per_30d"),
            (pl.col("acute_med_day").sum() * per_30).alias("acute_med_days_per_30d"),
            pl.col("treatment").drop_nulls().unique().sort().str.join("; ").alias("treatments"),
        )
        .sort("patient_id")
    )
