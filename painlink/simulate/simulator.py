"""Synthetic diaries with known truth: the test bed, the demo data and the benchmark input.

Each patient gets an ICHD-3 headache type, a handful of true triggers (odds ratios
at a lag of 0 or 1 day) among exposures that all patients record, a protector, a
role for neck pain (cause, symptom or neither), acute medication habits (some
overusing), possibly a treatment period with a known rate ratio, and possibly
enrolment at a peak of disease activity so regression to the mean can be seen.

Patients are generated in chunks with numpy, vectorised across patients and
looped only over days (the one place where state — an attack in progress —
carries over), so 100,000 × 365 patient-days stream through in bounded memory.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from painlink.days.exposures import EXPOSURES, derive_exposures
from painlink.diary.frames import DiaryFrames

#: headache types drawn, with their share of patients
TYPES: dict[str, tuple[str, float]] = {
    "1.1": ("Migraine without aura", 0.45),
    "1.2.1": ("Migraine with typical aura", 0.20),
    "1.3": ("Chronic migraine", 0.15),
    "2.2": ("Frequent episodic tension-type headache", 0.20),
}
#: exposures that may be a patient's true trigger, and the odds ratios drawn for them
TRIGGER_CANDIDATES = (
    "short_sleep",
    "high_stress",
    "stress_letdown",
    "skipped_meal",
    "alcohol",
    "caffeine_drop",
    "pressure_drop",
)
TRUE_ODDS_RATIOS = (2.0, 3.0, 4.0)
PROTECTOR_OR = 0.5
NECK_CAUSE_OR = 3.0
MENSTRUAL_OR = 2.5
PILL_FREE_OR = 2.0
RATE_RATIOS = (0.5, 0.7, 1.0)
TREATMENTS = (
    ("Upper cervical chiropractic", "chiropractic"),
    ("Manual therapy block", "manual_therapy"),
    ("Propranolol", "preventive_drug"),
    ("Physiotherapy", "physiotherapy"),
)
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Australia/Sydney", "UTC")
FIRST_NAMES = ("Ana", "Ben", "Chloé", "Dev", "Eun-ji", "Farah", "Gustav", "Hana", "Ines", "Jon")


@dataclass(frozen=True)
class SimulationSpec:
    patients: int = 50
    days: int = 180
    seed: int = 1
    start: dt.date = dt.date(2025, 1, 1)
    chunk_size: int = 2_000
    id_prefix: str = "SIM"
    type_shares: dict[str, float] = field(
        default_factory=lambda: {k: v[1] for k, v in TYPES.items()}
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ar1(rng: np.random.Generator, n: int, t: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise, shape (n, t)."""
    eps = rng.normal(0.0, sd * math.sqrt(1 - phi**2), size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = rng.normal(0.0, sd, size=n)
    for j in range(1, t):
        out[:, j] = phi * out[:, j - 1] + eps[:, j]
    return out


def _cycle(
    rng: np.random.Generator, menstruating: np.ndarray, pill: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray]:
    """Menstrual flow labels (n, t) and contraceptive phase labels for pill users."""
    n = menstruating.size
    flow = np.full((n, t), None, dtype=object)
    phase = np.full((n, t), None, dtype=object)
    pattern = np.array(["medium", "heavy", "medium", "light", "spotting"], dtype=object)
    for i in np.flatnonzero(menstruating):
        flow[i, :] = "none"
        if pill[i]:
            offset = rng.integers(0, 28)
            cycle_day = (np.arange(t) + offset) % 28
            phase[i, :] = np.where(cycle_day >= 21, "pill_free", "active")
            bleed = (cycle_day >= 22) & (cycle_day <= 25)
            flow[i, bleed] = "light"
            continue
        day = -int(rng.integers(0, 28))
        while day < t:
            length = int(np.clip(round(rng.normal(28, 2.5)), 21, 38))
            bleed_days = int(rng.integers(4, 6))
            for k in range(bleed_days):
                if 0 <= day + k < t:
                    flow[i, day + k] = pattern[min(k, len(pattern) - 1)]
            day += length
    return flow, phase


def _simulate_chunk(
    spec: SimulationSpec, first: int, n: int, rng: np.random.Generator
) -> tuple[DiaryFrames, list[dict], pl.DataFrame]:
    t = spec.days
    dates = [spec.start + dt.timedelta(days=j) for j in range(t)]
    weekday = np.array([d.weekday() for d in dates])
    weekend = weekday >= 5
    ids = [f"{spec.id_prefix}{first + i:06d}" for i in range(n)]

    codes = list(spec.type_shares)
    shares = np.array([spec.type_shares[c] for c in codes], dtype=float)
    htype = np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=shares / shares.sum())]
    female = rng.random(n) < np.where(np.isin(htype, ["2.2"]), 0.6, 0.75)
    birth_year = rng.integers(1960, 2006, size=n)
    age = spec.start.year - birth_year
    menstruating = female & (age >= 14) & (age <= 50)
    pill = menstruating & (rng.random(n) < 0.25)
    migraine = htype != "2.2"
    chronic = htype == "1.3"

    # --- exposures everyone records
    sleep = np.clip(np.round((7.0 + 0.6 * weekend + _ar1(rng, n, t, 0.5, 1.0)) * 2) / 2, 3, 11)
    stress_mean = rng.uniform(2.5, 5.5, size=n)[:, None]
    stress = np.clip(
        np.round(stress_mean + 1.2 * ~weekend - 1.0 * weekend + _ar1(rng, n, t, 0.6, 2.0)), 0, 10
    )
    skipped = rng.binomial(2, 0.06, size=(n, t)).astype(float)
    drink_p = np.where(weekend, 0.35, 0.12)[None, :] * rng.uniform(0.2, 1.5, size=(n, 1))
    alcohol = np.where(rng.random((n, t)) < drink_p, rng.integers(1, 5, size=(n, t)), 0).astype(
        float
    )
    habitual = rng.choice([0, 80, 160, 240, 320], size=n, p=[0.1, 0.25, 0.3, 0.25, 0.1])[:, None]
    drop = rng.random((n, t)) < 0.08
    caffeine = np.round(
        habitual * np.where(drop, rng.uniform(0, 0.3, (n, t)), rng.uniform(0.8, 1.2, (n, t))), -1
    )
    pressure = np.round(1013 + _ar1(rng, n, t, 0.8, 8.0), 1)
    season = np.sin(2 * np.pi * (np.arange(t) + spec.start.timetuple().tm_yday - 110) / 365.25)
    temperature = np.round(11 + 9 * season[None, :] + rng.normal(0, 3, (n, t)), 1)
    exercise = np.where(
        rng.random((n, t)) < rng.uniform(0.1, 0.5, (n, 1)), rng.integers(15, 75, (n, t)), 0
    ).astype(float)
    screen = np.clip(np.round(6 + _ar1(rng, n, t, 0.4, 2.0), 1), 0, 16)
    allergy = (rng.random((n, t)) < 0.05 * (1 + season[None, :])) & (rng.random((n, 1)) < 0.3)
    flow, phase = _cycle(rng, menstruating, pill, t)

    neck_role = rng.choice(np.array(["cause", "symptom", "none"], dtype=object), size=n)
    neck_level = rng.uniform(0.5, 2.5, size=(n, 1))
    neck_noise = _ar1(rng, n, t, 0.75, 1.2)
    neck_noise = np.where(neck_role[:, None] == "cause", neck_noise * 1.8, neck_noise)
    neck = np.clip(neck_level + neck_noise, 0, 10)  # before the attacks add symptom pain
    back = np.clip(np.round(rng.uniform(0, 3, (n, 1)) + _ar1(rng, n, t, 0.8, 1.3)), 0, 10)

    raw = pl.DataFrame(
        {
            "patient_id": np.repeat(np.array(ids, dtype=object), t),
            "sleep_hours": sleep.ravel(),
            "stress": stress.ravel(),
            "skipped_meals": skipped.ravel(),
            "alcohol_units": alcohol.ravel(),
            "caffeine_mg": caffeine.ravel(),
            "pressure_hpa": pressure.ravel(),
            "menstruation": pl.Series(flow.ravel().tolist(), dtype=pl.String),
            "contraceptive_phase": pl.Series(phase.ravel().tolist(), dtype=pl.String),
            "neck_pain": np.round(neck).ravel(),
            "exercise_min": exercise.ravel(),
        }
    )
    x = derive_exposures(raw)
    xs = {name: x[f"x_{name}"].fill_null(False).to_numpy().reshape(n, t) for name in EXPOSURES}

    # --- truth: triggers, protector, risk
    base_rate = np.where(
        chronic,
        rng.uniform(0.40, 0.55, n),
        np.where(migraine, rng.uniform(0.07, 0.18, n), rng.uniform(0.12, 0.30, n)),
    )
    logit = np.log(base_rate / (1 - base_rate))[:, None] * np.ones((1, t))
    truth_factors: list[list[dict]] = [[] for _ in range(n)]

    def add_effect(i: np.ndarray, name: str, odds: np.ndarray, lag: np.ndarray, role: str) -> None:
        for k, idx in enumerate(i):
            lagged = np.zeros(t, dtype=bool)
            L = int(lag[k])
            lagged[L:] = xs[name][idx, : t - L] if L else xs[name][idx]
            logit[idx] += math.log(odds[k]) * lagged
            truth_factors[idx].append(
                {
                    "factor": name,
                    "definition": EXPOSURES[name][0],
                    "lag": L,
                    "odds_ratio": float(odds[k]),
                    "role": role,
                }
            )

    n_triggers = rng.choice([0, 1, 2, 3], size=n, p=[0.15, 0.35, 0.3, 0.2])
    for i in range(n):
        picked = rng.choice(len(TRIGGER_CANDIDATES), size=n_triggers[i], replace=False)
        for j in picked:
            add_effect(
                np.array([i]),
                TRIGGER_CANDIDATES[j],
                np.array([rng.choice(TRUE_ODDS_RATIOS)]),
                np.array([rng.integers(0, 2)]),
                "trigger",
            )
    protected = np.flatnonzero(rng.random(n) < 0.3)
    add_effect(
        protected,
        "exercise",
        np.full(protected.size, PROTECTOR_OR),
        np.ones(protected.size, int),
        "protector",
    )
    men = np.flatnonzero(menstruating & migraine & (rng.random(n) < 0.6))
    add_effect(
        men, "menstrual_window", np.full(men.size, MENSTRUAL_OR), np.zeros(men.size, int), "trigger"
    )
    pf = np.flatnonzero(pill & migraine & (rng.random(n) < 0.6))
    add_effect(pf, "pill_free", np.full(pf.size, PILL_FREE_OR), np.zeros(pf.size, int), "trigger")
    cause = np.flatnonzero(neck_role == "cause")
    add_effect(
        cause, "neck_pain", np.full(cause.size, NECK_CAUSE_OR), np.ones(cause.size, int), "trigger"
    )
    listed = [{f["factor"] for f in fs} for fs in truth_factors]
    for i in range(n):
        for name in (*TRIGGER_CANDIDATES, "exercise", "neck_pain"):
            if name not in listed[i]:
                truth_factors[i].append(
                    {
                        "factor": name,
                        "definition": EXPOSURES[name][0],
                        "lag": None,
                        "odds_ratio": 1.0,
                        "role": "none",
                    }
                )

    # disease activity and regression to the mean
    has_treatment = rng.random(n) < 0.7
    peak = has_treatment & (rng.random(n) < 0.35)
    phi = 0.985
    activity = _ar1(rng, n, t, phi, 0.25)
    activity[peak, 0] = 0.9
    for j in range(1, t):
        activity[peak, j] = phi * activity[peak, j - 1] + rng.normal(
            0, 0.25 * math.sqrt(1 - phi**2), peak.sum()
        )
    logit += activity
    t0 = max(28, round(t * 0.4))
    rr = rng.choice(RATE_RATIOS, size=n)
    treatment_idx = rng.integers(0, len(TREATMENTS), size=n)
    on_treatment = np.zeros((n, t), dtype=bool)
    if t0 < t:
        on_treatment[has_treatment, t0:] = True
    # the rate ratio acts on the hazard; for these daily risks log-odds ≈ log-rate
    p_risk = _sigmoid(logit)
    p_risk = np.where(on_treatment, p_risk * rr[:, None], p_risk)

    # --- attacks: loop over days, an ongoing attack blocks a new onset
    duration_median = np.where(chronic, 16.0, np.where(migraine, 12.0, 4.0))
    busy_until = np.full(n, -1.0)  # in hours since the diary start
    onsets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    draws = rng.random((n, t))
    for j in range(t):
        day_start = 24.0 * j
        free = busy_until < day_start
        hit = np.flatnonzero(free & (draws[:, j] < p_risk[:, j]))
        if hit.size == 0:
            continue
        hour = np.clip(rng.normal(9, 4, hit.size), 0, 23.75)
        dur = np.exp(rng.normal(np.log(duration_median[hit]), 0.6))
        dur = np.where(migraine[hit], np.clip(dur, 1.5, 80), np.clip(dur, 0.5, 100))
        busy_until[hit] = day_start + hour + dur
        onsets.append((hit, np.full(hit.size, j), np.stack([hour, dur], axis=1)))

    if onsets:
        who = np.concatenate([o[0] for o in onsets])
        day = np.concatenate([o[1] for o in onsets])
        hd = np.concatenate([o[2] for o in onsets])
    else:
        who = np.zeros(0, int)
        day = np.zeros(0, int)
        hd = np.zeros((0, 2))
    order = np.lexsort((day, who))
    who, day, hd = who[order], day[order], hd[order]
    m = who.size
    start_h = 24.0 * day + hd[:, 0]
    end_h = start_h + hd[:, 1]
    ongoing_last = (end_h > 24.0 * t - 1) & (rng.random(m) < 0.5)  # some still open at the end

    # neck pain as a symptom: raised on attack days and the day before (prodrome)
    attack_day = np.zeros((n, t), dtype=bool)
    first_day = day
    last_day = np.minimum((end_h // 24).astype(int), t - 1)
    for k in range(m):
        attack_day[who[k], first_day[k] : last_day[k] + 1] = True
    prodrome = np.zeros((n, t), dtype=bool)
    prodrome[who[day > 0], day[day > 0] - 1] = True
    symptom = (neck_role == "symptom")[:, None]
    neck_obs = np.clip(np.round(neck + symptom * (3.0 * attack_day + 2.0 * prodrome)), 0, 10)

    # premonitory craving (an own factor): more likely the day before an attack
    craving_user = rng.random(n) < 0.4
    craving = (rng.random((n, t)) < (0.08 + 0.35 * prodrome)) & craving_user[:, None]

    # --- attack features by type
    at_type = htype[who]
    is_mig = at_type != "2.2"
    u = rng.random((m, 12))
    intensity = np.where(
        is_mig,
        np.select([u[:, 0] < 0.1, u[:, 0] < 0.55], [1, 2], 3),
        np.where(u[:, 0] < 0.6, 1, 2),
    )
    unilateral = np.where(is_mig, u[:, 1] < 0.6, u[:, 1] < 0.1)
    side = np.where(unilateral, np.where(u[:, 2] < 0.5, "left", "right"), "bilateral").astype(
        object
    )
    quality = np.where(
        is_mig,
        np.where(u[:, 3] < 0.7, "pulsating", "pressing"),
        np.where(u[:, 3] < 0.85, "pressing", "other"),
    )
    aggravated = np.where(is_mig, u[:, 4] < 0.8, u[:, 4] < 0.1)
    nausea = np.where(is_mig, u[:, 5] < 0.6, False)
    vomiting = nausea & (u[:, 6] < 0.25)
    photo = np.where(is_mig, u[:, 7] < 0.8, u[:, 7] < 0.15)
    phono = np.where(is_mig, u[:, 8] < 0.7, (u[:, 8] < 0.15) & ~photo)
    neck_flag = np.where((neck_role[who] == "symptom"), u[:, 9] < 0.75, u[:, 9] < 0.25)
    autonomic = is_mig & (u[:, 10] < 0.08)
    has_aura = (at_type == "1.2.1") & (u[:, 11] < 0.75)
    records_nrs = rng.random(n) < 0.5
    nrs = np.where(
        records_nrs[who],
        np.select(
            [intensity == 1, intensity == 2],
            [rng.integers(1, 4, m), rng.integers(4, 7, m)],
            rng.integers(7, 11, m),
        ),
        -1,
    )
    location = np.where(
        is_mig,
        np.where(unilateral, "temporal;orbital", "frontal;temporal"),
        np.where(u[:, 2] < 0.3, "occipital;neck", "frontal;temporal"),
    )

    base_dt = dt.datetime.combine(spec.start, dt.time())
    start_us = np.round(start_h * 4).astype(np.int64) * 15 * 60 * 1_000_000  # 15-minute steps
    end_us = np.round(end_h * 4).astype(np.int64) * 15 * 60 * 1_000_000
    start_col = pl.Series(start_us).cast(pl.Duration("us")) + base_dt
    end_col = (
        (pl.Series(end_us).cast(pl.Duration("us")) + base_dt).scatter(
            np.flatnonzero(ongoing_last), None
        )
        if m
        else pl.Series([], dtype=pl.Datetime("us"))
    )
    pid = np.array(ids, dtype=object)
    attack_ids = _sequence_ids(who, "A")
    attacks = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[who], dtype=pl.String),
            "attack_id": attack_ids,
            "start": start_col,
            "end": end_col,
            "intensity": intensity,
            "intensity_nrs": pl.Series(nrs, dtype=pl.Float64).replace(-1.0, None),
            "onset_to_peak_min": np.round(
                np.where(is_mig, rng.uniform(30, 120, m), rng.uniform(10, 60, m))
            ),
            "side": pl.Series(side, dtype=pl.String),
            "location": pl.Series(location, dtype=pl.String),
            "quality": pl.Series(quality, dtype=pl.String),
            "aggravated_by_activity": aggravated,
            "nausea": nausea,
            "vomiting": vomiting,
            "photophobia": photo,
            "phonophobia": phono,
            "cranial_autonomic": autonomic,
            "restlessness": np.zeros(m, dtype=bool),
            "neck_pain": neck_flag,
            "aura": has_aura,
        }
    )

    # aura symptoms: visual always, sensory in a third, each 5–60 min, before the headache
    aura_rows = np.flatnonzero(has_aura)
    n_sym = 1 + (rng.random(aura_rows.size) < 0.33)
    succession = np.full(m, None, dtype=object)
    succession[aura_rows] = n_sym > 1  # the second symptom follows the first
    attacks = attacks.with_columns(
        pl.Series("aura_succession", succession.tolist(), dtype=pl.Boolean)
    )
    sym_attack = np.repeat(aura_rows, n_sym)
    sym_index = (
        np.concatenate([np.arange(k) for k in n_sym]) if aura_rows.size else np.zeros(0, int)
    )
    sym_type = np.where(sym_index == 0, "visual", "sensory")
    sym_duration = np.round(rng.uniform(8, 45, sym_attack.size))
    lead = rng.uniform(20, 50, aura_rows.size)
    sym_offset = -np.repeat(lead, n_sym) + sym_index * 15.0
    aura = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[who[sym_attack]], dtype=pl.String),
            "attack_id": attack_ids.gather(sym_attack),
            "type": pl.Series(sym_type, dtype=pl.String),
            "start": start_col.gather(sym_attack)
            + pl.Series(np.round(sym_offset).astype(np.int64) * 60_000_000).cast(pl.Duration("us")),
            "duration_min": sym_duration,
            "positive": sym_index == 0,
            "unilateral": rng.random(sym_attack.size) < 0.85,
            "gradual_spread": rng.random(sym_attack.size) < 0.9,
        }
    )

    # intensity readings for half of the patients: at onset and at the peak
    read = np.flatnonzero(records_nrs[who])
    peak_min = attacks["onset_to_peak_min"].to_numpy()[read]
    readings = pl.concat(
        [
            pl.DataFrame(
                {
                    "patient_id": pl.Series(pid[who[read]], dtype=pl.String),
                    "attack_id": attack_ids.gather(read),
                    "at": start_col.gather(read)
                    + pl.Series((offset * 60_000_000).astype(np.int64)).cast(pl.Duration("us")),
                    # the onset reading is a step below the peak
                    "intensity": (
                        np.maximum(intensity[read] - 1, 1) if k == 0 else intensity[read]
                    ).astype(np.int64),
                    "intensity_nrs": pl.Series(
                        np.maximum(nrs[read] - (2 if k == 0 else 0), 1), dtype=pl.Float64
                    ),
                }
            )
            for k, offset in enumerate((np.zeros(read.size), np.round(peak_min)))
        ]
    )

    medications = _medications(rng, spec, pid, htype, who, day, start_us, end_h, attack_ids)

    # --- days the patient filled in (attack days are always logged in attacks.csv)
    compliance = rng.uniform(0.85, 1.0, size=n)
    recorded = rng.random((n, t)) < compliance[:, None]
    keep = recorded.ravel()
    date_col = pl.Series("date", np.tile(np.array(dates, dtype="datetime64[D]"), n)).cast(pl.Date)
    days = pl.DataFrame(
        {
            "patient_id": raw["patient_id"],
            "date": date_col,
            "sleep_hours": sleep.ravel(),
            "sleep_quality": np.clip(
                np.round(sleep.ravel() - 1 + rng.normal(0, 1.2, n * t)), 0, 10
            ),
            "stress": stress.ravel(),
            "skipped_meals": skipped.ravel().astype(np.int64),
            "alcohol_units": alcohol.ravel(),
            "caffeine_mg": caffeine.ravel(),
            "menstruation": raw["menstruation"],
            "contraceptive_phase": raw["contraceptive_phase"],
            "exercise_min": exercise.ravel(),
            "screen_hours": screen.ravel(),
            "allergy_symptoms": allergy.ravel(),
            "pressure_hpa": pressure.ravel(),
            "temperature_c": temperature.ravel(),
            "neck_pain": neck_obs.ravel(),
            "low_back_pain": back.ravel(),
        }
    ).filter(pl.Series(keep))
    craving_flat = craving.ravel()[keep]
    users = np.repeat(craving_user, t)[keep]
    factor_values = pl.DataFrame(
        {
            "patient_id": days["patient_id"].filter(pl.Series(users)),
            "date": days["date"].filter(pl.Series(users)),
            "name": "chocolate_craving",
            "value": craving_flat[users].astype(float),
        }
    )
    factors = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[craving_user], dtype=pl.String),
            "name": "chocolate_craving",
            "kind": "boolean",
        }
    )

    patients = pl.DataFrame(
        {
            "patient_id": ids,
            "display_name": [
                f"{FIRST_NAMES[(first + i) % len(FIRST_NAMES)]} (simulated)" for i in range(n)
            ],
            "birth_year": birth_year,
            "sex": np.where(female, "female", "male"),
            "time_zone": np.array(ZONES, dtype=object)[rng.integers(0, len(ZONES), n)],
            "headache_onset_age": np.clip(rng.normal(18, 6, n).round(), 5, age - 1).astype(
                np.int64
            ),
            "family_history_migraine": np.where(migraine, rng.random(n) < 0.6, rng.random(n) < 0.2),
            "history_cancer": rng.random(n) < 0.02,
            "history_immunosuppression": rng.random(n) < 0.01,
            "pregnant_or_postpartum": np.zeros(n, dtype=bool),
            "anticoagulants": rng.random(n) < 0.02,
        }
    )
    treated = np.flatnonzero(has_treatment) if t0 < t else np.zeros(0, int)
    treatments = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[treated], dtype=pl.String),
            "name": [TREATMENTS[treatment_idx[i]][0] for i in treated],
            "kind": [TREATMENTS[treatment_idx[i]][1] for i in treated],
            "start": pl.Series([dates[t0]] * treated.size, dtype=pl.Date),
            "end": pl.Series([None] * treated.size, dtype=pl.Date),
        }
    )
    visits = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[treated], dtype=pl.String),
            "at": pl.Series(
                [dt.datetime.combine(dates[t0], dt.time(9, 0))] * treated.size,
                dtype=pl.Datetime("us"),
            ),
            "kind": "intake",
            "clinician": "Dr. Demo (simulated)",
        }
    )
    spine = _spine_episodes(rng, pid, neck_obs, base_dt)
    manual = (
        np.array(
            [
                has_treatment[i]
                and TREATMENTS[treatment_idx[i]][1] in ("chiropractic", "manual_therapy")
                for i in range(n)
            ],
            dtype=bool,
        )
        if t0 < t
        else np.zeros(n, dtype=bool)
    )
    exams = _frt_exams(rng, pid, neck_role, manual, dates[t0] if t0 < t else None, dates[-1])
    # drawn last, so adding questionnaires left every earlier draw (and figure) unchanged
    hit6 = _hit6_responses(rng, pid[treated], attacks, dates[t0] if t0 < t else None, dates[-1])

    diary = DiaryFrames.from_tables(
        patients=patients,
        days=days,
        factor_values=factor_values,
        factors=factors,
        attacks=attacks,
        intensity_readings=readings,
        aura_symptoms=aura,
        medications=medications,
        spine_pain=spine,
        treatments=treatments,
        visits=visits,
        exam_measurements=exams,
        questionnaire_items=hit6,
    )
    overuse_flags = _overuse_flags(medications, n, pid, t)
    truth = []
    for i in range(n):
        truth.append(
            {
                "patient_id": ids[i],
                "diagnosis": {"code": htype[i], "name": TYPES[htype[i]][0]},
                "sex": "female" if female[i] else "male",
                "daily_onset_probability": round(float(base_rate[i]), 4),
                "factors": truth_factors[i],
                "premonitory": ["chocolate_craving"] if craving_user[i] else [],
                "neck_pain_role": neck_role[i],
                "treatment": (
                    {
                        "name": TREATMENTS[treatment_idx[i]][0],
                        "kind": TREATMENTS[treatment_idx[i]][1],
                        "start": dates[t0].isoformat(),
                        "rate_ratio": float(rr[i]),
                    }
                    if has_treatment[i] and t0 < t
                    else None
                ),
                "enrolled_at_peak": bool(peak[i]),
                "medication_overuse": overuse_flags.get(ids[i], False),
                "combined_oral_contraceptive": bool(pill[i]),
                "daily_record_compliance": round(float(compliance[i]), 3),
            }
        )
    risk = pl.DataFrame(
        {
            "patient_id": raw["patient_id"],
            "date": pl.Series(np.tile(np.array(dates, dtype="datetime64[D]"), n)).cast(pl.Date),
            "true_risk": p_risk.ravel(),
        }
    )
    return diary, truth, risk


def _sequence_ids(who: np.ndarray, prefix: str) -> pl.Series:
    """A0001, A0002 … numbered within each patient (``who`` is sorted)."""
    if who.size == 0:
        return pl.Series([], dtype=pl.String)
    starts = np.r_[0, np.flatnonzero(np.diff(who)) + 1]
    counter = np.arange(who.size) - np.repeat(starts, np.diff(np.r_[starts, who.size]))
    numbers = pl.Series(counter + 1).cast(pl.String).str.zfill(4)
    return (prefix + numbers).alias("attack_id")


ACUTE = {
    "migraine": (
        ("sumatriptan", 50.0),
        ("rizatriptan", 10.0),
        ("ibuprofen", 400.0),
        ("paracetamol+caffeine", 1000.0),
    ),
    "tth": (("paracetamol", 1000.0), ("ibuprofen", 400.0), ("acetylsalicylic acid", 500.0)),
}
RELIEF = np.array(["none", "partial", "complete"], dtype=object)


def _medications(
    rng: np.random.Generator,
    spec: SimulationSpec,
    pid: np.ndarray,
    htype: np.ndarray,
    who: np.ndarray,
    day: np.ndarray,
    start_us: np.ndarray,
    end_h: np.ndarray,
    attack_ids: pl.Series,
) -> pl.DataFrame:
    """Acute intakes: one per attack for most, one per attack day for overusers."""
    m, n, t = who.size, htype.size, spec.days
    overuser = (htype == "1.3") & (rng.random(n) < 0.6)
    drug_pick = rng.integers(0, 2, size=n)  # a patient's usual drug among the first two
    rows_who, rows_attack, rows_time = [], [], []
    take = rng.random(m) < np.where(htype[who] == "2.2", 0.5, 0.75)
    take |= overuser[who]
    for k in np.flatnonzero(take):
        last = min(int(end_h[k] // 24), t - 1)
        span = range(day[k], last + 1) if overuser[who[k]] else range(day[k], day[k] + 1)
        for j, d in enumerate(span):
            rows_who.append(who[k])
            rows_attack.append(k)
            rows_time.append(
                start_us[k] + 45 * 60_000_000 if j == 0 else d * 86_400_000_000 + 8 * 3_600_000_000
            )
    if not rows_who:
        return pl.DataFrame()
    w = np.array(rows_who)
    kind = np.where(htype[w] == "2.2", "tth", "migraine")
    which = drug_pick[w] + (rng.random(w.size) < 0.15) * 2  # sometimes a second-line drug
    drugs = np.array(
        [ACUTE[k][min(c, len(ACUTE[k]) - 1)] for k, c in zip(kind, which, strict=True)],
        dtype=object,
    )
    base_dt = dt.datetime.combine(spec.start, dt.time())
    return pl.DataFrame(
        {
            "patient_id": pl.Series(pid[w], dtype=pl.String),
            "taken_at": pl.Series(np.array(rows_time, dtype=np.int64)).cast(pl.Duration("us"))
            + base_dt,
            "drug": [d[0] for d in drugs],
            "dose": [d[1] for d in drugs],
            "dose_unit": "mg",
            "relief_2h": pl.Series(
                RELIEF[rng.choice(3, size=w.size, p=[0.2, 0.45, 0.35])], dtype=pl.String
            ),
            "attack_id": attack_ids.gather(np.array(rows_attack)),
        }
    ).with_columns(
        pl.col("drug")
        .replace_strict(
            {
                "sumatriptan": "triptan",
                "rizatriptan": "triptan",
                "ibuprofen": "non_opioid_analgesic",
                "paracetamol": "non_opioid_analgesic",
                "acetylsalicylic acid": "non_opioid_analgesic",
                "paracetamol+caffeine": "combination_analgesic",
            }
        )
        .alias("drug_class")
    )


def _overuse_flags(medications: pl.DataFrame, n: int, pid: np.ndarray, t: int) -> dict[str, bool]:
    """True where some 30-day window holds 10 or more acute-medication days (simulated truth)."""
    if not medications.height:
        return {}
    per_day = medications.select("patient_id", pl.col("taken_at").dt.date().alias("d")).unique()
    counts = per_day.group_by("patient_id").agg(pl.len().alias("days"))
    months = max(t / 30.0, 1.0)
    return {
        r["patient_id"]: r["days"] / months >= 10 and t >= 90 for r in counts.iter_rows(named=True)
    }


def _spine_episodes(
    rng: np.random.Generator, pid: np.ndarray, neck_obs: np.ndarray, base_dt: dt.datetime
) -> pl.DataFrame:
    """Upper-cervical episodes noted by patients whose neck pain flares (≥6/10)."""
    flare_p, flare_d = np.nonzero((neck_obs >= 6) & (rng.random(neck_obs.shape) < 0.3))
    if flare_p.size == 0:
        return pl.DataFrame()
    start = (
        pl.Series((flare_d * 24 + 7).astype(np.int64) * 3_600_000_000).cast(pl.Duration("us"))
        + base_dt
    )
    return pl.DataFrame(
        {
            "patient_id": pl.Series(pid[flare_p], dtype=pl.String),
            "region": "upper_cervical",
            "side": pl.Series(
                np.where(rng.random(flare_p.size) < 0.5, "left", "bilateral"), dtype=pl.String
            ),
            "start": start,
            "end": start + dt.timedelta(hours=10),
            "nrs": neck_obs[flare_p, flare_d].astype(float),
        }
    )


def _frt_exams(
    rng: np.random.Generator,
    pid: np.ndarray,
    neck_role: np.ndarray,
    examined: np.ndarray,
    first: dt.date | None,
    last: dt.date,
) -> pl.DataFrame:
    """Flexion–rotation tests at intake and at the last day, two trials per side.

    Patients whose neck pain causes attacks rotate less (true mean 28° vs 42°); each
    trial adds measurement noise (SD 3°), so repeated trials carry a known error.
    """
    who = np.flatnonzero(examined)
    if first is None or who.size == 0:
        return pl.DataFrame()
    rows = []
    for i in who:
        true = 28.0 if neck_role[i] == "cause" else 42.0
        side_low = "left" if rng.random() < 0.5 else "right"
        for visit in (first, last):
            at = dt.datetime.combine(visit, dt.time(9, 30))
            for side in ("left", "right"):
                level = true if side == side_low else true + 8.0
                for repeat in (1, 2):
                    rows.append(
                        {
                            "patient_id": pid[i],
                            "at": at,
                            "measure": f"frt_{side}_deg",
                            "value": round(float(level + rng.normal(0, 3.0)), 1),
                            "unit": "deg",
                            "method": "goniometer",
                            "examiner": "Dr. Demo (simulated)",
                            "repeat": repeat,
                        }
                    )
    return pl.DataFrame(rows)


HIT6_VALUES = np.array([6.0, 8.0, 10.0, 11.0, 13.0])


def _hit6_responses(
    rng: np.random.Generator,
    treated: np.ndarray,
    attacks: pl.DataFrame,
    first: dt.date | None,
    last: dt.date,
) -> pl.DataFrame:
    """HIT-6 at the intake visit and on the last day for treated patients.

    Impact follows the attacks of the 28 days before each response (total ≈ 44 + 2.2 per
    attack, capped to 36–78, roughly the frequency gradient of Kosinski 2003), and each
    item answer adds noise, so a response carries real measurement error.
    """
    if first is None or treated.size == 0:
        return pl.DataFrame()
    counts = {}
    for visit in (first, last):
        window = attacks.filter(
            (pl.col("start").dt.date() < visit)
            & (pl.col("start").dt.date() >= visit - dt.timedelta(days=28))
        )
        counts[visit] = dict(window.group_by("patient_id").len().iter_rows())
    rows = []
    for p in treated:
        for visit in (first, last):
            total = float(np.clip(44 + 2.2 * counts[visit].get(p, 0), 36, 78))
            level = (total - 36) / 42 * 4
            answers = np.clip(np.rint(level + rng.normal(0, 0.7, 6)), 0, 4).astype(int)
            rows += [
                {
                    "patient_id": p,
                    "completed_on": visit,
                    "instrument": "hit6",
                    "item": f"hit6-{k}",
                    "value": HIT6_VALUES[a],
                    "recorded_by": "Dr. Demo (simulated)",
                }
                for k, a in enumerate(answers, 1)
            ]
    return pl.DataFrame(rows)


def simulate(spec: SimulationSpec) -> Iterator[tuple[DiaryFrames, list[dict]]]:
    """Yield (diary, truth) chunk by chunk; each chunk is independent of the others' sizes."""
    for diary, truth, _risk in simulate_with_risk(spec):
        yield diary, truth


def simulate_with_risk(
    spec: SimulationSpec,
) -> Iterator[tuple[DiaryFrames, list[dict], pl.DataFrame]]:
    """As :func:`simulate`, plus each patient-day's true onset probability (the forecast
    oracle). Held in memory only: it is never written with the diary."""
    seeds = np.random.SeedSequence(spec.seed)
    n_chunks = math.ceil(spec.patients / spec.chunk_size) if spec.patients else 0
    for c, child in enumerate(seeds.spawn(n_chunks)):
        first = c * spec.chunk_size + 1
        n = min(spec.chunk_size, spec.patients - c * spec.chunk_size)
        yield _simulate_chunk(spec, first, n, np.random.default_rng(child))
