"""Did a treatment change the headaches? Before/after comparisons with honest statistics.

For each treatment period of a patient: a baseline (up to ``baseline_days`` before it
starts; at least 28 days, the IHS minimum) against the treatment period. For attacks,
migraine days, headache days and acute-medication days:

- rates per 28 days before and during, and the **rate ratio** with a 95% interval from
  a quasi-Poisson GLM of 4-week block counts (offset: days in the block; dispersion
  from Pearson's χ², t interval) — diaries are overdispersed and drift slowly, so
  plain Poisson (or day-level robust) intervals would be too narrow;
- an **interrupted time series** of the same weekly counts: level change and slope
  change at the start, with the pre-treatment trend;
- **≥50% responder** status (IHS), and the probability that the true reduction is
  ≥50% (normal approximation on the log rate ratio);
- **attack duration** (ratio of geometric means, closed attacks) and **attack intensity**
  (difference of means on the 0–3 IHS scale) before and during, each with a Welch 95%
  interval, so "shorter" or "milder" is said only when the interval shows it: the claim
  that treatment of the neck shortens and softens attacks without making them rarer is
  a claim about these two, not about the rate;
- a **regression-to-the-mean warning** when attacks were already becoming less
  frequent before the start: a quasi-Poisson trend over 4-week blocks of every diary
  day before it, falling with p < 0.05. (A "first or last 28 days at twice the rest"
  rule was tried first: on painlink's own simulator it fired no more often in patients
  enrolled at a peak than in others. The trend does not see a brief bad spell just
  before the start — the independent simulator's story; docs/validation.md.)

A single person's before/after comparison is uncontrolled: placebo response (23.5%
≥50% responders on placebo, van der Kuy 2002) and natural fluctuation can produce
the same picture. Every result says so.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationError

MIN_BASELINE_DAYS = 28  # IHS preventive-trial guidelines: ≥4 weeks of prospective baseline
BASELINE_DAYS = 90
FALLING_P = 0.05  # a falling pre-treatment trend at this level raises the RTM warning
RESPONDER_REDUCTION = 0.5  # ≥50% reduction (IHS episodic migraine guideline)
#: attacks with a value needed on each side before duration or intensity is compared: with
#: fewer, a Welch interval rests on a spread estimated from a handful of attacks
MIN_ATTACKS_EACH = 5
ENDPOINTS = {
    "attacks": "onset",
    "migraine_days": "migraine_day",
    "headache_days": "headache_day",
    "acute_medication_days": "acute_med_day",
}


@dataclass(frozen=True)
class RateRatio:
    endpoint: str
    before_per_28d: float
    during_per_28d: float
    rate_ratio: float
    ci_low: float
    ci_high: float
    p: float
    responder_50: bool
    p_reduction_50: float  # probability that the rate fell by ≥50%


def treatment_columns(t: dict[str, Any]) -> dict[str, Any]:
    """The columns that name a treatment in every outcome row, whatever the endpoint."""
    return {k: t[c] for k, c in TREATMENT_COLUMNS.items()}


TREATMENT_COLUMNS = {
    "patient_id": "patient_id",
    "treatment": "name",
    "kind": "kind",
    "start": "start",
    "end": "end",
}


def weekly_counts(days: pl.DataFrame, column: str, start: dt.date) -> pl.DataFrame:
    """Counts per 7-day block aligned on the treatment start, with logged days as exposure."""
    d = days.with_columns(
        ((pl.col("date") - pl.lit(start)).dt.total_days() // 7).alias("week"),
        pl.col(column).cast(pl.Int64).fill_null(0).alias("y"),
    )
    return (
        d.group_by("week")
        .agg(pl.col("y").sum(), pl.len().alias("days"))
        .filter(pl.col("days") > 0)
        .sort("week")
        .with_columns((pl.col("week") >= 0).cast(pl.Float64).alias("treated"))
    )


def blocks(weeks: pl.DataFrame, size: int = 4) -> pl.DataFrame:
    """Weekly counts merged into blocks of ``size`` weeks on each side of the start."""
    return (
        weeks.with_columns((pl.col("week") // size).alias("block"))
        .group_by("block")
        .agg(pl.col("y").sum(), pl.col("days").sum(), pl.col("treated").first())
        .sort("block")
    )


#: a log-scale coefficient beyond this (a factor of 3 million) is a fit that ran off to
#: infinity (separation), not an estimate
MAX_LOG_COEFFICIENT = 15.0


@dataclass(frozen=True)
class QuasiPoisson:
    """A Poisson GLM's coefficients with standard errors widened by Pearson's dispersion."""

    params: np.ndarray
    poisson_se: np.ndarray
    dispersion: float  # Pearson χ² / residual df (1 when no df is left)
    df: int

    @property
    def se(self) -> np.ndarray:
        """Never narrower than Poisson: a diary is not more regular than chance."""
        return self.poisson_se * math.sqrt(max(self.dispersion, 1.0))


def quasi_poisson(y: np.ndarray, X: np.ndarray, exposure: np.ndarray) -> QuasiPoisson | None:
    """Quasi-Poisson fit, or None when the counts cannot identify the coefficients.

    Why not ``fit(scale="X2")``: statsmodels then divides the first deviance by a
    Pearson χ² of zero whenever every block holds the same count (8, 8, 8), and
    raises "first guess on the deviance function returned a nan" — a real diary did
    this. Fitting at scale 1 and widening the errors afterwards gives the same
    estimates and intervals without that trap. A coefficient driven to ±∞ (every
    count on one side zero) comes back non-finite and is refused here, so no caller
    exponentiates it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence is judged below, by the numbers
        try:
            result = sm.GLM(
                y.astype(float),
                X,
                family=sm.families.Poisson(),
                offset=np.log(exposure.astype(float)),
            ).fit()
        except (ValueError, np.linalg.LinAlgError, PerfectSeparationError):
            return None
    params, bse = np.asarray(result.params, float), np.asarray(result.bse, float)
    finite = np.isfinite(params).all() and np.isfinite(bse).all()
    if not finite or np.abs(params).max() > MAX_LOG_COEFFICIENT:
        return None
    df = int(result.df_resid)
    dispersion = float(result.pearson_chi2) / df if df > 0 else 1.0
    if not math.isfinite(dispersion):
        return None
    return QuasiPoisson(params, bse, dispersion, max(df, 1))


def fit_rate_ratio(weeks: pl.DataFrame) -> tuple[float, float, float, int] | None:
    """log rate ratio, its standard error and p-value: quasi-Poisson GLM (statsmodels) on
    4-week blocks, dispersion from Pearson's χ², t reference distribution. None when the
    GLM cannot estimate it (no events on one side): :func:`exact_rate_ratio` answers then.

    Diaries drift slowly (disease activity, seasons): block-to-block variation carries
    that drift into the standard error, where day- or week-level robust errors miss it.
    """
    b = blocks(weeks)
    fit = quasi_poisson(
        b["y"].to_numpy(), sm.add_constant(b["treated"].to_numpy()), b["days"].to_numpy()
    )
    if fit is None:
        return None
    se = float(fit.se[1])
    p = float(2 * stats.t.sf(abs(fit.params[1] / se), fit.df))
    return float(fit.params[1]), se, p, fit.df


@dataclass(frozen=True)
class ExactRateRatio:
    rate_ratio: float
    ci_low: float
    ci_high: float  # inf only when nothing happened before (never asked of it here)
    p: float
    p_reduction_50: float


def exact_rate_ratio(
    during: float,
    during_days: float,
    before: float,
    before_days: float,
    *,
    dispersion: float = 1.0,
    alpha: float = 0.05,
) -> ExactRateRatio:
    """The rate ratio during/before of two Poisson counts with exposure, by the exact
    conditional method: given n = during + before events, the events during are
    Binomial(n, π) with π = T₁·RR / (T₀ + T₁·RR). A Clopper–Pearson interval for π
    (beta quantiles) maps to RR = π/(1 − π) · T₀/T₁ — finite at both ends whenever
    there was an event before, and exactly 0 at the lower end when none came after
    (the best outcome, which a log-linear GLM sends to −∞). Sources: Clopper & Pearson,
    Biometrika 1934; the conditional method for two Poisson rates, e.g. Ulm, Am J
    Epidemiol 1990, and Fay's R ``exactci::poisson.exact``.

    ``dispersion`` φ ≥ 1 (quasi-Poisson, from block counts) deflates both counts to
    effective counts y/φ, so overdispersed diaries get wider intervals; with φ = 1 it
    is the textbook exact interval. The beta form accepts non-integer counts.

    The p-value is the central one that matches the interval (twice the smaller tail,
    at most 1). ``p_reduction_50`` is P(RR ≤ 0.5) under the Jeffreys posterior of π,
    Beta(y₁/φ + ½, y₀/φ + ½): defined with zero events too.
    """
    phi = max(float(dispersion), 1.0) if math.isfinite(dispersion) else 1.0
    e1, e0 = max(during, 0.0) / phi, max(before, 0.0) / phi
    scale = before_days / during_days  # RR = odds(π) · T₀/T₁

    def to_rr(pi: float) -> float:
        return math.inf if pi >= 1 else pi / (1 - pi) * scale

    lo_pi = 0.0 if e1 == 0 else float(stats.beta.ppf(alpha / 2, e1, e0 + 1))
    hi_pi = 1.0 if e0 == 0 else float(stats.beta.ppf(1 - alpha / 2, e1 + 1, e0))
    n = e1 + e0
    pi0 = during_days / (during_days + before_days)  # π when RR = 1
    if n == 0:
        p = 1.0
    else:
        # binomial tails for real-valued counts through the regularised incomplete beta
        at_most = 1.0 if e0 == 0 else float(stats.beta.cdf(1 - pi0, e0, e1 + 1))
        at_least = 1.0 if e1 == 0 else float(stats.beta.cdf(pi0, e1, e0 + 1))
        p = min(1.0, 2 * min(at_most, at_least))
    half = RESPONDER_REDUCTION * during_days / (before_days + RESPONDER_REDUCTION * during_days)
    return ExactRateRatio(
        rate_ratio=to_rr(e1 / n) if n else math.nan,
        ci_low=to_rr(lo_pi),
        ci_high=to_rr(hi_pi),
        p=p,
        p_reduction_50=float(stats.beta.cdf(half, e1 + 0.5, e0 + 0.5)),
    )


def fit_its(weeks: pl.DataFrame) -> dict[str, float]:
    """Interrupted time series: baseline trend, level change and slope change at the start.
    All NaN when the weeks cannot identify them (no events on one side, too few weeks)."""
    names = ["intercept", "trend_per_week", "level_change", "slope_change"]
    nothing = {n: math.nan for n in names} | {f"{n}_p": math.nan for n in names}
    w = weeks["week"].to_numpy().astype(float)
    treated = weeks["treated"].to_numpy()
    y = weeks["y"].to_numpy()
    if len(w) < 6 or y[treated == 1].sum() == 0 or y[treated == 0].sum() == 0:
        return nothing
    X = np.column_stack([np.ones_like(w), w, treated, treated * w])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = sm.GLM(
                y,
                X,
                family=sm.families.Poisson(),
                offset=np.log(weeks["days"].to_numpy().astype(float)),
            ).fit(cov_type="HAC", cov_kwds={"maxlags": 2})
        except (ValueError, np.linalg.LinAlgError, PerfectSeparationError):
            return nothing
    if not np.isfinite(result.params).all():
        return nothing
    out = {f"{n}": float(v) for n, v in zip(names, result.params, strict=True)}
    out |= {f"{n}_p": float(v) for n, v in zip(names, result.pvalues, strict=True)}
    return out


def _attack_periods(
    attacks: pl.DataFrame, base_start: dt.date, start: dt.date, end: dt.date | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The person's attacks that began in the baseline window and during the treatment,
    with their duration in hours (null while an attack is still open)."""
    a = attacks.with_columns(
        ((pl.col("end") - pl.col("start")).dt.total_microseconds() / 3.6e9).alias("hours"),
        pl.col("start").dt.date().alias("_on"),
    )
    during = pl.col("_on") >= start
    if end is not None:
        during &= pl.col("_on") <= end
    return a.filter((pl.col("_on") >= base_start) & (pl.col("_on") < start)), a.filter(during)


def _attack_features(before: pl.DataFrame, during: pl.DataFrame) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label, part in (("before", before), ("during", during)):
        out[f"mean_duration_h_{label}"] = part["hours"].mean()  # type: ignore[assignment]
        out[f"mean_intensity_{label}"] = part["intensity"].mean()  # type: ignore[assignment]
    return out


@dataclass(frozen=True)
class AttackChange:
    """One attack property during against before: ``estimate`` with its Welch 95%
    interval, on the scale ``scale`` names."""

    endpoint: str
    scale: str
    before: float
    during: float
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    n_before: int
    n_during: int


def welch_change(before: np.ndarray, during: np.ndarray) -> tuple[float, float, float, float]:
    """Difference of means (during − before) with its Welch 95% interval and p-value:
    the two periods' spreads differ (fewer, milder attacks vary less), so the pooled-
    variance interval would be wrong. (estimate, low, high, p)."""
    test = stats.ttest_ind(during, before, equal_var=False)
    ci = test.confidence_interval(0.95)
    return float(during.mean() - before.mean()), float(ci.low), float(ci.high), float(test.pvalue)


def attack_changes(before: pl.DataFrame, during: pl.DataFrame) -> list[AttackChange]:
    """Attack duration (ratio of geometric means of closed attacks' hours: durations are
    skewed, a few long attacks would dominate a mean) and intensity (difference of means,
    0–3) during against before; an endpoint needs :data:`MIN_ATTACKS_EACH` attacks with a
    value on each side, and values that vary."""
    out = []
    for endpoint, column, scale in (
        ("attack_duration", "hours", "ratio of geometric mean duration"),
        ("attack_intensity", "intensity", "difference in mean intensity (0–3)"),
    ):
        # a duration of 0 h (end = start) has no logarithm: it is a recording slip
        usable = pl.col(column) > 0 if column == "hours" else pl.col(column).is_not_null()
        b, d = before.filter(usable), during.filter(usable)
        if b.height < MIN_ATTACKS_EACH or d.height < MIN_ATTACKS_EACH:
            continue
        xb, xd = b[column].cast(pl.Float64).to_numpy(), d[column].cast(pl.Float64).to_numpy()
        if column == "hours":
            xb, xd = np.log(xb), np.log(xd)
        if xb.std() == 0 and xd.std() == 0:
            continue  # every value the same: no spread, no interval
        est, low, high, p = welch_change(xb, xd)
        if column == "hours":
            est, low, high = math.exp(est), math.exp(low), math.exp(high)
            level = (float(np.exp(xb.mean())), float(np.exp(xd.mean())))
        else:
            level = (float(xb.mean()), float(xd.mean()))
        out.append(AttackChange(endpoint, scale, *level, est, low, high, p, b.height, d.height))
    return out


def _attack_change_row(base: dict[str, Any], c: AttackChange) -> dict[str, Any]:
    null = 1.0 if c.endpoint == "attack_duration" else 0.0
    words = ("shorter", "longer") if c.endpoint == "attack_duration" else ("milder", "more severe")
    verdict = (
        f"{words[0]} during treatment"
        if c.ci_high < null
        else f"{words[1]} during treatment"
        if c.ci_low > null
        else "no clear change"
    )
    return {
        **base,
        "endpoint": c.endpoint,
        "verdict": verdict,
        "change": c.estimate,
        "change_low": c.ci_low,
        "change_high": c.ci_high,
        "change_scale": c.scale,
        "before_value": c.before,
        "during_value": c.during,
        "attacks_before": c.n_before,
        "attacks_during": c.n_during,
        "p": c.p,
        "note": "uncontrolled before/after comparison of the attacks in each period "
        "(Welch interval: each attack counted as independent)",
    }


def treatment_outcomes(
    days: pl.DataFrame,
    treatments: pl.DataFrame,
    attacks: pl.DataFrame | None = None,
    baseline_days: int = BASELINE_DAYS,
) -> pl.DataFrame:
    """One row per patient × treatment × endpoint. ``days`` may carry ``migraine_day``
    (from :func:`painlink.clinical.day_counts.classify_days`); endpoints missing from it
    are skipped."""
    rows = []
    for t in treatments.iter_rows(named=True):
        pid, start, end = t["patient_id"], t["start"], t["end"]
        d = days.filter(pl.col("patient_id") == pid)
        if d.height == 0:
            continue
        first = d["date"].min()
        base_start = max(first, start - dt.timedelta(days=baseline_days))
        window = d.filter(
            (pl.col("date") >= base_start)
            & ((pl.col("date") <= end) if end is not None else pl.lit(True))
        )
        baseline_n = window.filter(pl.col("date") < start).height
        during_n = window.filter(pl.col("date") >= start).height
        base = {
            **treatment_columns(t),
            "baseline_days": baseline_n,
            "treatment_days": during_n,
        }
        if baseline_n < MIN_BASELINE_DAYS or during_n < 28:
            rows.append(
                {
                    **base,
                    "endpoint": "all",
                    "verdict": "not enough data",
                    "note": f"needs ≥{MIN_BASELINE_DAYS} days before and ≥28 days during; "
                    f"has {baseline_n} and {during_n}",
                }
            )
            continue
        falling, pre_trend, pre_trend_p = _falling_before(d, start)
        periods = (
            _attack_periods(attacks.filter(pl.col("patient_id") == pid), base_start, start, end)
            if attacks is not None
            else None
        )
        features = _attack_features(*periods) if periods is not None else {}
        for endpoint, column in ENDPOINTS.items():
            if column not in window.columns:
                continue
            weeks = weekly_counts(window, column, start)
            before = weeks.filter(pl.col("treated") == 0)
            during = weeks.filter(pl.col("treated") == 1)
            rate_before = float(before["y"].sum()) / float(before["days"].sum()) * 28
            rate_during = float(during["y"].sum()) / float(during["days"].sum()) * 28
            if before["y"].sum() == 0:
                rows.append(
                    {
                        **base,
                        "endpoint": endpoint,
                        "verdict": "not enough data",
                        "before_per_28d": rate_before,
                        "during_per_28d": rate_during,
                        "note": "no events before the treatment: no rate ratio",
                    }
                )
                continue
            notes = [
                "uncontrolled before/after comparison: placebo response and natural "
                "fluctuation can look the same"
            ]
            fit = fit_rate_ratio(weeks) if during["y"].sum() > 0 else None
            if fit is not None:
                b, se, p, df = fit
                z = float(stats.norm.ppf(0.975))  # t(df) over-covers in simulation (98%)
                reduction_prob = float(
                    stats.t.cdf((math.log(1 - RESPONDER_REDUCTION) - b) / se, df)
                )
                rr, lo, hi = math.exp(b), math.exp(b - z * se), math.exp(b + z * se)
                method = "quasi-Poisson GLM"
            else:  # none during (the best outcome) or a GLM that cannot estimate it
                exact = exact_rate_ratio(
                    float(during["y"].sum()),
                    float(during["days"].sum()),
                    float(before["y"].sum()),
                    float(before["days"].sum()),
                    dispersion=_dispersion(before),
                )
                rr, lo, hi = exact.rate_ratio, exact.ci_low, exact.ci_high
                p, reduction_prob = exact.p, exact.p_reduction_50
                method = "exact conditional"
                notes.append(
                    "no events during the treatment: exact conditional interval "
                    "(the log-linear model has no finite estimate)"
                    if during["y"].sum() == 0
                    else "exact conditional interval (the model did not converge)"
                )
            its = fit_its(weeks)
            verdict = (
                "fewer during treatment"
                if hi < 1
                else "more during treatment"
                if lo > 1
                else "no clear change"
            )
            if falling:
                notes.append(
                    "attacks were already becoming less frequent before the treatment "
                    f"(×{pre_trend:.2f} per 4 weeks, p = {pre_trend_p:.3f}): care may have "
                    "begun at a peak, and part of any improvement may be regression to "
                    "the mean"
                )
            rows.append(
                {
                    **base,
                    "endpoint": endpoint,
                    "verdict": verdict,
                    "before_per_28d": rate_before,
                    "during_per_28d": rate_during,
                    "rate_ratio": rr,
                    "ci_low": lo,
                    "ci_high": hi,
                    "ci_method": method,
                    "p": p,
                    "responder_50": rate_during <= (1 - RESPONDER_REDUCTION) * rate_before,
                    "p_reduction_50": reduction_prob,
                    "regression_to_mean_warning": falling,
                    "pre_trend_per_28d": pre_trend,
                    "pre_trend_p": pre_trend_p,
                    **{f"its_{k}": v for k, v in its.items()},
                    **features,
                    "note": "; ".join(notes),
                }
            )
        if periods is not None:
            rows.extend(_attack_change_row(base, c) for c in attack_changes(*periods))
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def _falling_before(history: pl.DataFrame, start: dt.date) -> tuple[bool, float, float]:
    """Were attacks already becoming rarer before the start? Quasi-Poisson trend over
    4-week blocks of every diary day before it: (warn, change per 28 days as a rate
    ratio, p). Needs at least 8 weeks and one attack."""
    base = history.filter(pl.col("date") < start)
    weeks = weekly_counts(base, "onset", start)
    if weeks.height < 8 or weeks["y"].sum() == 0:
        return False, float("nan"), float("nan")
    b = blocks(weeks, 4)
    if b.height < 3:
        return False, float("nan"), float("nan")
    fit = quasi_poisson(
        b["y"].to_numpy(),
        sm.add_constant(b["block"].to_numpy().astype(float)),
        b["days"].to_numpy(),
    )
    if fit is None:
        return False, float("nan"), float("nan")
    slope = float(fit.params[1])
    se = float(fit.poisson_se[1]) * math.sqrt(fit.dispersion)  # as scale="X2" would
    p = float(2 * stats.norm.sf(abs(slope / se))) if se > 0 else 1.0
    return bool(slope < 0 and p < FALLING_P), math.exp(slope), p


def _dispersion(before: pl.DataFrame) -> float:
    """Pearson dispersion of the 4-week block counts before the start (constant rate):
    how much more the diary varies than Poisson. 1 with fewer than two blocks."""
    b = blocks(before)
    if b.height < 2 or b["y"].sum() == 0:
        return 1.0
    fit = quasi_poisson(b["y"].to_numpy(), np.ones((b.height, 1)), b["days"].to_numpy())
    return max(fit.dispersion, 1.0) if fit is not None else 1.0
