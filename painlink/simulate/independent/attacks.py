"""Attacks from the hazard, day by day, and what attacks do to the diary afterwards.

The onset probability of a day is logistic in the person's drifting baseline plus
the causes' part. A day inside an attack cannot start a new one; the one or two
days after an attack ends are refractory (lower odds). An attack starts at a time of
day (mornings more often), lasts hours to 3 days, and so covers one to four diary
days. Afterwards, early attack signs rise on the days before each onset, symptoms
rise with the attack, and for some people the attack changes sleep, exercise,
caffeine (a caffeine-containing painkiller) or screen time on the attack's days.
"""

from __future__ import annotations

import numpy as np

from painlink.simulate.independent.effects import People

#: onset hour weights: early morning and late afternoon peaks
_HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1.5, 2, 3, 4, 4, 3.5, 3, 2.5, 2, 2, 2, 2.5, 3, 3, 2.5, 2, 1.5, 1.5, 1, 1, 1]
)
HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()


def drifting_baseline(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Log-odds of an onset without any cause: the person's own level (about 1 to 12
    attacks a month) plus a slow sine (months) and a mean-reverting random walk."""
    monthly = np.clip(np.exp(rng.normal(np.log(4.0), 0.55, n)), 1.0, 12.0)
    p = monthly / 30.0
    level = np.log(p / (1 - p))
    t = np.arange(days)[None, :]
    period = rng.uniform(90, 365, (n, 1))
    sine = rng.uniform(0, 0.4, (n, 1)) * np.sin(
        2 * np.pi * t / period + rng.uniform(0, 6.3, (n, 1))
    )
    walk = np.empty((n, days))
    phi, sd = 0.99, rng.uniform(0.1, 0.35, n)
    shocks = rng.standard_normal((n, days)) * (sd * np.sqrt(1 - phi**2))[:, None]
    walk[:, 0] = sd * rng.standard_normal(n)
    for k in range(1, days):
        walk[:, k] = phi * walk[:, k - 1] + shocks[:, k]
    return level[:, None] + sine + walk


def run_attacks(
    rng: np.random.Generator, logit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets day by day, vectorised over people.

    Returns (onset minute of the day or −1, duration in minutes, covered): ``covered``
    is True on every diary day an attack touches, the onset day included."""
    n, days = logit.shape
    onset_minute = np.full((n, days), -1)
    duration = np.zeros((n, days))
    covered = np.zeros((n, days), dtype=bool)
    busy_until = np.full(n, -10)
    refractory_days = rng.integers(1, 3, n)
    refractory_size = rng.uniform(0.5, 1.5, n)
    median_hours = np.asarray(rng.uniform(6, 24, n))
    for t in range(days):
        free = t > busy_until
        recent = free & (t - busy_until <= refractory_days)
        z = logit[:, t] - recent * refractory_size
        starts = free & (rng.random(n) < 1 / (1 + np.exp(-z)))
        idx = np.flatnonzero(starts)
        if idx.size == 0:
            continue
        minute = np.asarray(rng.choice(24, idx.size, p=HOUR_P)) * 60 + rng.integers(0, 60, idx.size)
        hours = np.clip(median_hours[idx] * np.exp(rng.normal(0, 0.6, idx.size)), 2, 72)
        onset_minute[idx, t] = minute
        duration[idx, t] = np.round(hours * 60)
        last = t + (minute + duration[idx, t]).astype(int) // (24 * 60)
        busy_until[idx] = last
        for i, end in zip(idx, last, strict=True):
            covered[i, t : min(end, days - 1) + 1] = True
    return onset_minute, duration, covered


def before_onsets(onset: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """True on the ``lead`` (per person) days before each onset."""
    out = np.zeros_like(onset)
    for k in (1, 2):
        use = (lead >= k)[:, None]
        out[:, :-k] |= onset[:, k:] & use
    return out


def attack_changes(
    rng: np.random.Generator,
    people: People,
    values: dict[str, np.ndarray],
    onset: np.ndarray,
    covered: np.ndarray,
) -> dict[str, np.ndarray]:
    """The diary as the attacks left it: signs before, symptoms with, and the person's
    response to attacks (rest, no sport, a caffeine-containing drug, no screens)."""
    out = {k: v.copy() for k, v in values.items()}
    n = onset.shape[0]
    for e in people.effects:
        if e.role not in ("premonitory", "symptom"):
            continue
        days = covered[e.patient].copy()
        if e.role == "premonitory":
            lead = np.zeros(n, dtype=int)
            lead[e.patient] = e.lead_days
            days |= before_onsets(onset, lead)[e.patient]
        row = out[e.variable][e.patient]
        if e.variable == "yawning":
            row[days] = np.maximum(row[days], rng.random(days.sum()) < e.rise)
        else:
            row[days] = np.clip(np.round(row[days] + e.rise), 0, 10)
    # the onset day itself changes only when the attack began before the evening
    # check-in (60%); every later day of the attack changes
    later = covered & ~onset
    touched = later | (onset & (rng.random(onset.shape) < 0.6))
    for var, size in people.reverse.items():
        who = (size != 0)[:, None] & touched
        if var == "exercise_min":
            out[var] = np.where(who, np.round(out[var] * (1 - size[:, None]) / 5) * 5, out[var])
        else:
            step = {"sleep_hours": 0.25, "caffeine_mg": 10.0, "screen_hours": 0.5}[var]
            changed = np.clip(
                np.round((out[var] + size[:, None]) / step) * step,
                0,
                24 if var != "caffeine_mg" else 5000,
            )
            out[var] = np.where(who, changed, out[var])
    return out
