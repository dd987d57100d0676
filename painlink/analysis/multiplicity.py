"""Benjamini–Hochberg, for one family of tests or for many families at once.

The trigger analysis controls the false-discovery rate over each person's variables
(weighted by the cohort when there is one) and the neck/back analysis over each
person's family of four tests (statistics.md §7.4); both use these.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values; NaN (never tested) stays out and NaN."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def bh_within(frame: pl.DataFrame, p: str, by: str, weight: str | None = None) -> pl.Series:
    """Benjamini–Hochberg adjusted p-values of column ``p`` within each ``by`` group,
    in the frame's row order; with ``weight``, the weighted procedure of Genovese,
    Roeder & Wasserman (2006) on p / w, weights scaled to average 1 within the group."""
    if frame.height == 0:
        return pl.Series("q", [], pl.Float64)
    w = pl.col(weight) / pl.col(weight).mean().over(by) if weight is not None else pl.lit(1.0)
    ranked = (
        frame.select(by, p, w.alias("_w"))
        .with_row_index("_row")
        .with_columns((pl.col(p) / pl.col("_w")).clip(upper_bound=1.0).alias("_pw"))
        .sort(by, "_pw", descending=[False, True], nulls_last=True)
        .with_columns(
            # tied p-values share the higher rank, so they share one q (as BH defines it)
            pl.col("_pw").rank("max", descending=False).over(by).alias("_rank"),
            pl.col("_pw").count().over(by).alias("_m"),
        )
        .with_columns(
            (pl.col("_pw") * pl.col("_m") / pl.col("_rank"))
            .cum_min()
            .over(by)
            .clip(upper_bound=1.0)
            .alias("q")
        )
        .sort("_row")
    )
    return ranked["q"]
