"""The cohort's single-effect model: which of a variable's forms × lags acts, per person.

A person's variable — stress, say — is tried in several forms (above the usual level,
per SD, a change …) at lags 0–2. The own route pays for that search with a max-T test
(:mod:`painlink.analysis.family_test`): the strongest form must beat the maximum of
all of them. With a cohort, the evidence can instead be *averaged* over the forms: a
person's variable acts in at most one of its forms × lags (the single-effect
regression of Wang, Sarkar, Carbonetto & Stephens 2020, "SuSiE", JRSS-B 82:1273), and
the cohort's distribution of effects — how often each form × lag acts, in which
direction and how strongly — is fitted by maximum likelihood as in adaptive
shrinkage (Stephens 2017; :mod:`painlink.analysis.effect_prior`): a null component
("acts in no form") and, per form × lag, half-normals on either side over a fixed
grid of widths.

Under the usual normal approximation each form's estimate b_f ~ N(β_f, s_f²), and the
likelihood ratio of "form f acts with log OR β" against "nothing acts" depends on
b_f and s_f alone (the other forms' estimates have the same distribution under
both), so the model needs no correlation matrix between the forms. Per person it
gives the posterior probability of each form × lag × direction; the *local false
sign rate* (lfsr) is the probability that the variable acts in no form, or in the
other direction of "more of it" than the one called.

Per person and variable this module gives: the lfsr, the more probable direction,
the most probable form × lag in it, the probability that the variable acts in that
form, and its log odds ratio's posterior given that it acts there (a mixture of
truncated normals, both directions kept), with an equal-tailed interval. How a call
is made and shown from these:
:func:`painlink.analysis.trigger_verdicts.single_effect_route`.

Measured, not assumed (docs/validation.md): on both simulators that route calls more
true triggers than the default (weighted) cohort route at fewer false calls, but on
the generators written to break painlink it also calls more proxies of a cause, so
it is a setting (``TriggerSettings.cohort_model``), not the default.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from painlink.analysis.effect_prior import GRID, NULL_PRIOR

_LOG_2PI = float(np.log(2 * np.pi))

#: one row per person × variable a cohort modelled
SCHEMA = {
    "patient_id": pl.String(),
    "variable": pl.String(),
    "form": pl.String(),
    "lag": pl.Int64(),
    "lfsr": pl.Float64(),
    "direction": pl.Int64(),
    "p_acts": pl.Float64(),
    "post_mean": pl.Float64(),
    "post_low": pl.Float64(),
    "post_high": pl.Float64(),
    "share_with_effect": pl.Float64(),
}


def fit_single_effect(
    tested: pl.DataFrame,
    *,
    min_people: int,
    level: float = 0.95,
    flips: tuple[str, ...] = ("low",),
    iterations: int = 3000,
) -> pl.DataFrame:
    """The single-effect model of every variable tested in at least ``min_people``
    people (``tested``: patient_id, variable, form, lag, log_or, se — one row per
    form × lag a person was tested in). ``flips``: forms whose positive log odds ratio
    means *less* of the variable (below the usual level)."""
    out = []
    keyed = tested.filter(pl.col("se").is_finite() & pl.col("log_or").is_finite()).with_columns(
        (pl.col("form") + "@" + pl.col("lag").cast(pl.String)).alias("_fl")
    )
    for (variable,), part in keyed.group_by(["variable"], maintain_order=True):
        people = part["patient_id"].n_unique()
        if people < min_people:
            continue
        wide_b = part.pivot(on="_fl", index="patient_id", values="log_or", sort_columns=True)
        forms = [c for c in wide_b.columns if c != "patient_id"]
        wide_s = part.pivot(on="_fl", index="patient_id", values="se").select(forms)
        b = wide_b.select(forms).to_numpy().astype(float)
        s = wide_s.to_numpy().astype(float)
        fit = _fit(b, s, iterations)
        more = np.array([-1 if f.split("@")[0] in flips else 1 for f in forms])
        shown = _shown(fit, more, level)
        form_lag = np.array(forms)[shown["form"]]
        out.append(
            pl.DataFrame(
                {
                    "patient_id": wide_b["patient_id"],
                    "variable": [str(variable)] * len(form_lag),
                    "form": [f.split("@")[0] for f in form_lag],
                    "lag": [int(f.split("@")[1]) for f in form_lag],
                    "lfsr": shown["lfsr"],
                    "direction": shown["direction"],
                    "p_acts": shown["p_acts"],
                    "post_mean": shown["mean"],
                    "post_low": shown["low"],
                    "post_high": shown["high"],
                    "share_with_effect": np.full(len(form_lag), 1.0 - fit["weights"][0]),
                },
                schema=SCHEMA,
            )
        )
    return pl.concat(out) if out else pl.DataFrame(schema=SCHEMA)


def svalues(lfsr: np.ndarray) -> np.ndarray:
    """Each lfsr's s-value (Stephens 2017): the mean lfsr of all calls at least as strong,
    the expected share of false signs among them were they all called."""
    lfsr = np.asarray(lfsr, float)
    order = np.argsort(lfsr, kind="stable")
    out = np.empty_like(lfsr)
    out[order] = np.cumsum(lfsr[order]) / np.arange(1, lfsr.size + 1)
    return out


def _fit(b: np.ndarray, s: np.ndarray, iterations: int) -> dict[str, np.ndarray]:
    """The mixture's weights by EM (the model's log likelihood is concave in them) and
    each person's posterior weights over its components.

    Components: index 0 "acts in no form", then per form f, width k and side (+, −).
    A form a person was not tested in cannot act for them (likelihood 0)."""
    n = b.shape[0]
    s2 = s[..., None] ** 2  # (n, f, 1)
    w2 = GRID**2  # (K,)
    var = 1.0 / (1.0 / s2 + 1.0 / w2)
    m = var * b[..., None] / s2  # untruncated posterior mean per component (n, f, K)
    sd = np.sqrt(var)
    total = s2 + w2
    log_normal = -0.5 * (np.log(total) + b[..., None] ** 2 / total)
    log_null = -0.5 * (np.log(s2) + b[..., None] ** 2 / s2)
    with np.errstate(invalid="ignore"):
        up = np.log(2.0) + log_normal + special.log_ndtr(m / sd) - log_null
        down = np.log(2.0) + log_normal + special.log_ndtr(-m / sd) - log_null
    log_bf = np.stack([up, down], -1)  # (n, f, K, 2)
    log_bf = np.where(np.isfinite(log_bf), log_bf, -np.inf).reshape(n, -1)
    full = np.column_stack([np.zeros(n), log_bf])
    lik = np.exp(full - full.max(1, keepdims=True))
    k = full.shape[1]
    pi = np.full(k, 0.5 / (k - 1))
    pi[0] = 0.5
    penalty = np.zeros(k)
    penalty[0] = NULL_PRIOR - 1.0  # as adaptive shrinkage: lean to "nothing acts"
    pi = _maximise(lik, pi, penalty, iterations)
    resp = lik * pi
    resp /= resp.sum(1, keepdims=True)
    return {"weights": pi, "resp": resp, "m": m, "sd": sd}


def _maximise(
    lik: np.ndarray, pi: np.ndarray, penalty: np.ndarray, iterations: int, tol: float = 1e-12
) -> np.ndarray:
    """The penalised maximum-likelihood mixture weights: EM steps accelerated by SQUAREM
    (Varadhan & Roland 2008, Scand J Stat 35:335), which falls back on the plain EM
    step whenever the extrapolation would lower the objective. Plain EM crawls along the
    flat directions of a mixture over many forms × widths (a step of 1e-9 still
    thousands short of the optimum). Stops when a cycle raises the log likelihood by
    less than ``tol`` (at 1e-10 an lfsr could still be 1e-4 from the optimum's)."""
    lik_t = np.ascontiguousarray(lik.T)

    def step(w: np.ndarray) -> np.ndarray:
        new = w * (lik_t @ (1.0 / np.maximum(lik @ w, 1e-300))) + penalty
        out: np.ndarray = new / new.sum()
        return out

    def objective(w: np.ndarray) -> float:
        held = penalty > 0  # 0·log 0 is 0: only the penalised weights enter
        return float(
            np.log(np.maximum(lik @ w, 1e-300)).sum()
            + penalty[held] @ np.log(np.maximum(w[held], 1e-300))
        )

    best = objective(pi)
    for _ in range(iterations):
        one = step(pi)
        two = step(one)
        r, v = one - pi, two - 2 * one + pi
        if np.abs(two - one).max() < 1e-13 or not np.any(v):
            pi = two
            break
        alpha = -np.sqrt((r @ r) / (v @ v))
        jump = np.maximum(pi - 2 * alpha * r + alpha**2 * v, 0.0)
        jump = step(jump / jump.sum()) if jump.sum() > 0 else two
        value, plain = objective(jump), objective(two)
        last = best
        if value >= plain and value >= best:
            pi, best = jump, value
        else:
            pi, best = two, plain
        if best - last < tol:  # the likelihood has stopped rising
            break
    return pi


def _shown(fit: dict[str, np.ndarray], more: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """Per person: the lfsr, the called direction of "more", the most probable form in
    it, and that form's posterior given it acts (mean and equal-tailed interval)."""
    resp, m, sd = fit["resp"], fit["m"], fit["sd"]
    n, f, k = m.shape
    parts = resp[:, 1:].reshape(n, f, k, 2)
    by_side = parts.sum(2)  # (n, f, 2): β > 0, β < 0
    raises = np.where(more > 0, by_side[..., 0], by_side[..., 1])  # more of it → more attacks
    lowers = np.where(more > 0, by_side[..., 1], by_side[..., 0])
    up, down = raises.sum(1), lowers.sum(1)
    direction = np.where(up >= down, 1, -1)
    lfsr = np.clip(resp[:, 0] + np.minimum(up, down), 0.0, 1.0)
    form = np.where(direction[:, None] > 0, raises, lowers).argmax(1)
    rows = np.arange(n)
    w = parts[rows, form]  # (n, K, 2)
    p_acts = w.sum((1, 2))
    w = w / np.maximum(p_acts, 1e-300)[:, None, None]
    mm, ss = m[rows, form], sd[rows, form]  # (n, K)
    a = mm / ss
    log_phi = -0.5 * (a**2 + _LOG_2PI)
    mean_up = mm + ss * np.exp(log_phi - special.log_ndtr(a))
    mean_down = mm - ss * np.exp(log_phi - special.log_ndtr(-a))
    mean = (w[..., 0] * mean_up + w[..., 1] * mean_down).sum(1)
    tail = (1.0 - level) / 2
    low = _quantile(tail, w, mm, ss)
    high = _quantile(1.0 - tail, w, mm, ss)
    return {
        "lfsr": lfsr,
        "direction": direction,
        "form": form,
        "p_acts": p_acts,
        "mean": mean,
        "low": low,
        "high": high,
    }


def _cdf(x: np.ndarray, w: np.ndarray, m: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The CDF at x (one per row) of a mixture of normals N(m, sd²) truncated to β > 0
    (weights w[..., 0]) and to β < 0 (w[..., 1])."""
    xs = x[:, None]
    below_zero = special.ndtr(-m / sd)  # each normal's mass below 0
    above_zero = special.ndtr(m / sd)
    at_x = special.ndtr((xs - m) / sd)
    pos = np.where(xs > 0, (at_x - below_zero) / np.maximum(above_zero, 1e-300), 0.0)
    neg = np.where(xs < 0, at_x / np.maximum(below_zero, 1e-300), 1.0)
    out: np.ndarray = (w[..., 0] * np.clip(pos, 0, 1)).sum(1) + (
        w[..., 1] * np.clip(neg, 0, 1)
    ).sum(1)
    return out


def _quantile(q: float, w: np.ndarray, m: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vectorised bisection on :func:`_cdf` (continuous: no point mass here)."""
    lo = np.minimum((m - 10 * sd).min(1), 0.0) - 1e-9
    hi = np.maximum((m + 10 * sd).max(1), 0.0) + 1e-9
    for _ in range(50):
        mid = (lo + hi) / 2
        below = _cdf(mid, w, m, sd) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    out: np.ndarray = (lo + hi) / 2
    return out
