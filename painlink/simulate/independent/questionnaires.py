"""HIT-6 in the treated independent story: filled in about every 4 weeks, its total
driven by the last 4 weeks' migraine days and attack severity, plus noise.

Why: an outcome analysis may compare questionnaire totals before and after a
treatment; here those totals follow the attacks the person actually had (so a
treatment moves them only through its effect on attacks, and a peak enrolment
inflates the first ones just as it inflates the attack counts).

The story: 85% of people fill it in, first on day 27–33 of the diary and then every
25–31 days; each occasion is skipped with probability 0.15. The person's latent
total on an occasion is 50 + their own offset (SD 3) + 1 point per migraine day in
the last 28 days (at most 20) + 3 points per 0–3 intensity step of their attacks'
mean in those days above 2 (none without attacks) + noise (SD 2), kept in 36–78.
Each of the six items answers latent / 6 + noise (SD 1) with the nearest response
value; the items' sum is what the diary's scorer will see.

Response values 6, 8, 10, 11, 13 (never … always): Kosinski et al., Qual Life Res
2003;12:963–74. Item texts are not needed and not held.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

HIT6_VALUES = np.array([6.0, 8.0, 10.0, 11.0, 13.0])
HIT6_ITEMS = tuple(f"hit6-{k}" for k in range(1, 7))
TAKES_PART = 0.85
SKIPPED = 0.15
WINDOW = 28

HIT6_TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "completed_on": pl.Date(),
    "latent_total": pl.Float64(),
    "migraine_days_28": pl.Int64(),
    "mean_intensity_28": pl.Float64(),
}


def latent_total(offset: float, migraine_days: int, mean_intensity: float, noise: float) -> float:
    """The HIT-6 total the person would give on average, before the items' rounding."""
    severity = 0.0 if np.isnan(mean_intensity) else mean_intensity - 2.0
    raw = 50.0 + offset + min(migraine_days, 20) + 3.0 * severity + 2.0 * noise
    return float(np.clip(raw, 36.0, 78.0))


def answers(latent: float, noise: np.ndarray) -> np.ndarray:
    """Six item responses: each the response value nearest latent / 6 + noise."""
    wanted = latent / 6.0 + noise
    return HIT6_VALUES[np.abs(wanted[:, None] - HIT6_VALUES[None, :]).argmin(axis=1)]


def hit6(
    rng: np.random.Generator,
    ids: list[str],
    start: dt.date,
    covered: np.ndarray,
    onset: np.ndarray,
    intensity: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(questionnaire_items rows, truth: one row per filled-in HIT-6)."""
    n, days = int(covered.shape[0]), int(covered.shape[1])
    takes = rng.random(n) < TAKES_PART
    offset = rng.normal(0.0, 3.0, n)
    items: list[dict[str, object]] = []
    truth: list[dict[str, object]] = []
    for i in np.flatnonzero(takes):
        day = WINDOW - 1 + int(rng.integers(0, 7))
        while day < days:
            skip = rng.random() < SKIPPED
            noise: np.ndarray = rng.standard_normal(7)
            if not skip:
                window = slice(day - WINDOW + 1, day + 1)
                md = int(covered[i, window].sum())
                hit = onset[i, window]
                mean = float(intensity[i, window][hit].mean()) if hit.any() else float("nan")
                latent = latent_total(float(offset[i]), md, mean, float(noise[0]))
                on = start + dt.timedelta(days=day)
                for item, value in zip(HIT6_ITEMS, answers(latent, noise[1:]), strict=True):
                    items.append(
                        {
                            "patient_id": ids[i],
                            "completed_on": on,
                            "instrument": "hit6",
                            "item": item,
                            "value": float(value),
                        }
                    )
                truth.append(
                    {
                        "patient_id": ids[i],
                        "completed_on": on,
                        "latent_total": latent,
                        "migraine_days_28": md,
                        "mean_intensity_28": mean,
                    }
                )
            day += 28 + int(rng.integers(-3, 4))
    item_schema = {
        "patient_id": pl.String,
        "completed_on": pl.Date,
        "instrument": pl.String,
        "item": pl.String,
        "value": pl.Float64,
    }
    return (
        pl.DataFrame(items, schema=item_schema),
        pl.DataFrame(truth, schema=HIT6_TRUTH_SCHEMA).fill_nan(None),
    )
