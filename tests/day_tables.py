"""Hand-built day tables for analysis tests: the columns the analyses read (patient,
date, onset, ongoing, attack day, no periods) around a test's own variables, so each
test's generator writes only its own story."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl


def day_frame(
    patient_id: str,
    dates: pl.Series,
    onset: np.ndarray,
    ongoing: np.ndarray | None = None,
    **values: object,
) -> pl.DataFrame:
    """One person's day table: ``onset`` and ``ongoing`` (no days inside attacks when
    None) per date, the attack days from both, no menstruation recorded, and
    ``values`` as the day columns."""
    inside = np.zeros(len(dates), bool) if ongoing is None else ongoing
    return pl.DataFrame(
        {
            "patient_id": patient_id,
            "date": dates,
            "onset": onset,
            "ongoing": inside,
            "attack_day": onset | inside,
            **values,
            "menstruation": [None] * len(dates),
        },
        schema_overrides={"menstruation": pl.String},
    )


def logistic_cohort(
    rng: np.random.Generator,
    people: int,
    dates: pl.Series,
    person: Callable[[int], tuple[np.ndarray, dict[str, object]]],
) -> pl.DataFrame:
    """``people`` diaries ``P000``, ``P001``, …: ``person(i)`` draws person i's day
    columns and the daily log odds of an attack starting; the onsets are drawn here,
    after the columns, from ``rng``."""
    frames = []
    for i in range(people):
        logit, values = person(i)
        onset = rng.random(len(dates)) < 1 / (1 + np.exp(-logit))
        frames.append(day_frame(f"P{i:03d}", dates, onset, **values))
    return pl.concat(frames)
