"""Per-person triggers and protectors: every recorded variable, in forms that are found.

Each numeric or yes/no day variable — built in, the person's own factors, imported —
is tested in a small declared family of forms (:mod:`painlink.days.candidates`:
present; above or below the person's usual; per SD; change from the recent baseline)
at lags 0–2, by a discrete-time hazard model of attack onset per person
(:mod:`painlink.analysis.trigger_fit`, batched across people). Multiplicity and the
verdicts are one declared procedure (:mod:`painlink.analysis.trigger_verdicts`).

With a cohort (at least ``shrink_min_patients`` people), each variable-form-lag gets a
population distribution of effects (:mod:`painlink.analysis.effect_prior`, adaptive
shrinkage: a null point mass and zero-centred normals): it answers how common and how
large an effect is (``TriggerResults.cohort``), and each person's posterior under it
is shown beside their own estimate. The share of the cohort each variable acts in
weights the person's Benjamini–Hochberg step, so a call still needs the person's own
evidence and their own interval to exclude 1.

Verdicts per person and variable: ``likely trigger``, ``likely protector``,
``possible early attack sign`` (a known premonitory symptom: maybe the attack already
starting), ``explained by other records`` (a call the person's other records explain:
:mod:`painlink.analysis.companions`), ``no association``, ``not enough data`` (with
what is missing) and ``not recorded``. These are associations in one person's diary, not causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from painlink.analysis.companions import companion_check
from painlink.analysis.effect_prior import cross_fitted_share, fit_prior, posterior
from painlink.analysis.plotting import figure, finish, nothing_yet
from painlink.analysis.results import Results, json_rows, one_patient, patients_of, per_patient_text
from painlink.analysis.threads import one_blas_thread
from painlink.analysis.trigger_fit import person_estimates, weighted_families
from painlink.analysis.trigger_verdicts import (
    LAG_WORDS,
    SAME_DAY_UNCHECKED,
    cohort_route,
    half_of,
    own_route,
    same_day_unchecked,
    single_effect_route,
    verdict_rows,
)
from painlink.days.candidates import candidate_columns
from painlink.rules.triggers import CALLS, EXPLAINED, EXPLANATIONS, TriggerSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COHORT: dict[str, pl.DataType] = {
    "variable": pl.String(),
    "form": pl.String(),
    "lag": pl.Int64(),
    "people": pl.Int64(),
    "share_with_effect": pl.Float64(),
    "typical_odds_ratio": pl.Float64(),
    "evidence": pl.Float64(),
    "chosen": pl.Boolean(),
}


@dataclass
class TriggerResults(Results):
    """``verdicts``: one row per person × variable; ``estimates``: every form × lag."""

    verdicts: pl.DataFrame
    estimates: pl.DataFrame
    settings: TriggerSettings
    shrunk: bool
    cohort: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=COHORT))
    sensitivity: pl.DataFrame = field(default_factory=pl.DataFrame)  # case-crossover

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """One row per person and variable: its verdict, the form and lag shown, the
        shown odds ratio and interval, and the person's own estimate beside it."""
        v = (
            self.verdicts
            if patient_id is None
            else self.verdicts.filter(pl.col("patient_id") == patient_id)
        )
        if self.sensitivity.height and {"variable", "form", "lag"} <= set(self.sensitivity.columns):
            cc = self.sensitivity.select(
                "patient_id",
                "variable",
                "form",
                "lag",
                pl.col("odds_ratio").alias("case_crossover_or"),
                pl.col("ci_low").alias("case_crossover_ci_low"),
                pl.col("ci_high").alias("case_crossover_ci_high"),
            )
            v = v.join(cc, on=["patient_id", "variable", "form", "lag"], how="left")
        order = pl.col("verdict").replace_strict(
            {
                **{c: i for i, c in enumerate(CALLS)},
                EXPLAINED: 4,
                "no association": 5,
                "not enough data": 6,
            },
            default=7,
            return_dtype=pl.Int64,
        )
        return v.sort("patient_id", order, "factor")

    def calls(self, patient_id: str | None = None) -> pl.DataFrame:
        """Only the calls (trigger, protector, early sign)."""
        return self.to_frame(patient_id).filter(pl.col("verdict").is_in(CALLS))

    def summary(self, patient_id: str | None = None) -> str:
        """Each person's factors in words: calls with their odds ratio, then the rest."""
        return per_patient_text(patients_of(self.verdicts), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's factors, a heading first (the analysis report's wording)."""
        lines = ["Possible triggers and protectors (associations, not causes):"]
        rows = self.to_frame(patient_id)
        calls = rows.filter(pl.col("verdict").is_in(CALLS))
        for r in calls.iter_rows(named=True):
            by = (
                f"; pooled with the cohort {r['pooled_odds_ratio']:.2f} "
                f"({r['pooled_ci_low']:.2f}–{r['pooled_ci_high']:.2f})"
                if r.get("pooled_odds_ratio") is not None
                else ""
            )
            if r.get("adjusted_odds_ratio") is not None:
                by += (
                    f"; beside the other records {r['adjusted_odds_ratio']:.2f} "
                    f"({r['adjusted_ci_low']:.2f}–{r['adjusted_ci_high']:.2f})"
                )
            lines.append(
                f"  {r['factor']} ({r['definition']}, {LAG_WORDS.get(r['lag'], r['lag'])}): "
                f"{r['verdict']}, odds ratio {r['odds_ratio']:.2f} "
                f"(95% CI {r['ci_low']:.2f}–{r['ci_high']:.2f}){by}"
                + (f" — {r['note']}" if r.get("note") else "")
            )
        if calls.height:
            lines.append("  Each of these may also be:")
            lines.extend(f"    - {why}" for why in EXPLANATIONS.values())
        for r in rows.filter(pl.col("verdict") == EXPLAINED).iter_rows(named=True):
            what = f"what it moves with ({r['moves_with']})" if r["moves_with"] else "the rest"
            lines.append(
                f"  {r['factor']}: goes with attacks, but no more than {what} explains: "
                f"beside the other records, odds ratio {r['adjusted_odds_ratio']:.2f} "
                f"(95% CI {r['adjusted_ci_low']:.2f}–{r['adjusted_ci_high']:.2f})"
            )
        for verdict, words in (
            ("no association", "no association found for"),
            ("not enough data", "not enough data yet for"),
            ("not recorded", "not recorded"),
        ):
            names = rows.filter(pl.col("verdict") == verdict)["factor"].to_list()
            if names:
                lines.append(f"  {words}: {', '.join(names)}")
        if unchecked := same_day_unchecked(rows):
            lines.append(f"  {SAME_DAY_UNCHECKED}: {', '.join(unchecked)}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": json_rows(self.to_frame()),
            "shrunk_toward_cohort": self.shrunk,
            "cohort": json_rows(self.cohort),
            "note": "Associations in diaries, not proof of cause.",
        }

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """A forest plot of one person's factors (the shown form and lag of each)."""
        patient_id = one_patient(self.verdicts, patient_id)
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

    @one_blas_thread
    def fit(
        self, days: pl.DataFrame, *, shrink: bool | None = None, case_crossover: bool = False
    ) -> TriggerResults:
        """Fit every person in ``days``; ``shrink`` forces the cohort model on or off
        (default: on from ``shrink_min_patients`` people); ``case_crossover`` adds the
        time-stratified case-crossover estimate of the shown form beside each verdict."""
        s = self.settings
        frame, candidates, scales = candidate_columns(days, s)
        estimates = person_estimates(frame, candidates, s)
        patients = estimates["patient_id"].n_unique() if estimates.height else 0
        do_shrink = shrink if shrink is not None else patients >= s.shrink_min_patients
        cohort = pl.DataFrame(schema=COHORT)
        if do_shrink and estimates.height:
            estimates, cohort = _cohort_model(estimates, s)
        best = _decide(estimates, s, do_shrink)
        kinds = {c.variable: c.kind for c in candidates}
        recorded, scale_map = _recorded(frame, scales, kinds)
        verdicts = verdict_rows(best, recorded, scale_map, s, kinds)
        verdicts = companion_check(frame, candidates, estimates, verdicts, s)
        sensitivity = pl.DataFrame()
        if case_crossover:
            sensitivity = _case_crossover(frame, verdicts, s)
        self.results_ = TriggerResults(verdicts, estimates, s, do_shrink, cohort, sensitivity)
        return self.results_


def fit(
    days: pl.DataFrame,
    *,
    settings: TriggerSettings | None = None,
    shrink: bool | None = None,
    case_crossover: bool = False,
) -> TriggerResults:
    """Triggers and protectors of every person in the day table (see the module)."""
    return TriggerAnalysis(settings).fit(days, shrink=shrink, case_crossover=case_crossover)


def _decide(estimates: pl.DataFrame, s: TriggerSettings, cohort: bool) -> pl.DataFrame:
    """Each person × variable's shown form and lag, and whether it is a call: the own
    route, and with a cohort the route ``s.cohort_model`` names: its Benjamini–Hochberg
    step weighted by the share of the cohort each variable acts in ("weighted"), or
    the single-effect model ("single_effect"; see
    :mod:`painlink.analysis.trigger_verdicts`)."""
    best = own_route(estimates, s)
    if not cohort:
        return best
    if s.cohort_model == "single_effect":
        return single_effect_route(best, estimates, s)
    return cohort_route(best, s)  # "weighted": TriggerSettings refuses any other


def _cohort_model(estimates: pl.DataFrame, s: TriggerSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A population distribution per variable × form × lag, and everyone's posterior."""
    n = estimates.height
    post_mean = np.full(n, np.nan)
    post_low = np.full(n, np.nan)
    post_high = np.full(n, np.nan)
    lfsr = np.full(n, np.nan)
    share = np.full(n, np.nan)
    indexed = estimates.with_row_index("_row")
    rows = []
    # cross-fitted form weights: each person's forms × lags are weighted by the share
    # of the *other half* of the cohort each acts in, so a person's own data never
    # sets their own weights (Ignatiadis et al. 2016, independent hypothesis weighting)
    fold = half_of(estimates["patient_id"])
    form_weight = np.full(n, np.nan)
    for (variable, form, lag), part in indexed.filter(pl.col("enough_data")).group_by(
        ["variable", "form", "lag"], maintain_order=True
    ):
        idx = part["_row"].to_numpy()
        b, se = part["log_or"].to_numpy(), part["se"].to_numpy()
        other = cross_fitted_share(b, se, fold[idx], s.shrink_min_patients)
        form_weight[idx] = other + s.weight_floor
        if part.height < s.shrink_min_patients:
            continue
        prior = fit_prior(b, se)
        post = posterior(b, se, prior, 1 - s.alpha)
        post_mean[idx], post_low[idx], post_high[idx] = post.mean, post.low, post.high
        lfsr[idx] = post.lfsr
        share[idx] = prior.share_with_effect
        rows.append(
            {
                "variable": variable,
                "form": form,
                "lag": lag,
                "people": part.height,
                "share_with_effect": prior.share_with_effect,
                "typical_odds_ratio": float(np.exp(prior.typical_size)),
                "evidence": prior.evidence,
            }
        )
    # a form the other half cannot model (too few of them tested in it) gets the mean
    # weight of the person's other forms of the variable: neither favoured nor ruled
    # out; a variable with none modelled is weighed evenly
    form_weight = (
        estimates.select("patient_id", "variable")
        .with_columns(pl.Series("w", form_weight).fill_nan(None))
        .select(pl.col("w").fill_null(pl.col("w").mean().over("patient_id", "variable")))
        .fill_null(1.0)["w"]
        .to_numpy()
    )
    out = weighted_families(estimates, form_weight).with_columns(
        pl.Series("form_weight", form_weight),
        pl.Series("post_mean", post_mean).fill_nan(None),
        pl.Series("post_low", post_low).fill_nan(None),
        pl.Series("post_high", post_high).fill_nan(None),
        pl.Series("lfsr", lfsr).fill_nan(None),
        pl.Series("share_with_effect", share).fill_nan(None),
    )
    if not rows:
        return out, pl.DataFrame(schema=COHORT)
    # which forms and lags matter: per variable the one with the most evidence in the
    # cohort, and up to two more with strong evidence of their own
    cohort = (
        pl.DataFrame(rows)
        .with_columns(
            (
                (pl.col("evidence") == pl.col("evidence").max().over("variable"))
                | (
                    (pl.col("evidence") >= s.form_evidence)
                    & (pl.col("evidence").rank("ordinal", descending=True).over("variable") <= 3)
                )
            ).alias("chosen")
        )
        .select(list(COHORT))
        .cast(COHORT)  # type: ignore[arg-type]
    )
    chosen = cohort.filter("chosen").select("variable", "form", "lag", pl.lit(True).alias("chosen"))
    out = out.join(chosen, on=["variable", "form", "lag"], how="left").with_columns(
        pl.col("chosen").fill_null(False)
    )
    return out, cohort


def _recorded(
    frame: pl.DataFrame, scales: pl.DataFrame, kinds: dict[str, str]
) -> tuple[pl.DataFrame, dict[tuple[str, str], dict[str, float]]]:
    """Per person × variable: days recorded and attacks at risk; and each person's
    numbers (quarters, spreads) for the words of a definition."""
    attacks = frame.group_by("patient_id", maintain_order=True).agg(
        (pl.col("onset") & ~pl.col("ongoing")).sum().alias("attacks_at_risk")
    )
    long = []
    scale_map: dict[tuple[str, str], dict[str, float]] = {}
    for r in scales.join(attacks, on="patient_id").iter_rows(named=True):
        for var in kinds:
            long.append(
                {
                    "patient_id": r["patient_id"],
                    "variable": var,
                    "recorded_days": r[f"{var}__recorded"],
                    "attacks_at_risk": r["attacks_at_risk"],
                }
            )
            scale_map[(r["patient_id"], var)] = {
                k: r[f"{var}__{k}"]
                for k in ("low", "high", "sd", "change_sd")
                if f"{var}__{k}" in r
            }
    schema = {
        "patient_id": pl.String(),
        "variable": pl.String(),
        "recorded_days": pl.Int64(),
        "attacks_at_risk": pl.Int64(),
    }
    return pl.DataFrame(long, schema=schema), scale_map


def _case_crossover(
    frame: pl.DataFrame, verdicts: pl.DataFrame, s: TriggerSettings
) -> pl.DataFrame:
    """The time-stratified case-crossover estimate of each shown form and lag."""
    from painlink.analysis.case_crossover import case_crossover_columns

    shown = verdicts.filter(pl.col("form").is_not_null())
    if not shown.height:
        return pl.DataFrame()
    columns = sorted({f"x_{v}__{f}" for v, f in shown.select("variable", "form").iter_rows()})
    cc = case_crossover_columns(frame, columns, s.lags, s)
    parts = cc["column"].str.strip_prefix("x_").str.split_exact("__", 1)
    cc = cc.with_columns(
        parts.struct.field("field_0").alias("variable"), parts.struct.field("field_1").alias("form")
    )
    return cc.join(
        shown.select("patient_id", "variable", "form", "lag"),
        on=["patient_id", "variable", "form", "lag"],
        how="semi",
    )
