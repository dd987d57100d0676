"""Treatments in the independent story: who starts what, when, and what it does.

The story
---------
Most people (80%) start one treatment during the diary: a preventive drug (40%:
propranolol, amitriptyline, topiramate, candesartan, a CGRP antibody), upper-cervical
or general chiropractic (15%), manual therapy (15%: osteopathy, massage,
craniosacral), physiotherapy (15%) or something else (15%: acupuncture, magnesium,
riboflavin, CBT, biofeedback). A quarter stop after 30–150 days (an end date); the
others go on past the diary's end.

When: most start with at least 8 weeks of diary before and after; 10% start early
(3–27 days into the diary) and 10% late (in the last 27 days). About 40% are
**enrolled at a peak**: they start on the first day (from day 56, or a third of a
short diary, up to 8 weeks before its end) on which their onsets of the last 28 days
reach their own 80th percentile of such 28-day counts (and at least one) — the day
a bad spell sends people to try something. Their record before the start is a bad
spell by selection, so a before/after comparison flatters the treatment even when
it does nothing: regression to the mean. The percentile is taken on the record the
person would have had untreated; as both runs share every random number up to the
start, the realised diary holds exactly that spell before the start.

What it does (each person's own; some exactly nothing):
- attack frequency: a multiplier of the onset odds, exactly 1 for about a third
  (25% of drug users, 50% of chiropractic, 35% of the others), else 0.4–0.9 for
  drugs, 0.6–1.0 for chiropractic, 0.5–1.0 for the others;
- preventive drugs ramp up linearly to full effect over 28–84 days; other treatments
  over 0–14 days; half the manual treatments (chiropractic, manual therapy,
  physiotherapy) then wane (the effect decays as exp(−days / 60–180) after the ramp);
- attack duration: a ratio 0.5–0.85 for 40% of chiropractic (upper-cervical
  chiropractic claims shorter, softer attacks — often without fewer of them), 0.6–1.0
  for 30% of the others, else exactly 1;
- severity: a shift of −0.2 to −0.8 on the 0–3 scale for those chiropractic people,
  −0 to −0.6 for 20% of the others, else 0; the NRS moves by three times that (the
  NRS is 3 × the severity latent − 1, see :mod:`treated_attacks`).
Every effect applies from the start to the end (or the diary's end), scaled by the
ramp and the wane; a treatment never changes a trigger's effect or any day variable.
Acute medication follows the attacks as in the untreated story.

The truth frame (:data:`TREATMENT_TRUTH_SCHEMA`, one row per treated person) holds
the plan and the **expected** quantities of :func:`expected_columns`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from painlink.simulate.independent import treated_attacks as story

TREATED_SHARE = 0.8
PEAK_SHARE = 0.4
BEFORE_WINDOW = 90  # days before the start that the before/after quantities compare with
PEAK_WINDOW = 28
PEAK_QUANTILE = 0.8
SETTLED_DAYS = 56  # "at least 8 weeks of diary before and after"

KINDS = ("preventive_drug", "chiropractic", "manual_therapy", "physiotherapy", "other")
KIND_SHARES = (0.4, 0.15, 0.15, 0.15, 0.15)
NAMES = {
    "preventive_drug": (
        "propranolol 80 mg",
        "amitriptyline 25 mg",
        "topiramate 50 mg",
        "candesartan 16 mg",
        "erenumab 70 mg monthly",
        "galcanezumab 120 mg monthly",
    ),
    "chiropractic": ("upper cervical chiropractic (atlas)", "chiropractic spinal manipulation"),
    "manual_therapy": ("osteopathy", "massage therapy", "craniosacral therapy"),
    "physiotherapy": ("neck physiotherapy", "physiotherapy exercise programme"),
    "other": ("acupuncture", "magnesium 600 mg", "riboflavin 400 mg", "CBT for headache"),
}
MANUAL = ("chiropractic", "manual_therapy", "physiotherapy")

TREATMENT_TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "start": pl.Date(),
    "end": pl.Date(),
    "timing": pl.String(),  # usual, early, late, peak
    "enrolled_at_peak": pl.Boolean(),
    "ramp_days": pl.Int64(),
    "wane_days": pl.Int64(),
    "hazard_multiplier": pl.Float64(),
    "duration_ratio": pl.Float64(),
    "intensity_shift": pl.Float64(),
    "nrs_shift": pl.Float64(),
    "causal_rate_ratio": pl.Float64(),
    "expected_before_after_ratio": pl.Float64(),
    "causal_migraine_day_ratio": pl.Float64(),
    "expected_before_after_migraine_day_ratio": pl.Float64(),
    "causal_duration_ratio": pl.Float64(),
    "causal_intensity_shift": pl.Float64(),
    "causal_nrs_shift": pl.Float64(),
    "expected_onsets_before": pl.Float64(),
    "expected_onsets_last_28": pl.Float64(),
    "days_before": pl.Int64(),
    "days_during": pl.Int64(),
    "onsets_before": pl.Int64(),
    "onsets_during": pl.Int64(),
    "onsets_last_28": pl.Int64(),
    "migraine_days_before": pl.Int64(),
    "migraine_days_during": pl.Int64(),
}


@dataclass
class Plans:
    """Per person (arrays of length n): the treatment, if any. ``start`` is −1 until
    a peak-enrolled person's start is found; ``end`` is −1 when it goes on."""

    treated: np.ndarray
    kind: np.ndarray
    name: np.ndarray
    timing: np.ndarray
    start: np.ndarray
    end: np.ndarray
    hazard_multiplier: np.ndarray
    duration_ratio: np.ndarray
    intensity_shift: np.ndarray
    ramp_days: np.ndarray
    wane_days: np.ndarray  # 0: no waning
    duration_after: np.ndarray  # days from start to a planned end, 0: goes on

    @property
    def peak(self) -> np.ndarray:
        return self.timing == "peak"


def _window(days: int, timing: str) -> tuple[int, int]:
    """The days a start of this timing may fall on (inclusive)."""
    if timing == "early":
        return min(3, days - 1), min(27, days - 1)
    if timing == "late":
        return max(days - 27, 1), max(days - 3, 1)
    lo, hi = SETTLED_DAYS, days - SETTLED_DAYS
    if hi < lo:  # a short diary: its middle third
        lo, hi = days // 3, max(days // 3, 2 * days // 3)
    return lo, hi


def draw_plans(rng: np.random.Generator, n: int, days: int) -> Plans:
    """Everything about each person's treatment that does not depend on their attacks."""
    treated = rng.random(n) < TREATED_SHARE
    kind = np.asarray(rng.choice(KINDS, n, p=KIND_SHARES)).astype(object)
    name = np.array([NAMES[k][int(rng.integers(len(NAMES[k])))] for k in kind], dtype=object)
    u = rng.random(n)
    timing = np.where(
        u < PEAK_SHARE,
        "peak",
        np.where(u < PEAK_SHARE + 0.1, "early", np.where(u < PEAK_SHARE + 0.2, "late", "usual")),
    ).astype(object)
    start = np.full(n, -1)
    for i in np.flatnonzero(timing != "peak"):
        lo, hi = _window(days, str(timing[i]))
        start[i] = int(rng.integers(lo, hi + 1))
    drug = kind == "preventive_drug"
    chiro = kind == "chiropractic"
    null_share = np.where(drug, 0.25, np.where(chiro, 0.5, 0.35))
    low = np.where(drug, 0.4, np.where(chiro, 0.6, 0.5))
    high = np.where(drug, 0.9, 1.0)
    multiplier = np.where(rng.random(n) < null_share, 1.0, rng.uniform(low, high))
    softer = np.where(chiro, rng.random(n) < 0.4, rng.random(n) < 0.3)
    duration_ratio = np.where(
        softer, np.where(chiro, rng.uniform(0.5, 0.85, n), rng.uniform(0.6, 1.0, n)), 1.0
    )
    shifted = np.where(chiro, softer, rng.random(n) < 0.2)
    intensity_shift = np.where(
        shifted, np.where(chiro, -rng.uniform(0.2, 0.8, n), -rng.uniform(0.0, 0.6, n)), 0.0
    )
    ramp = np.where(drug, rng.integers(28, 85, n), rng.integers(0, 15, n))
    manual = np.isin(kind, MANUAL)
    wane = np.where(manual & (rng.random(n) < 0.5), rng.integers(60, 181, n), 0)
    stops = rng.random(n) < 0.25
    duration_after = np.where(stops, rng.integers(30, 151, n), 0)
    return Plans(
        treated=treated,
        kind=kind,
        name=name,
        timing=timing,
        start=start,
        end=np.full(n, -1),
        hazard_multiplier=multiplier,
        duration_ratio=duration_ratio,
        intensity_shift=intensity_shift,
        ramp_days=ramp,
        wane_days=wane,
        duration_after=duration_after,
    )


def trailing_counts(onset: np.ndarray, window: int = PEAK_WINDOW) -> np.ndarray:
    """Onsets in the ``window`` days before each day, (patients, days); NaN where the
    diary is not yet that long."""
    n, days = onset.shape
    cum = np.zeros((n, days + 1))
    cum[:, 1:] = np.cumsum(onset, axis=1)
    out = np.full((n, days), np.nan)
    if days > window:
        out[:, window:] = cum[:, window:days] - cum[:, : days - window]
    return out


def peak_thresholds(onset: np.ndarray) -> np.ndarray:
    """Each person's own 80th percentile of their 28-day onset counts (at least 1)."""
    counts = trailing_counts(onset)
    if np.isnan(counts).all():
        return np.ones(onset.shape[0])
    return np.maximum(np.nanquantile(counts, PEAK_QUANTILE, axis=1), 1.0)


def place_peaks(plans: Plans, untreated_onset: np.ndarray) -> None:
    """Start each peak-enrolled person on the first allowed day their last 28 days
    reach their own threshold (in the untreated record); if no day does, on the
    allowed day with the most onsets in the last 28 days."""
    days = untreated_onset.shape[1]
    counts = trailing_counts(untreated_onset)
    threshold = peak_thresholds(untreated_onset)
    lo, hi = _window(days, "usual")
    lo = max(lo, min(PEAK_WINDOW, days - 1))
    hi = max(hi, lo)
    for i in np.flatnonzero(plans.peak):
        span = np.nan_to_num(counts[i, lo : hi + 1], nan=-1.0)
        hits = np.flatnonzero(span >= threshold[i])
        plans.start[i] = lo + int(hits[0] if hits.size else np.argmax(span))


def set_ends(plans: Plans, days: int) -> None:
    """A planned stop inside the diary becomes an end date; later stops go on."""
    end = plans.start + plans.duration_after
    plans.end = np.where((plans.duration_after > 0) & (end < days - 1), end, -1)


def effect_share(plans: Plans, days: int) -> np.ndarray:
    """(patients, days): the share of the full effect on each day, 0 outside the
    treatment, a linear ramp to 1 over ``ramp_days`` from the start (day 1 of the
    treatment has 1/ramp), then an exponential wane where the person has one."""
    t = np.arange(days)[None, :]
    since = t - plans.start[:, None]
    ramp = plans.ramp_days[:, None]
    share = np.where(ramp > 0, np.minimum(1.0, (since + 1) / np.maximum(ramp, 1)), 1.0)
    wane = plans.wane_days[:, None]
    past = np.maximum(since - ramp, 0)
    share = share * np.where(wane > 0, np.exp(-past / np.maximum(wane, 1)), 1.0)
    last = np.where(plans.end >= 0, plans.end, days - 1)[:, None]
    on = plans.treated[:, None] & (since >= 0) & (t <= last)
    return np.where(on, share, 0.0)


def paths(plans: Plans, days: int) -> story.Paths:
    share = effect_share(plans, days)
    return story.Paths(
        log_odds=share * np.log(plans.hazard_multiplier)[:, None],
        log_duration=share * np.log(plans.duration_ratio)[:, None],
        severity=share * plans.intensity_shift[:, None],
    )


def periods(plans: Plans, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(during, before, last_28) masks: the treatment period (start to end or the
    diary's end), the up to 90 days before the start, and the up to 28 days before
    it (the window a peak is found in)."""
    t = np.arange(days)[None, :]
    start = plans.start[:, None]
    last = np.where(plans.end >= 0, plans.end, days - 1)[:, None]
    treated = plans.treated[:, None]
    during = treated & (t >= start) & (t <= last)
    before = treated & (t < start) & (t >= start - BEFORE_WINDOW)
    last_28 = treated & (t < start) & (t >= start - PEAK_WINDOW)
    return during, before, last_28


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = a / b
    return np.where(np.isfinite(out), out, np.nan)


def truth_frame(
    ids: list[str],
    start: dt.date,
    plans: Plans,
    exp: story.Expected,
    realised: story.Realised,
    days: int,
) -> pl.DataFrame:
    """One row per treated person: the plan, the expected quantities and the counts."""
    during, before, last_28 = periods(plans, days)
    days_during = during.sum(axis=1)
    days_before = before.sum(axis=1)
    onset = realised.onset_minute >= 0
    rate_with = _ratio(exp.onsets_during[1], days_during)
    rate_before = _ratio(exp.onsets_before, days_before)
    md_with = _ratio(exp.migraine_days_during[1], days_during)
    md_before = _ratio(exp.migraine_days_before, days_before)
    rows = np.flatnonzero(plans.treated)
    day0 = np.datetime64(start)
    frame = pl.DataFrame(
        {
            "patient_id": np.array(ids)[rows],
            "name": plans.name[rows].astype(str),
            "kind": plans.kind[rows].astype(str),
            "start": day0 + plans.start[rows].astype("timedelta64[D]"),
            "end": pl.Series(day0 + plans.end[rows].astype("timedelta64[D]")).set(
                pl.Series(plans.end[rows] < 0), None
            ),
            "timing": plans.timing[rows].astype(str),
            "enrolled_at_peak": plans.peak[rows],
            "ramp_days": plans.ramp_days[rows],
            "wane_days": pl.Series(plans.wane_days[rows]).set(
                pl.Series(plans.wane_days[rows] == 0), None
            ),
            "hazard_multiplier": plans.hazard_multiplier[rows],
            "duration_ratio": plans.duration_ratio[rows],
            "intensity_shift": plans.intensity_shift[rows],
            "nrs_shift": 3 * plans.intensity_shift[rows],
            "causal_rate_ratio": _ratio(exp.onsets_during[1], exp.onsets_during[0])[rows],
            "expected_before_after_ratio": _ratio(rate_with, rate_before)[rows],
            "causal_migraine_day_ratio": _ratio(
                exp.migraine_days_during[1], exp.migraine_days_during[0]
            )[rows],
            "expected_before_after_migraine_day_ratio": _ratio(md_with, md_before)[rows],
            "causal_duration_ratio": _ratio(exp.mean_duration[1], exp.mean_duration[0])[rows],
            "causal_intensity_shift": (exp.mean_intensity[1] - exp.mean_intensity[0])[rows],
            "causal_nrs_shift": (exp.mean_nrs[1] - exp.mean_nrs[0])[rows],
            "expected_onsets_before": exp.onsets_before[rows],
            "expected_onsets_last_28": exp.onsets_recent[rows],
            "days_before": days_before[rows],
            "days_during": days_during[rows],
            "onsets_before": (onset & before).sum(axis=1)[rows],
            "onsets_during": (onset & during).sum(axis=1)[rows],
            "onsets_last_28": (onset & last_28).sum(axis=1)[rows],
            "migraine_days_before": (realised.covered & before).sum(axis=1)[rows],
            "migraine_days_during": (realised.covered & during).sum(axis=1)[rows],
        }
    )
    return (
        frame.cast(pl.Schema(TREATMENT_TRUTH_SCHEMA))
        .select(list(TREATMENT_TRUTH_SCHEMA))
        .fill_nan(None)
    )


def diary_frame(truth: pl.DataFrame) -> pl.DataFrame:
    """The treatments table of the diary: what the person wrote down."""
    return truth.select("patient_id", "name", "kind", "start", "end")
