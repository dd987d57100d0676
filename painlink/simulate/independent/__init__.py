"""A second diary simulator whose story shares no code and no exposure definition with
painlink's analyses or with painlink's own simulator, so the analyses can be checked
on diaries they were not written for.

The story
---------
People (75% women; a quarter of the women on the combined pill) keep a daily diary.
Each person has their own level, day-to-day wander (AR(1)) and weekly rhythm for
sleep, sleep quality, stress, skipped meals, alcohol (drink days, more on Fridays and
Saturdays), caffeine, exercise, steps, screen time, allergy symptoms (a pollen season
of their own), neck and low-back pain, and their own town's weather (a seasonal
curve plus weather systems for pressure and temperature). Women have cycles of
their own length; pill users bleed in the pill-free week.

Not everyone records everything: each variable is recorded by a share of people
(:data:`variables.RECORD_SHARE`; men never record menstruation), days are skipped at
random and in runs (holidays), and a recorded variable is sometimes left empty.
Own factors: "red_wine" (yes/no), "steps" (numeric) and "yawning" (yes/no).

Attack onsets follow a logistic hazard on a drifting baseline (a slow sine plus a
mean-reverting random walk) plus 0–3 causes per person drawn among every numeric
variable, each acting through its own form (:data:`effects.CATALOGUE`: per person-SD
of the amount or of its logarithm, above or below the person's own percentile, a drop
or rise from the mean of the person's last 3–7 days, present or not) at lag 0, 1, 2
or spread over two lags; a menstrual window of the person's own (−2…0 to +1…+3 days
around the onset of bleeding) for some women, the pill-free week for some pill users.
Neck pain is per person none, a cause (a high-pain day raises the next day's odds),
a symptom (it rises with attacks) or an early sign (it rises 1–2 days before and
during attacks); low-back pain mostly none, some cause or symptom. A quarter of the
people have an early attack sign in stress or yawning. Attacks last 2 h to 3 days,
block new onsets while they last and lower the odds for 1–2 days after. Attacks also
change the diary: some people sleep longer, skip exercise, take a caffeine-containing
painkiller or look at screens less on attack days.

The truth frame has one row per person × variable with the role, the form and its
parameters, the lag(s), the true log odds ratio and whether the person records it.

:func:`simulate_treated` gives the same people treatments (:mod:`.treatments`: who
starts what, when — some right after a bad spell — and its effect on frequency,
duration and severity), redraws their attacks on a generator of its own
(:mod:`.treated_attacks`), adds HIT-6 (:mod:`.questionnaires`), and returns the
treatments' expected effects and each day's true onset risk beside the diary.
:func:`simulate_independent` is untouched by it, bit for bit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from painlink.diary.frames import DiaryFrames
from painlink.simulate.independent import attacks as attack_story
from painlink.simulate.independent import effects as effect_story
from painlink.simulate.independent import questionnaires as questionnaire_story
from painlink.simulate.independent import treated_attacks as treated_story
from painlink.simulate.independent import treatments as treatment_story
from painlink.simulate.independent.treatments import TREATMENT_TRUTH_SCHEMA
from painlink.simulate.independent.variables import (
    FLOW_WORDS,
    NUMERIC,
    OWN_FACTORS,
    VARIABLES,
    Calendar,
    latent_days,
    recording,
)

__all__ = [
    "TREATMENT_TRUTH_SCHEMA",
    "TRUTH_SCHEMA",
    "TreatedCohort",
    "simulate_independent",
    "simulate_treated",
]

TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "sex": pl.String(),
    "days": pl.Int64(),
    "attacks": pl.Int64(),
    "variable": pl.String(),
    "recorded": pl.Boolean(),
    "role": pl.String(),
    "form": pl.String(),
    "lag": pl.String(),
    "true_log_or": pl.Float64(),
    "threshold": pl.Float64(),
    "center": pl.Float64(),
    "scale": pl.Float64(),
    "baseline_days": pl.Int64(),
    "window_from": pl.Int64(),
    "window_to": pl.Int64(),
    "rise": pl.Float64(),
    "lead_days": pl.Int64(),
    "attack_changes_it": pl.Float64(),
}

_DRUGS = (
    ("sumatriptan", "triptan", 50.0, "mg"),
    ("ibuprofen", "non_opioid_analgesic", 400.0, "mg"),
    ("naproxen", "non_opioid_analgesic", 500.0, "mg"),
)
_CAFFEINE_DRUG = ("aspirin/paracetamol/caffeine", "combination_analgesic", 2.0, "tablet")


def simulate_independent(
    patients: int = 300,
    days: int = 365,
    seed: int = 1,
    start: dt.date = dt.date(2025, 1, 1),
    id_prefix: str = "IND",
) -> tuple[DiaryFrames, pl.DataFrame]:
    """Diaries of ``patients`` people over ``days`` days from ``start``, and their truth."""
    world = _World.draw(patients, days, seed, start)
    onset_minute, duration, covered = attack_story.run_attacks(world.rng, world.logit)
    return world.diary(onset_minute, duration, covered, id_prefix)


@dataclass(frozen=True)
class TreatedCohort:
    """Diaries in which most people start a treatment, and the truth behind them.

    ``truth`` is the trigger truth as :func:`simulate_independent` gives it;
    ``treatments`` one row per treated person (:data:`TREATMENT_TRUTH_SCHEMA`);
    ``risk`` each person-day's true onset probability (patient_id, date, true_risk);
    ``hit6`` one row per HIT-6 filled in, with its latent total and what drove it."""

    diary: DiaryFrames
    truth: pl.DataFrame
    treatments: pl.DataFrame
    risk: pl.DataFrame
    hit6: pl.DataFrame


def simulate_treated(
    patients: int = 300,
    days: int = 365,
    seed: int = 1,
    start: dt.date = dt.date(2025, 1, 1),
    id_prefix: str = "IND",
    replicates: int = 200,
) -> TreatedCohort:
    """The people, day variables and causes of :func:`simulate_independent` with the
    same arguments, now with treatments (:mod:`.treatments`): the attacks are drawn
    anew from a generator of their own, once untreated (to find the peaks people are
    enrolled at) and once treated on the same random numbers, and the expected
    quantities come from ``replicates`` Monte Carlo runs of the attack draws. HIT-6
    questionnaires follow the attacks (:mod:`.questionnaires`)."""
    world = _World.draw(patients, days, seed, start)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7EA7ED]))
    person = treated_story.Person.draw(rng, patients)
    cells = treated_story.Cells.draw(rng, patients, days)
    plans = treatment_story.draw_plans(rng, patients, days)
    untreated = treated_story.run(
        world.logit, person, cells, treated_story.Paths.none(patients, days)
    )
    treatment_story.place_peaks(plans, untreated.onset_minute >= 0)
    treatment_story.set_ends(plans, days)
    paths = treatment_story.paths(plans, days)
    realised = treated_story.run(world.logit, person, cells, paths)
    during, before, last_28 = treatment_story.periods(plans, days)
    exp = treated_story.expected(
        rng, world.logit, person, paths, during, before, last_28, replicates
    )
    diary, truth = world.diary(
        realised.onset_minute, realised.duration, realised.covered, id_prefix, realised
    )
    ids = diary.patients["patient_id"].to_list()
    treatments = treatment_story.truth_frame(ids, start, plans, exp, realised, days)
    items, hit6 = questionnaire_story.hit6(
        rng, ids, start, realised.covered, realised.onset_minute >= 0, realised.intensity
    )
    filled = DiaryFrames.from_tables(
        treatments=treatment_story.diary_frame(treatments), questionnaire_items=items
    )
    diary.treatments = filled.treatments
    diary.questionnaire_items = filled.questionnaire_items
    rows, cols = np.indices((patients, days)).reshape(2, -1)
    risk = pl.DataFrame(
        {
            "patient_id": np.array(ids)[rows],
            "date": np.datetime64(start) + cols.astype("timedelta64[D]"),
            "true_risk": realised.risk.ravel(),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    return TreatedCohort(diary=diary, truth=truth, treatments=treatments, risk=risk, hit6=hit6)


@dataclass(frozen=True)
class _World:
    """Everything drawn before the attacks: the generator (at the point the attacks
    draw from it), the people, their day variables, causes and onset log-odds."""

    rng: np.random.Generator
    cal: Calendar
    female: np.ndarray
    on_pill: np.ndarray
    latent: dict[str, np.ndarray]
    people: effect_story.People
    signs: dict[int, str]
    logit: np.ndarray

    @classmethod
    def draw(cls, patients: int, days: int, seed: int, start: dt.date) -> _World:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x1D1A27]))
        cal = Calendar(start, days)
        female = rng.random(patients) < 0.75
        on_pill = female & (rng.random(patients) < 0.25)
        latent = latent_days(rng, female, on_pill, cal)
        people, signs = effect_story.draw_people(rng, patients, latent, female, on_pill)
        logit = attack_story.drifting_baseline(rng, patients, days) + effect_story.hazard_part(
            people, latent
        )
        return cls(rng, cal, female, on_pill, latent, people, signs, logit)

    def diary(
        self,
        onset_minute: np.ndarray,
        duration: np.ndarray,
        covered: np.ndarray,
        id_prefix: str,
        severity: treated_story.Realised | None = None,
    ) -> tuple[DiaryFrames, pl.DataFrame]:
        """The diary the attacks leave and the trigger truth; ``severity`` (the
        treated story) replaces the drawn intensities and adds the NRS."""
        rng, people, cal = self.rng, self.people, self.cal
        patients = self.female.size
        onset = onset_minute >= 0
        values = attack_story.attack_changes(rng, people, self.latent, onset, covered)
        yawning_sign = np.array([self.signs.get(i) == "yawning" for i in range(patients)])
        records, present = recording(rng, self.female, self.on_pill, yawning_sign, cal.days)
        ids = [f"{id_prefix}{i + 1:04d}" for i in range(patients)]
        # the generator is drawn in the order the untreated diaries always used:
        # birth years, the days, then the attacks' details
        patient_frame = pl.DataFrame(
            {
                "patient_id": ids,
                "display_name": [f"Independent {i + 1} (simulated)" for i in range(patients)],
                "birth_year": rng.integers(1955, 2006, patients),
                "sex": np.where(self.female, "female", "male"),
                "time_zone": "UTC",
            }
        )
        days_frame = _days_frame(rng, ids, cal, values, records, present)
        attack_frames = _attack_frames(rng, ids, cal, onset_minute, duration, people)
        if severity is not None:
            rows, cols = np.nonzero(onset)
            attack_frames["attacks"] = attack_frames["attacks"].with_columns(
                intensity=pl.Series(severity.intensity[rows, cols]),
                intensity_nrs=pl.Series(severity.nrs[rows, cols]),
            )
        diary = DiaryFrames.from_tables(
            patients=patient_frame,
            days=days_frame,
            factors=_factors_frame(ids, records),
            factor_values=_factor_values(ids, cal, values, records, present),
            **attack_frames,
        )
        truth = _truth(ids, people, records, present, onset)
        return diary, truth


def _recorded(
    rng: np.random.Generator, name: str, x: np.ndarray, records: dict, present: np.ndarray
) -> np.ndarray:
    """The value where the person records the variable and wrote that day, else NaN
    (3% of written days leave the variable empty)."""
    keep = records[name][:, None] & present & (rng.random(x.shape) >= 0.03)
    return np.where(keep, x, np.nan)


def _days_frame(
    rng: np.random.Generator,
    ids: list[str],
    cal: Calendar,
    values: dict[str, np.ndarray],
    records: dict[str, np.ndarray],
    present: np.ndarray,
) -> pl.DataFrame:
    rows, cols = np.nonzero(present)
    dates = np.datetime64(cal.start) + cols.astype("timedelta64[D]")
    frame: dict[str, object] = {"patient_id": np.array(ids)[rows], "date": dates}
    for name in NUMERIC:
        x = _recorded(rng, name, values[name], records, present)[rows, cols]
        if name == "allergy_symptoms":
            frame[name] = pl.Series(name, x).fill_nan(None) > 0
        elif name == "skipped_meals":
            frame[name] = pl.Series(name, x).fill_nan(None).cast(pl.Int64)
        else:
            frame[name] = pl.Series(name, x).fill_nan(None)
    flow = _recorded(rng, "menstruation", values["menstruation"], records, present)[rows, cols]
    frame["menstruation"] = (
        pl.Series("menstruation", flow)
        .fill_nan(None)
        .replace_strict({float(i): w for i, w in enumerate(FLOW_WORDS)}, return_dtype=pl.String)
    )
    pill = _recorded(rng, "contraceptive_phase", values["contraceptive_phase"], records, present)
    pill = pill[rows, cols]
    frame["contraceptive_phase"] = (
        pl.Series("contraceptive_phase", pill)
        .fill_nan(None)
        .replace_strict({1.0: "pill_free", 0.0: "active"}, return_dtype=pl.String)
    )
    return pl.DataFrame(frame).with_columns(pl.col("date").cast(pl.Date))


def _factors_frame(ids: list[str], records: dict[str, np.ndarray]) -> pl.DataFrame:
    rows = [
        {"patient_id": ids[i], "name": name, "kind": kind}
        for name, kind in OWN_FACTORS.items()
        for i in np.flatnonzero(records[name])
    ]
    return pl.DataFrame(
        rows, schema={"patient_id": pl.String, "name": pl.String, "kind": pl.String}
    )


def _factor_values(
    ids: list[str],
    cal: Calendar,
    values: dict[str, np.ndarray],
    records: dict[str, np.ndarray],
    present: np.ndarray,
) -> pl.DataFrame:
    parts = []
    for name in OWN_FACTORS:
        keep = records[name][:, None] & present
        rows, cols = np.nonzero(keep)
        parts.append(
            pl.DataFrame(
                {
                    "patient_id": np.array(ids)[rows].tolist(),
                    "date": (np.datetime64(cal.start) + cols.astype("timedelta64[D]")).tolist(),
                    "name": [name] * rows.size,
                    "value": values[name][rows, cols].astype(float),
                },
                schema={
                    "patient_id": pl.String,
                    "date": pl.Date,
                    "name": pl.String,
                    "value": pl.Float64,
                },
            )
        )
    return pl.concat(parts)


def _attack_frames(
    rng: np.random.Generator,
    ids: list[str],
    cal: Calendar,
    onset_minute: np.ndarray,
    duration: np.ndarray,
    people: effect_story.People,
) -> dict[str, pl.DataFrame]:
    rows, cols = np.nonzero(onset_minute >= 0)
    base = np.datetime64(dt.datetime.combine(cal.start, dt.time()), "m")
    start = base + (cols * 1440 + onset_minute[rows, cols]).astype("timedelta64[m]")
    end = start + duration[rows, cols].astype("timedelta64[m]")
    last_day = np.datetime64(cal.start) + np.timedelta64(cal.days, "D")
    still_going = end >= last_day.astype("datetime64[m]")
    count = rows.size
    attack_ids = np.datetime_as_string(start, unit="m")
    if count:  # np.char.replace fails on an empty array (a short diary without attacks)
        attack_ids = np.char.replace(
            np.char.replace(np.char.replace(attack_ids, "-", ""), "T", ""), ":", ""
        )
    attacks = pl.DataFrame(
        {
            "patient_id": np.array(ids)[rows],
            "attack_id": attack_ids,
            "start": start.astype("datetime64[us]"),
            "end": pl.Series(end.astype("datetime64[us]")).set(pl.Series(still_going), None),
            "intensity": rng.choice([1, 2, 3], count, p=(0.3, 0.5, 0.2)),
            "side": rng.choice(["left", "right", "bilateral"], count, p=(0.35, 0.35, 0.3)),
            "nausea": rng.random(count) < 0.6,
            "photophobia": rng.random(count) < 0.8,
            "phonophobia": rng.random(count) < 0.7,
        }
    )
    caffeine_drug = people.reverse.get("caffeine_mg", np.zeros(len(ids))) > 0
    usual = rng.integers(0, len(_DRUGS), len(ids))
    took = rng.random(count) < 0.7
    drug = [_CAFFEINE_DRUG if caffeine_drug[r] else _DRUGS[usual[r]] for r in rows[took]]
    medications = pl.DataFrame(
        {
            "patient_id": np.array(ids)[rows[took]],
            "taken_at": (
                start[took] + rng.integers(15, 120, int(took.sum())).astype("timedelta64[m]")
            ).astype("datetime64[us]"),
            "drug": [d[0] for d in drug],
            "class": [d[1] for d in drug],
            "dose": [d[2] for d in drug],
            "dose_unit": [d[3] for d in drug],
            "attack_id": attack_ids[took],
        },
        schema_overrides={"drug": pl.String, "class": pl.String, "dose_unit": pl.String},
    ).rename({"class": "drug_class"})
    return {"attacks": attacks, "medications": medications}


def _truth(
    ids: list[str],
    people: effect_story.People,
    records: dict[str, np.ndarray],
    present: np.ndarray,
    onset: np.ndarray,
) -> pl.DataFrame:
    rows = []
    for i, pid in enumerate(ids):
        roles = people.roles(i)
        for var in VARIABLES:
            e = roles.get(var) or effect_story.Effect(i, var, "none")
            rows.append(
                {
                    "patient_id": pid,
                    "sex": "female" if people.female[i] else "male",
                    "days": int(present[i].sum()),
                    "attacks": int(onset[i].sum()),
                    "variable": var,
                    "recorded": bool(records[var][i]),
                    "role": e.role,
                    "form": e.form,
                    "lag": e.lag or None,
                    "true_log_or": e.log_or,
                    "threshold": e.threshold,
                    "center": e.center,
                    "scale": e.scale,
                    "baseline_days": e.baseline_days or None,
                    "window_from": e.window_from if e.form == "window" else None,
                    "window_to": e.window_to if e.form == "window" else None,
                    "rise": e.rise,
                    "lead_days": e.lead_days or None,
                    "attack_changes_it": float(people.reverse.get(var, np.zeros(len(ids)))[i]),
                }
            )
    return pl.DataFrame(rows, schema=TRUTH_SCHEMA).with_columns(
        pl.col("threshold", "center", "scale").fill_nan(None)
    )
