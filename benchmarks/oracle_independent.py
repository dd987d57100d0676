"""The oracle for the independent simulator: what a per-person analysis can find when
it knows exactly how each variable acts.

For every person and every variable they record, a logistic regression of attack
onset on the days at risk (days not inside an attack; an onset day is at risk) with
the variable's TRUE exposure (its form, parameters and lag from the truth frame),
the person's other recorded true causes, a weekend indicator and log(1 + days since
the last onset). A variable without a role is tested per person-SD at lag 1 (yes/no
variables: present at lag 1; the menstrual window −2…+3 days; the pill-free week at
lag 0). An early attack sign is tested per SD at lag 1 and a symptom per SD at lag 0,
and named by its role ("possible early attack sign", "symptom of the attack"): the
oracle knows the kind, so it never mistakes one for a trigger.

Multiplicity: Benjamini–Hochberg at q = 0.10 across the person's variables. A call
is made when the variable passes BH *and* its Wald 95% interval excludes 1, so every
displayed call has an interval that excludes 1. The fit is its own Newton–Raphson in
NumPy (checked against statsmodels in tests/test_simulate_independent.py); it uses
nothing of painlink's analyses.

    python benchmarks/oracle_independent.py --patients 300 --days 365 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from painlink.diary.frames import DiaryFrames
from painlink.simulate.independent.forms import exposure
from painlink.simulate.independent.variables import FLOW_WORDS, NUMERIC, OWN_FACTORS

Q = 0.10
Z95 = 1.959963984540054
BINARY_VARIABLES = ("allergy_symptoms", "red_wine", "yawning")
NECK_BACK = ("neck_pain", "low_back_pain")
CALLS_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "variable": pl.String(),
    "verdict": pl.String(),
    "odds_ratio": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "form": pl.String(),
    "lag": pl.String(),
    "p_value": pl.Float64(),
}


@dataclass
class Fit:
    coef: float
    se: float

    @property
    def p_value(self) -> float:
        from scipy.stats import norm

        return float(2 * norm.sf(abs(self.coef / self.se)))


def logistic_fit(x: np.ndarray, y: np.ndarray, max_iter: int = 50) -> np.ndarray | None:
    """Maximum-likelihood logistic coefficients and their covariance (Newton–Raphson);
    None when the fit does not converge (separation: no finite estimate)."""
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        hess = (x * (p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, x.T @ (y - p))
        except np.linalg.LinAlgError:
            return None
        beta += step
        if np.max(np.abs(beta)) > 20:
            return None
        if np.max(np.abs(step)) < 1e-10:
            eta = x @ beta
            p = 1 / (1 + np.exp(-eta))
            hess = (x * (p * (1 - p))[:, None]).T @ x
            try:
                cov = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                return None
            return np.vstack([beta, cov])
    return None


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values)."""
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def person_arrays(
    diary: DiaryFrames, pid: str, first: dt.date, days: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Recorded values (NaN where not recorded), onset and inside-an-attack flags, on the
    calendar ``first`` .. ``first + days - 1``."""

    def index(dates: pl.Series) -> np.ndarray:
        return np.array([(d - first).days for d in dates.to_list()], dtype=int)

    rows = diary.days.filter(pl.col("patient_id") == pid)
    at = index(rows["date"])
    ok = (at >= 0) & (at < days)
    values: dict[str, np.ndarray] = {}
    for name in NUMERIC:
        col = rows[name]
        if name == "allergy_symptoms":
            col = col.cast(pl.Float64)
        arr = np.full(days, np.nan)
        arr[at[ok]] = col.cast(pl.Float64).fill_null(np.nan).to_numpy()[ok]
        values[name] = arr
    flow = rows["menstruation"].replace_strict(
        {w: float(i) for i, w in enumerate(FLOW_WORDS)} | {"unspecified": 2.0},
        default=None,
        return_dtype=pl.Float64,
    )
    values["menstruation"] = np.full(days, np.nan)
    values["menstruation"][at[ok]] = flow.fill_null(np.nan).to_numpy()[ok]
    pill = rows["contraceptive_phase"].replace_strict(
        {"pill_free": 1.0, "active": 0.0}, default=None, return_dtype=pl.Float64
    )
    values["contraceptive_phase"] = np.full(days, np.nan)
    values["contraceptive_phase"][at[ok]] = pill.fill_null(np.nan).to_numpy()[ok]
    own = diary.factor_values.filter(pl.col("patient_id") == pid)
    for name in OWN_FACTORS:
        part = own.filter(pl.col("name") == name)
        arr = np.full(days, np.nan)
        where = index(part["date"])
        keep = (where >= 0) & (where < days)
        arr[where[keep]] = part["value"].to_numpy()[keep]
        values[name] = arr

    onset = np.zeros(days, dtype=bool)
    inside = np.zeros(days, dtype=bool)
    attacks = diary.attacks.filter(pl.col("patient_id") == pid)
    for start, end in zip(attacks["start"].to_list(), attacks["end"].to_list(), strict=True):
        s = (start.date() - first).days
        e = days - 1 if end is None else (end.date() - first).days
        if 0 <= s < days:
            onset[s] = True
        inside[max(s + 1, 0) : min(e, days - 1) + 1] = True
    return values, onset, inside & ~onset


def _test_exposure(row: dict, x: np.ndarray) -> tuple[np.ndarray, str, str]:
    """The exposure the oracle tests for one truth row, with its form and lag."""
    var, role = row["variable"], row["role"]
    if role in ("trigger", "protector", "cause"):
        return _true_exposure(row, x), row["form"], row["lag"]
    if role == "symptom":
        return _per_sd(x, "0"), "per_sd", "0"
    if var == "menstruation":
        return exposure(x[None, :], "window", "0", window=(-2, 3))[0], "window", "0"
    if var == "contraceptive_phase":
        return exposure(x[None, :], "pill_free", "0")[0], "pill_free", "0"
    if var in BINARY_VARIABLES:
        return exposure(x[None, :], "present", "1")[0], "present", "1"
    return _per_sd(x, "1"), "per_sd", "1"


def _per_sd(x: np.ndarray, lag: str) -> np.ndarray:
    sd = np.nanstd(x)
    return exposure(x[None, :], "per_sd", lag, center=np.nanmean(x), scale=sd if sd > 0 else 1.0)[0]


def _true_exposure(row: dict, x: np.ndarray) -> np.ndarray:
    def num(v: object, default: float) -> float:
        return default if v is None else float(v)  # type: ignore[arg-type]

    return exposure(
        x[None, :],
        row["form"],
        row["lag"],
        threshold=num(row["threshold"], np.nan),
        center=num(row["center"], 0.0),
        scale=num(row["scale"], 1.0),
        baseline_days=int(row["baseline_days"] or 5),
        window=(int(row["window_from"] or 0), int(row["window_to"] or 0)),
    )[0]


def _verdict(role: str, variable: str, odds_ratio: float) -> str:
    if role == "premonitory":
        return "possible early attack sign"
    if role == "symptom":
        return "symptom of the attack"
    if variable in NECK_BACK and odds_ratio > 1:
        return "candidate cause"
    return "likely trigger" if odds_ratio > 1 else "likely protector"


def oracle_person(
    diary: DiaryFrames, truth: pl.DataFrame, pid: str, first: dt.date, days: int, q: float = Q
) -> list[dict]:
    mine = truth.filter((pl.col("patient_id") == pid) & pl.col("recorded")).to_dicts()
    values, onset, inside = person_arrays(diary, pid, first, days)
    t = np.arange(days)
    weekday = (first.weekday() + t) % 7
    last = np.full(days, np.nan)
    seen = -7  # before the first onset: as if one week before the diary began
    for k in range(days):
        last[k] = k - seen
        if onset[k]:
            seen = k
    base = np.column_stack([np.ones(days), (weekday >= 5).astype(float), np.log1p(last)])
    causes = {
        r["variable"]: _true_exposure(r, values[r["variable"]])
        for r in mine
        if r["role"] in ("trigger", "protector", "cause")
    }
    results = []
    for row in mine:
        var = row["variable"]
        tested, form, lag = _test_exposure(row, values[var])
        others = [v for k, v in causes.items() if k != var]
        x = np.column_stack([base, tested, *others])
        use = ~inside & ~np.isnan(x).any(axis=1)
        y = onset[use].astype(float)
        fit = None
        if y.sum() >= 3 and np.std(x[use, 3]) > 0:
            fit = logistic_fit(x[use], y)
        out = {"patient_id": pid, "variable": var, "form": form, "lag": lag, "role": row["role"]}
        if fit is None:
            results.append(
                out | {"verdict": "not estimable", "p_value": np.nan, "coef": np.nan, "se": np.nan}
            )
            continue
        coef, se = float(fit[0][3]), float(np.sqrt(fit[1 + 3][3]))
        results.append(out | {"coef": coef, "se": se, "p_value": Fit(coef, se).p_value})
    ps = np.array([r["p_value"] for r in results if not np.isnan(r["p_value"])])
    qs = iter(bh_adjust(ps))
    for r in results:
        if r.get("verdict") == "not estimable":
            r.update(odds_ratio=None, ci_low=None, ci_high=None)
            continue
        qv = next(qs)
        low, high = np.exp(r["coef"] - Z95 * r["se"]), np.exp(r["coef"] + Z95 * r["se"])
        called = qv <= q and (low > 1 or high < 1)
        odds = float(np.exp(r["coef"]))
        r.update(
            odds_ratio=odds,
            ci_low=float(low),
            ci_high=float(high),
            verdict=_verdict(r["role"], r["variable"], odds) if called else "no association",
        )
    return results


def oracle_calls(
    diary: DiaryFrames, truth: pl.DataFrame, start: dt.date, days: int, q: float = Q
) -> pl.DataFrame:
    """Every person's oracle results as a calls frame (the scorer's contract)."""
    rows = []
    for pid in diary.patient_ids():
        rows.extend(oracle_person(diary, truth, pid, start, days, q))
    if not rows:
        return pl.DataFrame(schema=CALLS_SCHEMA)
    return pl.DataFrame(rows).select(list(CALLS_SCHEMA)).cast(CALLS_SCHEMA)  # type: ignore[arg-type]


def main() -> None:
    from score_calls import markdown, score

    from painlink.simulate.independent import simulate_independent

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = dt.date(2025, 1, 1)
    diary, truth = simulate_independent(args.patients, args.days, args.seed, start)
    calls = oracle_calls(diary, truth, start, args.days)
    print(markdown({"oracle": score(calls, truth)}))


if __name__ == "__main__":
    main()
