"""The attack process of the treated story, run once for the diary and many times for
the expected quantities.

Why a runner of its own rather than :func:`attacks.run_attacks`: that one draws from
the untreated story's generator in an order that depends on what happened, so the
untreated diaries must keep it untouched (bit for bit). Here every random number
belongs to a (person, day) cell and is drawn before the run, so two runs over the
same cells (without and with a treatment) share everything up to the day the
treatment starts. That is what makes "enrolment at a peak" honest: the start is
picked from the untreated run's record, and the treated diary's record before the
start is the very same record.

The same hazard as the untreated story: the day's onset log-odds (drifting baseline
plus causes) plus the treatment's log odds multiplier, minus the refractory drop on
the 1–2 days after an attack; no onset inside an attack. Durations are the person's
median times a log-normal factor and the treatment's duration ratio, clipped to
2–72 h. Severity is a continuous latent ``c`` (0.5–3.5; 30% mild, 50% moderate, 20%
severe), shifted by the treatment: the 0–3 intensity is ``round(c)`` kept in 1–3
and the 0–10 NRS ``round(3c − 1 + noise)`` kept in 1–10, so both move together
without one being computed from the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painlink.simulate.independent.attacks import HOUR_P

_HOUR_CUM = np.cumsum(HOUR_P)
#: severity latent: share of mild / moderate / severe attacks without treatment
SEVERITY_SHARES = (0.3, 0.5, 0.2)
_SEV_CUM = np.cumsum((0.0, *SEVERITY_SHARES))
DURATION_SD = 0.6  # log-normal spread of one attack's duration around the person's median
NRS_NOISE_SD = 0.6


@dataclass(frozen=True)
class Person:
    """The per-person constants of the attack process (not day series)."""

    refractory_days: np.ndarray  # 1 or 2
    refractory_size: np.ndarray  # log-odds drop on those days
    median_hours: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> Person:
        return cls(
            refractory_days=rng.integers(1, 3, n),
            refractory_size=rng.uniform(0.5, 1.5, n),
            median_hours=rng.uniform(6, 24, n),
        )


@dataclass(frozen=True)
class Paths:
    """The treatment's day-by-day effect, (patients, days): 0 where there is none."""

    log_odds: np.ndarray  # added to the onset log-odds
    log_duration: np.ndarray  # added to the log duration of an attack starting that day
    severity: np.ndarray  # added to the severity latent of an attack starting that day

    @classmethod
    def none(cls, n: int, days: int) -> Paths:
        zero = np.zeros((n, days))
        return cls(zero, zero, zero)


@dataclass(frozen=True)
class Cells:
    """One uniform or normal per (person, day) for every draw the process can make."""

    onset: np.ndarray
    clock: np.ndarray  # time of day
    duration: np.ndarray  # standard normal
    severity: np.ndarray  # uniform → severity latent
    nrs: np.ndarray  # standard normal

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, days: int) -> Cells:
        shape = (n, days)
        return cls(
            onset=rng.random(shape),
            clock=rng.random(shape),
            duration=rng.standard_normal(shape),
            severity=rng.random(shape),
            nrs=rng.standard_normal(shape),
        )


@dataclass(frozen=True)
class Realised:
    """One run: onsets (minute of the day or −1), durations, covered days, severities
    and each day's true onset probability before the "inside an attack" block."""

    onset_minute: np.ndarray
    duration: np.ndarray
    covered: np.ndarray
    intensity: np.ndarray
    nrs: np.ndarray
    risk: np.ndarray


def minute_of_day(u: np.ndarray) -> np.ndarray:
    """A uniform → the minute an attack starts (hours weighted by :data:`HOUR_P`)."""
    hour = np.minimum(np.searchsorted(_HOUR_CUM, u, side="right"), 23)
    below = np.where(hour > 0, _HOUR_CUM[np.maximum(hour - 1, 0)], 0.0)
    within = np.clip((u - below) / HOUR_P[hour], 0, 0.9999)
    return hour * 60 + (within * 60).astype(int)


def severity_latent(u: np.ndarray) -> np.ndarray:
    """A uniform → the continuous severity 0.5–3.5, piecewise uniform so that
    round() gives 1, 2, 3 with :data:`SEVERITY_SHARES`."""
    band = np.minimum(np.searchsorted(_SEV_CUM, u, side="right") - 1, 2)
    share = np.asarray(SEVERITY_SHARES)[band]
    return band + 0.5 + (u - _SEV_CUM[band]) / share


def intensity_of(c: np.ndarray) -> np.ndarray:
    """The 0–3 intensity an attack of severity latent ``c`` gets (an attack is ≥ 1)."""
    return np.clip(np.round(c), 1, 3).astype(int)


def nrs_of(c: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The 0–10 NRS of severity latent ``c``: mild 1–3, moderate 4–6, severe 7–10."""
    return np.clip(np.round(3 * c - 1 + NRS_NOISE_SD * noise), 1, 10).astype(int)


def hours_of(median: np.ndarray, z: np.ndarray, log_ratio: np.ndarray) -> np.ndarray:
    return np.clip(median * np.exp(DURATION_SD * z + log_ratio), 2, 72)


def run(logit: np.ndarray, person: Person, cells: Cells, paths: Paths) -> Realised:
    """The attack record of every person, day by day over the given cells."""
    n, days = logit.shape
    onset_minute = np.full((n, days), -1)
    duration = np.zeros((n, days))
    covered = np.zeros((n, days), dtype=bool)
    intensity = np.zeros((n, days), dtype=int)
    nrs = np.zeros((n, days), dtype=int)
    risk = np.zeros((n, days))
    busy_until = np.full(n, -10)
    for t in range(days):
        free = t > busy_until
        recent = free & (t - busy_until <= person.refractory_days)
        z = logit[:, t] + paths.log_odds[:, t] - recent * person.refractory_size
        risk[:, t] = 1 / (1 + np.exp(-z))
        idx = np.flatnonzero(free & (cells.onset[:, t] < risk[:, t]))
        if idx.size == 0:
            continue
        minute = minute_of_day(cells.clock[idx, t])
        hours = hours_of(
            person.median_hours[idx], cells.duration[idx, t], paths.log_duration[idx, t]
        )
        c = severity_latent(cells.severity[idx, t]) + paths.severity[idx, t]
        onset_minute[idx, t] = minute
        duration[idx, t] = np.round(hours * 60)
        intensity[idx, t] = intensity_of(c)
        nrs[idx, t] = nrs_of(c, cells.nrs[idx, t])
        last = t + (minute + duration[idx, t]).astype(int) // (24 * 60)
        busy_until[idx] = last
        for i, end in zip(idx, last, strict=True):
            covered[i, t : min(end, days - 1) + 1] = True
    return Realised(onset_minute, duration, covered, intensity, nrs, risk)


@dataclass(frozen=True)
class Expected:
    """Per person, means over the replicate runs: without (index 0) and with (index 1)
    the treatment, over the treatment period ``during`` and the window ``before``."""

    onsets_during: np.ndarray  # (2, n)
    onsets_before: np.ndarray  # (n,) both arms pooled: no effect before the start
    onsets_recent: np.ndarray  # (n,) the same over the ``recent`` mask (the last 28 days)
    migraine_days_during: np.ndarray  # (2, n)
    migraine_days_before: np.ndarray  # (n,)
    mean_duration: np.ndarray  # (2, n) minutes, of attacks starting during
    mean_intensity: np.ndarray  # (2, n)
    mean_nrs: np.ndarray  # (2, n)


def expected(
    rng: np.random.Generator,
    logit: np.ndarray,
    person: Person,
    paths: Paths,
    during: np.ndarray,
    before: np.ndarray,
    recent_days: np.ndarray,
    replicates: int = 200,
) -> Expected:
    """Monte Carlo over the attack draws with every person's latent path held fixed.

    Both arms run side by side on the same draws (common random numbers), so a
    person whose treatment does nothing gets exactly the same runs in both arms and
    a real effect is measured with little noise. ``during`` and ``before`` are
    ``recent_days`` (patients, days) masks. Means are of sums over replicates (a ratio of the
    returned means is a ratio of expectations)."""
    n, days = logit.shape
    shape = (2, replicates, n)
    arm = np.array([0.0, 1.0])[:, None, None]
    busy_until = np.full(shape, -10)
    on_during = np.zeros(shape)
    on_before = np.zeros(shape)
    on_recent = np.zeros(shape)
    md_during = np.zeros(shape)
    md_before = np.zeros(shape)
    dur_sum = np.zeros(shape)
    int_sum = np.zeros(shape)
    nrs_sum = np.zeros(shape)
    refr_days = person.refractory_days[None, None, :]
    refr_size = person.refractory_size[None, None, :]
    for t in range(days):
        free = t > busy_until
        recent = free & (t - busy_until <= refr_days)
        z = logit[:, t] + arm * paths.log_odds[:, t] - recent * refr_size
        starts = free & (rng.random((replicates, n)) < 1 / (1 + np.exp(-z)))
        if starts.any():
            k = np.nonzero(starts)
            a, r, i = k
            minute = minute_of_day(rng.random((replicates, n))[r, i])
            noise = rng.standard_normal((3, replicates, n))[:, r, i]
            hours = hours_of(person.median_hours[i], noise[0], a * paths.log_duration[i, t])
            c = severity_latent(rng.random((replicates, n))[r, i]) + a * paths.severity[i, t]
            minutes = np.round(hours * 60)
            busy_until[k] = t + (minute + minutes).astype(int) // (24 * 60)
            counted = during[i, t]
            on_during[k] += counted
            on_before[k] += before[i, t]
            on_recent[k] += recent_days[i, t]
            dur_sum[k] += counted * minutes
            int_sum[k] += counted * intensity_of(c)
            nrs_sum[k] += counted * nrs_of(c, noise[1])
        migraine = busy_until >= t
        md_during += migraine & during[:, t]
        md_before += migraine & before[:, t]
    onsets = on_during.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return Expected(
            onsets_during=onsets,
            onsets_before=on_before.mean(axis=(0, 1)),
            onsets_recent=on_recent.mean(axis=(0, 1)),
            migraine_days_during=md_during.mean(axis=1),
            migraine_days_before=md_before.mean(axis=(0, 1)),
            mean_duration=dur_sum.sum(axis=1) / on_during.sum(axis=1),
            mean_intensity=int_sum.sum(axis=1) / on_during.sum(axis=1),
            mean_nrs=nrs_sum.sum(axis=1) / on_during.sum(axis=1),
        )
