"""Per-person triggers and protectors: a discrete-time hazard of attack onset.

For each person, each factor and each lag, a penalised logistic regression of
onset on days at risk (days not already inside an attack):

    logit P(onset_t) = a + b·x_{t−lag} + c·weekend_t + d·log(1 + days since last onset)
                       + e·menstrual window_t  (menstruating people, other factors)

``exp(b)`` is the odds ratio with its 95% interval. Benjamini–Hochberg controls the
false-discovery rate across every factor and lag of the person. With a cohort, each
person's estimates are shrunk toward the cohort distribution of that factor
(empirical Bayes, DerSimonian–Laird), which steadies noisy single-person estimates.
Verdicts: ``likely trigger``, ``likely protector``, ``possible early attack sign``
(a known premonitory symptom: an association, maybe the attack already starting),
``no association`` and ``not enough data`` with a power statement.

These are associations in one person's diary, not causes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.case_crossover import case_crossover as run_case_crossover
from painlink.analysis.logistic import fit_logit
from painlink.analysis.plotting import figure, finish, nothing_yet
from painlink.analysis.results import Results, json_rows, one_patient, patients_of, per_patient_text
from painlink.analysis.trigger_exposures import exposure_columns
from painlink.days.exposures import EXPOSURES, log_days_since_last_onset
from painlink.rules.triggers import PREMONITORY, TriggerSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COVARIATES = ("weekend", "log_days_since", "menstrual")
#: the columns of one person's estimates (``TriggerAnalysis._fit_patient``)
ESTIMATES: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "factor": pl.String(),
    "definition": pl.String(),
    "lag": pl.Int64(),
    "log_or": pl.Float64(),
    "se": pl.Float64(),
    "exposed_days": pl.Int64(),
    "unexposed_days": pl.Int64(),
    "attacks_exposed": pl.Int64(),
    "attacks_at_risk": pl.Int64(),
    "enough_data": pl.Boolean(),
    "p_raw": pl.Float64(),
    "ci_z": pl.Float64(),
}
HORMONAL = ("menstrual_window", "pill_free")


def _design(frame: pl.DataFrame) -> pl.DataFrame:
    """Covariates and the at-risk flag, per patient and day."""
    return frame.with_columns(
        (pl.col("date").dt.weekday() >= 6).cast(pl.Float64).alias("weekend"),
        log_days_since_last_onset().alias("log_days_since"),
        pl.col("x_menstrual_window").cast(pl.Float64).fill_null(0.0).alias("menstrual"),
        (~pl.col("ongoing")).alias("at_risk"),
    )


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN.

    scipy's ``false_discovery_control`` refuses NaN, and a factor without enough data
    has no p-value: those are left out of the family (they were never tested) and
    come back NaN."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def _events_needed(prevalence: float, s: TriggerSettings) -> float:
    if not 0 < prevalence < 1:
        return math.inf
    z = stats.norm.ppf(1 - s.alpha / 2) + stats.norm.ppf(s.power)
    return float(z**2 / (math.log(s.detect_odds_ratio) ** 2 * prevalence * (1 - prevalence)))


@dataclass
class TriggerResults(Results):
    """Estimates for every patient × factor × lag, and one verdict per patient × factor."""

    estimates: pl.DataFrame
    settings: TriggerSettings
    shrunk: bool
    cohort: pl.DataFrame = field(default_factory=pl.DataFrame)
    sensitivity: pl.DataFrame = field(default_factory=pl.DataFrame)  # case-crossover

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """One row per patient and factor: the lag with the strongest evidence, its verdict."""
        e = (
            self.estimates
            if patient_id is None
            else self.estimates.filter(pl.col("patient_id") == patient_id)
        )
        best = (
            e.sort(["patient_id", "factor", "p"], nulls_last=True)
            .group_by(["patient_id", "factor"], maintain_order=True)
            .first()
        )
        hide = ~pl.col("enough_data")
        best = best.with_columns(
            [
                pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("odds_ratio", "ci_low", "ci_high")
            ]
        )
        extra: list[pl.Expr | str] = (
            [
                pl.col("shrunk_log_or").exp().alias("shrunk_odds_ratio"),
                (1 - pl.col("lfdr")).alias("p_association"),
                "called_by",
            ]
            if "lfdr" in best.columns
            else []
        )
        if self.sensitivity.height:
            cc = self.sensitivity.select(
                "patient_id",
                "factor",
                "lag",
                pl.col("odds_ratio").alias("case_crossover_or"),
                pl.col("ci_low").alias("case_crossover_ci_low"),
                pl.col("ci_high").alias("case_crossover_ci_high"),
            )
            best = best.join(cc, on=["patient_id", "factor", "lag"], how="left")
            extra = [*extra, "case_crossover_or", "case_crossover_ci_low", "case_crossover_ci_high"]
        return best.select(
            *extra,
            "patient_id",
            "factor",
            "definition",
            "verdict",
            "lag",
            "odds_ratio",
            "ci_low",
            "ci_high",
            "q",
            "exposed_days",
            "attacks_at_risk",
            "power_note",
        ).sort("patient_id", "verdict", "factor")

    def summary(self, patient_id: str | None = None) -> str:
        """Each person's factors in words: calls with their odds ratio, then the rest."""
        return per_patient_text(patients_of(self.estimates), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's factors, a heading first (the analysis report's wording)."""
        lines = ["Possible triggers and protectors (associations, not causes):"]
        summary = self.to_frame(patient_id)
        shown = summary.filter(pl.col("verdict") != "no association")
        for r in shown.sort("verdict").iter_rows(named=True):
            if r["verdict"] == "not enough data":
                lines.append(
                    f"  {r['factor']}: not enough data yet"
                    + (f" — {r['power_note']}" if r["power_note"] else "")
                )
            else:
                lines.append(
                    f"  {r['factor']} ({r['definition']}, {r['lag']} day(s) before): "
                    f"{r['verdict']}, odds ratio {r['odds_ratio']:.2f} "
                    f"(95% CI {r['ci_low']:.2f}–{r['ci_high']:.2f})"
                )
        quiet = summary.filter(pl.col("verdict") == "no association")["factor"].to_list()
        if quiet:
            lines.append(f"  no association found for: {', '.join(quiet)}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": json_rows(self.to_frame()),
            "shrunk_toward_cohort": self.shrunk,
            "note": "Associations in diaries, not proof of cause.",
        }

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """A forest plot of one person's factors (best lag each), odds ratios with 95% CIs."""
        patient_id = one_patient(self.estimates, patient_id)
        s = self.to_frame(patient_id).filter(pl.col("odds_ratio").is_not_null()).sort("odds_ratio")
        fig, axes = figure(s.height)
        ax = axes[0, 0]
        colours = {
            "likely trigger": "#c0392b",
            "likely protector": "#2471a3",
            "possible early attack sign": "#b9770e",
        }
        for i, row in enumerate(s.iter_rows(named=True)):
            colour = colours.get(row["verdict"], "#7f8c8d")
            ax.plot([row["ci_low"], row["ci_high"]], [i, i], color=colour, lw=2)
            ax.plot(row["odds_ratio"], i, "o", color=colour)
        ax.axvline(1.0, color="black", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(range(s.height))
        ax.set_yticklabels(
            [f"{r['factor']} (lag {r['lag']}): {r['verdict']}" for r in s.iter_rows(named=True)]
        )
        ax.set_xlabel("odds ratio of an attack starting (95% interval; log scale)")
        ax.set_title(f"{patient_id}: associations, not proof of cause")
        if not s.height:
            ax.lines[0].remove()  # no reference line across the words
            ax.set_xlabel("")
            nothing_yet(
                ax,
                "Not enough data yet: each factor needs days with and without it\n"
                f"and at least {self.settings.min_attacks} attacks to compare",
            )
        return finish(fig, path)


class TriggerAnalysis:
    """``TriggerAnalysis().fit(day_table)`` — scikit-learn style: settings in, results out."""

    def __init__(self, settings: TriggerSettings | None = None) -> None:
        self.settings = settings or TriggerSettings()
        self.results_: TriggerResults | None = None

    def fit(
        self, days: pl.DataFrame, *, shrink: bool | None = None, case_crossover: bool = False
    ) -> TriggerResults:
        """Fit every person in ``days``; ``case_crossover`` adds the time-stratified
        case-crossover estimates beside each verdict as a sensitivity analysis."""
        s = self.settings
        frame, factors = exposure_columns(days)
        frame = _design(frame)
        rows = []
        for (pid,), part in frame.group_by(["patient_id"], maintain_order=True):
            rows.append(self._fit_patient(str(pid), part, factors))
        # an empty diary still gets a table with every column, so summaries and pictures
        # of "nothing yet" need no special case
        estimates = (
            pl.concat(rows, how="vertical_relaxed") if rows else pl.DataFrame(schema=ESTIMATES)
        )
        patients = estimates["patient_id"].n_unique() if estimates.height else 0
        do_shrink = shrink if shrink is not None else patients >= s.shrink_min_patients
        cohort = pl.DataFrame()
        if do_shrink and estimates.height:
            estimates, cohort = _shrink(estimates)
        estimates = _verdicts(estimates, s)
        sensitivity = pl.DataFrame()
        if case_crossover:
            sensitivity = run_case_crossover(days, s)
        self.results_ = TriggerResults(estimates, s, do_shrink, cohort, sensitivity)
        return self.results_

    def _fit_patient(self, pid: str, part: pl.DataFrame, factors: list[str]) -> pl.DataFrame:
        s = self.settings
        n = part.height
        y = part["onset"].cast(pl.Float64).to_numpy()
        at_risk = part["at_risk"].to_numpy()
        cov = np.column_stack([part[c].to_numpy() for c in COVARIATES])
        menstruating = cov[:, 2].any()
        specs, xs = [], []
        for f in factors:
            raw = part[f"x_{f}"].cast(pl.Float64).to_numpy()
            for lag in s.lags:
                x = np.full(n, np.nan)
                x[lag:] = raw[: n - lag] if lag else raw
                specs.append((f, lag))
                xs.append(x)
        X = np.empty((len(specs), n, 2 + len(COVARIATES)))
        mask = np.empty((len(specs), n), dtype=bool)
        for k, ((f, _lag), x) in enumerate(zip(specs, xs, strict=True)):
            X[k, :, 0] = 1.0
            X[k, :, 1] = np.nan_to_num(x)
            X[k, :, 2:] = cov
            if f in HORMONAL or not menstruating:
                X[k, :, 4] = 0.0  # the factor itself, or no cycle recorded
            mask[k] = at_risk & ~np.isnan(x)
        fit = fit_logit(X, y, mask, prior_sd=s.prior_sd)
        b, se = fit.coef[:, 1], fit.se[:, 1]
        exposed = (X[:, :, 1] * mask).sum(1)
        unexposed = mask.sum(1) - exposed
        events_exposed = (X[:, :, 1] * mask * y).sum(1)
        attacks = (mask * y).sum(1)
        z = stats.norm.ppf(1 - s.alpha / 2)
        enough = (
            (exposed >= s.min_days_each)
            & (unexposed >= s.min_days_each)
            & (attacks >= s.min_attacks)
        )
        p = np.where(enough, 2 * stats.norm.sf(np.abs(b / se)), np.nan)
        return pl.DataFrame(
            {
                "patient_id": [pid] * len(specs),
                "factor": [f for f, _ in specs],
                "definition": [
                    EXPOSURES[f][0]
                    if f in EXPOSURES
                    else "above the person's median"
                    if f.startswith("high_")
                    else "own yes/no factor"
                    for f, _ in specs
                ],
                "lag": [lag for _, lag in specs],
                "log_or": b,
                "se": se,
                "exposed_days": exposed.astype(int),
                "unexposed_days": unexposed.astype(int),
                "attacks_exposed": events_exposed.astype(int),
                "attacks_at_risk": attacks.astype(int),
                "enough_data": enough,
                "p_raw": p,
                "ci_z": np.full(len(specs), z),
            }
        )


def fit(
    days: pl.DataFrame,
    *,
    settings: TriggerSettings | None = None,
    shrink: bool | None = None,
    case_crossover: bool = False,
) -> TriggerResults:
    """Triggers and protectors of every person in the day table (see the module)."""
    return TriggerAnalysis(settings).fit(days, shrink=shrink, case_crossover=case_crossover)


def _two_groups(b: np.ndarray, s2: np.ndarray, iterations: int = 200) -> dict[str, float]:
    """EM for b_i ~ π0·N(0, s_i²) + (1 − π0)·N(μ, τ² + s_i²): most people are unaffected
    by a factor, some are affected; a single normal prior would pull every null toward
    the affected people's mean."""
    pi0, mu, tau2 = (
        0.8,
        float(np.median(b[np.abs(b) / np.sqrt(s2) > 1.5]))
        if (np.abs(b) / np.sqrt(s2) > 1.5).any()
        else 0.5,
        0.25,
    )
    for _ in range(iterations):
        null = pi0 * stats.norm.pdf(b, 0.0, np.sqrt(s2))
        slab = (1 - pi0) * stats.norm.pdf(b, mu, np.sqrt(tau2 + s2))
        r = slab / np.maximum(null + slab, 1e-300)
        new_pi0 = float(np.clip(1 - r.mean(), 0.01, 0.999))
        w = r / (tau2 + s2)
        new_mu = float((w * b).sum() / max(w.sum(), 1e-12))
        w2 = r / (tau2 + s2) ** 2
        new_tau2 = float(max(0.01, (w2 * ((b - new_mu) ** 2 - s2)).sum() / max(w2.sum(), 1e-12)))
        done = abs(new_pi0 - pi0) + abs(new_mu - mu) + abs(new_tau2 - tau2) < 1e-8
        pi0, mu, tau2 = new_pi0, new_mu, new_tau2
        if done:
            break
    return {"pi0": pi0, "slab_mean": mu, "slab_var": tau2}


def _shrink(estimates: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Empirical Bayes across the cohort, per factor and lag (two-groups model).

    Each person's estimate becomes a posterior: the probability that the factor acts
    in them at all (1 − local false-discovery rate) and, if so, how strongly.
    """
    usable = estimates.filter(pl.col("enough_data"))
    rows = []
    for (factor, lag), part in usable.group_by(["factor", "lag"], maintain_order=True):
        if part.height < 5:
            continue
        fit = _two_groups(part["log_or"].to_numpy(), part["se"].to_numpy() ** 2)
        rows.append({"factor": factor, "lag": lag, "patients": part.height, **fit})
    prior = (
        pl.DataFrame(rows)
        if rows
        else pl.DataFrame(
            schema={
                "factor": pl.String,
                "lag": pl.Int64,
                "patients": pl.Int64,
                "pi0": pl.Float64,
                "slab_mean": pl.Float64,
                "slab_var": pl.Float64,
            }
        )
    )
    out = estimates.join(prior, on=["factor", "lag"], how="left")
    b, s2 = out["log_or"].to_numpy(), out["se"].to_numpy() ** 2
    pi0 = out["pi0"].fill_null(np.nan).to_numpy()
    mu = out["slab_mean"].fill_null(np.nan).to_numpy()
    tau2 = out["slab_var"].fill_null(np.nan).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        null = pi0 * stats.norm.pdf(b, 0.0, np.sqrt(s2))
        slab = (1 - pi0) * stats.norm.pdf(b, mu, np.sqrt(tau2 + s2))
        r = slab / np.maximum(null + slab, 1e-300)
        v = 1 / (1 / s2 + 1 / tau2)
        m = v * (b / s2 + mu / tau2)
        mean = r * m
        var = r * (v + m**2) - mean**2
    has = ~np.isnan(pi0)
    # the person's own estimate and interval stay (their coverage is the honest one);
    # the shrunken estimate and the local fdr decide the verdict
    out = out.with_columns(
        pl.Series("shrunk_log_or", np.where(has, mean, b)),
        pl.Series("shrunk_se", np.where(has, np.sqrt(np.maximum(var, 1e-12)), np.sqrt(s2))),
        pl.Series("lfdr", np.where(has, 1 - r, np.nan)).fill_nan(None),
    )
    return out, prior


def _factor_q(part: pl.DataFrame) -> pl.DataFrame:
    """q-values per factor: the best lag's p, Bonferroni-corrected for the lags tried, then
    Benjamini–Hochberg across the person's factors — so testing three lags does not
    triple a null factor's chance of a call. Each lag's q is the larger of its own
    lag-corrected p and its factor's q."""
    tried = part.group_by("factor").agg(pl.col("p_raw").is_not_null().sum().alias("tried"))
    p = part.join(tried, on="factor", how="left").with_columns(
        (pl.col("p_raw") * pl.col("tried")).clip(upper_bound=1.0).alias("p_factor")
    )
    best = p.group_by("factor", maintain_order=True).agg(pl.col("p_factor").min())
    q = _bh(best["p_factor"].fill_null(np.nan).to_numpy())
    best = best.select("factor", pl.Series("q_factor", q).fill_nan(None))
    return (
        p.join(best, on="factor", how="left")
        .with_columns(
            pl.when(pl.col("p_factor").is_not_null())
            .then(pl.max_horizontal("q_factor", "p_factor"))
            .otherwise(None)
            .alias("q")
        )
        .drop("tried", "q_factor", "p_factor")
    )


def _bayes_q(part: pl.DataFrame) -> pl.DataFrame:
    """With a cohort: per factor the lag with the lowest local fdr; the q-value of a call
    is the mean local fdr of all calls at least as strong (Bayesian FDR)."""
    best = (
        part.filter(pl.col("enough_data") & pl.col("lfdr").is_not_null())
        .group_by("factor")
        .agg(pl.col("lfdr").min())
        .sort("lfdr")
        .with_columns((pl.col("lfdr").cum_sum() / pl.int_range(1, pl.len() + 1)).alias("q_factor"))
    )
    return (
        part.join(best.select("factor", "q_factor"), on="factor", how="left")
        .with_columns(
            pl.when(pl.col("enough_data") & pl.col("lfdr").is_not_null())
            .then(pl.max_horizontal("q_factor", "lfdr"))
            .otherwise(None)
            .alias("q")
        )
        .drop("q_factor")
    )


def _verdicts(estimates: pl.DataFrame, s: TriggerSettings) -> pl.DataFrame:
    parts = []
    shrunk = "lfdr" in estimates.columns
    for (_pid,), part in estimates.group_by(["patient_id"], maintain_order=True):
        scored = _factor_q(part)
        if shrunk:  # two routes to a call, each at q: the person's own data, or the cohort's
            own = scored.select("factor", "lag", pl.col("q").alias("q_own"))
            scored = _bayes_q(part).join(own, on=["factor", "lag"], how="left")
        parts.append(scored.with_columns(pl.col("p_raw").alias("p")))
    e = (
        pl.concat(parts)
        if parts
        else estimates.with_columns(
            pl.lit(None, pl.Float64).alias("q"), pl.lit(None, pl.Float64).alias("p")
        )
    )
    if shrunk and not parts:
        e = e.with_columns(pl.lit(None, pl.Float64).alias("q_own"))
    lo = (pl.col("log_or") - pl.col("ci_z") * pl.col("se")).exp()
    hi = (pl.col("log_or") + pl.col("ci_z") * pl.col("se")).exp()
    significant = pl.col("q") <= s.q
    direction = pl.col("log_or")
    if shrunk:
        by_cohort = significant
        significant = by_cohort | (pl.col("q_own") <= s.q)
        direction = pl.when(by_cohort).then(pl.col("shrunk_log_or")).otherwise(pl.col("log_or"))
    premonitory = pl.col("factor").str.contains(PREMONITORY.pattern)
    verdict = (
        pl.when(~pl.col("enough_data"))
        .then(pl.lit("not enough data"))
        .when(significant & (direction > 0) & premonitory)
        .then(pl.lit("possible early attack sign"))
        .when(significant & (direction > 0))
        .then(pl.lit("likely trigger"))
        .when(significant & (direction < 0))
        .then(pl.lit("likely protector"))
        .otherwise(pl.lit("no association"))
    )
    prevalence = pl.col("exposed_days") / (pl.col("exposed_days") + pl.col("unexposed_days"))
    e = e.with_columns(
        pl.col("log_or").exp().alias("odds_ratio"),
        lo.alias("ci_low"),
        hi.alias("ci_high"),
        verdict.alias("verdict"),
        prevalence.alias("prevalence"),
    )
    if shrunk:
        e = e.with_columns(
            pl.when(pl.col("q") <= s.q)
            .then(pl.lit("cohort"))
            .when(pl.col("q_own") <= s.q)
            .then(pl.lit("own data"))
            .otherwise(None)
            .alias("called_by"),
            pl.min_horizontal("q", "q_own").alias("q"),
        ).drop("q_own")
    needed = [_events_needed(pv if pv is not None else 0.0, s) for pv in e["prevalence"].to_list()]
    notes = []
    recorded = (e["exposed_days"] + e["unexposed_days"]).to_list()
    for need, have, verdict_, days_ in zip(
        needed, e["attacks_at_risk"].to_list(), e["verdict"].to_list(), recorded, strict=True
    ):
        if days_ == 0:
            notes.append("not recorded on any day at risk yet")
        elif math.isinf(need):
            notes.append("the factor was always or never present: it cannot be tested")
        elif verdict_ in ("not enough data", "no association") and need > have:
            notes.append(
                f"about {math.ceil(need - have)} more attacks to detect an odds ratio of "
                f"{s.detect_odds_ratio:g} with {s.power:.0%} power"
            )
        else:
            notes.append("")
    return e.with_columns(pl.Series("power_note", notes, dtype=pl.String))
