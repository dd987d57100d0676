"""Neck and back pain ↔ migraine: does the pain come before attacks, or with them?

Neck pain is part of most migraine attacks (Lampl et al. 2015: with the headache in
54%, under 2 h before in 35%, 2–48 h before in only 11% of those with neck pain), and
premonitory symptoms run up to 48 h before the pain (ICHD-3). So painlink looks in
both directions, per region (neck: the check-in's neck pain and cervical episodes;
back: low back, thoracic, lumbar, sacral):

- **Before**: does pain ≥4/10 on one day raise the odds of an attack starting the
  next (on days not already inside an attack)? Penalised logistic regression, odds
  ratio with 95% interval.
- **With**: how much higher is pain on attack days than on the attack-free day just
  before? Mean rise with a 95% interval (paired over attacks). Pain that is part of
  the attack keeps rising into it (and may already be raised the day before, as a
  premonitory sign); pain that drives attacks is a slower process, high before the
  attack, that does not jump again when it starts.

Verdict: ``symptom of the attack`` (pain rises into attacks; a raised day before is
then read as an early sign, not a cause), ``candidate cause`` (pain the day before
predicts attacks and does not rise further with them), ``no link found`` or
``not enough data``. A candidate cause is an association that
leaves room for a causal role, not proof of one. The share of attacks with pain
before (24–48 h), during and after each attack is reported alongside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.logistic import fit_logit
from painlink.analysis.plotting import figure, finish, for_patient, nothing_yet
from painlink.analysis.results import Results, json_rows, one_patient, patients_of, per_patient_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REGIONS = {"neck": "neck_pain_max", "back": "back_pain_max"}
PAIN_THRESHOLD = 4.0  # "neck pain 4 or more of 10", as the exposure definitions
MIN_ATTACKS = 5  # ICHD-3 asks for 5 attacks too; the paired t-interval widens with few
ALPHA = 0.05
PRIOR = 5.0


@dataclass
class SpineLinkResults(Results):
    table: pl.DataFrame

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        return for_patient(self.table, patient_id)

    def summary(self, patient_id: str | None = None) -> str:
        """Per person and region: the verdict, and the rise of pain with attacks."""
        return per_patient_text(patients_of(self.table), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's regions in the analysis report's wording."""
        lines = []
        for r in self.to_frame(patient_id).iter_rows(named=True):
            rise = r["rise_with_attacks"]
            lines.append(
                f"{r['region'].capitalize()} pain: {r['verdict']}"
                + (
                    f" (rises {rise:+.1f} points with attacks, 95% CI {r['rise_ci_low']:+.1f} to "
                    f"{r['rise_ci_high']:+.1f})"
                    if rise is not None and not math.isnan(rise)
                    else ""
                )
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"rows": json_rows(self.table)}

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """Share of attacks with pain ≥4 the day before, during and the day after, per
        region: a symptom peaks *during*, a candidate cause is high *before*."""
        patient_id = one_patient(self.table, patient_id)
        s = self.to_frame(patient_id)
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


def _rise(part: pl.DataFrame, col: str) -> tuple[float, float, float, int]:
    """Mean pain on attack days minus pain the day before each onset (an attack-free day).

    Pain that belongs to the attack keeps rising into it; pain that drives attacks is
    already high the day before and, being a slow process, does not jump again."""
    pain = part[col].to_numpy()
    onset = part["onset"].to_numpy()
    attack = part["attack_day"].to_numpy()
    diffs = []
    idx = np.flatnonzero(onset)
    for i in idx:
        if i < 1 or attack[i - 1]:
            continue
        end = i
        while end + 1 < len(attack) and attack[end + 1] and not onset[end + 1]:
            end += 1
        during = pain[i : end + 1]
        before = pain[i - 1 : i]
        if np.isnan(during).all() or np.isnan(before).all():
            continue
        diffs.append(np.nanmean(during) - np.nanmean(before))
    if len(diffs) < 2:
        return np.nan, np.nan, np.nan, len(diffs)
    d = np.asarray(diffs)
    half = stats.t.ppf(1 - ALPHA / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half), len(d)


def _before(part: pl.DataFrame, col: str) -> tuple[float, float, float, float, int, int]:
    """Odds ratio of onset for pain ≥ threshold the day before, on days at risk."""
    pain = part[col].to_numpy()
    onset = part["onset"].to_numpy().astype(float)
    ongoing = part["ongoing"].to_numpy()
    n = len(pain)
    x = np.full(n, np.nan)
    keep = np.zeros(n, dtype=bool)
    for t in range(1, n):
        if ongoing[t] or np.isnan(pain[t - 1]):
            continue
        x[t] = float(pain[t - 1] >= PAIN_THRESHOLD)
        keep[t] = True
    exposed = int(np.nansum(x[keep]))
    events = int(onset[keep].sum())
    if events < MIN_ATTACKS or exposed < 5 or keep.sum() - exposed < 5:
        return np.nan, np.nan, np.nan, np.nan, events, exposed
    X = np.column_stack([np.ones(n), np.nan_to_num(x)])
    fit = fit_logit(X, onset, keep, prior_sd=PRIOR)  # one coefficient over many days: a weak prior
    b, se = fit.coef[0, 1], fit.se[0, 1]
    z = stats.norm.ppf(1 - ALPHA / 2)
    p = float(2 * stats.norm.sf(abs(b / se)))
    return (
        float(np.exp(b)),
        float(np.exp(b - z * se)),
        float(np.exp(b + z * se)),
        p,
        events,
        exposed,
    )


def _shares(part: pl.DataFrame, col: str) -> tuple[float, float, float]:
    """Shares of attacks with pain ≥ threshold the day before, during, and the day after."""
    pain = part[col].to_numpy()
    onset = np.flatnonzero(part["onset"].to_numpy())
    attack = part["attack_day"].to_numpy()
    before = during = after = total = 0
    for i in onset:
        end = i
        while end + 1 < len(attack) and attack[end + 1]:
            end += 1
        total += 1
        before += bool(i >= 1 and pain[i - 1] >= PAIN_THRESHOLD)
        during += (
            bool(np.nanmax(pain[i : end + 1]) >= PAIN_THRESHOLD)
            if not np.isnan(pain[i : end + 1]).all()
            else 0
        )
        after += bool(end + 1 < len(pain) and pain[end + 1] >= PAIN_THRESHOLD)
    if not total:
        return np.nan, np.nan, np.nan
    return before / total, during / total, after / total


def spine_link(days: pl.DataFrame) -> SpineLinkResults:
    """Both directions, per patient and region, from a day table."""
    rows = []
    for (pid,), part in days.sort("patient_id", "date").group_by(
        ["patient_id"], maintain_order=True
    ):
        for region, col in REGIONS.items():
            if part[col].is_null().all():
                continue
            p = part.with_columns(pl.col(col).cast(pl.Float64).fill_null(np.nan))
            rise, rise_lo, rise_hi, n_rise = _rise(p, col)
            odds, lo, hi, pval, events, exposed = _before(p, col)
            before_share, during_share, after_share = _shares(p, col)
            symptom = bool(n_rise >= MIN_ATTACKS and rise_lo > 0)
            before = bool(not np.isnan(odds) and lo > 1)
            if n_rise < MIN_ATTACKS and np.isnan(odds):
                verdict = "not enough data"
            elif symptom:
                # rising into the attack: part of it; a raised day before is an early sign
                verdict = "symptom of the attack"
            elif before:
                verdict = "candidate cause"
            else:
                verdict = "no link found"
            rows.append(
                {
                    "patient_id": str(pid),
                    "region": region,
                    "verdict": verdict,
                    "rise_with_attacks": rise,
                    "rise_ci_low": rise_lo,
                    "rise_ci_high": rise_hi,
                    "attacks_compared": n_rise,
                    "odds_ratio_day_before": odds,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p": pval,
                    "onsets_at_risk": events,
                    "days_with_earlier_pain": exposed,
                    "share_pain_day_before": before_share,
                    "share_pain_during": during_share,
                    "share_pain_day_after": after_share,
                }
            )
    return SpineLinkResults(pl.DataFrame(rows) if rows else pl.DataFrame(schema=COLUMNS))


def fit(days: pl.DataFrame) -> SpineLinkResults:
    """Neck and back pain against attacks, per person and region, from a day table."""
    return spine_link(days)


#: the columns of ``SpineLinkResults.table`` (kept when no one recorded spine pain)
COLUMNS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "region": pl.String(),
    "verdict": pl.String(),
    **{c: pl.Float64() for c in ("rise_with_attacks", "rise_ci_low", "rise_ci_high")},
    "attacks_compared": pl.Int64(),
    **{c: pl.Float64() for c in ("odds_ratio_day_before", "ci_low", "ci_high", "p")},
    "onsets_at_risk": pl.Int64(),
    "days_with_earlier_pain": pl.Int64(),
    **{
        c: pl.Float64()
        for c in ("share_pain_day_before", "share_pain_during", "share_pain_day_after")
    },
}
