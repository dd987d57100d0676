"""A fifth adversarial diary generator, written blind to painlink's analyses.

It writes painlink CSV diaries (docs/csv-format.md, version 3) whose people have
0-3 true causes each, and stories that try to make a per-person "what sets off my
attacks?" analysis call a variable a trigger, protector or cause when, for that
person, it does nothing.  The truth (``truth.csv``) has one row per person x
variable that the person could have in days.csv: ``patient_id, variable,
recorded, role, form, lag, true_log_or, story``.

Nothing here is shared with painlink: only numpy, polars and the standard library.

The base world
--------------
* 75% women; birth years 1962-2006; a regional weather series shared by the
  people of one of four regions (pressure AR(1), temperature seasonal).
* Daily check-ins with sleep_hours, sleep_quality, stress, caffeine_mg,
  alcohol_units, exercise_min, screen_hours, skipped_meals, pressure_hpa and
  temperature_c (weather: half of the people), neck_pain, low_back_pain, the own
  yes/no factor ``chocolate`` (a third of the people) and ``menstruation`` (60%
  of the cycling women).  Each person keeps a subset of the columns; 85-99% of
  days are checked in (missing completely at random) and 2% of cells are blank.
  Exposures are person-specific AR(1) series with a mild weekend pattern.
* Attacks: a daily onset hazard, logistic on the person's baseline (2-6 attacks a
  month) plus their true causes; the causes are centred per person so they move
  attacks between days, not the person's rate.  Attacks last 4-72 h (lognormal),
  block new onsets while they last, and carry ICHD-style features.  About 75% of
  attacks are treated (medications.csv, linked by attack_id).
* True causes (0-3 per person; OR 1.5-3 per SD, for presence, or per SD of a
  day-over-day pressure fall; lag 0-2 days).  Forms:
  ``per_sd`` (the person's own z-score of the true value), ``presence``
  (value > 0; for menstruation a flow day), ``drop`` (the fall in pressure since
  the day before, per SD of that fall).  Role ``trigger`` when the log odds ratio
  is positive, ``protector`` when negative (more sleep, better sleep quality and
  any exercise protect); neck_pain as a cause has role ``cause``.
* Neck pain, independent of causes: about 35% of people have real neck pain with
  their attacks (role ``symptom``: raised on every day an attack covers), 12% have
  it rising the day before and the day of onset (role ``premonitory``); low-back
  pain is a symptom for 8%.  Everything else has role ``none``.

Stories (each switched on alone by its letter; each draws from its own RNG stream)
------------------------------------------------------------------------------
``p`` missing not at random.  80% of people check in on attack days, the day
  before and the day after (and every day an attack covers) 97% of the time, on
  "bad" ordinary days (true stress high, sleep quality low or neck pain high)
  85%, and on good ordinary days only 25-60%.  40% of them fill blank stretches of
  3-10 days afterwards, with values pulled 70% of the way to their usual.
  Roles unchanged: recorded stress/sleep quality/neck pain that now differ
  between attack and non-attack days are ``none``.
``q`` recall and reporting bias.  70% of people write stress higher, sleep
  quality lower and neck pain higher than it was on the onset day (by 1.5-3
  points), 0.7 and 0.4 of that on the next two days, and 40% of the entries for
  the day before an onset are written after it and coloured by 0.6 of it.
  Only the recorded value moves: for these variables the truth keeps the
  person's real role (``none`` unless it was a real cause, symptom or early sign).
``r`` high-frequency/chronic.  A third of people have 12-25 headache days a month
  with attacks of 24-72 h, leaving few days at risk; they take painkillers on
  most headache days, and on headache days they exercise less, sit at screens
  less, sleep longer, drink no alcohol and feel more stressed.  Those changes are
  consequences of the attacks: role ``none`` (the changes are applied only to
  variables that are not the person's causes).
``s`` rota / shift work.  40% of people work a rota (4 nights on / 4 off; a
  continental 2 days, 2 nights, 4 off; or 2-2-3 with day fortnights alternating
  with night fortnights).  Night shifts cut and worsen sleep and raise caffeine,
  stress and screen time; the switch days into and out of nights do so most.  An
  unrecorded circadian disruption on switch days (and the day after) raises the
  onset odds 2-3.5 fold in 60% of the shift workers.  For shift workers nothing
  recorded is a cause: their recorded causes are removed (roles ``none``; a
  neck-pain symptom or early sign stays).
``t`` odd values.  Heavy tails: 2-6 days a year of 700-1200 mg caffeine, binge
  drinking of 8-16 units a few times a year (only for people in whom caffeine or
  alcohol is not a per-SD cause).  Always/never exposures: some people drink
  alcohol almost every day or on 1-4 days a year; chocolate eaten almost every
  day or almost never; skipped meals almost never.  Units: 8% write sleep in
  minutes in an own factor ``sleep_minutes`` (sleep_hours left blank), 8% write
  stress on 0-100 in an own factor ``stress_100`` (stress blank), 8% write sleep
  as hours.minutes (7h30 -> 7.3).  Copying: 15% copy the previous value for runs
  of 10-40 days in stress, caffeine or screen time.  Roles: an own factor carries
  the role of the variable it measures (``stress_100`` is a trigger exactly when
  the person's stress is); everything else keeps its base role.
``u`` an unrecorded episodic state.  80% of people have 2-6 episodes a year of
  3-10 days (a cold/flu, or a busy spell at work) that worsen sleep, raise screen
  time and stress, cut exercise (a busy spell also raises caffeine and skipped
  meals) and raise the onset odds 1.8-3.5 fold.  The episode is not in the diary
  and none of the recorded variables it moves gets a role from it (``none``
  unless the variable was already a true cause).
``v`` nothing acts.  No recorded variable has any effect: every cause, symptom
  and early sign is removed and every role is ``none``; the unrecorded stories
  (s, u) still act, and the recording stories (p, q) still shape what is written.  Combined with the
  others every call is a false call.

Run: ``python benchmarks/generator_five.py OUT --patients 100 --days 365 --seed 1
--stories pqrstu`` writes OUT/ (the diary) and OUT/../truth.csv.
"""

from __future__ import annotations

import argparse
import json
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

STORY_LETTERS = "pqrstuv"
SPINE_REGIONS = {"neck": "neck_pain", "back": "low_back_pain"}

LAST_DAY = date(2026, 11, 26)  # attacks started on it end by 2026-11-29 at the latest
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Australia/Sydney")

#: day column -> (rounding step, lowest, highest, written as a whole number)
NUMERIC = {
    "sleep_hours": (0.5, 0.0, 24.0, False),
    "sleep_quality": (1.0, 0.0, 10.0, True),
    "stress": (1.0, 0.0, 10.0, True),
    "caffeine_mg": (10.0, 0.0, 5000.0, True),
    "alcohol_units": (0.5, 0.0, 100.0, False),
    "exercise_min": (5.0, 0.0, 1440.0, True),
    "screen_hours": (0.5, 0.0, 24.0, False),
    "skipped_meals": (1.0, 0.0, 10.0, True),
    "pressure_hpa": (0.1, 850.0, 1100.0, False),
    "temperature_c": (0.1, -70.0, 60.0, False),
    "neck_pain": (1.0, 0.0, 10.0, True),
    "low_back_pain": (1.0, 0.0, 10.0, True),
}
BODY = tuple(v for v in NUMERIC if v not in SPINE_REGIONS.values())
#: how often a person keeps each column (pressure and temperature go together)
KEEPS = {
    "sleep_hours": 0.95,
    "sleep_quality": 0.85,
    "stress": 0.95,
    "caffeine_mg": 0.8,
    "alcohol_units": 0.8,
    "exercise_min": 0.75,
    "screen_hours": 0.6,
    "skipped_meals": 0.7,
    "weather": 0.5,
    "neck_pain": 0.7,
    "low_back_pain": 0.6,
    "chocolate": 0.35,
}
#: candidate causes: variable, form, sign of the log odds ratio, possible lags, weight
CANDIDATES = (
    ("sleep_hours", "per_sd", -1, (0, 1), 1.0),
    ("sleep_quality", "per_sd", -1, (0, 1), 0.6),
    ("stress", "per_sd", 1, (0, 1, 2), 1.2),
    ("caffeine_mg", "per_sd", 1, (0, 1), 0.6),
    ("alcohol_units", "presence", 1, (0, 1), 1.0),
    ("exercise_min", "presence", -1, (0, 1), 0.6),
    ("screen_hours", "per_sd", 1, (0,), 0.6),
    ("skipped_meals", "presence", 1, (0,), 0.8),
    ("pressure_hpa", "drop", 1, (0, 1), 0.8),
    ("neck_pain", "per_sd", 1, (0, 1), 0.5),
    ("menstruation", "presence", 1, (0,), 1.6),
)
DRUGS = {  # name: (class, dose mg)
    "sumatriptan": ("triptan", 50),
    "rizatriptan": ("triptan", 10),
    "ibuprofen": ("non_opioid_analgesic", 400),
    "paracetamol": ("non_opioid_analgesic", 1000),
    "naproxen": ("non_opioid_analgesic", 500),
}
PAINKILLERS = ("ibuprofen", "paracetamol", "naproxen")


@dataclass
class Cohort:
    patients: pl.DataFrame
    days: pl.DataFrame
    attacks: pl.DataFrame
    truth: pl.DataFrame
    latent: dict[str, np.ndarray]
    medications: pl.DataFrame = field(default_factory=pl.DataFrame)
    stories: str = ""

    def write(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"format": "painlink-diary-csv", "version": 3}
        (folder / "painlink.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
        self.patients.write_csv(folder / "patients.csv")
        self.days.write_csv(folder / "days.csv")
        self.attacks.write_csv(folder / "attacks.csv")
        if self.medications.height:
            self.medications.write_csv(folder / "medications.csv")
        self.truth.write_csv(folder.parent / "truth.csv")
        return folder


# ---------------------------------------------------------------- helpers


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _persistent(rng: np.random.Generator, n: int, d: int, rho: np.ndarray) -> np.ndarray:
    """Standard-normal series, one row per person, with lag-1 correlation ``rho``."""
    rho = np.broadcast_to(np.asarray(rho, float), (n,))
    shocks = rng.standard_normal((n, d))
    out = np.empty((n, d))
    out[:, 0] = shocks[:, 0]
    scale = np.sqrt(1 - rho**2)
    for j in range(1, d):
        out[:, j] = rho * out[:, j - 1] + scale * shocks[:, j]
    return out


def _shift(x: np.ndarray, lag: int) -> np.ndarray:
    """x moved ``lag`` days later along the last axis, zeros in front."""
    if lag == 0:
        return x.copy()
    out = np.zeros_like(x)
    out[..., lag:] = x[..., :-lag]
    return out


def _standard(x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The person's own z-score over their diary days (0 outside)."""
    values = x[inside]
    sd = values.std() if values.size > 1 else 0.0
    if sd < 1e-9:
        return np.zeros_like(x)
    return np.where(inside, (x - values.mean()) / sd, 0.0)


def _signal(form: str, x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    if form == "per_sd":
        return _standard(x, inside)
    if form == "presence":
        return (x > 0).astype(float)
    if form == "drop":
        fall = np.zeros_like(x)
        fall[1:] = x[:-1] - x[1:]
        return _standard(fall, inside)
    raise ValueError(form)


def _round(x: np.ndarray, step: float, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.round(x / step) * step, lo, hi)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a 1-d bool array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


# ---------------------------------------------------------------- the world


def generate(n_patients: int, n_days: int, seed: int, stories: str = "") -> Cohort:
    bad = set(stories) - set(STORY_LETTERS)
    if bad:
        raise ValueError(f"unknown stories {sorted(bad)}; choose from {STORY_LETTERS!r}")
    if n_patients < 1 or n_days < 14:
        raise ValueError("need at least one patient and 14 days")
    on = set(stories)
    n, d = n_patients, n_days
    first = LAST_DAY - timedelta(days=d - 1)
    dates = np.array([first + timedelta(days=j) for j in range(d)])
    weekday = np.array([x.weekday() for x in dates])
    weekend = (weekday >= 5).astype(float)
    doy = np.array([x.timetuple().tm_yday for x in dates])

    # ---- people
    rp = _rng(seed, "people")
    pids = [f"g5-{seed}-{i:04d}" for i in range(n)]
    female = rp.random(n) < 0.75
    birth = rp.integers(1962, 2007, n)
    age = LAST_DAY.year - birth
    cycling = female & (age < 50) & (rp.random(n) < 0.9)
    region = rp.integers(0, 4, n)
    zone = np.array(ZONES)[region]
    window = np.ones((n, d), bool)
    late = rp.random(n) < 0.12
    early = rp.random(n) < 0.08
    for i in np.flatnonzero(late):
        window[i, : rp.integers(1, max(2, d // 5))] = False
    for i in np.flatnonzero(early):
        window[i, d - rp.integers(1, max(2, d // 6)) :] = False
    rate = rp.uniform(2, 6, n)  # attacks a month
    dur_median = rp.uniform(6, 24, n)
    aura_person = rp.random(n) < 0.25
    drug_pref = rp.choice(list(DRUGS), n, p=[0.3, 0.15, 0.25, 0.2, 0.1])

    # ---- weather, shared per region
    rw = _rng(seed, "weather")
    press_r = 1013 + 8 * _persistent(rw, 4, d, np.full(4, 0.8))
    south = np.array([0, 0, 0, 1])  # Sydney's seasons are turned round
    season = np.cos(2 * np.pi * (doy[None, :] - 200) / 365.25 + np.pi * south[:, None])
    temp_r = 12 + 9 * season + 3 * _persistent(rw, 4, d, np.full(4, 0.7))

    # ---- true exposures
    rx = _rng(seed, "exposures")
    x: dict[str, np.ndarray] = {}
    col = lambda lo, hi: rx.uniform(lo, hi, n)[:, None]  # noqa: E731
    sleep_mean, sleep_sd = col(6.0, 8.0), col(0.6, 1.2)
    x["sleep_hours"] = np.clip(
        sleep_mean + 0.6 * weekend + sleep_sd * _persistent(rx, n, d, rx.uniform(0.1, 0.4, n)),
        2.5,
        12,
    )
    sq_noise = _persistent(rx, n, d, rx.uniform(0.1, 0.4, n))
    x["sleep_quality"] = (
        col(4.5, 7.5)
        + 1.2 * (x["sleep_hours"] - sleep_mean) / sleep_sd * 0.6
        + col(1, 1.8) * sq_noise
    )
    x["stress"] = (
        col(2, 6) - 0.8 * weekend + col(1.2, 2.4) * _persistent(rx, n, d, rx.uniform(0.3, 0.7, n))
    )
    habit = np.where(rx.random(n) < 0.1, 0.0, rx.uniform(40, 420, n))[:, None]
    x["caffeine_mg"] = np.clip(
        habit * (1 - 0.15 * weekend) + 0.25 * habit * rx.standard_normal((n, d)), 0, None
    )
    p_drink = rx.uniform(0.0, 0.35, n)[:, None] * (1 + 1.5 * weekend)
    units = rx.gamma(2.0, rx.uniform(0.6, 1.3, n)[:, None], (n, d))
    x["alcohol_units"] = np.where(rx.random((n, d)) < p_drink, np.maximum(units, 0.5), 0.0)
    p_ex = rx.uniform(0.1, 0.7, n)[:, None]
    minutes = rx.uniform(20, 90, (n, d))
    x["exercise_min"] = np.where(rx.random((n, d)) < p_ex, minutes, 0.0)
    x["screen_hours"] = np.clip(
        col(2, 8) + 0.8 * weekend + 1.3 * _persistent(rx, n, d, np.full(n, 0.4)), 0, 18
    )
    x["skipped_meals"] = np.minimum(rx.poisson(rx.uniform(0.03, 0.4, n)[:, None], (n, d)), 3)
    x["pressure_hpa"] = press_r[region] + 0.3 * rx.standard_normal((n, d))
    x["temperature_c"] = temp_r[region] + 0.5 * rx.standard_normal((n, d))
    neck_base = col(0, 2.5) + col(0.6, 1.6) * _persistent(rx, n, d, np.full(n, 0.7))
    x["neck_pain"] = np.clip(neck_base, 0, 10)
    x["low_back_pain"] = np.clip(
        col(-0.5, 2.5) + 1.2 * _persistent(rx, n, d, np.full(n, 0.7)), 0, 10
    )
    x["chocolate"] = (rx.random((n, d)) < rx.uniform(0.05, 0.45, n)[:, None]).astype(float)
    # menstrual cycle: flow level 0 none, 1 spotting, 2 light, 3 medium, 4 heavy
    flow = np.zeros((n, d))
    for i in np.flatnonzero(cycling):
        day = -int(rx.integers(0, 28))
        while day < d:
            length = int(rx.integers(3, 7))
            levels = [4, 3, 2, 2, 1, 1][:length]
            levels[0] = int(rx.choice([3, 4]))
            for k, level in enumerate(levels):
                if 0 <= day + k < d:
                    flow[i, day + k] = level
            day += int(np.clip(rx.normal(28, 2.5), 22, 36))
    x["menstruation"] = flow
    neck_size, back_size = rx.uniform(2, 4, n), rx.uniform(1.5, 3, n)

    # ---- who keeps which column
    rk = _rng(seed, "keeps")
    keeps = {v: rk.random(n) < p for v, p in KEEPS.items()}
    keeps["pressure_hpa"] = keeps["temperature_c"] = keeps.pop("weather")
    keeps["menstruation"] = cycling & (rk.random(n) < 0.6)
    completeness = rk.uniform(0.85, 0.99, n)

    # ---- true causes and attack-linked roles
    rc = _rng(seed, "causes")
    causes: list[list[tuple[str, str, int, float]]] = []  # (variable, form, lag, log OR)
    for i in range(n):
        k = int(rc.choice(4, p=[0.25, 0.35, 0.25, 0.15]))
        cands = [c for c in CANDIDATES if c[0] != "menstruation" or cycling[i]]
        w = np.array([c[4] for c in cands])
        pick = rc.choice(len(cands), size=k, replace=False, p=w / w.sum())
        mine = []
        for j in pick:
            var, form, sign, lags, _ = cands[j]
            mine.append(
                (var, form, int(rc.choice(lags)), sign * rc.uniform(np.log(1.5), np.log(3)))
            )
        causes.append(mine)
    neck_draw, back_draw = rc.random(n), rc.random(n)
    neck_role = np.where(
        neck_draw < 0.35, "symptom", np.where(neck_draw < 0.47, "premonitory", "none")
    )
    back_role = np.where(back_draw < 0.08, "symptom", "none")
    for i in range(n):
        if any(c[0] == "neck_pain" for c in causes[i]):
            neck_role[i] = "cause"
    story_of: dict[tuple[int, str], set[str]] = {}

    def mark(i: int, var: str, letter: str) -> None:
        story_of.setdefault((i, var), set()).add(letter)

    latent: dict[str, np.ndarray] = {"window": window}
    extra = np.zeros((n, d))  # unrecorded log-odds terms

    # ---- s: rota / shift work (true exposures; an unrecorded switch-day risk)
    shift_worker = np.zeros(n, bool)
    if "s" in on:
        rs = _rng(seed, "s")
        shift_worker = rs.random(n) < 0.4
        rotas = (
            [2, 2, 2, 2, 0, 0, 0, 0],
            [1, 1, 2, 2, 0, 0, 0, 0],
            [1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 2, 2, 0, 0, 2, 2, 2, 0, 0, 2, 2, 0, 0, 0],
        )
        shift = np.zeros((n, d), int)
        switch = np.zeros((n, d), bool)
        for i in np.flatnonzero(shift_worker):
            rota = np.array(rotas[rs.integers(0, 3)])
            shift[i] = np.roll(np.resize(rota, d + len(rota)), -int(rs.integers(0, len(rota))))[:d]
            night = shift[i] == 2
            change = np.zeros(d, bool)
            change[1:] = night[1:] != night[:-1]
            switch[i] = change
        night = shift == 2
        x["sleep_hours"] = np.clip(x["sleep_hours"] - 1.3 * night - 2.0 * switch, 2, 12)
        x["sleep_quality"] = x["sleep_quality"] - 1.5 * night - 2.5 * switch
        x["caffeine_mg"] = x["caffeine_mg"] + 140 * night + 120 * switch + 40 * (shift == 1)
        x["stress"] = x["stress"] + 1.2 * night + 1.0 * switch + 0.5 * (shift == 1)
        x["screen_hours"] = x["screen_hours"] + 1.0 * night
        x["exercise_min"] = np.where(switch, 0.0, x["exercise_min"])
        disrupted = shift_worker & (rs.random(n) < 0.6)
        bump = rs.uniform(np.log(2), np.log(3.5), n)
        risky = switch | _shift(switch.astype(float), 1).astype(bool)
        extra += np.where(disrupted[:, None] & risky, bump[:, None], 0.0)
        latent["shift"], latent["switch"] = shift, switch
        latent["circadian_disrupted"] = disrupted
        for i in np.flatnonzero(shift_worker):
            causes[i] = []
            if neck_role[i] == "cause":
                neck_role[i] = "none"
            for var in ("sleep_hours", "sleep_quality", "caffeine_mg", "stress", "screen_hours"):
                mark(i, var, "s")
            mark(i, "exercise_min", "s")
    if "v" in on:
        causes = [[] for _ in range(n)]
        neck_role[:] = "none"
        back_role[:] = "none"
    cause_of = [{c[0]: c for c in mine} for mine in causes]

    # ---- u: unrecorded episodes (colds, busy spells)
    if "u" in on:
        ru = _rng(seed, "u")
        episode = np.zeros((n, d), bool)
        busy = np.zeros((n, d), bool)
        has = ru.random(n) < 0.8
        for i in np.flatnonzero(has):
            for _ in range(int(ru.integers(2, 7) * d / 365 + ru.random())):
                start, length = int(ru.integers(0, d)), int(ru.integers(3, 11))
                episode[i, start : start + length] = True
                if ru.random() < 0.5:
                    busy[i, start : start + length] = True
        cold = episode & ~busy
        x["sleep_hours"] = np.clip(x["sleep_hours"] - 0.8 * busy + 0.4 * cold, 2, 12)
        x["sleep_quality"] = x["sleep_quality"] - 2.0 * episode
        x["screen_hours"] = x["screen_hours"] + 1.8 * episode
        x["stress"] = x["stress"] + 2.2 * busy + 0.8 * cold
        x["exercise_min"] = np.where(episode & (ru.random((n, d)) < 0.85), 0.0, x["exercise_min"])
        x["caffeine_mg"] = x["caffeine_mg"] + 90 * busy
        x["skipped_meals"] = np.where(
            busy, x["skipped_meals"] + (ru.random((n, d)) < 0.5), x["skipped_meals"]
        )
        bump = ru.uniform(np.log(1.8), np.log(3.5), n)
        extra += np.where(episode, bump[:, None], 0.0)
        latent["episode"], latent["busy"] = episode, busy
        for i in np.flatnonzero(has):
            for var in ("sleep_hours", "sleep_quality", "screen_hours", "stress", "exercise_min"):
                mark(i, var, "u")
            mark(i, "caffeine_mg", "u")
            mark(i, "skipped_meals", "u")

    # ---- t (true part): heavy tails, always/never exposures
    if "t" in on:
        rt = _rng(seed, "t-true")
        for i in range(n):
            caf, alc = cause_of[i].get("caffeine_mg"), cause_of[i].get("alcohol_units")
            if rt.random() < 0.3 and (caf is None or caf[1] != "per_sd"):
                days = rt.choice(d, int(rt.integers(2, 7)), replace=False)
                x["caffeine_mg"][i, days] = rt.uniform(700, 1200, days.size)
                mark(i, "caffeine_mg", "t")
            style = rt.random()
            if style < 0.12:  # nearly every day
                x["alcohol_units"][i] = np.maximum(
                    x["alcohol_units"][i], rt.uniform(1, 3, d) * (rt.random(d) < 0.96)
                )
                mark(i, "alcohol_units", "t")
            elif style < 0.27:  # nearly never
                x["alcohol_units"][i] = 0.0
                days = rt.choice(d, int(rt.integers(1, 5)), replace=False)
                x["alcohol_units"][i, days] = rt.uniform(1, 4, days.size)
                mark(i, "alcohol_units", "t")
            if rt.random() < 0.25 and (alc is None or alc[1] != "per_sd"):
                days = rt.choice(d, int(rt.integers(2, 6)), replace=False)
                x["alcohol_units"][i, days] = rt.uniform(8, 16, days.size)
                mark(i, "alcohol_units", "t")
            choc = rt.random()
            if choc < 0.2:
                x["chocolate"][i] = (rt.random(d) < 0.97).astype(float)
                mark(i, "chocolate", "t")
            elif choc < 0.4:
                x["chocolate"][i] = (rt.random(d) < 0.01).astype(float)
                mark(i, "chocolate", "t")
            if rt.random() < 0.15 and "skipped_meals" not in cause_of[i]:
                x["skipped_meals"][i] = (rt.random(d) < 0.01).astype(float)
                mark(i, "skipped_meals", "t")

    # ---- r: who is chronic
    chronic = np.zeros(n, bool)
    if "r" in on:
        rr = _rng(seed, "r")
        chronic = rr.random(n) < 1 / 3
        headache_share = rr.uniform(12, 25, n) / 30
        latent["chronic"] = chronic

    # ---- onset hazard
    x["sleep_quality"] = np.clip(x["sleep_quality"], 0, 10)
    x["stress"] = np.clip(x["stress"], 0, 10)
    effect = np.zeros((n, d))
    for i in range(n):
        for var, form, lag, beta in causes[i]:
            effect[i] += beta * _shift(_signal(form, x[var][i], window[i]), lag)
        if causes[i]:  # centre: the causes move attacks between days, not the rate
            effect[i] -= np.log(np.mean(np.exp(effect[i][window[i]])))
    p0 = rate / 30 * 1.1
    if "r" in on:
        cover = 3.5  # calendar days an attack of 24-72 h covers, roughly
        p_chronic = np.minimum(headache_share / (cover * (1 - headache_share)), 0.55)
        p0 = np.where(chronic, p_chronic, p0)
    logit = np.log(p0 / (1 - p0))[:, None] + effect + extra
    prob = 1 / (1 + np.exp(-logit))
    latent["logit"] = logit

    # ---- attacks
    ra = _rng(seed, "attacks")
    hour = np.where(ra.random((n, d)) < 0.5, ra.uniform(5, 10, (n, d)), ra.uniform(0, 24, (n, d)))
    hour = np.floor(hour * 60) / 60
    draw = ra.random((n, d))
    dur = np.clip(np.exp(np.log(dur_median)[:, None] + 0.7 * ra.standard_normal((n, d))), 4, 72)
    dur = np.where(chronic[:, None], ra.uniform(24, 72, (n, d)), dur)
    dur = np.round(dur * 4) / 4
    prev_end = np.full(n, -1e9)
    onset = np.zeros((n, d), bool)
    for j in range(d):
        t = j * 24 + hour[:, j]
        fire = window[:, j] & (t > prev_end + 2) & (draw[:, j] < prob[:, j])
        onset[:, j] = fire
        prev_end = np.where(fire, t + dur[:, j], prev_end)
    ai, aj = np.nonzero(onset)
    a_start = aj * 24 + hour[ai, aj]
    a_dur = dur[ai, aj]
    covered = np.zeros((n, d), bool)  # calendar days an attack covers
    last_day = np.minimum(((a_start + a_dur) // 24).astype(int), d - 1)
    for i, j, k in zip(ai.tolist(), aj.tolist(), last_day.tolist(), strict=True):
        covered[i, j : k + 1] = True
    covered &= window
    latent["onset"], latent["headache"] = onset, covered
    before_onset = np.zeros((n, d), bool)
    before_onset[:, :-1] = onset[:, 1:]
    near = covered | _shift(onset.astype(float), 1).astype(bool) | before_onset
    near &= window

    # ---- attack consequences on the true values
    of = onset.astype(float)
    for i in range(n):
        if neck_role[i] == "symptom":
            x["neck_pain"][i] += covered[i] * neck_size[i]
        elif neck_role[i] == "premonitory":
            x["neck_pain"][i] += (before_onset[i] + of[i]) * neck_size[i] * 0.75
        if back_role[i] == "symptom":
            x["low_back_pain"][i] += covered[i] * back_size[i]
    if "r" in on and "v" not in on:
        rr2 = _rng(seed, "r-consequences")
        for i in np.flatnonzero(chronic):
            h = covered[i]
            changes = {
                "exercise_min": np.where(h & (rr2.random(d) < 0.8), 0.0, x["exercise_min"][i]),
                "screen_hours": np.where(h, x["screen_hours"][i] * 0.6, x["screen_hours"][i]),
                "sleep_hours": np.where(
                    h, x["sleep_hours"][i] + rr2.uniform(0.5, 1.5), x["sleep_hours"][i]
                ),
                "alcohol_units": np.where(h, 0.0, x["alcohol_units"][i]),
                "stress": np.where(h, x["stress"][i] + rr2.uniform(0.5, 1.5), x["stress"][i]),
            }
            for var, new in changes.items():
                if var not in cause_of[i]:
                    x[var][i] = new
                    mark(i, var, "r")
    for v in ("neck_pain", "low_back_pain", "stress", "sleep_quality"):
        x[v] = np.clip(x[v], 0, 10)
    x["sleep_hours"] = np.clip(x["sleep_hours"], 2, 14)

    # ---- recording: which days are checked in
    rm = _rng(seed, "missing")
    checkin = window & (rm.random((n, d)) < completeness[:, None])
    rec = {v: a.copy() for v, a in x.items()}  # the recorded values, before rounding
    if "p" in on:
        rp2 = _rng(seed, "p")
        mnar = rp2.random(n) < 0.8
        p_good = rp2.uniform(0.25, 0.6, n)[:, None]
        bad_day = (
            (x["stress"] > np.percentile(x["stress"], 70, axis=1, keepdims=True))
            | (x["sleep_quality"] < np.percentile(x["sleep_quality"], 30, axis=1, keepdims=True))
            | (x["neck_pain"] > np.percentile(x["neck_pain"], 75, axis=1, keepdims=True) + 0.5)
        )
        chance = np.where(near, 0.97, np.where(bad_day, 0.85, p_good))
        mnar_checkin = window & (rp2.random((n, d)) < chance)
        checkin = np.where(mnar[:, None], mnar_checkin, checkin)
        fillers = mnar & (rp2.random(n) < 0.4)
        filled = np.zeros((n, d), bool)
        for i in np.flatnonzero(fillers):
            for a, b in _runs(window[i] & ~checkin[i]):
                if 3 <= b - a <= 10 and rp2.random() < 0.6:
                    filled[i, a:b] = True
        for v in NUMERIC:
            usual = np.nanmean(np.where(window, x[v], np.nan), axis=1, keepdims=True)
            rec[v] = np.where(filled, usual + 0.3 * (x[v] - usual), rec[v])
        rec["chocolate"] = np.where(filled, 0.0, rec["chocolate"])
        checkin |= filled
        latent["filled"], latent["mnar"] = filled, mnar
        for i in np.flatnonzero(mnar):
            for v in (
                [*NUMERIC, "chocolate"] if fillers[i] else ("stress", "sleep_quality", "neck_pain")
            ):
                mark(i, v, "p")
    if "q" in on:
        rq = _rng(seed, "q")
        biased = rq.random(n) < 0.7
        size = rq.uniform(1.5, 3.0, n)[:, None]
        colour = of + 0.7 * _shift(of, 1) + 0.4 * _shift(of, 2)
        before = before_onset * (rq.random((n, d)) < 0.4) * 0.6
        colour = np.minimum(np.maximum(colour, before), 1.0) * size * biased[:, None]
        rec["stress"] = rec["stress"] + colour
        rec["sleep_quality"] = rec["sleep_quality"] - colour
        rec["neck_pain"] = rec["neck_pain"] + colour
        latent["reporting_shift"] = colour
        for i in np.flatnonzero(biased):
            for v in ("stress", "sleep_quality", "neck_pain"):
                mark(i, v, "q")

    # ---- rounding to what people write
    written: dict[str, np.ndarray] = {}
    for v, (step, lo, hi, _) in NUMERIC.items():
        written[v] = _round(rec[v], step, lo, hi)
    fine = rk.random(n) < 0.3  # some write sleep to the quarter hour
    written["sleep_hours"] = np.where(
        fine[:, None], _round(rec["sleep_hours"], 0.25, 0, 24), written["sleep_hours"]
    )
    written["caffeine_mg"] = np.where(
        rk.random(n)[:, None] < 0.5, _round(rec["caffeine_mg"], 40, 0, 5000), written["caffeine_mg"]
    )
    written["chocolate"] = rec["chocolate"]
    written["menstruation"] = rec["menstruation"]
    own: dict[str, np.ndarray] = {}
    alias: dict[tuple[int, str], str] = {}  # (person, own factor) -> variable it measures
    if "t" in on:
        rt2 = _rng(seed, "t-recording")
        style = rt2.random(n)
        minutes = style < 0.08
        pct = (style >= 0.08) & (style < 0.16)
        hmm = (style >= 0.16) & (style < 0.24)
        own["sleep_minutes"] = np.where(
            minutes[:, None], np.round(rec["sleep_hours"] * 60 / 5) * 5, np.nan
        )
        written["sleep_hours"] = np.where(minutes[:, None], np.nan, written["sleep_hours"])
        own["stress_100"] = np.where(pct[:, None], _round(rec["stress"] * 10, 5, 0, 100), np.nan)
        written["stress"] = np.where(pct[:, None], np.nan, written["stress"])
        quarter = _round(rec["sleep_hours"], 0.25, 0, 24)
        hm = np.floor(quarter) + np.round((quarter - np.floor(quarter)) * 60) / 100
        written["sleep_hours"] = np.where(hmm[:, None], hm, written["sleep_hours"])
        for i in np.flatnonzero(minutes):
            alias[(i, "sleep_minutes")] = "sleep_hours"
            keeps["sleep_hours"][i] = True
            mark(i, "sleep_minutes", "t")
        for i in np.flatnonzero(pct):
            alias[(i, "stress_100")] = "stress"
            keeps["stress"][i] = True
            mark(i, "stress_100", "t")
        for i in np.flatnonzero(hmm):
            mark(i, "sleep_hours", "t")
        copier = rt2.random(n) < 0.15
        for i in np.flatnonzero(copier):
            for v in ("stress", "caffeine_mg", "screen_hours"):
                j = 0
                while j < d:
                    j += int(rt2.integers(10, 60))
                    length = int(rt2.integers(10, 41))
                    if j < d:
                        written[v][i, j : j + length] = written[v][i, j]
                        if v == "stress":
                            own["stress_100"][i, j : j + length] = own["stress_100"][i, j]
                    j += length
                mark(i, v, "t")

    # ---- cells
    cell_gap = rm.random((n, d, len(NUMERIC) + 2)) < 0.02
    columns: dict[str, np.ndarray] = {}
    for k, v in enumerate([*NUMERIC, "chocolate", "menstruation"]):
        values = written[v].astype(float)
        kept = keeps[v][:, None] & checkin & ~cell_gap[:, :, k]
        if v == "menstruation":
            kept = keeps[v][:, None] & checkin
        columns[v] = np.where(kept, values, np.nan)
    for v, values in own.items():
        columns[v] = np.where(checkin & (rm.random((n, d)) < 0.98), values, np.nan)
    latent["checkin"] = checkin

    # ---- frames
    ii, jj = np.nonzero(checkin)
    day_cols: dict[str, pl.Series] = {
        "patient_id": pl.Series(np.array(pids)[ii]),
        "date": pl.Series(np.array(dates, dtype="datetime64[D]")[jj]).cast(pl.Date),
    }
    for v, (_, _, _, whole) in NUMERIC.items():
        s = pl.Series(v, columns[v][ii, jj], nan_to_null=True)
        day_cols[v] = s.cast(pl.Int64) if whole else s
    flow_words = np.array(["none", "spotting", "light", "medium", "heavy"])
    m = columns["menstruation"][ii, jj]
    day_cols["menstruation"] = pl.Series(
        np.where(np.isnan(m), None, flow_words[np.nan_to_num(m).astype(int)]).tolist(),
        dtype=pl.String,
    )
    c = columns["chocolate"][ii, jj]
    day_cols["chocolate"] = pl.Series(
        np.where(np.isnan(c), None, np.where(c > 0, "yes", "no")).tolist(), dtype=pl.String
    )
    for v in own:
        day_cols[v] = pl.Series(v, columns[v][ii, jj], nan_to_null=True).cast(pl.Int64)
    days = pl.DataFrame(day_cols)

    patients = pl.DataFrame(
        {
            "patient_id": pids,
            "sex": np.where(female, "female", "male").tolist(),
            "birth_year": birth.tolist(),
            "time_zone": zone.tolist(),
            "headache_onset_age": np.minimum(age, rp.integers(8, 40, n)).tolist(),
            "family_history_migraine": np.where(rp.random(n) < 0.6, "yes", "no").tolist(),
        }
    )
    attacks, medications = _attack_frames(
        seed, pids, dates, ai, aj, a_start, a_dur, aura_person, drug_pref, chronic
    )
    truth = _truth(
        n, pids, columns, female, causes, neck_role, back_role, alias, story_of, list(own)
    )
    return Cohort(patients, days, attacks, truth, latent, medications, stories)


def _attack_frames(
    seed: int,
    pids: list[str],
    dates: np.ndarray,
    ai: np.ndarray,
    aj: np.ndarray,
    a_start: np.ndarray,
    a_dur: np.ndarray,
    aura_person: np.ndarray,
    drug_pref: np.ndarray,
    chronic: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rf = _rng(seed, "features")
    base = datetime.combine(dates[0], datetime.min.time())
    k = ai.size
    starts = [base + timedelta(hours=float(h)) for h in a_start]
    ends = [s + timedelta(hours=float(h)) for s, h in zip(starts, a_dur, strict=True)]
    counter: dict[int, int] = {}
    ids = []
    for i in ai.tolist():
        counter[i] = counter.get(i, 0) + 1
        ids.append(f"{pids[i]}-a{counter[i]:03d}")
    intensity = rf.choice([1, 2, 3], k, p=[0.25, 0.5, 0.25])
    nrs = np.clip(intensity * 3 + rf.integers(-1, 2, k), 1, 10)
    nausea = rf.random(k) < 0.6
    yes = lambda b: np.where(b, "yes", "no").tolist()  # noqa: E731
    attacks = pl.DataFrame(
        {
            "patient_id": np.array(pids)[ai].tolist(),
            "attack_id": ids,
            "start": pl.Series(starts, dtype=pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M"),
            "end": pl.Series(ends, dtype=pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M"),
            "intensity": intensity.tolist(),
            "intensity_nrs": nrs.tolist(),
            "side": rf.choice(
                ["left", "right", "bilateral", "side_shifting"], k, p=[0.3, 0.3, 0.3, 0.1]
            ).tolist(),
            "location": rf.choice(
                [
                    "temporal",
                    "frontal;temporal",
                    "orbital;temporal",
                    "whole_head",
                    "occipital;neck",
                ],
                k,
            ).tolist(),
            "quality": rf.choice(["pulsating", "pressing"], k, p=[0.7, 0.3]).tolist(),
            "aggravated_by_activity": yes(rf.random(k) < 0.7),
            "nausea": yes(nausea),
            "vomiting": yes(nausea & (rf.random(k) < 0.25)),
            "photophobia": yes(rf.random(k) < 0.8),
            "phonophobia": yes(rf.random(k) < 0.7),
            "aura": yes(aura_person[ai] & (rf.random(k) < 0.5)),
        }
    )
    med: dict[str, list] = {
        k2: []
        for k2 in (
            "patient_id",
            "taken_at",
            "drug",
            "class",
            "dose",
            "dose_unit",
            "relief_2h",
            "attack_id",
        )
    }

    def take(i: int, when: datetime, drug: str, attack: str) -> None:
        cls, dose = DRUGS[drug]
        med["patient_id"].append(pids[i])
        med["taken_at"].append(when.strftime("%Y-%m-%dT%H:%M"))
        med["drug"].append(drug)
        med["class"].append(cls)
        med["dose"].append(dose)
        med["dose_unit"].append("mg")
        med["relief_2h"].append(
            str(rf.choice(["none", "partial", "complete"], p=[0.25, 0.45, 0.3]))
        )
        med["attack_id"].append(attack)

    for n_, i in enumerate(ai.tolist()):
        start, end, aid = starts[n_], ends[n_], ids[n_]
        if rf.random() < 0.75:
            when = min(start + timedelta(minutes=int(rf.integers(10, 150))), end)
            take(i, when, str(drug_pref[i]), aid)
        if chronic[i]:
            day = start.replace(hour=0, minute=0) + timedelta(days=1)
            while day + timedelta(hours=9) < end:
                if rf.random() < 0.7:
                    take(
                        i,
                        day + timedelta(hours=8, minutes=int(rf.integers(0, 180))),
                        str(rf.choice(PAINKILLERS)),
                        aid,
                    )
                day += timedelta(days=1)
    return attacks, pl.DataFrame(med, schema_overrides={"dose": pl.Int64})


def _truth(
    n: int,
    pids: list[str],
    columns: dict[str, np.ndarray],
    female: np.ndarray,
    causes: list[list[tuple[str, str, int, float]]],
    neck_role: np.ndarray,
    back_role: np.ndarray,
    alias: dict[tuple[int, str], str],
    story_of: dict[tuple[int, str], set[str]],
    own: list[str],
) -> pl.DataFrame:
    rows = []
    names = [*NUMERIC, "chocolate", "menstruation", *own]
    recorded = {v: ~np.all(np.isnan(columns[v]), axis=1) for v in names}
    for i in range(n):
        mine = {c[0]: c for c in causes[i]}
        for v in names:
            if v == "menstruation" and not female[i]:
                continue
            measured = alias.get((i, v), v if v not in own else None)
            role, form, lag, beta = "none", None, None, 0.0
            if measured in mine:
                _, form, lag, beta = mine[measured]
                role = "trigger" if beta > 0 else "protector"
                if measured == "neck_pain":
                    role = "cause"
            elif measured == "neck_pain" and neck_role[i] != "none":
                role = str(neck_role[i])
                form, lag = ("with", 0) if role == "symptom" else ("before", 1)
            elif measured == "low_back_pain" and back_role[i] != "none":
                role, form, lag = "symptom", "with", 0
            rows.append(
                {
                    "patient_id": pids[i],
                    "variable": v,
                    "recorded": bool(recorded[v][i]),
                    "role": role,
                    "form": form,
                    "lag": None if lag is None else str(lag),
                    "true_log_or": float(beta),
                    "story": "".join(sorted(story_of.get((i, v), set()))),
                }
            )
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
            "story": pl.String,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the fifth adversarial diary cohort.")
    parser.add_argument("out", help="diary folder to write (truth.csv goes beside it)")
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stories", default="", help=f"letters of {STORY_LETTERS}")
    args = parser.parse_args()
    cohort = generate(args.patients, args.days, args.seed, args.stories)
    folder = cohort.write(args.out)
    print(
        f"{folder}: {cohort.patients.height} people, {cohort.days.height} days, "
        f"{cohort.attacks.height} attacks; truth in {folder.parent / 'truth.csv'}"
    )


if __name__ == "__main__":
    main()
