"""Neck and back pain ↔ migraine: does the pain come before attacks, or with them?

Neck pain is part of most migraine attacks (Lampl et al. 2015: with the headache in
54%, under 2 h before in 35%, 2–48 h before in only 11% of those with neck pain), and
premonitory symptoms run up to 48 h before the pain (ICHD-3; Giffin 2003). So painlink
asks, per person and region (neck: the check-in's neck pain and cervical episodes;
back: low back, thoracic, lumbar, sacral), two questions — **one declared family of
4 tests per person** (2 regions × 2 directions; ``rules/spine.py``):

- **before**: does pain ≥4/10 on one day go with more attacks starting the next (on
  days not already inside an attack)? Penalised logistic regression (normal prior SD 5
  on the log odds ratio) with slow terms of diary time (seasons and drifts:
  ``analysis/seasons.py``) and the trigger model's attack history, odds ratio with its
  95% interval (``analysis/spine_before.py``). Null: odds ratio 1.
- **with**: how much higher is pain on the days of an attack than on the person's own
  attack-free days 3–7 days before it (outside the 48 h premonitory window)? Paired
  over attacks, mean rise with a t-interval. Null: a rise of 0.

**The rule.** Benjamini–Hochberg at q = 0.05 over the family's tests that could be run
(``rules/spine.py`` says why not 0.10), and a test *passes* only when its q ≤ 0.05
**and** its 95% interval excludes the null on the raised side (odds ratio > 1, rise >
0). A third figure, **jump** (pain on the attack's days minus the attack-free day
before, paired, t-interval), never makes a call: it only tells two calls apart. Then:

- ``symptom of the attack``: *with* passes (pain goes with the attack), unless the
  next case holds; a raised day before is then read as the attack's early part;
- ``possible early attack sign``: *with* and *before* pass and *jump*'s interval does
  not exclude 0 (raised the day before and during, without a rise at onset: a
  premonitory sign, or a cause that lingers — the data cannot tell which);
- ``candidate cause``: only *before* passes (pain the day before goes with more
  attacks starting, and is not raised with the attack);
- ``no link found``, ``not enough data`` (fewer than 5 attacks to compare and no
  before test), ``not recorded`` (not one rating of that region in the diary).

Every call is an association in a diary, shown with the estimate and interval behind
it and the possible explanations (``rules.spine.EXPLANATIONS``): premonitory pain, and
what a person does about pain. The share of attacks with pain the day before, during
and the day after each attack is reported alongside.

The before test (:mod:`painlink.analysis.spine_before`) is fitted for every person and
region at once (one batched Newton solve), so a cohort costs one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.multiplicity import bh
from painlink.analysis.plotting import figure, finish, for_patient, nothing_yet
from painlink.analysis.results import Results, json_rows, one_patient, patients_of, per_patient_text
from painlink.analysis.spine_before import (
    HISTORY_TERMS,
    Before,
    Design,
    before_design,
    before_tests,
)
from painlink.rules.spine import CALLS, EXPLANATIONS, REGIONS, SETTINGS, VARIABLES, SpineSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAIN_THRESHOLD = SETTINGS.pain_threshold
MIN_ATTACKS = SETTINGS.min_attacks
ALPHA = SETTINGS.alpha
PRIOR = SETTINGS.prior_sd


def _points(v: float) -> str:
    """A signed rise of 0–10 points to one decimal, never "+0.0" or "-0.0"."""
    text = f"{v:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def _change(est: float) -> str:
    """ "2.8 points higher" / "0.4 points lower" / "about the same" (never "0.0 points")."""
    if abs(est) < 0.05:
        return "about the same"
    return f"{abs(est):.1f} points {'higher' if est > 0 else 'lower'}"


def evidence(r: dict[str, Any]) -> str | None:
    """The estimate and interval behind a row's verdict, as an association, or None."""
    est, lo, hi = r.get("estimate"), r.get("ci_low"), r.get("ci_high")
    if est is None or lo is None or hi is None or any(math.isnan(v) for v in (est, lo, hi)):
        return None
    region = r["region"]
    if r.get("test") == "before":
        # the estimate's side, as the other tests word it ("higher", "lower"): a non-call
        # is followed by "but that is within what chance gives", so an odds ratio of 3.6
        # is not called "about as many"
        way = "more" if est > 1 else "fewer" if est < 1 else "as many"
        sd = r.get("before_sd")
        # the interval is widened only where both ways of looking could be tried
        widened = ", widened for trying two ways" if (r.get("before_forms_tested") or 0) > 1 else ""
        if r.get("before_form") == "per_sd" and sd is not None and math.isfinite(sd):
            what = f"each {sd:.1f} points more {region} pain (your usual spread)"
        else:
            what = f"{region} pain of {PAIN_THRESHOLD:g} or more"
        return (
            f"{what} went with {way} attacks starting the next day (odds ratio "
            f"{est:.2f}, 95% CI {lo:.2f}–{hi:.2f}{widened})"
        )
    ci = f"95% CI {_points(lo)} to {_points(hi)} points"
    than = "than" if abs(est) >= 0.05 else "as"
    if r.get("test") == "jump":
        return f"{region} pain was {_change(est)} during attacks {than} the day before them ({ci})"
    return (
        f"{region} pain was {_change(est)} on attack days {than} on the attack-free days "
        f"a week before them ({ci})"
    )


#: a non-call's clearest figure is shown with this (it did not pass the family's rule)
CHANCE = "within what chance gives over all the tests made"


def explanations(verdict: str) -> list[str]:
    """The possible explanations shown with a call (none for a non-call)."""
    return list(EXPLANATIONS.values()) if verdict in CALLS else []


@dataclass
class SpineLinkResults(Results):
    table: pl.DataFrame

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """One row per person × region (``COLUMNS``): the verdict, the estimate, interval
        and q of the test behind it, and every test's own figures."""
        return for_patient(self.table, patient_id)

    def summary(self, patient_id: str | None = None) -> str:
        """Per person and region: the verdict, the estimate and interval behind it."""
        return per_patient_text(patients_of(self.table), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's regions in the analysis report's wording."""
        lines = []
        for r in self.to_frame(patient_id).iter_rows(named=True):
            line = f"{r['region'].capitalize()} pain: {r['verdict']}"
            why = evidence(r)
            if why is not None and r["verdict"] in CALLS:
                line += f": {why} — an association, not proof of cause."
            elif why is not None:  # the figure closest to a call, and why it is not one
                line += f". {why[0].upper()}{why[1:]}, but that is {CHANCE}."
            lines.append(line)
            lines += [f"  Possible explanation: {e}" for e in explanations(r["verdict"])]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": json_rows(self.table),
            "family": "per person: the before and with tests of neck and back (4 tests)",
            "rule": f"Benjamini–Hochberg q ≤ {SETTINGS.q:g} and the 95% interval excludes the null",
            "possible_explanations": list(EXPLANATIONS.values()),
        }

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """Share of attacks with pain ≥4 the day before, during and the day after, per
        region: a symptom peaks *during*, a candidate cause is high *before*."""
        patient_id = one_patient(self.table, patient_id)
        s = self.to_frame(patient_id).filter(pl.col("verdict") != "not recorded")
        fig, axes = figure(4, height_per_row=0.8)
        ax = axes[0, 0]
        when = ("share_pain_day_before", "share_pain_during", "share_pain_day_after")
        for k, row in enumerate(s.iter_rows(named=True)):
            shares = [row[w] if row[w] is not None else float("nan") for w in when]
            ax.bar(
                [i + 0.38 * k for i in range(3)],
                shares,
                width=0.36,
                color=("#5dade2", "#af7ac5")[k % 2],
                label=f"{row['region']}: {row['verdict']}",
            )
        ax.set_xticks([0.19, 1.19, 2.19], ["day before", "during", "day after"])
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"share of attacks with pain ≥{PAIN_THRESHOLD:g}/10")
        ax.set_title(f"{patient_id}: neck and back pain around attacks")
        if s.height:
            ax.legend(loc="upper right", fontsize=8)
        else:
            nothing_yet(ax, "Not enough data yet: no neck or back pain recorded")
        return finish(fig, path)


def _paired(
    diffs: list[float], alpha: float, days: list[int] | None = None, lags: int = 0
) -> tuple[float, float, float, float, int]:
    """Mean of paired differences with its t-interval and two-sided p (NaN below 2).

    With the attacks' ``days`` and ``lags``, the error allows for attacks close in time
    sharing their pain (a burst of attacks in a bad fortnight compares with nearly the
    same baseline days): the variance of the mean weighs each pair of attacks by the
    Bartlett kernel of their distance in days (1 − distance / (lags + 1); Conley 1999's
    estimator in one dimension, positive semi-definite), never below the independent
    one."""
    n = len(diffs)
    if n < 2:
        return np.nan, np.nan, np.nan, np.nan, n
    d = np.asarray(diffs)
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n))
    if days is not None and lags > 0:
        c = d - mean
        t = np.asarray(days, float)
        kernel = np.clip(1.0 - np.abs(t[:, None] - t[None, :]) / (lags + 1.0), 0.0, None)
        own = float(c @ c)
        if own > 0:
            se *= math.sqrt(max(float(c @ kernel @ c) / own, 1.0))
    if se == 0.0:  # every attack the same difference: no spread to test against
        return mean, mean, mean, (1.0 if mean == 0.0 else 0.0), n
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return mean, mean - half, mean + half, p, n


def rise_tests(
    pain: np.ndarray, onset: np.ndarray, attack: np.ndarray, s: SpineSettings = SETTINGS
) -> dict[str, tuple[float, float, float, float, int]]:
    """The *with* and *jump* tests of one person and region (see the module docstring).

    *with*: mean pain on the attack's days minus the mean of the attack-free days
    ``baseline_from``..``baseline_to`` before its onset; *jump*: minus the attack-free
    day before. An attack without a rated attack day or a rated comparison is left out.

    Every attack at once (sums over each attack's days by ``np.add.reduceat``, the
    baseline days as a small window per attack): the same sums, in the same order, as a
    loop over attacks, which took a tenth of one person's analyses."""
    first, last = _spans(onset, attack, stop_at_onset=True)
    rated = ~np.isnan(pain)
    # sums over [first, last]: reduceat over a padded copy, starts and stops interleaved
    # (every other sum, from a stop to the next start, is thrown away)
    bounds = np.ravel(np.column_stack([first, last + 1]))
    filled = np.append(np.where(rated, pain, 0.0), 0.0)
    total = np.add.reduceat(filled, bounds)[::2] if first.size else np.zeros(0)
    counted = np.append(rated, False).astype(np.intp)
    count = np.add.reduceat(counted, bounds)[::2] if first.size else np.zeros(0, np.intp)
    keep = count > 0  # an attack with no rated day is left out of both tests
    level = np.where(keep, total / np.maximum(count, 1), np.nan)
    # the baseline: days first − baseline_from .. first − baseline_to that are in the
    # diary, outside attacks and rated
    offsets = np.arange(-s.baseline_from, -s.baseline_to + 1)
    at = first[:, None] + offsets[None, :]
    inside = at >= 0
    at = np.clip(at, 0, None)
    use = inside & ~attack[at] & rated[at]
    base_n = use.sum(1)
    base_mean = np.where(use, pain[at], 0.0).sum(1) / np.maximum(base_n, 1)
    has_base = keep & (base_n > 0)
    before = np.clip(first - 1, 0, None)
    has_jump = keep & (first >= 1) & ~attack[before] & rated[before]
    return {
        "with": _paired(
            (level - base_mean)[has_base].tolist(),
            s.alpha,
            first[has_base].tolist(),
            s.serial_lags,
        ),
        "jump": _paired(
            (level - pain[before])[has_jump].tolist(),
            s.alpha,
            first[has_jump].tolist(),
            s.serial_lags,
        ),
    }


def _spans(
    onset: np.ndarray, attack: np.ndarray, *, stop_at_onset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """First and last day index of every attack that starts in the table: its onset and
    the attack days that follow it without a break (``stop_at_onset``: nor a new onset)."""
    first = np.flatnonzero(onset)
    goes_on = attack & ~onset if stop_at_onset else attack
    # the first day after each onset that does not continue an attack ends it
    breaks = np.flatnonzero(~goes_on)
    nxt = np.searchsorted(breaks, first, side="right")
    # a sentinel break after the last day ends an attack that runs to the end
    breaks = np.append(breaks, len(attack))
    stop = breaks[nxt]
    return first, stop - 1


def _shares(pain: np.ndarray, onset: np.ndarray, attack: np.ndarray) -> tuple[float, ...]:
    """Shares of attacks with pain ≥ threshold the day before, during, and the day after."""
    first, last = _spans(onset, attack, stop_at_onset=False)
    if not first.size:
        return np.nan, np.nan, np.nan
    high = pain >= PAIN_THRESHOLD  # an unrated day is not high
    reached = np.concatenate([[0], np.cumsum(high)])
    before = int(((first >= 1) & high[np.clip(first - 1, 0, None)]).sum())
    during = int((reached[last + 1] - reached[first] > 0).sum())
    after = int(((last + 1 < len(pain)) & high[np.minimum(last + 1, len(pain) - 1)]).sum())
    total = first.size
    return before / total, during / total, after / total


def _passes(q: float, lo: float, null: float, s: SpineSettings) -> bool:
    return bool(not math.isnan(q) and q <= s.q and lo > null)


def verdict_of(passed: dict[str, bool], enough: bool) -> str:
    """The rule of the module docstring, from which tests passed."""
    if passed["with"]:
        # pain goes with the attack; raised the day before too and no rise at onset:
        # a premonitory sign (or a lingering cause), not plainly a symptom
        early = passed["before"] and not passed["jump"]
        return "possible early attack sign" if early else "symptom of the attack"
    if passed["before"]:
        return "candidate cause"
    return "no link found" if enough else "not enough data"


#: the test whose figures stand behind each call
BEHIND = {
    "symptom of the attack": "with",
    "possible early attack sign": "before",
    "candidate cause": "before",
}


def spine_link(days: pl.DataFrame, settings: SpineSettings = SETTINGS) -> SpineLinkResults:
    """Every person and region of a day table: the family of tests, BH within each
    person, the verdicts (module docstring)."""
    s = settings
    cells: list[dict[str, Any]] = []
    designs: list[Design] = []
    sds: list[float] = []
    for (pid,), part in days.sort("patient_id", "date").group_by(
        ["patient_id"], maintain_order=True
    ):
        onset = part["onset"].fill_null(False).to_numpy().astype(bool)
        attack = part["attack_day"].fill_null(False).to_numpy().astype(bool)
        ongoing = part["ongoing"].fill_null(False).to_numpy().astype(bool)
        for region, col in REGIONS.items():
            cell: dict[str, Any] = {"patient_id": str(pid), "region": region}
            cell["variable"] = VARIABLES[region]
            cells.append(cell)
            if part[col].is_null().all():
                cell["recorded"] = False
                designs.append(
                    (
                        np.zeros((0, 2)),
                        np.zeros(0),
                        np.zeros(0, dtype=bool),
                        np.zeros((0, HISTORY_TERMS)),
                    )
                )
                sds.append(math.nan)
                continue
            pain = part[col].cast(pl.Float64).fill_null(np.nan).to_numpy().copy()
            # a rating off the 0–10 scale (only a hand-built table can hold one) is unrated
            pain[~((pain >= 0) & (pain <= 10))] = np.nan
            cell["recorded"] = True
            cell["rises"] = rise_tests(pain, onset, attack, s)
            cell["shares"] = _shares(pain, onset, attack)
            designs.append(before_design(pain, onset, ongoing, s))
            rated = pain[~np.isnan(pain)]
            sds.append(float(rated.std()) if rated.size > 1 else math.nan)
    befores = before_tests(designs, s, sds)
    rows = []
    by_patient: dict[str, list[int]] = {}
    for k, cell in enumerate(cells):
        by_patient.setdefault(cell["patient_id"], []).append(k)
    for ks in by_patient.values():
        family = []  # (cell index, test, estimate, lo, hi, p, null)
        for k in ks:
            cell = cells[k]
            if not cell["recorded"]:
                continue
            bt = befores[k]
            family.append((k, "before", bt.odds_ratio, bt.ci_low, bt.ci_high, bt.p, 1.0))
            m, rlo, rhi, rp, _ = cell["rises"]["with"]
            family.append((k, "with", m, rlo, rhi, rp, 0.0))
        qs = bh(np.array([f[5] for f in family], dtype=float))
        figures: dict[tuple[int, str], tuple[float, float, float, float, float, bool]] = {}
        for f, q in zip(family, qs, strict=True):
            k, test, est, lo, hi, p, null = f
            figures[(k, test)] = (est, lo, hi, p, float(q), _passes(float(q), lo, null, s))
        for k in ks:  # jump: only tells two calls apart, never makes one (no q)
            if cells[k]["recorded"]:
                m, rlo, rhi, rp, _ = cells[k]["rises"]["jump"]
                figures[(k, "jump")] = (m, rlo, rhi, rp, np.nan, bool(rlo > 0))
        for k in ks:
            rows.append(_row(cells[k], befores[k], figures, k, s))
    return SpineLinkResults(pl.DataFrame(rows, schema=COLUMNS) if rows else _empty())


def _row(
    cell: dict[str, Any],
    before: Before,
    figures: dict[tuple[int, str], tuple[float, float, float, float, float, bool]],
    k: int,
    s: SpineSettings,
) -> dict[str, Any]:
    """One person × region row of the table (``COLUMNS``)."""
    nan = float("nan")
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(patient_id=cell["patient_id"], region=cell["region"], variable=cell["variable"])
    if not cell["recorded"]:
        row["verdict"] = "not recorded"
        return row
    for test in ("before", "with", "jump"):
        est, lo, hi, p, q, ok = figures.get((k, test), (nan, nan, nan, nan, nan, False))
        row.update(
            {
                f"{test}_estimate": est,
                f"{test}_ci_low": lo,
                f"{test}_ci_high": hi,
                f"{test}_p": p,
                f"{test}_q": q,
                f"{test}_passes": ok,
            }
        )
    passed = {t: bool(row[f"{t}_passes"]) for t in ("before", "with", "jump")}
    n_with = cell["rises"]["with"][4]
    enough = n_with >= s.min_attacks or not math.isnan(before.odds_ratio)
    verdict = verdict_of(passed, enough)
    tested = [t for t in ("before", "with") if not math.isnan(row[f"{t}_q"])]
    behind = BEHIND.get(verdict) or (min(tested, key=lambda t: row[f"{t}_q"]) if tested else None)
    row.update(
        verdict=verdict,
        test=behind,
        estimate=row[f"{behind}_estimate"] if behind else nan,
        ci_low=row[f"{behind}_ci_low"] if behind else nan,
        ci_high=row[f"{behind}_ci_high"] if behind else nan,
        q=row[f"{behind}_q"] if behind else nan,
        attacks_compared=n_with,
        onsets_at_risk=before.events,
        days_with_earlier_pain=before.exposed,
        before_form=before.form,
        before_sd=before.sd,
        before_forms_tested=before.forms_tested,
    )
    row["share_pain_day_before"], row["share_pain_during"], row["share_pain_day_after"] = cell[
        "shares"
    ]
    return row


def fit(days: pl.DataFrame) -> SpineLinkResults:
    """Neck and back pain against attacks, per person and region, from a day table."""
    return spine_link(days)


_TEST_COLUMNS: dict[str, pl.DataType] = {
    f"{t}_{c}": (pl.Boolean() if c == "passes" else pl.Float64())
    for t in ("before", "with", "jump")
    for c in ("estimate", "ci_low", "ci_high", "p", "q", "passes")
}

#: the columns of ``SpineLinkResults.table``: the validation scorer's contract (one row
#: per person × region; ``estimate``..``q`` are the figures of ``test``, the test behind
#: the verdict — for a non-call, the one closest to passing)
COLUMNS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "region": pl.String(),
    "variable": pl.String(),
    "verdict": pl.String(),
    "test": pl.String(),
    **{c: pl.Float64() for c in ("estimate", "ci_low", "ci_high", "q")},
    **_TEST_COLUMNS,
    "attacks_compared": pl.Int64(),
    "onsets_at_risk": pl.Int64(),
    "days_with_earlier_pain": pl.Int64(),
    #: the before test's shown form ("threshold": pain ≥ 4/10; "per_sd": per SD of the
    #: person's ratings, ``before_sd`` points)
    "before_form": pl.String(),
    "before_sd": pl.Float64(),
    "before_forms_tested": pl.Int64(),
    **{
        c: pl.Float64()
        for c in ("share_pain_day_before", "share_pain_during", "share_pain_day_after")
    },
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=COLUMNS)
