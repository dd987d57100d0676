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
from typing import Any

import numpy as np
import polars as pl

from painlink.days.exposures import EXPOSURES, derive_exposures
from painlink.diary.frames import DiaryFrames
from painlink.simulate.attacks import attack_tables
from painlink.simulate.records import (
    acute_medications,
    frt_exams,
    hit6_responses,
    overusing,
    spine_episodes,
)
from painlink.simulate.spec import (
    FIRST_NAMES,
    MENSTRUAL_OR,
    NECK_CAUSE_OR,
    PILL_FREE_OR,
    PROTECTOR_OR,
    RATE_RATIOS,
    TREATMENTS,
    TRIGGER_CANDIDATES,
    TRUE_ODDS_RATIOS,
    TYPES,
    ZONES,
    SimulationSpec,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


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
) -> tuple[DiaryFrames, list[dict[str, Any]], pl.DataFrame]:
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
    truth_factors: list[list[dict[str, Any]]] = [[] for _ in range(n)]

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

    drawn = attack_tables(rng, spec, ids, htype, neck_role, who, start_h, end_h, ongoing_last)
    attacks, aura, readings = drawn.attacks, drawn.aura, drawn.readings
    attack_ids, start_us = drawn.attack_ids, drawn.start_us
    pid = np.array(ids, dtype=object)
    base_dt = dt.datetime.combine(spec.start, dt.time())

    medications = acute_medications(rng, spec, pid, htype, who, day, start_us, end_h, attack_ids)

    # --- days the patient filled in (attack days are always logged in attacks.csv)
    compliance = rng.uniform(0.85, 1.0, size=n)
    recorded = rng.random((n, t)) < compliance[:, None]
    if spec.last_day_kept:
        recorded[:, -1] = True
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
    # a diary of 28 days or fewer ends before any treatment starts
    started = dates[t0] if t0 < t else dates[-1]
    treatments = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[treated], dtype=pl.String),
            "name": [TREATMENTS[treatment_idx[i]][0] for i in treated],
            "kind": [TREATMENTS[treatment_idx[i]][1] for i in treated],
            "start": pl.Series([started] * treated.size, dtype=pl.Date),
            "end": pl.Series([None] * treated.size, dtype=pl.Date),
        }
    )
    visits = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[treated], dtype=pl.String),
            "at": pl.Series(
                [dt.datetime.combine(started, dt.time(9, 0))] * treated.size,
                dtype=pl.Datetime("us"),
            ),
            "kind": "intake",
            "clinician": "Dr. Demo (simulated)",
        }
    )
    spine = spine_episodes(rng, pid, neck_obs, base_dt)
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
    exams = frt_exams(rng, pid, neck_role, manual, dates[t0] if t0 < t else None, dates[-1])
    # drawn last, so adding questionnaires left every earlier draw (and figure) unchanged
    hit6 = hit6_responses(rng, pid[treated], attacks, dates[t0] if t0 < t else None, dates[-1])

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
    overuse_flags = overusing(medications, n, pid, t)
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


def simulate(spec: SimulationSpec) -> Iterator[tuple[DiaryFrames, list[dict[str, Any]]]]:
    """Yield (diary, truth) chunk by chunk; each chunk is independent of the others' sizes."""
    for diary, truth, _risk in simulate_with_risk(spec):
        yield diary, truth


def simulate_with_risk(
    spec: SimulationSpec,
) -> Iterator[tuple[DiaryFrames, list[dict[str, Any]], pl.DataFrame]]:
    """As :func:`simulate`, plus each patient-day's true onset probability (the forecast
    oracle). Held in memory only: it is never written with the diary."""
    seeds = np.random.SeedSequence(spec.seed)
    n_chunks = math.ceil(spec.patients / spec.chunk_size) if spec.patients else 0
    for c, child in enumerate(seeds.spawn(n_chunks)):
        first = c * spec.chunk_size + 1
        n = min(spec.chunk_size, spec.patients - c * spec.chunk_size)
        yield _simulate_chunk(spec, first, n, np.random.default_rng(child))
