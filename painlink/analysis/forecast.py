"""Tomorrow's attack risk, validated forward in time, shown only when it earns its place.

A morning forecast for day t uses what is known then: the exposures recorded up to
the day before, last night's sleep, the weekday, days since the last attack, the
recent attack rate, yesterday's headache and neck pain, and where the person is in
their cycle, predicted from past period starts only (the trigger analysis's
menstrual window looks two days ahead, which a forecast cannot). Each person gets a
penalised logistic model fitted with **rolling-origin validation**: train on
everything before an origin, predict the next 28 days, move the origin on 28 days.
Days already inside an attack are not forecast targets (counting them inflates AUC).

With a cohort (``COHORT_MIN_PATIENTS`` or more people in the table) the prior of each
person's coefficients is centred on a pooled model of everyone's days *before the
origin date*, rather than on zero: people share how sleep, stress or a period act, and
a person's own few attacks then adjust that instead of starting from nothing. On
painlink's own simulator this closed most of the gap to the true risk; on the
independent simulator the forecast stays 0.10 below it (docs/validation.md).

Reported per person: within-person AUC, Brier score, Brier skill against the
personal base rate (the training-period attack rate as a constant forecast) and a
calibration table. ``show_to_patient`` is true only when the forecast beats the base
rate (positive Brier skill) and its AUC's 95% interval lies above 0.5. Published
anchors under honest validation: AUC 0.56–0.65 (Houle 2017, Holsteen 2020).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.logistic import fit_logit
from painlink.analysis.plotting import figure, finish, for_patient, nothing_yet
from painlink.analysis.results import Results, json_rows, one_patient, patients_of, per_patient_text
from painlink.days.exposures import EXPOSURES, derive_exposures, log_days_since_last_onset

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIRST_ORIGIN_DAYS = 90
STEP_DAYS = 28
PRIOR_SD = 1.0  # around zero, for a person analysed alone
#: around the cohort's coefficients (best of 0.2–1.0 on painlink's own simulator)
COHORT_PRIOR_SD = 0.5
COHORT_MIN_PATIENTS = 20
POOLED_PRIOR_SD = 10.0  # the pooled model has thousands of days: a light penalty
POOLED_MAX_PATIENTS = 500


#: the columns of ``ForecastResults.per_patient`` and ``.predictions``
PER_PATIENT: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "days_forecast": pl.Int64(),
    "attacks": pl.Int64(),
    "auc": pl.Float64(),
    "auc_ci_low": pl.Float64(),
    "auc_ci_high": pl.Float64(),
    "brier": pl.Float64(),
    "brier_base_rate": pl.Float64(),
    "brier_skill": pl.Float64(),
    "show_to_patient": pl.Boolean(),
    "tomorrow_risk": pl.Float64(),
}
PREDICTIONS: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "date": pl.Date(),
    "risk": pl.Float64(),
    "onset": pl.Float64(),
}


def _features(days: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    d = derive_exposures(days.sort("patient_id", "date"))
    by = "patient_id"
    known = [n for n in EXPOSURES if n != "menstrual_window"]  # its window looks ahead
    prev = [
        pl.col(f"x_{n}").cast(pl.Float64).shift(1).over(by).fill_null(0.0).alias(f"prev_{n}")
        for n in known
    ]
    bleeding = pl.col("menstruation").is_not_null() & (pl.col("menstruation") != "none")
    menses_start = bleeding & ~bleeding.shift(1).over(by).fill_null(False)
    last_menses = (
        pl.when(menses_start).then(pl.col("date")).otherwise(None).shift(1).forward_fill().over(by)
    )
    cycle_day = (pl.col("date") - last_menses).dt.total_days()
    # the person's mean cycle so far, from period starts before today only
    cycle_length = pl.when(menses_start).then((pl.col("date") - last_menses).dt.total_days())
    mean_cycle = (
        (cycle_length.cum_sum().over(by) / cycle_length.cum_count().over(by))
        .shift(1)
        .forward_fill()
        .over(by)
        .fill_null(28.0)
    )
    d = d.with_columns(
        *prev,
        (pl.col("date").dt.weekday() >= 6).cast(pl.Float64).alias("weekend"),
        log_days_since_last_onset().alias("log_days_since"),
        (
            pl.col("onset")
            .cast(pl.Float64)
            .shift(1)
            .rolling_sum(28, min_samples=1)
            .over(by)
            .fill_null(0.0)
            / 28
        ).alias("recent_rate"),
        pl.col("attack_day")
        .cast(pl.Float64)
        .shift(1)
        .over(by)
        .fill_null(0.0)
        .alias("yesterday_attack"),
        (pl.col("neck_pain_max").shift(1).over(by).fill_null(0.0) / 10).alias("yesterday_neck"),
        ((pl.col("sleep_hours").fill_null(7.0) - 7.0) / 2).alias("sleep_last_night"),
        # today within 2 days before to 3 days after a period start, as far as the
        # past can tell: a period began 1–3 days ago, or one is due within 2 days
        (((cycle_day >= 1) & (cycle_day <= 3)) | (cycle_day >= mean_cycle - 2))
        .fill_null(False)
        .cast(pl.Float64)
        .alias("period_window"),
    )
    names = [f"prev_{n}" for n in known] + [
        "weekend",
        "log_days_since",
        "recent_rate",
        "yesterday_attack",
        "yesterday_neck",
        "sleep_last_night",
        "period_window",
    ]
    return d, names


def within_person_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann–Whitney AUC (ties count half); NaN without both outcomes."""
    pos, neg = y == 1, y == 0
    if pos.sum() == 0 or neg.sum() == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * neg.sum()))


def _auc_ci(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """Hanley & McNeil (1982) standard error of an AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt(
        (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2))
        / max(n_pos * n_neg, 1)
    )
    return auc - 1.96 * se, auc + 1.96 * se


@dataclass
class ForecastResults(Results):
    per_patient: pl.DataFrame
    predictions: pl.DataFrame

    def calibration(self, bins: int = 10, patient_id: str | None = None) -> pl.DataFrame:
        """Mean forecast against observed attack share, by forecast decile (pooled, or
        one person's)."""
        p = for_patient(self.predictions, patient_id).with_columns(
            (pl.col("risk").rank("ordinal") * bins // (pl.len() + 1)).alias("bin")
        )
        return (
            p.group_by("bin")
            .agg(
                pl.col("risk").mean().alias("forecast"),
                pl.col("onset").mean().alias("observed"),
                pl.len(),
            )
            .sort("bin")
        )

    def tomorrow(self, patient_id: str) -> dict[str, object]:
        row = self.per_patient.filter(pl.col("patient_id") == patient_id).row(0, named=True)
        return row

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """Per person: days forecast, AUC with its interval, Brier skill, shown or not."""
        return for_patient(self.per_patient, patient_id)

    def summary(self, patient_id: str | None = None) -> str:
        """Per person: tomorrow's risk, or why it is not shown."""
        return per_patient_text(patients_of(self.per_patient), patient_id, self.lines)

    def lines(self, patient_id: str) -> list[str]:
        """One person's forecast in the analysis report's wording (none without a row)."""
        f = self.per_patient.filter(pl.col("patient_id") == patient_id)
        if not f.height:
            return []
        r = f.row(0, named=True)
        if r["show_to_patient"]:
            return [
                f"Tomorrow's attack risk: {r['tomorrow_risk']:.0%} "
                f"(forecast AUC {r['auc']:.2f}, better than your usual rate)"
            ]
        return ["Forecast: not shown — it does not yet predict better than your usual attack rate."]

    def to_dict(self) -> dict[str, Any]:
        """The per-person validation (the day-by-day predictions stay in ``predictions``)."""
        return {"rows": json_rows(self.per_patient)}

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """The forecast over time with the attacks that began, and its calibration."""
        patient_id = one_patient(self.per_patient, patient_id)
        p = for_patient(self.predictions, patient_id)
        fig, axes = figure(6, height_per_row=0.5, width=8, panels=2)
        top, bottom = axes[0, 0], axes[1, 0]
        title = f"{patient_id}: forecast of an attack starting that day"
        if not p.height:
            top.set_title(title)
            nothing_yet(
                top,
                f"Not enough data yet: a forecast is tested after {FIRST_ORIGIN_DAYS} "
                "days of diary with attacks in them",
            )
            bottom.set_visible(False)
            return finish(fig, path)
        p = p.sort("date")
        top.plot(*gapped(p["date"].to_list(), p["risk"].to_list()), lw=1, color="#2471a3")
        onsets = p.filter(pl.col("onset") == 1)["date"].to_list()
        top.plot(onsets, [0.0] * len(onsets), "|", color="#c0392b", ms=12, label="attack began")
        top.set_ylabel("forecast risk")
        top.set_title(title)
        top.legend(loc="upper right", fontsize=8)
        cal = self.calibration(min(5, max(p.height // 40, 2)), patient_id)
        bottom.plot([0, 1], [0, 1], ls="--", color="black", lw=1)
        bottom.plot(cal["forecast"].to_list(), cal["observed"].to_list(), "o-", color="#2471a3")
        highest = cal.select(pl.col("forecast").max(), pl.col("observed").max()).row(0)
        top_risk = max(float(highest[0] or 0), float(highest[1] or 0)) * 1.2
        bottom.set_xlim(0, max(top_risk, 0.05))
        bottom.set_ylim(0, max(top_risk, 0.05))
        bottom.set_xlabel("forecast (mean of each fifth of days)")
        bottom.set_ylabel("share that had an attack")
        return finish(fig, path)


def gapped(dates: list[dt.date], values: list[float | None]) -> tuple[list[dt.date], list[float]]:
    """A daily series with a NaN on each day missing between two recorded ones, so a
    line breaks where the diary has no day instead of bridging it (or reading it as 0)."""
    xs: list[dt.date] = []
    ys: list[float] = []
    for i, (day, value) in enumerate(zip(dates, values, strict=True)):
        if i and (day - dates[i - 1]).days > 1:
            xs.append(dates[i - 1] + dt.timedelta(days=1))
            ys.append(float("nan"))
        xs.append(day)
        ys.append(float("nan") if value is None else float(value))
    return xs, ys


def _design(part: pl.DataFrame, names: list[str]) -> np.ndarray:
    return np.column_stack(
        [np.ones(part.height), *[part[c].to_numpy().astype(float) for c in names]]
    )


def _cohort_priors(frame: pl.DataFrame, names: list[str]) -> dict[dt.date, np.ndarray]:
    """Pooled coefficients from everyone's days before each grid date (every 28 days).

    At most ``POOLED_MAX_PATIENTS`` people (the first by id) enter the pooled fit, so
    memory stays bounded on large cohorts; the coefficients are settled long before.
    """
    ids = frame["patient_id"].unique().sort()
    if ids.len() < COHORT_MIN_PATIENTS:
        return {}
    pool = frame.filter(pl.col("patient_id").is_in(ids.head(POOLED_MAX_PATIENTS).implode()))
    X = _design(pool, names)
    y = pool["onset"].cast(pl.Float64).to_numpy()
    target = ~pool["ongoing"].to_numpy()
    dates = pool["date"].to_numpy()
    ordered = np.sort(dates)
    first: dt.date = pool.select(pl.col("date").min()).item()
    last: dt.date = pool.select(pl.col("date").max()).item()
    priors: dict[dt.date, np.ndarray] = {}
    grid = first + dt.timedelta(days=FIRST_ORIGIN_DAYS)
    fitted_on, coef = -1, None
    while grid <= last:
        # refit only when days were added since the last fit: people recorded in
        # different decades leave long stretches with nothing new, and refitting the same
        # days there would make the cost grow with the calendar, not with the data
        seen = int(np.searchsorted(ordered, np.datetime64(grid)))
        if seen != fitted_on:
            train = target & (dates < np.datetime64(grid))
            coef = (
                fit_logit(X, y, train, prior_sd=POOLED_PRIOR_SD).coef[0]
                if y[train].sum() >= 30
                else None
            )
            fitted_on = seen
        if coef is not None:
            priors[grid] = coef
        grid += dt.timedelta(days=STEP_DAYS)
    return priors


def _prior_for(priors: dict[dt.date, np.ndarray], origin: dt.date) -> np.ndarray | None:
    """The latest pooled fit from before the origin: the forecast never sees the future.
    (Grid dates are inserted in order, so a bisection finds it.)"""
    grid = list(priors)
    k = bisect.bisect_right(grid, origin)
    return priors[grid[k - 1]] if k else None


def forecast(days: pl.DataFrame, true_risk: pl.DataFrame | None = None) -> ForecastResults:
    """Rolling-origin forecasts for every patient in a day table.

    ``true_risk`` (patient_id, date, true_risk), known only for simulated diaries, adds
    the oracle's AUC on the same days for comparison.
    """
    # one more day per person, with nothing recorded yet: tomorrow, forecast from today
    tomorrow = (
        days.group_by("patient_id")
        .agg((pl.col("date").max() + pl.duration(days=1)).alias("date"))
        .with_columns(
            pl.lit(False).alias("onset"),
            pl.lit(False).alias("ongoing"),
            pl.lit(False).alias("attack_day"),
            pl.lit(True).alias("is_tomorrow"),
        )
    )
    extended = pl.concat([days, tomorrow], how="diagonal_relaxed").with_columns(
        pl.col("is_tomorrow").fill_null(False)
    )
    frame, names = _features(extended)
    if true_risk is not None:
        frame = frame.join(true_risk, on=["patient_id", "date"], how="left")
    priors = _cohort_priors(frame.filter(~pl.col("is_tomorrow")), names)
    rows, preds = [], []
    for (pid,), whole in frame.group_by(["patient_id"], maintain_order=True):
        next_day = _design(whole.tail(1), names)[0]
        part = whole.head(whole.height - 1)  # the recorded days
        n = part.height
        X = _design(part, names)
        y = part["onset"].cast(pl.Float64).to_numpy()
        target = ~part["ongoing"].to_numpy()
        dates = whole["date"].to_list()
        risk = np.full(n, np.nan)
        base = np.full(n, np.nan)
        tomorrow_risk = None
        origins = list(range(FIRST_ORIGIN_DAYS, n, STEP_DAYS))
        if n >= FIRST_ORIGIN_DAYS:
            origins.append(n)  # every recorded day in: tomorrow's forecast
        # every origin's model in one batch: each is fitted on its own rows with its own
        # prior, and ends where it would end alone (painlink.analysis.logistic)
        trains, sds, centres = [], [], []
        for origin in origins:
            train = target.copy()
            train[origin:] = False
            if y[train].sum() < 3:
                continue
            centre = _prior_for(priors, dates[origin])
            trains.append((origin, train))
            sds.append(PRIOR_SD if centre is None else COHORT_PRIOR_SD)
            centres.append(np.zeros(X.shape[1]) if centre is None else centre)
        coefs = (
            fit_logit(
                np.broadcast_to(X, (len(trains), *X.shape)),
                y,
                np.array([t for _, t in trains]),
                prior_sd=np.array(sds),
                prior_mean=np.array(centres),
            ).coef
            if trains
            else np.empty((0, X.shape[1]))
        )
        for (origin, train), coef in zip(trains, coefs, strict=True):
            if origin == n:
                tomorrow_risk = float(1 / (1 + np.exp(-(next_day @ coef))))
                continue
            stop = min(origin + STEP_DAYS, n)
            eta = X[origin:stop] @ coef
            risk[origin:stop] = 1 / (1 + np.exp(-eta))
            base[origin:stop] = y[train].mean()
        evaluable = target & ~np.isnan(risk)
        yy, rr, bb = y[evaluable], risk[evaluable], base[evaluable]
        auc = within_person_auc(yy, rr)
        brier = float(np.mean((rr - yy) ** 2)) if yy.size else float("nan")
        brier_base = float(np.mean((bb - yy) ** 2)) if yy.size else float("nan")
        skill = 1 - brier / brier_base if brier_base and brier_base > 0 else float("nan")
        n_pos, n_neg = int(yy.sum()), int((1 - yy).sum())
        lo, hi = _auc_ci(auc, n_pos, n_neg) if not np.isnan(auc) else (np.nan, np.nan)
        row = {
            "patient_id": str(pid),
            "days_forecast": int(evaluable.sum()),
            "attacks": n_pos,
            "auc": auc,
            "auc_ci_low": lo,
            "auc_ci_high": hi,
            "brier": brier,
            "brier_base_rate": brier_base,
            "brier_skill": skill,
            "show_to_patient": bool(skill > 0 and lo > 0.5) if not np.isnan(skill) else False,
            "tomorrow_risk": tomorrow_risk,  # the day after the last recorded day
        }
        if true_risk is not None:
            row["oracle_auc"] = within_person_auc(yy, part["true_risk"].to_numpy()[evaluable])
        rows.append(row)
        preds.append(
            pl.DataFrame(
                {
                    "patient_id": pl.Series([str(pid)] * int(evaluable.sum()), dtype=pl.String),
                    "date": part["date"].filter(pl.Series(evaluable)),
                    "risk": pl.Series(rr, dtype=pl.Float64),
                    "onset": pl.Series(yy, dtype=pl.Float64),
                }
            )
        )
    # an empty diary still gets tables with every column: "no forecast yet" needs no
    # special case downstream
    return ForecastResults(
        pl.DataFrame(rows, schema_overrides={"tomorrow_risk": pl.Float64})
        if rows
        else pl.DataFrame(schema=PER_PATIENT),
        pl.concat(preds) if preds else pl.DataFrame(schema=PREDICTIONS),
    )


def fit(days: pl.DataFrame, true_risk: pl.DataFrame | None = None) -> ForecastResults:
    """Tomorrow's attack risk per person, validated forward in time (see the module);
    ``true_risk`` (the simulator's) adds the AUC of the true risk, for validation."""
    return forecast(days, true_risk)
