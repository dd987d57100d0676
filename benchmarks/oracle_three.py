"""A per-person reference for generator_three's cohorts: what a logistic regression
that knows each true exposure definition finds, so painlink's rates have a yardstick
measured on the same diaries.

For every person × variable one test: a true effect is tested in its true dose (the
sleep debt, the U, alcohol after a short night, stress per SD at lag 0 …, on the latent
values, on the days the person checked in); every other variable (null or premonitory)
in the plainest form, its recorded value per SD at lag 0. Logistic regression of the
day's attack on an intercept and the dose, Wald test; Benjamini–Hochberg at q = 0.10
over the person's variables. The oracle shares painlink's blind spots on purpose for
the null variables (it does not model the season, the bursts or the reverse causation):
its false-call rate says how hard a story is for an analysis that ignores it, not what
an ideal analysis could reach.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from generator_three import VARIABLES, Cohort

Q = 0.10


def _logistic_z(y: np.ndarray, x: np.ndarray, ok: np.ndarray, steps: int = 30) -> np.ndarray:
    """Wald z of the slope of y ~ 1 + x, fitted per row (person) on the days in ``ok``;
    NaN where the fit has no information (no attack, no variation, separation)."""
    n = y.shape[0]
    w_ok = ok.astype(float)
    x = np.where(ok, x, 0.0)
    beta = np.zeros((n, 2))
    share = np.clip((y * w_ok).sum(1) / np.maximum(w_ok.sum(1), 1), 1e-3, 1 - 1e-3)
    beta[:, 0] = np.log(share / (1 - share))
    cov = np.full((n, 2, 2), np.nan)
    for _ in range(steps):
        eta = beta[:, :1] + beta[:, 1:] * x
        p = 1 / (1 + np.exp(-np.clip(eta, -30, 30)))
        w = p * (1 - p) * w_ok
        r = (y - p) * w_ok
        g = np.stack([r.sum(1), (r * x).sum(1)], 1)
        h = np.empty((n, 2, 2))
        h[:, 0, 0] = w.sum(1)
        h[:, 0, 1] = h[:, 1, 0] = (w * x).sum(1)
        h[:, 1, 1] = (w * x * x).sum(1)
        det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] ** 2
        good = det > 1e-9
        inv = np.full_like(h, np.nan)
        inv[good, 0, 0] = h[good, 1, 1] / det[good]
        inv[good, 1, 1] = h[good, 0, 0] / det[good]
        inv[good, 0, 1] = inv[good, 1, 0] = -h[good, 0, 1] / det[good]
        step = np.einsum("nij,nj->ni", np.nan_to_num(inv), g)
        beta = beta + np.clip(step, -5, 5)
        cov = inv
    z = beta[:, 1] / np.sqrt(cov[:, 1, 1])
    z[~np.isfinite(z) | (np.abs(beta[:, 1]) > 10)] = np.nan
    return z


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan, dtype=float)
    out[:, k:] = x[:, : x.shape[1] - k]
    return out


def oracle(cohort: Cohort) -> pl.DataFrame:
    """One row per person × variable: the oracle's z, p and call (BH q = 0.10 per person)."""
    lat = cohort.latent
    y = lat["attack"].astype(float)
    present = lat["present"]
    truth = cohort.truth
    n = y.shape[0]
    sleep, stress = lat["sleep_true"], lat["stress_true"]
    debt = sum(np.maximum(0, 7.0 - np.nan_to_num(_lag(sleep, k), nan=7.0)) for k in range(3))
    drank = np.nan_to_num(_lag(lat["drinks"].astype(float), 1))
    k = int(lat["effect_lag"])
    sleep, stress = np.nan_to_num(_lag(sleep, k), nan=7.0), np.nan_to_num(_lag(stress, k), nan=5)
    debt = np.nan_to_num(_lag(debt, k))
    u = np.maximum(0, 6.0 - sleep) + np.maximum(0, sleep - 8.8)
    doses = {
        ("stress", "per_sd"): stress,
        ("sleep_hours", "per_sd"): sleep,
        ("sleep_hours", "u_shape"): u,
        ("sleep_hours", "debt3"): debt,
        ("alcohol_units", "present"): drank,
        ("alcohol_units", "after_short_sleep"): drank * (lat["sleep_true"] < 6.3),
        ("sleep_hours", "short_after_alcohol"): drank * (lat["sleep_true"] < 6.3),
    }
    zs = np.full((n, len(VARIABLES)), np.nan)
    plain = {}
    for j, var in enumerate(VARIABLES):
        x = lat[f"value:{var}"]
        plain[var] = _logistic_z(y, x, present & np.isfinite(x))
        zs[:, j] = plain[var]
    ids = cohort.patients["patient_id"].to_list()
    index = {p: i for i, p in enumerate(ids)}
    effects = truth.filter(pl.col("role").is_in(["trigger", "protector"]))
    for (var, form), dose in doses.items():
        rows = effects.filter((pl.col("variable") == var) & (pl.col("form") == form))
        if rows.height == 0:
            continue
        z = _logistic_z(y, dose, present)
        for p in rows["patient_id"].to_list():
            zs[index[p], VARIABLES.index(var)] = z[index[p]]
    pvals = np.array([[math.erfc(abs(z) / math.sqrt(2)) if np.isfinite(z) else 1.0 for z in r]
                      for r in zs])  # fmt: skip
    called = np.zeros_like(pvals, dtype=bool)
    m = pvals.shape[1]
    for i in range(n):
        order = np.argsort(pvals[i])
        below = pvals[i, order] <= Q * np.arange(1, m + 1) / m
        if below.any():
            called[i, order[: np.flatnonzero(below).max() + 1]] = True
    return pl.DataFrame(
        {
            "patient_id": np.repeat(ids, m),
            "variable": list(VARIABLES) * n,
            "z": zs.ravel(),
            "called": called.ravel(),
        }
    ).join(
        truth.select("patient_id", "variable", "recorded", "role"), on=["patient_id", "variable"]
    )


def rates(frame: pl.DataFrame) -> dict:
    """The oracle's false calls on null pairs and sensitivity, as attack_painlink names them."""
    rec = frame.filter(pl.col("recorded"))
    null = rec.filter(pl.col("role") == "none")
    eff = rec.filter(pl.col("role").is_in(["trigger", "protector"]))
    nb = null.filter(pl.col("variable").is_in(["neck_pain", "low_back_pain"]))
    prem = rec.filter(pl.col("role") == "premonitory")

    def share(f: pl.DataFrame) -> float:
        return float(f["called"].cast(pl.Float64).mean()) if f.height else math.nan  # type: ignore[arg-type]

    by_var = null.group_by("variable").agg(pl.col("called").mean()).sort("variable")
    return {
        "false calls on null pairs": share(null),
        "false calls, neck/back null pairs": share(nb),
        "sensitivity (right direction)": share(eff),
        "sensitivity (any positive call)": share(eff),
        "premonitory called likely trigger": share(prem),
        "false calls by variable": dict(zip(by_var["variable"], by_var["called"], strict=True)),
    }
