"""A third diary generator, written without reading painlink's analyses or its two
simulators, built to make a per-person trigger analysis lie.

Each story is one way an observational, one-person analysis of "what sets off my
attacks?" goes wrong, and each can be switched on alone (``Stories``) so a failure can
be traced to it:

a. **time** — the person's baseline risk has seasons (winter worse) and a slow drift;
   null exposures share the season or the drift (temperature, screen time, exercise,
   sleep, neck/back pain) and do nothing.
b. **correlated** — null variables lean on a true cause: stress → less sleep quality and
   more skipped meals, short sleep → more caffeine, drinking → late screen time.
c. **reverse** — attacks change behaviour on the day and for 1–3 days after (rest: less
   exercise, more screen time, skipped meals, more caffeine); prodrome days before onset
   change behaviour (chocolate and caffeine cravings, fatigue → less exercise) and the
   neck hurts with the attack (neck pain a symptom).
d. **autocorrelated** — exposures are AR(1) with persistence 0.93, attacks come in bursts
   (a persistent latent susceptibility and a raised risk for 2 days after an attack).
e. **shapes** — sleep acts U-shaped (too little or too much) or as a 3-night sleep debt;
   alcohol acts only after a short night (an interaction).
f. **recording** — some people write alcohol only on drinking days (blank otherwise),
   stress heaped at 5 or 8, a 2–3 week holiday without check-ins, scattered missing days,
   a few people with very few attacks, a few with near-daily headache.
g. **nothing** — no exposure acts on anyone: every call is a false call.

The diary is written in painlink's documented CSV format (docs/csv-format.md), the
truth in benchmarks/score_calls.py's contract (one row per person × variable).

    python benchmarks/generator_three.py OUT --patients 100 --days 365 --seed 1 --stories abcdef
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

STORY_LETTERS = "abcdefg"
#: the days.csv columns this generator writes (chocolate is an own factor)
VARIABLES = (
    "sleep_hours",
    "sleep_quality",
    "stress",
    "skipped_meals",
    "alcohol_units",
    "caffeine_mg",
    "exercise_min",
    "screen_hours",
    "pressure_hpa",
    "temperature_c",
    "chocolate",
    "neck_pain",
    "low_back_pain",
)
#: the region names painlink's spine analysis gives the two day ratings → truth variable
SPINE_REGIONS = {"neck": "neck_pain", "back": "low_back_pain"}


@dataclass(frozen=True)
class Stories:
    """Which stories act; ``Stories.parse("ace")`` switches on a, c and e."""

    time: bool = False
    correlated: bool = False
    reverse: bool = False
    autocorrelated: bool = False
    shapes: bool = False
    recording: bool = False
    nothing: bool = False

    @classmethod
    def parse(cls, letters: str) -> Stories:
        letters = letters.lower().replace("all", "abcdef")
        unknown = set(letters) - set(STORY_LETTERS) - {"-", "0"}
        if unknown:
            raise ValueError(f"unknown stories {sorted(unknown)}; use letters of {STORY_LETTERS}")
        names = (
            "time",
            "correlated",
            "reverse",
            "autocorrelated",
            "shapes",
            "recording",
            "nothing",
        )
        return cls(**{n: ch in letters for n, ch in zip(names, STORY_LETTERS, strict=True)})

    @property
    def letters(self) -> str:
        flags = (
            self.time,
            self.correlated,
            self.reverse,
            self.autocorrelated,
            self.shapes,
            self.recording,
            self.nothing,
        )
        return "".join(ch for ch, on in zip(STORY_LETTERS, flags, strict=True) if on) or "base"


@dataclass
class Cohort:
    """A generated cohort: the diary tables, the truth, and the latent arrays the tests
    check the stories against (all N × D, NaN where a value was not recorded)."""

    patients: pl.DataFrame
    days: pl.DataFrame
    attacks: pl.DataFrame
    truth: pl.DataFrame
    latent: dict[str, np.ndarray] = field(default_factory=dict)
    stories: Stories = field(default_factory=Stories)

    def write(self, folder: str | Path) -> Path:
        """Write the diary as a painlink CSV folder and ``truth.csv`` beside it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "painlink.json").write_text(
            json.dumps({"format": "painlink-diary-csv", "version": 2})
        )
        self.patients.write_csv(folder / "patients.csv")
        self.days.write_csv(folder / "days.csv", null_value="")
        self.attacks.write_csv(folder / "attacks.csv", null_value="")
        self.truth.write_csv(folder.parent / f"{folder.name}.truth.csv")
        return folder


def _ar1(rng: np.random.Generator, n: int, d: int, phi: float, sd: float = 1.0) -> np.ndarray:
    """N × D AR(1) series with marginal standard deviation ``sd``."""
    out = np.empty((n, d))
    out[:, 0] = rng.normal(0, sd, n)
    innov = rng.normal(0, sd * np.sqrt(1 - phi**2), (n, d))
    for t in range(1, d):
        out[:, t] = phi * out[:, t - 1] + innov[:, t]
    return out


def _lagged(x: np.ndarray, k: int, fill: float) -> np.ndarray:
    """``x`` shifted k days later (value of day t−k at t), ``fill`` before the start."""
    if k == 0:
        return x
    out = np.full_like(x, fill)
    out[:, k:] = x[:, :-k]
    return out


def _lead(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` shifted k days earlier (value of day t+k at t), 0 after the end."""
    out = np.zeros_like(x)
    out[:, :-k] = x[:, k:]
    return out


def generate(
    n_patients: int = 100,
    n_days: int = 365,
    seed: int = 1,
    stories: Stories | str = "",
    start: dt.date = dt.date(2025, 9, 1),
    effect_lag: int = 0,
) -> Cohort:
    """One cohort of ``n_patients`` × ``n_days`` under ``stories``.

    ``effect_lag`` moves the stress and sleep effects from the day's own row (0: the
    day's stress, last night's sleep as written on that day's row) to the row before
    (1), a control for an analysis that only looks at earlier rows."""
    st = Stories.parse(stories) if isinstance(stories, str) else stories
    rng = np.random.default_rng(seed)
    n, d = n_patients, n_days
    dates = [start + dt.timedelta(days=i) for i in range(d)]
    doy = np.array([x.timetuple().tm_yday for x in dates])
    # +1 in mid-January, −1 in mid-July (northern winter worse)
    winter = np.cos(2 * np.pi * (doy - 15) / 365.25)[None, :] * np.ones((n, 1))
    weekend = np.array([x.weekday() >= 4 for x in dates])[None, :] * np.ones((n, 1))
    phi = 0.93 if st.autocorrelated else 0.3

    # --- who is affected by what --------------------------------------------------------
    acts = not st.nothing
    stress_trig = acts & (rng.random(n) < 0.4)
    sleep_eff = acts & (rng.random(n) < 0.4)
    drink_p = rng.uniform(0.05, 0.45, n)
    alcohol_trig = acts & (rng.random(n) < 0.35)
    sleep_shape = np.where(rng.random(n) < 0.5, "u_shape", "debt3") if st.shapes else None
    prodrome = st.reverse & (rng.random(n) < 0.6)
    neck_symptom = st.reverse & (rng.random(n) < 0.5)

    # --- the causal exposures (stress, sleep, alcohol) -----------------------------------
    drift = np.zeros((n, d))
    if st.time:
        steps = rng.normal(0, 0.035, (n, d))
        drift = np.cumsum(steps, axis=1)
        drift -= drift.mean(axis=1, keepdims=True)
    season = winter if st.time else np.zeros((n, d))
    # how much worse winter is for this person (logit; 0.5 ≈ 2.7 times the summer odds)
    amplitude = rng.uniform(0.1, 0.9, n)[:, None] if st.time else np.zeros((n, 1))
    stress_mean = rng.uniform(2.5, 6.0, n)[:, None]
    stress_dev = _ar1(rng, n, d, phi, 1.8)
    stress = np.clip(stress_mean + stress_dev, 0, 10)
    sleep_mean = rng.normal(7.1, 0.5, n)[:, None]
    sleep = sleep_mean + 0.45 * season + _ar1(rng, n, d, phi, 0.9)
    if st.correlated:
        sleep = sleep - 0.3 * (stress - stress_mean)
    sleep = np.clip(sleep, 2.5, 13)
    drink_noise = _ar1(rng, n, d, phi, 1.0)
    drink_logit = np.log(drink_p / (1 - drink_p))[:, None] + 0.9 * weekend + drink_noise
    drinks = rng.random((n, d)) < 1 / (1 + np.exp(-drink_logit))
    alcohol = np.where(drinks, np.round(rng.gamma(2.0, 1.3, (n, d)) + 0.5, 1), 0.0)

    # --- attack risk -------------------------------------------------------------------
    rate = rng.uniform(0.06, 0.22, n)
    kind = np.full(n, "usual", dtype=object)
    if st.recording:
        few, daily = rng.random(n), rng.random(n)
        kind[few < 0.05] = "few"
        kind[(daily > 0.95) & (few >= 0.05)] = "near_daily"
        rate[kind == "few"] = 0.015
        rate[kind == "near_daily"] = 0.8
    base = np.log(rate / (1 - rate))[:, None] + amplitude * season + drift
    susceptibility = _ar1(rng, n, d, 0.9, 0.6) if st.autocorrelated else np.zeros((n, d))

    beta_stress, beta_sleep, beta_u, beta_debt = 0.25, -0.4, 0.55, 0.35
    beta_alc, beta_inter = 1.0, 1.6
    effect = np.zeros((n, d))
    stress_effect = np.where(stress_trig[:, None], beta_stress * (stress - stress_mean), 0.0)
    effect += _lagged(stress_effect, effect_lag, 0.0)
    if sleep_shape is None:
        sleep_effect = np.where(sleep_eff[:, None], beta_sleep * (sleep - sleep_mean), 0.0)
    else:
        u = np.maximum(0, 6.0 - sleep) + np.maximum(0, sleep - 8.8)
        nights = [_lagged(sleep, k, 7.0) for k in range(3)]
        debt = sum(np.maximum(0, 7.0 - x) for x in nights)
        shaped = np.where(sleep_shape[:, None] == "u_shape", beta_u * u, beta_debt * debt)
        sleep_effect = np.where(sleep_eff[:, None], shaped, 0.0)
    sleep_effect = _lagged(sleep_effect, effect_lag, 0.0)
    effect += sleep_effect
    drank_yesterday = _lagged(drinks.astype(float), 1, 0.0)
    # with the shapes story, alcohol last evening acts only when the night after it was short
    short_night = (sleep < 6.3) if st.shapes else np.ones((n, d), dtype=bool)
    alc = (beta_inter if st.shapes else beta_alc) * drank_yesterday * short_night
    alcohol_effect = np.where(alcohol_trig[:, None], alc, 0.0)
    effect += alcohol_effect

    logit = base + susceptibility + effect
    attack = np.zeros((n, d), dtype=bool)
    for t in range(d):
        z = logit[:, t].copy()
        if st.autocorrelated and t >= 1:
            z += 0.9 * attack[:, t - 1] + (0.5 * attack[:, t - 2] if t >= 2 else 0)
        attack[:, t] = rng.random(n) < 1 / (1 + np.exp(-z))
    a = attack.astype(float)

    # --- the null (or premonitory) exposures, which may answer to attacks -----------------
    after = np.zeros((n, d))  # 1 on the attack day and the 1–3 days after, fading
    before = np.zeros((n, d))  # 1 on the day before onset, 0.6 two days before
    if st.reverse:
        after = np.maximum.reduce(
            [a, 0.8 * _lagged(a, 1, 0), 0.5 * _lagged(a, 2, 0), 0.3 * _lagged(a, 3, 0)]
        )
        before = np.maximum(_lead(a, 1), 0.6 * _lead(a, 2))
        before = np.maximum(before, 0.7 * a) * prodrome[:, None]

    quality = 6.5 + _ar1(rng, n, d, phi, 1.3)
    if st.correlated:
        quality = 6.5 + 0.9 * (sleep - sleep_mean) - 0.45 * (stress - stress_mean)
        quality += _ar1(rng, n, d, phi, 0.6)
    quality = np.clip(np.round(quality), 0, 10)

    meals_lam = 0.25 + 0.6 * after
    if st.correlated:
        meals_lam = meals_lam * np.exp(0.35 * (stress - stress_mean))
    meals = np.minimum(rng.poisson(meals_lam), 10)

    caffeine = rng.uniform(60, 300, n)[:, None] + _ar1(rng, n, d, phi, 50)
    if st.correlated:
        caffeine = caffeine + 70 * (7.0 - sleep)
    caffeine = caffeine * (1 + 0.5 * after + 0.6 * before)
    caffeine = np.clip(np.round(caffeine / 10) * 10, 0, 5000)

    ex_p = rng.uniform(0.3, 0.8, n)[:, None]
    ex_logit = np.log(ex_p / (1 - ex_p)) - 0.8 * season - 0.8 * drift
    exercise_on = rng.random((n, d)) < 1 / (1 + np.exp(-ex_logit))
    ex_level = rng.uniform(20, 60, n)[:, None] * np.exp(0.3 * _ar1(rng, n, d, phi))
    ex_level = ex_level * np.exp(-0.35 * season - 0.5 * drift)
    ex_level = ex_level * (1 - 0.85 * after) * (1 - 0.6 * before)
    exercise = np.where(exercise_on, np.round(ex_level / 5) * 5, 0.0)

    screen = rng.uniform(2, 6, n)[:, None] + 1.0 * season + 1.2 * drift
    screen = screen + _ar1(rng, n, d, phi, 1.0) + 2.5 * after
    if st.correlated:
        screen = screen + 2.0 * drinks
    screen = np.clip(np.round(screen * 2) / 2, 0, 24)

    temp = rng.uniform(8, 14, n)[:, None] - 9 * season + _ar1(rng, n, d, phi, 3.0)
    temp = np.round(temp, 1)
    pressure = np.round(1013 + _ar1(rng, n, d, 0.75, 8.0), 1)
    chocolate = rng.poisson(0.4 + 1.6 * before)

    neck = rng.uniform(0.5, 3.5, n)[:, None] + 0.8 * season + _ar1(rng, n, d, phi, 1.0)
    neck = neck + np.where(neck_symptom[:, None], 3.0 * a + 1.5 * _lagged(a, 1, 0), 0.0)
    neck = np.clip(np.round(neck), 0, 10)
    back = rng.uniform(0.5, 3.5, n)[:, None] + 0.8 * season + 0.8 * drift
    back = np.clip(np.round(back + _ar1(rng, n, d, phi, 1.0)), 0, 10)

    stress_rec = np.round(stress)
    values: dict[str, np.ndarray] = {
        "sleep_hours": np.round(sleep * 4) / 4,
        "sleep_quality": quality,
        "stress": stress_rec,
        "skipped_meals": meals.astype(float),
        "alcohol_units": alcohol,
        "caffeine_mg": caffeine,
        "exercise_min": exercise,
        "screen_hours": screen,
        "pressure_hpa": pressure,
        "temperature_c": temp,
        "chocolate": chocolate.astype(float),
        "neck_pain": neck,
        "low_back_pain": back,
    }

    # --- recording behaviour ------------------------------------------------------------
    present = np.ones((n, d), dtype=bool)  # a check-in exists that day
    blank_zero_alcohol = np.zeros(n, dtype=bool)
    heaped = np.zeros(n, dtype=bool)
    if st.recording:
        present &= rng.random((n, d)) > 0.05
        holiday = rng.random(n) < 0.5
        for i in np.flatnonzero(holiday):
            length = int(rng.integers(14, 22))
            first = int(rng.integers(0, max(1, d - length)))
            present[i, first : first + length] = False
        blank_zero_alcohol = rng.random(n) < 0.4
        values["alcohol_units"] = np.where(
            blank_zero_alcohol[:, None] & (alcohol == 0), np.nan, alcohol
        )
        heaped = rng.random(n) < 0.3
        values["stress"] = np.where(heaped[:, None], np.where(stress < 6.5, 5.0, 8.0), stress_rec)
    for name in values:
        values[name] = np.where(present, values[name], np.nan)

    # --- tables -------------------------------------------------------------------------
    ids = [f"G3P{i:05d}" for i in range(n)]
    patients = pl.DataFrame(
        {
            "patient_id": ids,
            "sex": rng.choice(["female", "male"], n, p=[0.75, 0.25]).tolist(),
            "birth_year": rng.integers(1960, 2005, n).tolist(),
            "time_zone": ["UTC"] * n,
        }
    )
    keep = present.ravel()
    pid = np.repeat(np.array(ids), d)[keep]
    day_col = np.tile(np.array(dates, dtype="datetime64[D]"), n)[keep]
    days = pl.DataFrame({"patient_id": pid, "date": day_col})
    integer = {
        "sleep_quality",
        "stress",
        "skipped_meals",
        "chocolate",
        "neck_pain",
        "low_back_pain",
        "caffeine_mg",
        "exercise_min",
    }
    for name, arr in values.items():
        col = pl.Series(name, arr.ravel()[keep], dtype=pl.Float64).fill_nan(None)
        days = days.with_columns(col.cast(pl.Int64) if name in integer else col)

    pi, ti = np.nonzero(attack)
    hour = rng.integers(5, 16, pi.size)
    minute = rng.integers(0, 60, pi.size)
    minutes = rng.integers(3, 8, pi.size) * 60 + rng.integers(0, 60, pi.size)
    starts = [
        dt.datetime.combine(dates[t], dt.time(int(h), int(m)))
        for t, h, m in zip(ti, hour, minute, strict=True)
    ]
    ends = [s + dt.timedelta(minutes=int(x)) for s, x in zip(starts, minutes, strict=True)]
    attacks = pl.DataFrame(
        {
            "patient_id": [ids[i] for i in pi],
            "attack_id": [f"A{i}" for i in range(pi.size)],
            "start": [s.strftime("%Y-%m-%dT%H:%M") for s in starts],
            "end": [e.strftime("%Y-%m-%dT%H:%M") for e in ends],
            "intensity": rng.integers(1, 4, pi.size).tolist(),
        },
        schema={
            "patient_id": pl.String,
            "attack_id": pl.String,
            "start": pl.String,
            "end": pl.String,
            "intensity": pl.Int64,
        },
    )

    truth = _truth(
        ids,
        values,
        st,
        stress_trig,
        sleep_eff,
        sleep_shape,
        alcohol_trig,
        prodrome,
        neck_symptom,
        kind,
        blank_zero_alcohol,
        heaped,
        effect_lag,
    )
    latent = {
        "base_logit": base,
        "season": season,
        "drift": drift,
        "attack": attack,
        "present": present,
        "after": after,
        "before": before,
        "effect": effect,
        "effect:sleep": sleep_effect,
        "effect:alcohol": alcohol_effect,
        "stress_true": stress,
        "effect_lag": np.array(effect_lag),
        "sleep_true": sleep,
        "drinks": drinks,
        **{f"value:{k}": v for k, v in values.items()},
    }
    return Cohort(patients, days, attacks, truth, latent, st)


def _truth(
    ids: list[str],
    values: dict[str, np.ndarray],
    st: Stories,
    stress_trig: np.ndarray,
    sleep_eff: np.ndarray,
    sleep_shape: np.ndarray | None,
    alcohol_trig: np.ndarray,
    prodrome: np.ndarray,
    neck_symptom: np.ndarray,
    kind: np.ndarray,
    blank_zero_alcohol: np.ndarray,
    heaped: np.ndarray,
    effect_lag: int = 0,
) -> pl.DataFrame:
    """One row per person × variable in score_calls' contract, plus why columns
    (``kind``: usual / few / near_daily; ``recording``: how the variable was written)."""
    with np.errstate(all="ignore"):
        sd = np.stack(
            [np.nanstd(values["stress"], axis=1), np.nanstd(values["sleep_hours"], axis=1)], axis=1
        )
    rows = []
    for i, pid in enumerate(ids):
        for var in VARIABLES:
            recorded = bool(np.isfinite(values[var][i]).any())
            role, form, lag, log_or = "none", None, None, 0.0
            if var == "stress" and stress_trig[i]:
                # per SD of the person's own recorded stress, painlink's "per_sd" scale
                role, form, lag, log_or = "trigger", "per_sd", f"{effect_lag}", 0.25 * sd[i, 0]
            elif var == "sleep_hours" and sleep_eff[i]:
                # short sleep sets attacks off: a trigger whose "more" direction is −
                if sleep_shape is None:
                    role, form, lag, log_or = "trigger", "per_sd", f"{effect_lag}", -0.4 * sd[i, 1]
                elif sleep_shape[i] == "u_shape":
                    role, form, lag, log_or = "trigger", "u_shape", f"{effect_lag}", -0.55
                else:
                    role, form, lag, log_or = (
                        "trigger",
                        "debt3",
                        f"{effect_lag}-{effect_lag + 2}",
                        -0.35,
                    )
            elif var == "sleep_hours" and st.shapes and alcohol_trig[i]:
                # the short night after drinking is half of the interaction: sleep acts too
                role, form, lag, log_or = "trigger", "short_after_alcohol", "0", -1.6
            elif var == "alcohol_units" and alcohol_trig[i]:
                if st.shapes:
                    role, form, lag, log_or = "trigger", "after_short_sleep", "1", 1.6
                else:
                    role, form, lag, log_or = "trigger", "present", "1", 1.0
            elif var in ("chocolate", "caffeine_mg", "exercise_min") and prodrome[i]:
                role, form, lag = "premonitory", "prodrome", "1"
                log_or = -1.0 if var == "exercise_min" else 1.0
            elif var == "neck_pain" and neck_symptom[i]:
                role, form, lag = "symptom", "attack_day", "0"
            recording = "daily"
            if var == "alcohol_units" and blank_zero_alcohol[i]:
                recording = "only_nonzero"
            elif var == "stress" and heaped[i]:
                recording = "heaped_5_8"
            rows.append((pid, var, recorded, role, form, lag, log_or, kind[i], recording))
    return pl.DataFrame(
        rows,
        schema={
            "patient_id": pl.String,
            "variable": pl.String,
            "recorded": pl.Boolean,
            "role": pl.String,
            "form": pl.String,
            "lag": pl.String,
            "true_log_or": pl.Float64,
            "kind": pl.String,
            "recording": pl.String,
        },
        orient="row",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="diary folder to write (truth goes to OUT.truth.csv)")
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stories", default="abcdef", help="letters of a–g, or 'all'")
    args = parser.parse_args()
    cohort = generate(args.patients, args.days, args.seed, args.stories)
    folder = cohort.write(args.out)
    print(f"{folder}: {cohort.days.height} days, {cohort.attacks.height} attacks")


if __name__ == "__main__":
    main()
