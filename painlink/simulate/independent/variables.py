"""The day variables of the independent story: each person's own levels, rhythms and
recording habits, drawn as (patients, days) arrays.

Every series is a person-specific mean plus an AR(1) day-to-day wander, with a weekly
rhythm (lie-ins and drinks at weekends, weekday stress and caffeine) and, for the
weather, a seasonal curve. What a diary *records* is decided separately
(:func:`recording`): who ever records a variable, and which days are missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

#: built-in numeric day columns, in days.csv order (menstruation/contraceptive separate)
NUMERIC = (
    "sleep_hours",
    "sleep_quality",
    "stress",
    "skipped_meals",
    "alcohol_units",
    "caffeine_mg",
    "exercise_min",
    "screen_hours",
    "allergy_symptoms",
    "pressure_hpa",
    "temperature_c",
    "neck_pain",
    "low_back_pain",
)
#: own factors: name → kind ("boolean" yes/no or "numeric")
OWN_FACTORS = {"red_wine": "boolean", "steps": "numeric", "yawning": "boolean"}
CYCLE = ("menstruation", "contraceptive_phase")
VARIABLES = (*NUMERIC, *CYCLE, *OWN_FACTORS)

#: share of people who ever record each variable (women only for the cycle)
RECORD_SHARE = {
    "sleep_hours": 0.95,
    "sleep_quality": 0.8,
    "stress": 0.9,
    "skipped_meals": 0.7,
    "alcohol_units": 0.7,
    "caffeine_mg": 0.8,
    "exercise_min": 0.6,
    "screen_hours": 0.5,
    "allergy_symptoms": 0.5,
    "pressure_hpa": 0.45,
    "temperature_c": 0.45,
    "neck_pain": 0.8,
    "low_back_pain": 0.6,
    "menstruation": 0.75,  # of women
    "contraceptive_phase": 0.9,  # of women on the combined pill
    "red_wine": 0.2,
    "steps": 0.25,
    "yawning": 0.05,  # 0.7 where yawning is an early attack sign
}
#: how each variable is rounded when written down (a person writes 7.5 h, not 7.4831)
ROUNDING = {
    "sleep_hours": 0.25,
    "sleep_quality": 1.0,
    "stress": 1.0,
    "skipped_meals": 1.0,
    "alcohol_units": 0.5,
    "caffeine_mg": 10.0,
    "exercise_min": 5.0,
    "screen_hours": 0.5,
    "pressure_hpa": 0.1,
    "temperature_c": 0.1,
    "neck_pain": 1.0,
    "low_back_pain": 1.0,
    "steps": 10.0,
}
#: bounds of days.csv (docs/csv-format.md)
BOUNDS = {
    "sleep_hours": (0, 24),
    "sleep_quality": (0, 10),
    "stress": (0, 10),
    "skipped_meals": (0, 10),
    "alcohol_units": (0, 100),
    "caffeine_mg": (0, 5000),
    "exercise_min": (0, 1440),
    "screen_hours": (0, 24),
    "pressure_hpa": (850, 1100),
    "temperature_c": (-70, 60),
    "neck_pain": (0, 10),
    "low_back_pain": (0, 10),
    "steps": (0, 100_000),
}


@dataclass
class Calendar:
    start: dt.date
    days: int

    @property
    def weekday(self) -> np.ndarray:
        first = self.start.weekday()
        return (first + np.arange(self.days)) % 7  # Monday 0

    @property
    def weekend(self) -> np.ndarray:
        return (self.weekday >= 5).astype(float)

    @property
    def friday_saturday(self) -> np.ndarray:
        return np.isin(self.weekday, (4, 5)).astype(float)

    @property
    def day_of_year(self) -> np.ndarray:
        first = self.start.timetuple().tm_yday
        return first + np.arange(self.days)


def ar1(rng: np.random.Generator, n: int, days: int, phi: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Stationary AR(1) noise with per-person persistence ``phi`` and marginal SD ``sd``."""
    out = np.empty((n, days))
    shocks = rng.standard_normal((n, days))
    innovation = sd * np.sqrt(1 - phi**2)
    out[:, 0] = sd * shocks[:, 0]
    for t in range(1, days):
        out[:, t] = phi * out[:, t - 1] + innovation * shocks[:, t]
    return out


def _col(v: np.ndarray) -> np.ndarray:
    return v.reshape(-1, 1)


def latent_days(
    rng: np.random.Generator, female: np.ndarray, on_pill: np.ndarray, cal: Calendar
) -> dict[str, np.ndarray]:
    """Every day variable for every person on every day, as it really was (before any
    attack changed it, before anything was left unrecorded)."""
    n, days = female.size, cal.days
    u = rng.uniform
    weekend, frisat = cal.weekend[None, :], cal.friday_saturday[None, :]
    out: dict[str, np.ndarray] = {}

    sleep_sd = u(0.5, 1.2, n)
    out["sleep_hours"] = (
        _col(rng.normal(6.9, 0.6, n))
        + _col(u(0.2, 1.2, n)) * weekend
        + ar1(rng, n, days, u(0.15, 0.55, n), sleep_sd)
    )
    sleep_z = (out["sleep_hours"] - out["sleep_hours"].mean(axis=1, keepdims=True)) / _col(sleep_sd)
    out["sleep_quality"] = (
        _col(rng.normal(6.3, 1.0, n))
        + _col(u(0.4, 1.2, n)) * sleep_z
        + ar1(rng, n, days, u(0.2, 0.5, n), _col(u(0.8, 1.6, n)).ravel())
    )
    out["stress"] = (
        _col(u(2.0, 6.0, n))
        - _col(u(0.3, 1.5, n)) * weekend
        + ar1(rng, n, days, u(0.4, 0.8, n), u(1.0, 2.2, n))
    )
    out["skipped_meals"] = rng.poisson(
        _col(u(0.03, 0.45, n)) * (1 + 0.15 * np.clip(out["stress"] - 5, 0, None)), (n, days)
    ).astype(float)

    drinker = rng.random(n) < 0.75
    drink_day = _col(u(0.04, 0.3, n)) * (1 + 1.5 * frisat)
    drinks = rng.random((n, days)) < drink_day
    amount = rng.gamma(2.0, _col(u(0.6, 2.2, n)), (n, days))
    out["alcohol_units"] = np.where(drinks & _col(drinker), np.maximum(amount, 0.5), 0.0)
    # red wine: on some of the drinking days of those who drink it
    wine_share = np.where(rng.random(n) < 0.6, u(0.2, 0.8, n), 0.0)
    out["red_wine"] = (
        (out["alcohol_units"] > 0) & (rng.random((n, days)) < _col(wine_share))
    ).astype(float)

    # habitual caffeine: none for 10%, else log-normal around 180 mg (capped at 700 mg,
    # about seven cups of coffee); a day is at most 1,200 mg
    habitual = np.where(
        rng.random(n) < 0.1, 0.0, np.clip(np.exp(rng.normal(np.log(180), 0.6, n)), 20, 700)
    )
    out["caffeine_mg"] = np.minimum(
        _col(habitual)
        * np.exp(-0.25 * weekend + ar1(rng, n, days, u(0.2, 0.6, n), u(0.15, 0.45, n))),
        1200,
    )

    active = rng.random((n, days)) < _col(u(0.1, 0.6, n)) * (1 + 0.4 * weekend)
    out["exercise_min"] = np.where(active, rng.gamma(3.0, _col(u(8, 22, n)), (n, days)), 0.0)
    out["steps"] = (
        _col(u(3500, 10000, n))
        + 90 * out["exercise_min"]
        + ar1(rng, n, days, u(0.2, 0.5, n), u(1200, 3000, n))
    )
    out["screen_hours"] = (
        _col(u(2.0, 8.0, n))
        + _col(u(-1.0, 2.0, n)) * weekend
        + ar1(rng, n, days, u(0.3, 0.7, n), u(0.8, 2.0, n))
    )

    # weather: a seasonal curve plus a few days' weather systems, each person's own town
    season = np.cos(2 * np.pi * (cal.day_of_year[None, :] - 200) / 365.25)  # +1 in July
    out["pressure_hpa"] = (
        _col(rng.normal(1013, 4, n))
        - 2.0 * season * _col(u(0.5, 1.5, n))
        + ar1(rng, n, days, u(0.65, 0.85, n), u(6.0, 10.0, n))
    )
    out["temperature_c"] = (
        _col(u(4, 16, n))
        + _col(u(5, 12, n)) * season
        + ar1(rng, n, days, u(0.6, 0.85, n), u(2.0, 4.0, n))
    )
    pollen = np.exp(-(((cal.day_of_year[None, :] - _col(u(100, 170, n))) / 35.0) ** 2))
    out["allergy_symptoms"] = (
        rng.random((n, days)) < _col(np.where(rng.random(n) < 0.4, u(0.3, 0.8, n), 0.05)) * pollen
    ).astype(float)

    out["neck_pain"] = _col(u(0.0, 4.0, n)) + ar1(rng, n, days, u(0.5, 0.85, n), u(0.6, 1.8, n))
    out["low_back_pain"] = _col(u(0.0, 3.0, n)) + ar1(rng, n, days, u(0.5, 0.85, n), u(0.5, 1.5, n))
    out["yawning"] = (rng.random((n, days)) < _col(u(0.03, 0.15, n))).astype(float)

    out["menstruation"], out["contraceptive_phase"] = _cycles(rng, female, on_pill, days)
    return {k: _tidy(k, v) for k, v in out.items()}


def _tidy(name: str, x: np.ndarray) -> np.ndarray:
    if name in BOUNDS:
        low, high = BOUNDS[name]
        x = np.clip(x, low, high)
    if name in ROUNDING:
        step = ROUNDING[name]
        x = np.round(x / step) * step
    return x


#: flow of each bleeding day of a period, coded 1 spotting … 4 heavy (0 none)
FLOW_WORDS = ("none", "spotting", "light", "medium", "heavy")


def _cycles(
    rng: np.random.Generator, female: np.ndarray, on_pill: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Menstrual flow (0 none … 4 heavy) and, for pill users, 1 on pill-free days.

    Natural cycles last the person's own 25–33 days ± 2 a cycle, with 3–6 bleeding
    days; a pill user takes 21 active pills and bleeds in the 7 pill-free days."""
    n = female.size
    flow = np.zeros((n, days))
    pill_free = np.zeros((n, days))
    mean_len = rng.uniform(25, 33, n)
    bleed_len = rng.integers(3, 7, n)
    for i in np.flatnonzero(female):
        day = -int(rng.integers(0, 28))
        while day < days:
            if on_pill[i]:
                length, bleed, free = 28, 4, (day + 21, day + 28)
                lo, hi = max(free[0], 0), min(free[1], days)
                pill_free[i, lo:hi] = 1
                start_bleed = day + 22
            else:
                length = max(21, round(rng.normal(mean_len[i], 2.0)))
                bleed, start_bleed = int(bleed_len[i]), day
            pattern = np.array([3, 4, 3, 2, 2, 1])[:bleed]
            for k, level in enumerate(pattern):
                if 0 <= start_bleed + k < days:
                    flow[i, start_bleed + k] = level
            day += length
    return flow, pill_free


def recording(
    rng: np.random.Generator,
    female: np.ndarray,
    on_pill: np.ndarray,
    yawning_is_sign: np.ndarray,
    days: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Who ever records each variable (bool per person), and which diary days exist.

    A person skips days at random (2–15%) and in runs (a holiday, an illness: on average
    one to three runs a year of about a week); a recorded variable is also left empty
    on 3% of the days that were written."""
    n = female.size
    records = {}
    for name in VARIABLES:
        share = np.full(n, RECORD_SHARE[name])
        if name == "yawning":
            share = np.where(yawning_is_sign, 0.7, share)
        chosen = rng.random(n) < share
        if name == "menstruation":
            chosen &= female
        if name == "contraceptive_phase":
            chosen &= female & on_pill
        records[name] = chosen
    present = rng.random((n, days)) >= rng.uniform(0.02, 0.15, (n, 1))
    runs = rng.poisson(rng.uniform(1, 3, n) * days / 365)
    for i in np.flatnonzero(runs):
        for _ in range(runs[i]):
            first = int(rng.integers(0, days))
            present[i, first : first + int(rng.geometric(1 / 7))] = False
    return records, present
