"""A fourth adversarial diary generator: new stories of how "what sets off my attacks?"
goes wrong when one person's diary is read observationally.

Written without reading painlink's analyses, so every definition here (exposures,
lags, the attack process, the recording errors) is this module's own and shares
nothing with the analysis it tests. The generator keeps the latent truth (N × D
arrays, one row per person, one column per diary day) so a test can check that each
story does what it says, and writes the painlink CSV diary format
(``docs/csv-format.md``) plus a ``truth.csv`` in the contract of
``benchmarks/score_calls.py``.

The base world is ordinary: a baseline attack rate of about 2–6 attacks a month,
attacks of 4–72 h, daily check-ins and a few true effects per person (odds ratio
1.5–3 per SD or for presence). Each story letter adds one way the analysis can be
fooled; letters combine:

* ``h`` one calendar for everyone: the same start date, one city's weather (storms)
  and holidays that change behaviour for most people and raise attack risk in some
  through something not recorded (travel, broken routine); a pressure drop truly
  triggers attacks in a minority.
* ``i`` the week: weekday stress and short sleep, weekend sleep-ins, less weekend
  coffee, Friday/Saturday drinks; a weekly attack shape (Saturday let-down, Monday)
  in some people through nothing recorded; a true caffeine-withdrawal trigger in some.
* ``j`` an unrecorded menstrual cycle: menstrual migraine in many women who do not
  record periods; sleep quality, stress, skipped meals and low back pain move with
  the cycle but cause nothing.
* ``k`` recording errors: digit slips, tenfold caffeine, zeros for blanks (more on
  attack days), a check-in copied forward for a week, attacks entered the next
  morning, long gaps.
* ``l`` acute medicine: caffeine-containing painkillers on attack days and the day
  after, added to caffeine_mg; medication overuse (more painkiller days, more attacks).
* ``m`` varied diaries: start dates over two years, 60 days to the full length, a few
  people with very few attacks and a few with near-daily attacks.
* ``n`` nothing acts: no recorded variable has any effect (the other stories still
  shape the data).

    python benchmarks/generator_four.py OUT --patients 100 --days 365 --seed 1 --stories hijkl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

#: the scorer's neck/back mapping: painlink's spine region → the truth's variable
SPINE_REGIONS = {"neck": "neck_pain", "back": "low_back_pain"}
STORY_LETTERS = "hijklmn"
DAY_VARIABLES = (
    "sleep_hours",
    "sleep_quality",
    "stress",
    "caffeine_mg",
    "alcohol_units",
    "exercise_min",
    "screen_hours",
    "skipped_meals",
    "pressure_hpa",
    "temperature_c",
)
SPINE_VARIABLES = ("neck_pain", "low_back_pain")
VARIABLES = DAY_VARIABLES + SPINE_VARIABLES
#: the 0–10 scales a hurried person fills with 0 instead of leaving blank (story k)
ZERO_FOR_BLANK = ("stress", "sleep_quality", "neck_pain", "low_back_pain")
#: the one city's first diary day (story h) and the base world's range of start dates
CITY_START = np.datetime64("2025-01-01")
BASE_STARTS = (np.datetime64("2024-01-01"), np.datetime64("2024-12-31"))
SPREAD_STARTS = (np.datetime64("2023-01-01"), np.datetime64("2024-12-31"))
EASTER = {
    2022: "2022-04-17",
    2023: "2023-04-09",
    2024: "2024-03-31",
    2025: "2025-04-20",
    2026: "2026-04-05",
}
#: the true effects a person may have in the base world:
#: (variable, form, lag, sign of the log odds ratio)
EFFECT_MENU = (
    ("stress", "per_sd", 0, 1),
    ("stress", "per_sd", 1, 1),
    ("sleep_hours", "below", 0, 1),
    ("sleep_quality", "per_sd", 0, -1),
    ("alcohol_units", "presence", 1, 1),
    ("caffeine_mg", "per_sd", 0, 1),
    ("exercise_min", "presence", 1, -1),
    ("screen_hours", "per_sd", 0, 1),
    ("skipped_meals", "presence", 0, 1),
)
LOG_OR_RANGE = (np.log(1.5), np.log(3.0))
#: a caffeine-combination painkiller dose (two tablets of 65 mg), story l
TABLET_CAFFEINE_MG = 130.0
#: the recording-error slip of sleep: "7" typed as "17" (the format refuses 70 h, so
#: the largest slip it accepts, one extra leading digit, is written instead)
SLEEP_SLIP_HOURS = 10.0


@dataclass
class Effect:
    """One true effect: ``beta`` (N,) is the log odds ratio (0 for people without it) on
    the exposure ``exposure`` (N × D, already lagged) as this module defines it."""

    variable: str
    form: str
    lag: int
    beta: np.ndarray
    exposure: np.ndarray


@dataclass
class Cohort:
    """A generated cohort: the diary frames as written, the truth and the latent arrays."""

    patients: pl.DataFrame
    days: pl.DataFrame
    attacks: pl.DataFrame
    truth: pl.DataFrame
    latent: dict[str, np.ndarray]
    medications: pl.DataFrame = field(default_factory=pl.DataFrame)
    stories: str = ""

    def write(self, folder: str | Path) -> Path:
        """Write the painlink CSV folder at ``folder`` and ``truth.csv`` beside it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"format": "painlink-diary-csv", "version": 3}
        (folder / "painlink.json").write_text(json.dumps(manifest) + "\n")
        self.patients.write_csv(folder / "patients.csv")
        self.days.write_csv(folder / "days.csv")
        self.attacks.write_csv(folder / "attacks.csv")
        if self.medications.height:
            self.medications.write_csv(folder / "medications.csv")
        self.truth.write_csv(folder.parent / "truth.csv")
        return folder


def _rng(seed: int, name: str) -> np.random.Generator:
    """One random stream per part of the world, so switching a story on does not reshuffle
    the others: the base world of "hijk" is the base world of "" for the same seed."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _ar1(rng: np.random.Generator, n: int, d: int, rho: np.ndarray | float) -> np.ndarray:
    """Stationary AR(1) series with unit variance along the days (day-to-day persistence)."""
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (n,))
    eps = rng.standard_normal((n, d))
    out = np.empty((n, d))
    out[:, 0] = eps[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, d):
        out[:, t] = rho * out[:, t - 1] + scale * eps[:, t]
    return out


def _zscore(x: np.ndarray) -> np.ndarray:
    """Per-person standardisation along the days (0 where a person never varies)."""
    mu = np.nanmean(x, axis=1, keepdims=True)
    sd = np.nanstd(x, axis=1, keepdims=True)
    return np.where(sd > 0, (x - mu) / np.where(sd > 0, sd, 1.0), 0.0)


def _lag(x: np.ndarray, lag: int, fill: float = 0.0) -> np.ndarray:
    """x of ``lag`` days earlier on each day (the first days get ``fill``)."""
    if lag == 0:
        return x
    out = np.full_like(x, fill, dtype=float)
    out[:, lag:] = x[:, :-lag]
    return out


def _weather(rng: np.random.Generator, k: int, doy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k independent pressure and temperature series on the days whose day of year is
    ``doy`` (k × T or 1 × T): a slow pressure wander plus storms (a fall of 12–30 hPa over
    two days, recovering over four) and a seasonal temperature that storms cool."""
    t = doy.shape[1]
    pressure = 1014.0 + 5.5 * _ar1(rng, k, t, 0.85)
    storms = (rng.random((k, t)) < 1.2 / 30.0) * rng.uniform(12.0, 30.0, (k, t))
    kernel = (-0.4, -1.0, -0.8, -0.5, -0.25, -0.1)
    shock = np.zeros((k, t))
    for offset, weight in enumerate(kernel):
        shock[:, offset:] += weight * storms[:, : t - offset]
    pressure += shock
    season = 11.0 - 10.0 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    temperature = season + 2.5 * _ar1(rng, k, t, 0.7) + 0.12 * shock
    return np.clip(pressure, 930.0, 1070.0), np.clip(temperature, -30.0, 45.0)


def _calendar(dates: np.ndarray) -> dict[str, np.ndarray]:
    """Weekday (Monday 0), year, month, day of month and day of year of datetime64 dates."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    return {
        "dow": (days + 3) % 7,
        "year": years.astype(np.int64) + 1970,
        "month": months.astype(np.int64) % 12 + 1,
        "dom": (dates.astype("datetime64[D]") - months).astype(np.int64) + 1,
        "doy": (dates.astype("datetime64[D]") - years).astype(np.int64),
    }


def _holidays(
    rng: np.random.Generator, dates: np.ndarray, cal: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The shared holidays on each person's dates: Christmas–New Year (22 Dec–2 Jan, with
    a stressful run-up 10–21 Dec), Easter (the long weekend for everyone, ten days for
    families) and each person's two or three summer weeks inside 7 July–25 August."""
    n = dates.shape[0]
    christmas = ((cal["month"] == 12) & (cal["dom"] >= 22)) | (
        (cal["month"] == 1) & (cal["dom"] <= 2)
    )
    run_up = (cal["month"] == 12) & (cal["dom"] >= 10) & (cal["dom"] <= 21)
    family = rng.random(n) < 0.6
    easter_short = np.zeros(dates.shape, bool)
    easter_long = np.zeros(dates.shape, bool)
    day = dates.astype("datetime64[D]")
    for sunday in EASTER.values():
        offset = (day - np.datetime64(sunday)).astype(np.int64)
        easter_short |= (offset >= -2) & (offset <= 1)
        easter_long |= (offset >= -4) & (offset <= 7)
    easter = easter_short | (easter_long & family[:, None])
    summer_start = 187 + rng.integers(0, 35, n)  # 7 July + 0–34 days
    summer_len = rng.choice([14, 21], n)
    summer = (cal["doy"] >= summer_start[:, None]) & (
        cal["doy"] < (summer_start + summer_len)[:, None]
    )
    holiday = christmas | easter | summer
    before = np.zeros_like(holiday)
    before[:, 1:] = holiday[:, :-1]
    after = np.zeros_like(holiday)
    after[:, :-1] = holiday[:, 1:]
    travel = holiday & (~before | ~after)
    return {"holiday": holiday, "travel": travel, "run_up": run_up, "christmas": christmas}


def _cycle(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Days since the last period's day 1 and days until the next one (N × D), from cycles
    of a person's usual length (26–32 days), a third of people irregular (SD 4 days)."""
    usual = rng.uniform(26.0, 32.0, n)
    irregular = rng.random(n) < 0.33
    sd = np.where(irregular, 4.0, 1.0)
    k = d // 21 + 6
    lengths = np.clip(np.rint(usual[:, None] + sd[:, None] * rng.standard_normal((n, k))), 21, 42)
    first = -np.floor(rng.random(n) * usual) - 45  # a period before the diary begins
    day1 = first[:, None] + np.cumsum(np.concatenate([np.zeros((n, 1)), lengths], 1), 1)
    pad = 90
    marks = np.zeros((n, d + 2 * pad), bool)
    idx = (day1 + pad).astype(np.int64)
    rows = np.repeat(np.arange(n), idx.shape[1])
    ok = (idx >= 0) & (idx < d + 2 * pad)
    marks[rows[ok.ravel()], idx.ravel()[ok.ravel()]] = True
    pos = np.arange(d + 2 * pad)
    last = np.maximum.accumulate(np.where(marks, pos, -(10**6)), axis=1)
    nxt = np.minimum.accumulate(np.where(marks, pos, 10**6)[:, ::-1], axis=1)[:, ::-1]
    since = (pos - last)[:, pad : pad + d]
    until = (nxt - pos)[:, pad : pad + d]
    return since, until


def generate(n_patients: int, n_days: int, seed: int, stories: str = "") -> Cohort:
    """A cohort of ``n_patients`` diaries of (up to) ``n_days`` days under ``stories``."""
    bad = set(stories) - set(STORY_LETTERS)
    if bad:
        raise ValueError(f"unknown stories {sorted(bad)}; choose from {STORY_LETTERS}")
    s = set(stories)
    n, d = n_patients, n_days
    latent: dict[str, np.ndarray] = {}
    people = _rng(seed, "people")

    # --- who, when, for how long -----------------------------------------------------
    female = people.random(n) < 0.75
    age = people.integers(18, 66, n)
    spread = _rng(seed, "spread")
    if "m" in s:
        span = int((SPREAD_STARTS[1] - SPREAD_STARTS[0]).astype(int))
        start = SPREAD_STARTS[0] + spread.integers(0, span + 1, n).astype("timedelta64[D]")
        length = spread.integers(60, d + 1, n)
    elif "h" in s:
        start = np.full(n, CITY_START)
        length = np.full(n, d)
    else:
        span = int((BASE_STARTS[1] - BASE_STARTS[0]).astype(int))
        start = BASE_STARTS[0] + people.integers(0, span + 1, n).astype("timedelta64[D]")
        length = np.full(n, d)
    last_allowed = np.datetime64(dt.date.today())
    start = np.minimum(start, last_allowed - np.timedelta64(d, "D"))
    dates = start[:, None] + np.arange(d).astype("timedelta64[D]")
    cal = _calendar(dates)
    birth_year = cal["year"][:, 0] - age
    window = np.arange(d)[None, :] < length[:, None]
    latent["window"] = window
    latent["dow"] = cal["dow"]

    # attack-rate types: most people 2–6 a month; story m adds very few and near-daily
    monthly = people.uniform(2.0, 6.0, n)
    rate_kind = np.zeros(n, np.int64)
    if "m" in s:
        pick = spread.random(n)
        rate_kind[pick < 0.06] = 1
        rate_kind[(pick >= 0.06) & (pick < 0.12)] = 2
        monthly = np.where(rate_kind == 1, spread.uniform(0.3, 1.0, n), monthly)
    daily_p = monthly / 30.4 * 1.25
    daily_p = np.where(rate_kind == 2, spread.uniform(0.45, 0.7, n), daily_p)
    latent["rate_kind"] = np.broadcast_to(rate_kind[:, None], (n, d)).copy()

    # --- behaviour before any attack ------------------------------------------------
    b = _rng(seed, "behaviour")
    stress_mu, stress_sd = b.uniform(2.5, 6.0, n), b.uniform(1.2, 2.2, n)
    stress_z = _ar1(b, n, d, 0.5)
    stress = stress_mu[:, None] + stress_sd[:, None] * stress_z
    sleep_mu, sleep_sd = b.uniform(6.3, 8.0, n), b.uniform(0.6, 1.1, n)
    sleep = sleep_mu[:, None] + sleep_sd[:, None] * _ar1(b, n, d, 0.3) - 0.2 * stress_z
    drinker = b.random(n) < 0.85
    coffee_usual = np.where(drinker, b.uniform(60.0, 400.0, n), 0.0)
    coffee_factor = np.exp(0.25 * b.standard_normal((n, d)))
    drink_p = np.where(b.random(n) < 0.2, 0.0, b.uniform(0.03, 0.35, n))
    drink_u = b.random((n, d))
    drink_units = 1.0 + b.poisson(b.uniform(0.5, 3.0, n)[:, None], (n, d))
    exercise_p = b.uniform(0.1, 0.6, n)
    exercise_u = b.random((n, d))
    exercise_len = 15.0 + b.gamma(2.0, 15.0, (n, d))
    screen_mu = b.uniform(1.5, 6.0, n)
    screen = screen_mu[:, None] + b.uniform(0.8, 1.5, n)[:, None] * _ar1(b, n, d, 0.4)
    screen += 0.2 * stress_z
    skip_rate = b.uniform(0.05, 0.4, n)[:, None] * np.exp(0.3 * stress_z)
    skip_u = b.random((n, d))
    has_neck, has_back = b.random(n) < 0.45, b.random(n) < 0.35
    neck = np.where(has_neck, b.uniform(1.0, 4.0, n), 0.3)[:, None] + np.where(has_neck, 1.2, 0.4)[
        :, None
    ] * _ar1(b, n, d, 0.7)
    back = np.where(has_back, b.uniform(1.0, 4.0, n), 0.3)[:, None] + np.where(has_back, 1.2, 0.4)[
        :, None
    ] * _ar1(b, n, d, 0.7)
    weekday_coffee_only = b.random(n) < 0.85
    quality_noise = b.standard_normal((n, d))

    # weather: each person's own city in the base world, one shared city in story h
    w = _rng(seed, "weather")
    if "h" in s:
        t0 = dates.min()
        t_days = int((dates.max() - t0).astype(int)) + 1
        city_dates = (t0 + np.arange(t_days).astype("timedelta64[D]"))[None, :]
        city_p, city_t = _weather(w, 1, _calendar(city_dates)["doy"])
        offset = (dates - t0).astype(np.int64)
        pressure, temperature = city_p[0][offset], city_t[0][offset]
    else:
        pressure, temperature = _weather(w, n, cal["doy"])

    # story i: the working week
    weekend = cal["dow"] >= 5
    drink_mult = np.ones((n, d))
    if "i" in s:
        stress = stress + np.where(weekend, -1.2, 0.6)
        sleep = sleep + np.where(weekend, 1.0, -0.3)  # Sat/Sun check-ins report a sleep-in
        coffee_factor = coffee_factor * np.where(weekend & weekday_coffee_only[:, None], 0.55, 1.0)
        drink_mult *= np.where((cal["dow"] == 4) | (cal["dow"] == 5), 2.5, 0.7)
        screen = screen + np.where(weekend, 1.0, 0.0)

    # story h: holidays change behaviour for most people
    hol_rng = _rng(seed, "holidays")
    hol = _holidays(hol_rng, dates, cal)
    behaves = hol_rng.random(n) < 0.85
    holiday_risk_person = hol_rng.random(n) < 0.4
    holiday_or = hol_rng.uniform(1.5, 2.5, n)
    travel_or = hol_rng.uniform(2.0, 4.0, n)
    if "h" in s:
        on = hol["holiday"] & behaves[:, None]
        drink_mult *= np.where(on, 3.0, 1.0)
        drink_units = np.where(on, np.ceil(drink_units * 1.5), drink_units)
        sleep = sleep + np.where(on, 0.8, 0.0)
        screen = screen + np.where(on, 1.5, 0.0)
        stress = stress + np.where(on, -1.5, 0.0) + np.where(hol["run_up"], 1.2, 0.0)
        latent["holiday"] = hol["holiday"]
        latent["travel"] = hol["travel"]
        latent["holiday_behaves"] = np.broadcast_to(behaves[:, None], (n, d)).copy()

    # story j: the menstrual cycle, never recorded
    cyc = _rng(seed, "cycle")
    cycling = female & (age <= 50) & (cyc.random(n) < 0.9)
    since, until = _cycle(cyc, n, d)
    menstrual_window = cycling[:, None] & ((until <= 2) | (since <= 3))
    premenstrual = cycling[:, None] & (until >= 1) & (until <= 7)
    late_luteal = cycling[:, None] & (until >= 1) & (until <= 5)
    bleeding = cycling[:, None] & (since <= 2)
    mm_person = cycling & (cyc.random(n) < 0.65)
    mm_or = np.exp(cyc.uniform(np.log(2.0), np.log(4.0), n))
    quality_drop = cyc.uniform(0.5, 2.0, n)
    stress_rise = cyc.uniform(0.5, 1.8, n)
    skip_rise = cyc.uniform(0.3, 0.8, n)
    cramps = cycling & (cyc.random(n) < 0.5)
    cramp_pain = cyc.uniform(1.0, 4.0, n)
    quality_cycle = np.zeros((n, d))
    if "j" in s:
        sleep_window = cycling[:, None] & (((until >= 1) & (until <= 5)) | (since <= 2))
        quality_cycle = np.where(sleep_window, -quality_drop[:, None], 0.0)
        stress = stress + np.where(premenstrual, stress_rise[:, None], 0.0)
        skip_rate = skip_rate + np.where(late_luteal, skip_rise[:, None], 0.0)
        back = back + np.where(bleeding & cramps[:, None], cramp_pain[:, None], 0.0)
        latent["menstrual_window"] = menstrual_window
        latent["premenstrual"] = premenstrual
        latent["menstrual_migraine"] = np.broadcast_to(mm_person[:, None], (n, d)).copy()
        latent["cycling"] = np.broadcast_to(cycling[:, None], (n, d)).copy()

    # the day's values (before the attacks change them)
    stress = np.clip(stress, 0.0, 10.0)
    sleep = np.clip(sleep, 2.0, 13.0)
    quality = np.clip(
        6.0 + 1.0 * _zscore(sleep) - 0.6 * stress_z + quality_noise + quality_cycle, 0.0, 10.0
    )
    caffeine = coffee_usual[:, None] * coffee_factor
    alcohol = np.where(drink_u < np.clip(drink_p[:, None] * drink_mult, 0, 0.95), drink_units, 0.0)
    exercise = np.where(exercise_u < exercise_p[:, None], exercise_len, 0.0)
    screen = np.clip(screen, 0.0, 16.0)
    skip_p = 1 - np.exp(-skip_rate)
    skipped = (skip_u < skip_p).astype(float) + (skip_u < skip_p**3)  # sometimes two meals
    neck, back = np.clip(neck, 0.0, 10.0), np.clip(back, 0.0, 10.0)

    # --- true effects ---------------------------------------------------------------
    e = _rng(seed, "effects")
    n_effects = e.integers(1, 4, n)
    order = np.argsort(e.random((n, len(EFFECT_MENU))), axis=1)
    chosen = np.zeros((n, len(EFFECT_MENU)), bool)
    for i in range(n):
        taken: set[str] = set()
        for j in order[i]:
            var = EFFECT_MENU[j][0]
            if len(taken) < n_effects[i] and var not in taken:
                chosen[i, j] = True
                taken.add(var)
    strength = np.exp(e.uniform(*LOG_OR_RANGE, (n, len(EFFECT_MENU) + 4)))
    usual_sleep = np.mean(sleep, axis=1, keepdims=True)
    exposures = {
        ("stress", "per_sd", 0): _zscore(stress),
        ("stress", "per_sd", 1): _lag(_zscore(stress), 1),
        ("sleep_hours", "below", 0): (sleep <= usual_sleep - 1.0).astype(float),
        ("sleep_quality", "per_sd", 0): _zscore(quality),
        ("alcohol_units", "presence", 1): _lag((alcohol >= 1).astype(float), 1),
        ("caffeine_mg", "per_sd", 0): _zscore(caffeine),
        ("exercise_min", "presence", 1): _lag((exercise >= 30).astype(float), 1),
        ("screen_hours", "per_sd", 0): _zscore(screen),
        ("skipped_meals", "presence", 0): (skipped >= 1).astype(float),
    }
    effects: list[Effect] = []
    for j, (var, form, lag, sign) in enumerate(EFFECT_MENU):
        beta = np.where(chosen[:, j], sign * np.log(strength[:, j]), 0.0)
        effects.append(Effect(var, form, lag, beta, exposures[(var, form, lag)]))
    # story i: caffeine withdrawal (a day with under half the person's usual coffee)
    has_caffeine = chosen[:, [j for j, m in enumerate(EFFECT_MENU) if m[0] == "caffeine_mg"]]
    if "i" in s:
        withdrawal = (coffee_usual >= 150) & ~has_caffeine.any(axis=1) & (e.random(n) < 0.35)
        drop = (caffeine < 0.5 * coffee_usual[:, None]).astype(float)
        beta = np.where(withdrawal, np.log(strength[:, -1]), 0.0)
        effects.append(Effect("caffeine_mg", "drop", 0, beta, drop))
    # story h: a pressure fall of 5 hPa or more since yesterday, in a minority
    if "h" in s:
        sensitive = e.random(n) < 0.25
        fall = np.zeros((n, d))
        fall[:, 1:] = (np.diff(pressure, axis=1) <= -5.0).astype(float)
        beta = np.where(sensitive, np.log(strength[:, -2]), 0.0)
        effects.append(Effect("pressure_hpa", "drop", 0, beta, fall))
    # neck pain: a cause (per SD, the day before) in some, a symptom of attacks in others
    roll = e.random(n)
    neck_role = np.where(roll < 0.10, "cause", np.where(roll < 0.25, "symptom", "none"))
    back_role = np.where(e.random(n) < 0.05, "symptom", "none")
    neck_beta = np.where(neck_role == "cause", np.log(strength[:, -3]), 0.0)
    effects.append(Effect("neck_pain", "per_sd", 1, neck_beta, _lag(_zscore(neck), 1)))
    if "n" in s:
        for effect in effects:
            effect.beta = np.zeros(n)
        neck_role[:] = "none"
        back_role[:] = "none"

    # --- unrecorded risk (log odds ratios) ------------------------------------------
    hidden = np.zeros((n, d))
    if "h" in s:
        hidden += np.where(
            holiday_risk_person[:, None] & hol["holiday"], np.log(holiday_or)[:, None], 0.0
        )
        hidden += np.where(
            holiday_risk_person[:, None] & hol["travel"],
            np.log(travel_or / holiday_or)[:, None],
            0.0,
        )
    wk = _rng(seed, "week")
    shape = wk.choice(["none", "weekend", "monday", "both"], n, p=[0.6, 0.15, 0.1, 0.15])
    sat_or, mon_or = wk.uniform(1.5, 2.5, n), wk.uniform(1.4, 2.2, n)
    if "i" in s:
        let_down = np.isin(shape, ["weekend", "both"])[:, None]
        monday = np.isin(shape, ["monday", "both"])[:, None]
        hidden += np.where(let_down & (cal["dow"] == 5), np.log(sat_or)[:, None], 0.0)
        hidden += np.where(let_down & (cal["dow"] == 6), 0.5 * np.log(sat_or)[:, None], 0.0)
        hidden += np.where(monday & (cal["dow"] == 0), np.log(mon_or)[:, None], 0.0)
        latent["weekly_shape"] = np.broadcast_to(shape[:, None], (n, d)).copy()
    if "j" in s:
        hidden += np.where(mm_person[:, None] & menstrual_window, np.log(mm_or)[:, None], 0.0)
    latent["hidden_log_or"] = hidden

    # --- attacks --------------------------------------------------------------------
    a = _rng(seed, "attacks")
    linear = sum(
        ef.beta[:, None] * (ef.exposure - ef.exposure.mean(1, keepdims=True)) for ef in effects
    )
    linear = linear + hidden - hidden.mean(1, keepdims=True)
    alpha = np.log(daily_p / (1 - daily_p))
    logit = alpha[:, None] + linear
    hour = np.clip(a.normal(11.0, 5.0, (n, d)), 0.0, 23.9)
    dur_max = np.where(rate_kind == 2, 20.0, 72.0)[:, None]
    duration = np.clip(np.exp(a.normal(np.log(16.0), 0.7, (n, d))), 4.0, dur_max)
    u = a.random((n, d))
    med = _rng(seed, "medicine")
    combo_user = med.random(n) < 0.5
    overuser = combo_user & (med.random(n) < 0.5)
    headache_days = med.random((n, d)) < np.where(overuser, 0.3, 0.05)[:, None]
    take_onset, take_after = med.random((n, d)) < 0.9, med.random((n, d)) < 0.6
    moh_gamma = np.log(med.uniform(1.06, 1.12, n))
    onset = np.zeros((n, d), bool)
    painkiller = np.zeros((n, d), bool)
    moh_log = np.zeros((n, d))
    busy_until = np.full(n, -1)
    end_offset = np.floor((hour + duration) / 24.0).astype(np.int64)
    for t in range(d):
        if "l" in s:
            recent = painkiller[:, max(0, t - 30) : t].sum(1)
            moh_log[:, t] = np.where(
                overuser, np.minimum(moh_gamma * np.maximum(recent - 8, 0), np.log(3.0)), 0.0
            )
        p = 1.0 / (1.0 + np.exp(-(logit[:, t] + moh_log[:, t])))
        new = (t > busy_until) & (u[:, t] < p)
        onset[:, t] = new
        busy_until = np.where(new, t + end_offset[:, t], busy_until)
        if "l" in s:
            after = onset[:, t - 1] & take_after[:, t] if t > 0 else np.zeros(n, bool)
            painkiller[:, t] = (new & take_onset[:, t]) | after | headache_days[:, t]
    inside = np.zeros((n, d), bool)  # days of an attack after its onset day
    for k in range(1, 4):
        started = onset[:, : d - k] & (end_offset[:, : d - k] >= k)
        inside[:, k:] |= started
    latent.update(
        onset=onset,
        inside=inside,
        linear=linear,
        logit=logit + moh_log,
        moh_log=moh_log,
        painkiller=painkiller,
    )

    # --- what attacks do to the day's record ----------------------------------------
    c = _rng(seed, "consequences")
    exercise = np.where(inside, exercise * 0.3, exercise)
    skipped = np.where(inside, skipped + c.poisson(1.0, (n, d)), skipped)
    screen = np.where(inside, np.maximum(screen - 1.5, 0.0), screen)
    sleep = np.where(inside, np.minimum(sleep + 1.0, 13.0), sleep)
    quality = np.where(inside, np.maximum(quality - 1.0, 0.0), quality)
    sym = (neck_role == "symptom")[:, None] & (onset | inside)
    neck = np.where(sym, np.minimum(neck + c.uniform(2.0, 4.0, (n, d)), 10.0), neck)
    sym = (back_role == "symptom")[:, None] & (onset | inside)
    back = np.where(sym, np.minimum(back + c.uniform(2.0, 4.0, (n, d)), 10.0), back)
    tablets = np.zeros((n, d))
    if "l" in s:
        doses = 1 + (c.random((n, d)) < 0.4)
        tablets = np.where(painkiller & combo_user[:, None], doses * TABLET_CAFFEINE_MG, 0.0)
    latent["tablet_caffeine"] = tablets
    latent.update(
        stress=stress,
        sleep_hours=sleep,
        sleep_quality=quality,
        caffeine_diet=caffeine,
        alcohol_units=alcohol,
        exercise_min=exercise,
        screen_hours=screen,
        skipped_meals=skipped.astype(float),
        neck_pain=neck,
        low_back_pain=back,
        pressure_hpa=pressure,
        temperature_c=temperature,
    )

    # --- recording -------------------------------------------------------------------
    r = _rng(seed, "recording")
    rec_p = {
        "sleep_hours": 0.95,
        "sleep_quality": 0.8,
        "stress": 0.9,
        "caffeine_mg": 0.75,
        "alcohol_units": 0.75,
        "exercise_min": 0.7,
        "screen_hours": 0.6,
        "skipped_meals": 0.6,
        "neck_pain": 0.55,
        "low_back_pain": 0.45,
    }
    records = {v: r.random(n) < p for v, p in rec_p.items()}
    weather_rec = r.random(n) < 0.4
    records["pressure_hpa"] = weather_rec
    records["temperature_c"] = weather_rec & (r.random(n) < 0.9)
    blank_rate = r.uniform(0.02, 0.12, n)[:, None] + np.where(onset | inside, 0.25, 0.0)
    row_present = window & (r.random((n, d)) >= r.uniform(0.0, 0.05, n)[:, None])
    values = {
        "sleep_hours": np.round(sleep * 2) / 2,
        "sleep_quality": np.rint(quality),
        "stress": np.rint(stress),
        "caffeine_mg": np.round((caffeine + tablets) / 10) * 10,
        "alcohol_units": np.rint(alcohol),
        "exercise_min": np.round(exercise / 5) * 5,
        "screen_hours": np.round(screen * 2) / 2,
        "skipped_meals": skipped.astype(float),
        "neck_pain": np.rint(neck),
        "low_back_pain": np.rint(back),
        "pressure_hpa": np.round(pressure, 1),
        "temperature_c": np.round(temperature, 1),
    }
    rec: dict[str, np.ndarray] = {}
    for v in VARIABLES:
        blank = r.random((n, d)) < blank_rate
        if v in ("pressure_hpa", "temperature_c"):
            blank = r.random((n, d)) < 0.02  # filled by the phone
        rec[v] = np.where(records[v][:, None] & ~blank, values[v], np.nan)

    # story k: recording errors
    k_rng = _rng(seed, "errors")
    shift_person = k_rng.random(n) < 0.4
    shift_u, shift_hour = k_rng.random((n, d)), k_rng.uniform(7.0, 10.0, (n, d))
    if "k" in s:
        slips = (k_rng.random(n) < 0.4)[:, None] & (k_rng.random((n, d)) < 0.015)
        slip = slips & (rec["sleep_hours"] < 10)
        rec["sleep_hours"] = np.where(
            slip, rec["sleep_hours"] + SLEEP_SLIP_HOURS, rec["sleep_hours"]
        )
        tenfold = (k_rng.random(n) < 0.3)[:, None] & (k_rng.random((n, d)) < 0.01)
        tenfold &= (rec["caffeine_mg"] > 0) & (rec["caffeine_mg"] * 10 <= 5000)
        rec["caffeine_mg"] = np.where(tenfold, rec["caffeine_mg"] * 10, rec["caffeine_mg"])
        zero_filler = k_rng.random(n) < 0.3
        for v in ZERO_FOR_BLANK:
            fill = (zero_filler & records[v])[:, None] & np.isnan(rec[v])
            rec[v] = np.where(fill, 0.0, rec[v])
        copier = k_rng.random(n) < 0.2
        for i in np.flatnonzero(copier):
            for _ in range(k_rng.integers(1, 4)):
                t = int(k_rng.integers(0, max(1, d - 7)))
                for v in VARIABLES[:8] + SPINE_VARIABLES:
                    rec[v][i, t + 1 : t + 7] = rec[v][i, t]
                row_present[i, t : t + 7] = window[i, t : t + 7]
        gapper = k_rng.random(n) < 0.3
        attacks_kept = np.ones((n, d), bool)
        for i in np.flatnonzero(gapper):
            for _ in range(k_rng.integers(1, 3)):
                g0 = int(k_rng.integers(0, d))
                g1 = g0 + int(k_rng.integers(14, 46))
                row_present[i, g0:g1] = False
                if k_rng.random() < 0.5:
                    attacks_kept[i, g0:g1] = False
        latent["gap_attacks_kept"] = attacks_kept
        latent["late_entry"] = shift_person[:, None] & (hour >= 15.0) & (shift_u < 0.6) & onset
    for v in VARIABLES:
        rec[v] = np.where(row_present, rec[v], np.nan)
        latent[f"rec_{v}"] = rec[v]
    latent["row_present"] = row_present

    # --- frames -------------------------------------------------------------------
    ids = np.array([f"P{i:04d}" for i in range(n)])
    patients = pl.DataFrame(
        {
            "patient_id": ids,
            "sex": np.where(female, "female", "male"),
            "birth_year": birth_year,
            "time_zone": ["Europe/Vienna"] * n,
        }
    )
    pi, di = np.nonzero(row_present)
    cols: dict[str, object] = {
        "patient_id": ids[pi],
        "date": pl.Series(dates[pi, di]).cast(pl.Date),
    }
    for v in VARIABLES:
        col = pl.Series(v, rec[v][pi, di]).fill_nan(None)
        if v in ("sleep_quality", "stress", "skipped_meals", "neck_pain", "low_back_pain"):
            col = col.cast(pl.Int64)
        cols[v] = col
    days = pl.DataFrame(cols)
    days = days.select(
        "patient_id", "date", *[v for v in VARIABLES if days[v].null_count() < days.height]
    )

    keep = onset & window
    if "k" in s:
        keep &= latent["gap_attacks_kept"]
    ai, ad = np.nonzero(keep)
    start_min = np.rint(hour[ai, ad] * 60).astype("timedelta64[m]")
    begin = dates[ai, ad].astype("datetime64[m]") + start_min
    end = begin + np.rint(duration[ai, ad] * 60).astype("timedelta64[m]")
    if "k" in s:
        late = latent["late_entry"][ai, ad]
        moved = dates[ai, ad].astype("datetime64[m]") + np.timedelta64(1, "D")
        moved = moved + np.rint(shift_hour[ai, ad] * 60).astype("timedelta64[m]")
        begin = np.where(late, moved, begin)
        end = np.maximum(end, begin + np.timedelta64(60, "m"))
    rec_onset = np.zeros((n, d), bool)
    rec_inside = np.zeros((n, d), bool)
    day_of = (begin.astype("datetime64[D]") - dates[ai, 0]).astype(np.int64)
    end_day = (end.astype("datetime64[D]") - dates[ai, 0]).astype(np.int64)
    ok = day_of < length[ai]
    rec_onset[ai[ok], day_of[ok]] = True
    for k in range(1, 5):
        m = ok & (end_day - day_of >= k) & (day_of + k < d)
        rec_inside[ai[m], day_of[m] + k] = True
    latent["rec_onset"] = rec_onset
    latent["rec_inside"] = rec_inside & ~rec_onset
    intensity = a.choice([1, 2, 3], len(ai), p=[0.25, 0.5, 0.25])
    attacks = pl.DataFrame(
        {
            "patient_id": ids[ai],
            "start": np.datetime_as_string(begin, unit="m"),
            "end": np.datetime_as_string(end, unit="m"),
            "intensity": intensity,
        }
    ).filter(pl.Series(ok))

    medications = pl.DataFrame()
    if "l" in s:
        mi, md = np.nonzero(painkiller & window)
        taken = dates[mi, md].astype("datetime64[m]") + np.rint(
            np.clip(hour[mi, md] + 1.0, 0, 23.9) * 60
        ).astype("timedelta64[m]")
        combo = combo_user[mi]
        medications = pl.DataFrame(
            {
                "patient_id": ids[mi],
                "taken_at": np.datetime_as_string(taken, unit="m"),
                "drug": np.where(combo, "aspirin/paracetamol/caffeine", "ibuprofen"),
                "class": np.where(combo, "combination_analgesic", "non_opioid_analgesic"),
            }
        )

    # who is who (N × D like the rest), for the test and the diagnosis of false calls
    flags = {
        "holiday_risk": holiday_risk_person,
        "cramps": cramps,
        "combo_user": combo_user,
        "overuser": overuser,
        "has_neck_pain": has_neck,
        "has_back_pain": has_back,
    }
    if "k" in s:
        flags["zero_filler"] = zero_filler
    for name, flag in flags.items():
        latent[name] = np.broadcast_to(flag[:, None], (n, d)).copy()
    truth = _truth(ids, days, effects, neck_role, back_role)
    return Cohort(patients, days, attacks, truth, latent, medications, stories)


def _truth(
    ids: np.ndarray,
    days: pl.DataFrame,
    effects: list[Effect],
    neck_role: np.ndarray,
    back_role: np.ndarray,
) -> pl.DataFrame:
    """One row per person × variable in score_calls' contract: a variable is recorded
    when the written diary holds at least one value of it for that person."""
    present = days.group_by("patient_id").agg(
        [pl.col(v).is_not_null().any().alias(v) for v in VARIABLES if v in days.columns]
    )
    seen = {v: dict(zip(present["patient_id"], present[v], strict=True)) for v in present.columns}
    rows = []
    for i, pid in enumerate(ids):
        for v in VARIABLES:
            role, form, lag, log_or = "none", None, None, 0.0
            for ef in effects:
                if ef.variable == v and ef.beta[i] != 0:
                    role = "trigger" if ef.beta[i] > 0 else "protector"
                    form, lag, log_or = ef.form, str(ef.lag), float(ef.beta[i])
            if v == "neck_pain" and role == "trigger":
                role = "cause"
            elif v == "neck_pain" and neck_role[i] == "symptom":
                role, form = "symptom", "symptom"
            if v == "low_back_pain" and back_role[i] == "symptom":
                role, form = "symptom", "symptom"
            recorded = bool(seen.get(v, {}).get(pid, False))
            rows.append((pid, v, recorded, role, form, lag, log_or))
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
        },
        orient="row",
    )


def main() -> None:
    """Write one cohort's diary folder (OUT/diary) and its truth (OUT/truth.csv)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output folder (OUT/diary and OUT/truth.csv)")
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stories", default="", help=f"letters of {STORY_LETTERS}")
    args = parser.parse_args()
    cohort = generate(args.patients, args.days, args.seed, args.stories)
    folder = cohort.write(Path(args.out) / "diary")
    print(
        f"{folder}: {cohort.patients.height} people, {cohort.days.height} check-ins, "
        f"{cohort.attacks.height} attacks; truth at {folder.parent / 'truth.csv'}"
    )


if __name__ == "__main__":
    main()
