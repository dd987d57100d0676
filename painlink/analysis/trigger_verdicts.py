"""From per-person estimates to one verdict per person and variable, in words.

Routes, declared in :mod:`painlink.rules.triggers`:

- **The person's own data** (one person, or a variable the cohort cannot model):
  within a variable, the max-T test over its forms × lags
  (:mod:`painlink.analysis.family_test`), which charges for the search actually made;
  across the person's variables, Benjamini–Hochberg at q. The form and lag shown are
  the strongest, with their simultaneous 95% interval (valid although chosen after
  looking); a call also needs that interval to exclude 1.
- **With a cohort**: the same, with each person's forms × lags weighted in the max-T
  test by the share of the other half of the cohort each acts in (cross-fitted:
  :func:`painlink.analysis.triggers._cohort_model`), and the Benjamini–Hochberg step
  weighted by the share of the cohort each variable acts in (Genovese, Roeder &
  Wasserman 2006),
  estimated per variable by adaptive shrinkage (:mod:`painlink.analysis.effect_prior`:
  a null point mass and half-normals) of everyone's signed max-T z. The cohort decides
  how much evidence is enough for a variable that acts in many people or in few; it
  cannot make a call the person's own interval does not support. The cohort's
  posterior for the person's shown form (pooled estimate and interval) is shown
  beside it. Tried and measured, not used: calls on a 95% posterior interval (a third
  as many true triggers found) and Bayesian FDR over the whole cohort (fewer true
  triggers than the person's own test at 180 days; docs/validation.md).
- **With a cohort, by choice** (``TriggerSettings.cohort_model = "single_effect"``; a
  variable tested in 20+ people): the cohort's single-effect model
  (:mod:`painlink.analysis.single_effect`) decides — the evidence averaged over
  the forms × lags instead of charged for the strongest. A call needs its s-value over
  the cohort at most ``cohort_s``, and both the shown form's posterior interval given it acts and
  the person's own 95% interval of that form to exclude 1 on the called side; it
  shows the posterior mean and an interval spanning the two (the posterior alone is
  shrunk to what the cohort expects and missed large effects; docs/validation.md).
  A variable not called keeps the own route's strongest form (with the max-T test
  weighted by the share of the other half of the cohort each form acts in:
  :func:`painlink.analysis.triggers._cohort_model`) and its simultaneous interval.
  The per-form posterior (pooled estimate and interval) is shown beside the
  person's own. Not the default: it finds more true effects on both simulators, but
  on the third and fourth generators it also calls more proxies of a cause
  (docs/validation.md).

An effect of a numeric form (per SD, change) is shown in the direction that goes
with more attacks ("less sleep", "a fall in stress"), so its odds ratio is above 1.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.effect_prior import cross_fitted_share, fit_prior, posterior
from painlink.analysis.multiplicity import bh_within
from painlink.analysis.single_effect import fit_single_effect, svalues
from painlink.days.exposures import EXPOSURES
from painlink.rules.triggers import PREMONITORY, VARIABLES, TriggerSettings

HORMONAL_VARIABLES = ("menstruation", "contraceptive_phase")
NUMERIC_FORMS = ("per_sd", "change")
LAG_WORDS = {0: "the same day", 1: "1 day before", 2: "2 days before"}


def _words(variable: str) -> tuple[str, str]:
    spec = VARIABLES.get(variable)
    if spec is not None:
        return spec[1], spec[2]
    return variable.replace("_", " "), ""


def variable_words(variable: str) -> str:
    """A variable's name as a person reads it ("sleep quality", an own factor's name)."""
    return _words(variable)[0]


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return f"{value:.3g}"


def label(variable: str, form: str, kind: str, up: bool) -> str:
    """The factor's name as a person reads it; ``up``: the shown direction is "more"."""
    words, _ = _words(variable)
    if form == "present":
        return words if kind == "yesno" else f"any {words}"
    if form == "high":
        return f"{words} above your usual"
    if form == "low":
        return f"{words} below your usual"
    if form == "per_sd":
        return f"more {words}" if up else f"less {words}"
    if form == "change":
        return f"a rise in {words}" if up else f"a fall in {words}"
    if form == "window":
        return "menstrual window"
    if form == "pill_free":
        return "pill-free week"
    return f"{words} ({form})"


def definition(variable: str, form: str, kind: str, up: bool, scale: dict[str, float]) -> str:
    """The form in words with the person's own numbers (their quarters and spread)."""
    words, unit = _words(variable)
    unit = f" {unit}" if unit and not unit.startswith("/") else unit
    if form == "present":
        return "recorded as yes" if kind == "yesno" else f"any {words} that day"
    if form == "high":
        return f"above {_fmt(scale.get('high'))}{unit} (your upper quarter)"
    if form == "low":
        return f"below {_fmt(scale.get('low'))}{unit} (your lower quarter)"
    if form == "per_sd":
        return f"per {_fmt(scale.get('sd'))}{unit} {'more' if up else 'less'} (your usual spread)"
    if form == "change":
        return (
            f"per {_fmt(scale.get('change_sd'))}{unit} {'above' if up else 'below'} "
            "your previous week's average"
        )
    if form == "window":
        return EXPOSURES["menstrual_window"][0]
    if form == "pill_free":
        return "pill-free week of a combined contraceptive"
    return form


def own_route(e: pl.DataFrame, s: TriggerSettings, weight: str | None = None) -> pl.DataFrame:
    """Per person × variable: the max-T test over its forms × lags
    (:mod:`painlink.analysis.family_test`), Benjamini–Hochberg over the person's
    variables (weighted by ``weight`` when given); the shown form and lag is the
    strongest, with its simultaneous 95% interval (valid although chosen after looking);
    a call needs q ≤ s.q and that interval to exclude 1."""
    tested = e.filter(pl.col("enough_data") & pl.col("p_family").is_not_null())
    if not tested.height:
        return e.head(0).with_columns(
            pl.lit(None, pl.Float64).alias("p_variable"),
            pl.lit(None, pl.Float64).alias("q"),
            pl.lit(None, pl.Float64).alias("shown_log_or"),
            pl.lit(None, pl.Float64).alias("shown_low"),
            pl.lit(None, pl.Float64).alias("shown_high"),
            pl.lit(None, pl.Boolean).alias("called"),
            pl.lit(None, pl.String).alias("called_by"),
            pl.lit(None, pl.UInt32).alias("tried"),
        )
    # the shown form: the strongest, or with cohort weights the strongest weighted one
    # (the form that decided the weighted max-T test)
    strength = (
        pl.col("p_raw") / pl.col("form_weight")
        if "form_weight" in tested.columns
        else pl.col("p_raw")
    )
    best = (
        tested.with_columns(
            pl.len().over("patient_id", "variable").alias("tried"), strength.alias("_strength")
        )
        .sort("patient_id", "variable", "_strength", nulls_last=True)
        .group_by("patient_id", "variable", maintain_order=True)
        .first()
        .with_columns(pl.col("p_family").alias("p_variable"))
        .drop("_strength")
    )
    best = best.with_columns(bh_within(best, "p_variable", "patient_id", weight).alias("q"))
    half = pl.col("z_family") * pl.col("se")
    return best.with_columns(
        pl.col("log_or").alias("shown_log_or"),
        (pl.col("log_or") - half).alias("shown_low"),
        (pl.col("log_or") + half).alias("shown_high"),
        ((pl.col("q") <= s.q) & (pl.col("log_or").abs() > half)).alias("called"),
        pl.lit("own data").alias("called_by"),
    )


#: widths of the non-null components of a variable's cohort distribution of signed
#: max-T z statistics (z scale: 0.5 … 8)
Z_GRID = 0.5 * np.sqrt(2.0) ** np.arange(9)


def half_of(patient_ids: pl.Series) -> np.ndarray:
    """Each person's half of the cohort (0 or 1), fixed by their id (CRC-32), for
    cross-fitting: what weighs a person's tests is fitted on the other half only."""
    return np.array([zlib.crc32(str(p).encode()) % 2 for p in patient_ids.to_list()])


def cohort_route(best: pl.DataFrame, s: TriggerSettings) -> pl.DataFrame:
    """Re-decide the own route's calls with the cohort (see the module): per variable an
    adaptive-shrinkage fit of the signed max-T z gives the share of people it acts in,
    and each person's Benjamini–Hochberg step is weighted by those shares. The weights
    are cross-fitted — a person's come from the other half of the cohort (the halves of
    :func:`half_of`) — so the weighted step stays valid; a
    variable the other half cannot model gets the person's mean weight (neutral). The
    lfsr shown beside a verdict is from the fit over everyone."""
    if not best.height:
        return best.with_columns(
            pl.lit(None, pl.Float64).alias("lfsr_variable"),
            pl.lit(None, pl.Float64).alias("variable_share"),
        )
    more = np.sign(best["log_or"].to_numpy()) * np.where(best["form"].to_numpy() == "low", -1, 1)
    p = np.clip(best["p_variable"].to_numpy().astype(float), 1e-300, 1.0)
    z = more * stats.norm.isf(p / 2)
    lfsr = np.full(best.height, np.nan)
    share = np.full(best.height, np.nan)
    weight = np.full(best.height, np.nan)
    half = half_of(best["patient_id"])
    variables = best["variable"].to_numpy()
    for variable in np.unique(variables):
        rows = np.flatnonzero((variables == variable) & ~np.isnan(z))
        if rows.size < s.shrink_min_patients:
            continue
        ones = np.ones(rows.size)
        prior = fit_prior(z[rows], ones, Z_GRID)
        lfsr[rows] = posterior(z[rows], ones, prior, 1 - s.alpha).lfsr
        share[rows] = prior.share_with_effect
        other = cross_fitted_share(z[rows], ones, half[rows], s.shrink_min_patients, Z_GRID)
        weight[rows] = other + s.weight_floor
    weighted = best.with_columns(
        pl.Series("variable_share", share).fill_nan(None),
        pl.Series("_w", weight).fill_nan(None),
        pl.Series("lfsr_variable", lfsr).fill_nan(None),
    ).with_columns(pl.col("_w").fill_null(pl.col("_w").mean().over("patient_id")).fill_null(1.0))
    q = bh_within(weighted, "p_variable", "patient_id", "_w")
    half_width = pl.col("z_family") * pl.col("se")
    return (
        weighted.rename({"_w": "variable_weight"})
        .with_columns(q.alias("q"))
        .with_columns(
            ((pl.col("q") <= s.q) & (pl.col("log_or").abs() > half_width)).alias("called"),
            pl.lit("own data, variables weighted by the cohort").alias("called_by"),
        )
    )


def single_effect_route(
    best: pl.DataFrame, estimates: pl.DataFrame, s: TriggerSettings
) -> pl.DataFrame:
    """Re-decide the own route's calls with the cohort's single-effect model (see the
    module and :mod:`painlink.analysis.single_effect`): per variable modelled (tested in
    ``shrink_min_patients`` people or more), a call needs the s-value of its lfsr over
    the whole cohort at most ``s.cohort_s`` (the expected share of false signs among the
    cohort's calls), and both the shown form's posterior given it acts and the person's
    own 95% interval of that form to exclude 1 on the called side. A call shows that
    form × lag with the posterior mean and an interval spanning the two; a variable not
    called keeps the own route's strongest form and its
    simultaneous interval (the posterior "if it acts" would look like an effect where
    there is none). A variable the cohort cannot model keeps the own route's decision."""
    extra = {
        "lfsr_variable": pl.Float64(),
        "variable_share": pl.Float64(),
        "p_acts": pl.Float64(),
    }
    tested = estimates.filter(pl.col("enough_data") & pl.col("p_family").is_not_null())
    model = fit_single_effect(
        tested.select("patient_id", "variable", "form", "lag", "log_or", "se"),
        min_people=s.shrink_min_patients,
    )
    if not best.height or not model.height:
        return best.with_columns(pl.lit(None, t).alias(c) for c, t in extra.items())
    model = model.with_columns(
        pl.Series("svalue", svalues(model["lfsr"].to_numpy())),
        ((pl.col("post_low") > 0) | (pl.col("post_high") < 0)).alias("_excludes"),
        # the shown form's posterior agrees with the called direction of "more"
        (
            pl.col("post_mean").sign() * pl.when(pl.col("form") == "low").then(-1).otherwise(1)
            == pl.col("direction")
        ).alias("_agrees"),
    )
    model = model.with_columns(
        ((pl.col("svalue") <= s.cohort_s) & pl.col("_excludes") & pl.col("_agrees")).alias(
            "_called"
        )
    )
    keys = ["patient_id", "variable"]
    z = float(stats.norm.ppf(1 - s.alpha / 2))
    decided = model.select(
        *keys,
        pl.col("lfsr").alias("lfsr_variable"),
        pl.col("share_with_effect").alias("variable_share"),
        "p_acts",
        pl.col("svalue").alias("_svalue"),
        "_called",
    )
    called = (
        model.filter("_called")
        .select(*keys, "form", "lag", "post_mean", "post_low", "post_high")
        .rename({"post_mean": "_mean", "post_low": "_low", "post_high": "_high"})
        .join(
            tested.with_columns(pl.col("lag").cast(pl.Int64)),
            on=[*keys, "form", "lag"],
            how="inner",
        )
        .join(best.select(*keys, "p_variable", "tried"), on=keys, how="left")
        .with_columns(
            (pl.col("log_or") - z * pl.col("se")).alias("_own_low"),
            (pl.col("log_or") + z * pl.col("se")).alias("_own_high"),
        )
        # the person's own 95% interval of the form must also exclude 1, on the same
        # side: the shown interval spans both, so it holds the truth where either does
        # (a shrunk posterior alone misses the larger effects a cohort's prior does not
        # expect; the own interval alone, the smaller ones)
        .filter(
            ((pl.col("_own_low") > 0) & (pl.col("_low") > 0))
            | ((pl.col("_own_high") < 0) & (pl.col("_high") < 0))
        )
        .with_columns(
            pl.col("_mean").alias("shown_log_or"),
            pl.min_horizontal("_low", "_own_low").alias("shown_low"),
            pl.max_horizontal("_high", "_own_high").alias("shown_high"),
            pl.lit(True).alias("called"),
            pl.lit("the cohort's single-effect model").alias("called_by"),
        )
    )
    kept = best.join(called.select(keys), on=keys, how="anti")
    kept = kept.join(decided.select(*keys, "_called"), on=keys, how="left").with_columns(
        pl.when(pl.col("_called").is_not_null())
        .then(pl.lit(False))
        .otherwise(pl.col("called"))
        .alias("called"),
        pl.when(pl.col("_called").is_not_null())
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("called_by"))
        .alias("called_by"),
    )
    out = pl.concat(
        [
            kept.drop("_called"),
            called.with_columns(pl.lit(None, pl.Float64).alias("q")).select(
                kept.drop("_called").columns
            ),
        ],
        how="vertical_relaxed",
    )
    # the shown q of a modelled variable is its s-value over the cohort
    return (
        out.join(decided.drop("_called"), on=keys, how="left")
        .with_columns(
            pl.when(pl.col("_svalue").is_not_null())
            .then(pl.col("_svalue"))
            .otherwise(pl.col("q"))
            .alias("q")
        )
        .drop("_svalue")
        .sort(keys)
    )


def verdict_rows(
    best: pl.DataFrame,
    recorded: pl.DataFrame,
    scales: dict[tuple[str, str], dict[str, float]],
    s: TriggerSettings,
    kinds: dict[str, str],
) -> pl.DataFrame:
    """One row per person × recorded-or-not variable, in words, with the shown interval."""
    z = stats.norm.ppf(1 - s.alpha / 2)
    rows = []
    picked = {(r["patient_id"], r["variable"]): r for r in best.iter_rows(named=True)}
    for r in recorded.iter_rows(named=True):
        pid, var, days = r["patient_id"], r["variable"], r["recorded_days"]
        kind = kinds.get(var, "level")
        row = picked.get((pid, var))
        base = {
            "patient_id": pid,
            "variable": var,
            "recorded_days": days,
            "attacks_at_risk": r["attacks_at_risk"],
        }
        if days == 0:
            if var in HORMONAL_VARIABLES:
                continue  # asked only of people who record periods or a pill cycle
            rows.append({**base, "verdict": "not recorded", "factor": _words(var)[0]})
            continue
        if row is None:
            rows.append(
                {
                    **base,
                    "verdict": "not enough data",
                    "factor": _words(var)[0],
                    "power_note": _too_little(r["attacks_at_risk"], s),
                }
            )
            continue
        form, est = row["form"], row["shown_log_or"]
        flip = form in NUMERIC_FORMS and est < 0  # an estimate of exactly 0 is not flipped
        sign = -1.0 if flip else 1.0
        shown = sign * est
        lo, hi = sorted((sign * row["shown_low"], sign * row["shown_high"]))
        own_lo, own_hi = sorted(
            (sign * (row["log_or"] - z * row["se"]), sign * (row["log_or"] + z * row["se"]))
        )
        up = not flip if form in NUMERIC_FORMS else True
        more = (1 if est >= 0 else -1) * (-1 if form == "low" else 1)
        called = bool(row["called"])
        # a call names its form ("less sleep"); anything else names the variable
        name = label(var, form, kind, up) if called else _words(var)[0]
        # "more of it" goes with attacks and the value also rises inside attacks: it
        # may be the attack's first sign (premonitory) rather than its cause
        inside = row.get("inside_t")
        rises_inside = (
            inside is not None and not math.isnan(inside) and inside * more > s.early_sign_t
        )
        note = ""
        if called and shown > 0 and (PREMONITORY.search(var) or (rises_inside and more > 0)):
            verdict = "possible early attack sign"
            note = (
                "it also rises during attacks: it may be the attack's first sign rather "
                "than its cause"
                if rises_inside
                else "a known early sign of migraine: it may be the attack already starting"
            )
        elif called and shown > 0:
            verdict = "likely trigger"
        elif called:
            verdict = "likely protector"
        else:
            verdict = "no association"
        rows.append(
            {
                **base,
                "verdict": verdict,
                "factor": name,
                "definition": definition(var, form, kind, up, scales.get((pid, var), {})),
                "form": form,
                "lag": row["lag"],
                "direction": more,
                "odds_ratio": math.exp(shown),
                "ci_low": math.exp(lo),
                "ci_high": math.exp(hi),
                "own_odds_ratio": math.exp(sign * row["log_or"]),
                "own_ci_low": math.exp(own_lo),
                "own_ci_high": math.exp(own_hi),
                "q": row["q"],
                "lfsr": row.get("lfsr_variable", row.get("lfsr")),
                "cohort_share": row.get("share_with_effect"),
                "pooled_odds_ratio": _exp(sign, row.get("post_mean")),
                "pooled_ci_low": _exp(sign, row.get("post_high" if flip else "post_low")),
                "pooled_ci_high": _exp(sign, row.get("post_low" if flip else "post_high")),
                "called_by": row["called_by"] if called else None,
                "exposed_days": row["exposed_days"],
                "power_note": "" if called else _power(row, s),
                "note": note,
                "same_day_checked": row.get("same_day_tried", True),
                # why not: attacks move it (its "inside an attack" t exists), or the
                # diary cannot show it (no days inside attacks to look at)
                "same_day_why": None
                if row.get("same_day_tried", True)
                else ("cannot tell" if inside is None or math.isnan(inside) else "moves"),
            }
        )
    return pl.DataFrame(rows, schema=VERDICT_SCHEMA)


VERDICT_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "variable": pl.String(),
    "factor": pl.String(),
    "definition": pl.String(),
    "verdict": pl.String(),
    "form": pl.String(),
    "lag": pl.Int64(),
    "direction": pl.Int64(),
    "odds_ratio": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "own_odds_ratio": pl.Float64(),
    "own_ci_low": pl.Float64(),
    "own_ci_high": pl.Float64(),
    "q": pl.Float64(),
    "lfsr": pl.Float64(),
    "cohort_share": pl.Float64(),
    "pooled_odds_ratio": pl.Float64(),
    "pooled_ci_low": pl.Float64(),
    "pooled_ci_high": pl.Float64(),
    "called_by": pl.String(),
    "recorded_days": pl.Int64(),
    "exposed_days": pl.Int64(),
    "attacks_at_risk": pl.Int64(),
    "power_note": pl.String(),
    "note": pl.String(),
    #: whether the same day was tried (see trigger_fit's same_day_tried); None where
    #: nothing was tested
    "same_day_checked": pl.Boolean(),
    #: why the same day was not tried: "moves" (attacks change it), "cannot tell"
    "same_day_why": pl.String(),
}


def _exp(sign: float, value: object) -> float | None:
    return None if value is None else math.exp(sign * float(value))  # type: ignore[arg-type]


def _too_little(attacks: int | None, s: TriggerSettings) -> str:
    have = attacks or 0
    if have < s.min_attacks:
        return f"{s.min_attacks - have} more attacks are needed before it can be tested"
    return "recorded on too few days, or always the same, to compare"


def _power(row: dict[str, object], s: TriggerSettings) -> str:
    """How many more attacks would detect an odds ratio of 2 for a day in the person's
    upper or lower quarter (the forms' prevalence is a quarter by construction)."""
    z = stats.norm.ppf(1 - s.alpha / 2) + stats.norm.ppf(s.power)
    need = z**2 / (math.log(s.detect_odds_ratio) ** 2 * 0.25 * 0.75)
    have = int(row["attacks_at_risk"] or 0)  # type: ignore[call-overload]
    if need <= have:
        return ""
    return (
        f"about {math.ceil(need - have)} more attacks to detect an odds ratio of "
        f"{s.detect_odds_ratio:g} with {s.power:.0%} power"
    )


#: how a "no association" that did not look at the same day is said (text, CLI, web)
SAME_DAY_UNCHECKED = (
    "only the days before were tried (not the same day: attacks may change these on "
    "their day, or never last into a second day to show whether they do) for"
)


def same_day_unchecked(rows: pl.DataFrame) -> list[str]:
    """The factors of "no association" rows whose same day was not tried: saying "no
    association" of them would claim more than was looked at."""
    if "same_day_checked" not in rows.columns:
        return []
    out: list[str] = rows.filter(
        (pl.col("verdict") == "no association") & ~pl.col("same_day_checked").fill_null(True)
    )["factor"].to_list()
    return out
