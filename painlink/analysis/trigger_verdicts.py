"""From per-person estimates to one verdict per person and variable, in words.

Two routes, one rule for each, declared in :mod:`painlink.rules.triggers`:

- **The person's own data** (one person, or a variable the cohort cannot model):
  within a variable, Simes' test over its forms × lags; across the person's variables,
  Benjamini–Hochberg at q. The form and lag shown are the strongest; the call also
  needs that estimate's 95% interval to exclude 1.
- **With a cohort model** (:mod:`painlink.analysis.effect_prior`): the cohort finds
  which forms and lags of a variable matter (the share of people each acts in), and
  each person's forms are weighted by it in a weighted Simes test (Benjamini &
  Hochberg 1997) — the same rule, so a form the cohort found dilutes the person's
  evidence less, and one it did not find can still be called on strong evidence.
  The call rests on the person's own estimate and its interval; the cohort's
  posterior for the person (pooled estimate and interval) is shown beside it. Why
  not call on the posterior: a 95% posterior interval that excludes 1 under a sparse
  population distribution needs a local false-sign rate under 2.5% — on the
  independent simulator that found about a third as many true triggers as the
  own-data test at a similar false-call rate (docs/validation.md).

An effect of a numeric form (per SD, change) is shown in the direction that goes
with more attacks ("less sleep", "a fall in stress"), so its odds ratio is above 1.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from painlink.days.exposures import EXPOSURES
from painlink.rules.triggers import PREMONITORY, VARIABLES, TriggerSettings

HORMONAL_VARIABLES = ("menstruation", "contraceptive_phase")
NUMERIC_FORMS = ("per_sd", "change")
LAG_WORDS = {0: "the same day", 1: "1 day before", 2: "2 days before"}


def simes(p: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Simes' combined p-value of one variable's tests (NaN: none tested).

    With ``weights`` (the cohort's view of which forms matter), the weighted Simes
    test of Benjamini & Hochberg (1997): each p is divided by its weight, weights
    scaled to average 1, so a form the cohort found is favoured and the test stays
    valid; equal weights give the plain test."""
    ok = ~np.isnan(p)
    p = p[ok]
    if not p.size:
        return math.nan
    w = np.ones_like(p) if weights is None else np.asarray(weights, float)[ok]
    w = w / w.mean()
    order = np.argsort(p / w)
    ratio = (p / w)[order] * w.sum() / np.cumsum(w[order])
    return float(min(1.0, ratio.min()))


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values; NaN (never tested) stays out and NaN."""
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def weighted_bh(p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg on p / w with weights scaled to average 1 over the tested
    (Genovese, Roeder & Wasserman 2006): the false-discovery rate stays controlled
    while a variable the cohort found to act often needs a little less evidence."""
    ok = ~np.isnan(p)
    w = np.asarray(weights, float).copy()
    if ok.any():
        w[ok] = w[ok] / w[ok].mean()
    return bh(np.where(ok, np.minimum(p / np.where(ok, w, 1.0), 1.0), np.nan))


def _words(variable: str) -> tuple[str, str]:
    spec = VARIABLES.get(variable)
    if spec is not None:
        return spec[1], spec[2]
    return variable.replace("_", " "), ""


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


def _best(part: pl.DataFrame, by: str) -> pl.DataFrame:
    return part.sort(by, nulls_last=True).group_by("variable", maintain_order=True).first()


def own_route(e: pl.DataFrame, s: TriggerSettings) -> pl.DataFrame:
    """Per person × variable: Simes over forms × lags, BH over the person's variables."""
    out = []
    for (_pid,), part in e.group_by(["patient_id"], maintain_order=True):
        tested = part.filter(pl.col("enough_data"))
        if not tested.height:
            continue
        if "weight" not in tested.columns:
            tested = tested.with_columns(pl.lit(1.0).alias("weight"))
        comb = tested.group_by("variable", maintain_order=True).agg(
            pl.struct("p_raw", "weight")
            .map_batches(
                lambda c: pl.Series(
                    [
                        simes(
                            c.struct.field("p_raw").to_numpy(),
                            c.struct.field("weight").to_numpy(),
                        )
                    ]
                ),
                returns_scalar=True,
            )
            .alias("p_variable")
        )
        if "variable_weight" in tested.columns:
            w = comb.join(
                tested.group_by("variable").agg(pl.col("variable_weight").first()),
                on="variable",
                how="left",
            )["variable_weight"].fill_null(1.0)
            comb = comb.with_columns(
                pl.Series("q", weighted_bh(comb["p_variable"].to_numpy(), w.to_numpy()))
            )
        else:
            comb = comb.with_columns(pl.Series("q", bh(comb["p_variable"].to_numpy())))
        tried = tested.group_by("variable").agg(pl.len().alias("tried"))
        best = _best(tested, "p_raw").join(comb, on="variable").join(tried, on="variable")
        out.append(best)
    if not out:
        return e.head(0).with_columns(
            pl.lit(None, pl.Float64).alias("p_variable"), pl.lit(None, pl.Float64).alias("q")
        )
    best = pl.concat(out)
    # the shown form and lag is the strongest of those tried, chosen after looking: its
    # interval is widened for that choice (Bonferroni over the variable's forms × lags),
    # so it covers the truth as a 95% interval chosen in advance would
    n_tried = best["tried"].to_numpy().astype(float)
    z = pl.Series("z", stats.norm.ppf(1 - s.alpha / (2 * np.maximum(n_tried, 1.0))))
    best = best.with_columns(z)
    return best.with_columns(
        pl.col("log_or").alias("shown_log_or"),
        (pl.col("log_or") - pl.col("z") * pl.col("se")).alias("shown_low"),
        (pl.col("log_or") + pl.col("z") * pl.col("se")).alias("shown_high"),
        ((pl.col("q") <= s.q) & (pl.col("log_or").abs() > pl.col("z") * pl.col("se"))).alias(
            "called"
        ),
        pl.lit("own data").alias("called_by"),
    ).drop("z")


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
        flip = form in NUMERIC_FORMS and est < 0
        sign = -1.0 if flip else 1.0
        shown = sign * est
        lo, hi = sorted((sign * row["shown_low"], sign * row["shown_high"]))
        own_lo, own_hi = sorted(
            (sign * (row["log_or"] - z * row["se"]), sign * (row["log_or"] + z * row["se"]))
        )
        up = not flip if form in NUMERIC_FORMS else True
        more = (1 if est > 0 else -1) * (-1 if form == "low" else 1)
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
                "lfsr": row.get("lfsr"),
                "cohort_share": row.get("share_with_effect"),
                "pooled_odds_ratio": _exp(sign, row.get("post_mean")),
                "pooled_ci_low": _exp(sign, row.get("post_high" if flip else "post_low")),
                "pooled_ci_high": _exp(sign, row.get("post_low" if flip else "post_high")),
                "called_by": row["called_by"] if called else None,
                "exposed_days": row["exposed_days"],
                "power_note": "" if called else _power(row, s),
                "note": note,
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
