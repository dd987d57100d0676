"""Who reacts to what, and how: each person's causes, protectors, early attack signs
and neck/back roles, drawn per person, and the part of the attack hazard they make.

A person gets 0–3 causes drawn among every numeric day variable (recorded by them or
not: an unrecorded cause is real life's unexplained noise), each with its own form
(:data:`CATALOGUE`), lag 0, 1 or 2 or spread over two lags, and an effect whose odds
ratio is 1.5–4 for exposed vs not (1.5–2.5 per person-SD for amounts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from painlink.simulate.independent import forms

#: variable → the forms it may act through, with the sign of the effect on the exposure
#: (+1 the exposure raises the hazard: a trigger; −1 lowers it: a protector)
CATALOGUE: dict[str, tuple[tuple[str, int], ...]] = {
    "sleep_hours": (("below", 1), ("drop", 1), ("per_sd", -1)),
    "sleep_quality": (("below", 1), ("per_sd", -1)),
    "stress": (("per_sd", 1), ("above", 1), ("drop", 1)),  # drop: the let-down weekend
    "skipped_meals": (("present", 1), ("per_sd", 1)),
    "alcohol_units": (("log_per_sd", 1), ("above", 1), ("present", 1)),
    "caffeine_mg": (("above", 1), ("drop", 1), ("log_per_sd", 1)),  # drop: withdrawal
    "exercise_min": (("log_per_sd", -1), ("present", -1), ("above", 1)),  # above: strenuous
    "screen_hours": (("per_sd", 1), ("above", 1), ("log_per_sd", 1)),
    "allergy_symptoms": (("present", 1),),
    "pressure_hpa": (("drop", 1), ("below", 1), ("per_sd", -1)),
    "temperature_c": (("above", 1), ("rise", 1)),
    "red_wine": (("present", 1),),
    "steps": (("per_sd", -1), ("below", 1)),
}
CAUSES = tuple(CATALOGUE)
LAG_CHOICES = ("0", "1", "2", "0,1", "1,2")
LAG_SHARES = (0.35, 0.3, 0.1, 0.15, 0.1)
NECK_ROLES = ("none", "cause", "symptom", "premonitory")
NECK_SHARES = (0.4, 0.2, 0.25, 0.15)
BACK_ROLES = ("none", "cause", "symptom")
BACK_SHARES = (0.8, 0.1, 0.1)
#: variables whose value an attack itself changes, for some people (never a cause for them)
REVERSIBLE = ("sleep_hours", "exercise_min", "caffeine_mg", "screen_hours")


@dataclass
class Effect:
    """One row of the truth: how ``variable`` acts for one person."""

    patient: int
    variable: str
    role: str
    form: str = "none"
    lag: str = ""
    log_or: float = 0.0
    threshold: float = float("nan")
    center: float = float("nan")
    scale: float = float("nan")
    baseline_days: int = 0
    window_from: int = 0
    window_to: int = 0
    rise: float = 0.0  # points added on early-sign / attack days (premonitory, symptom)
    lead_days: int = 0  # early-sign days before an onset

    def exposure(self, x: np.ndarray) -> np.ndarray:
        return forms.exposure(
            x,
            self.form,
            self.lag,
            threshold=self.threshold,
            center=self.center,
            scale=self.scale,
            baseline_days=self.baseline_days or 5,
            window=(self.window_from, self.window_to),
        )


@dataclass
class People:
    """Per-person draws that are not day series."""

    female: np.ndarray
    on_pill: np.ndarray
    effects: list[Effect] = field(default_factory=list)
    reverse: dict[str, np.ndarray] = field(default_factory=dict)  # size of the change, 0 none

    def roles(self, i: int) -> dict[str, Effect]:
        return {e.variable: e for e in self.effects if e.patient == i}


def _binary_size(rng: np.random.Generator) -> float:
    return float(np.log(rng.uniform(1.5, 4.0)))


def _per_sd_size(rng: np.random.Generator) -> float:
    return float(np.log(rng.uniform(1.5, 2.5)))


def _fit_form(rng: np.random.Generator, effect: Effect, x: np.ndarray, sign: int) -> Effect | None:
    """Fill the person-specific parameters of a form from the person's own series; None
    when the form would make an exposure that hardly varies (a non-drinker's alcohol)."""
    sd = float(np.std(x))
    if sd <= 1e-9:
        return None
    form = effect.form
    if form == "per_sd":
        effect.center, effect.scale = float(np.mean(x)), sd
    elif form == "log_per_sd":
        logs = np.log1p(np.maximum(x, 0))
        effect.center, effect.scale = float(np.mean(logs)), float(np.std(logs))
        if effect.scale <= 1e-9:
            return None
    elif form == "above":
        effect.threshold = float(np.quantile(x, rng.uniform(0.6, 0.85)))
    elif form == "below":
        effect.threshold = float(np.quantile(x, rng.uniform(0.15, 0.4)))
    elif form in ("drop", "rise"):
        effect.baseline_days = int(rng.integers(3, 8))
        effect.threshold = float(rng.uniform(0.5, 1.0) * sd)
    effect.log_or = sign * (_per_sd_size(rng) if form in forms.PER_SD_FORMS else _binary_size(rng))
    if form not in forms.PER_SD_FORMS:
        share = np.nanmean(effect.exposure(x[None, :]))
        if not 0.05 <= share <= 0.6:
            return None
    effect.role = "trigger" if sign > 0 else "protector"
    return effect


def draw_people(
    rng: np.random.Generator,
    n: int,
    latent: dict[str, np.ndarray],
    female: np.ndarray,
    on_pill: np.ndarray,
) -> tuple[People, dict[int, str]]:
    """Every person's roles. Returns them and, per person, the variable that is an early
    attack sign (stress or yawning) where there is one."""
    people = People(female=female, on_pill=on_pill)
    signs: dict[int, str] = {}
    for i in range(n):
        taken: set[str] = set()
        if rng.random() < 0.25:
            var = "stress" if rng.random() < 0.5 else "yawning"
            rise = rng.uniform(1.0, 2.5) if var == "stress" else rng.uniform(0.4, 0.7)
            lead = int(rng.integers(1, 3))
            people.effects.append(
                Effect(
                    i,
                    var,
                    "premonitory",
                    "rise before and during attacks",
                    rise=float(rise),
                    lead_days=lead,
                )
            )
            signs[i] = var
            taken.add(var)
        for var, roles, shares in (
            ("neck_pain", NECK_ROLES, NECK_SHARES),
            ("low_back_pain", BACK_ROLES, BACK_SHARES),
        ):
            role = str(rng.choice(roles, p=shares))
            if role == "cause":
                eff = Effect(i, var, "cause", "above", lag="1")
                eff.threshold = float(np.quantile(latent[var][i], rng.uniform(0.6, 0.8)))
                eff.log_or = float(np.log(rng.uniform(1.5, 3.5)))
                if 0.05 <= np.nanmean(eff.exposure(latent[var][i][None, :])) <= 0.6:
                    people.effects.append(eff)
                    continue
                role = "none"
            if role in ("symptom", "premonitory"):
                people.effects.append(
                    Effect(
                        i,
                        var,
                        role,
                        "rises before and during attacks"
                        if role == "premonitory"
                        else "rises during attacks",
                        rise=float(rng.uniform(1.5, 3.0)),
                        lead_days=int(rng.integers(1, 3)) if role == "premonitory" else 0,
                    )
                )
        _cycle_effects(rng, people, i, latent)
        wanted = int(rng.choice(4, p=(0.2, 0.35, 0.3, 0.15)))
        tries = 0
        while wanted and tries < 20:
            tries += 1
            var = str(rng.choice(CAUSES))
            if var in taken:
                continue
            form, sign = CATALOGUE[var][int(rng.integers(len(CATALOGUE[var])))]
            lag = str(rng.choice(LAG_CHOICES, p=LAG_SHARES))
            fitted = _fit_form(rng, Effect(i, var, "", form, lag), latent[var][i], sign)
            if fitted is not None:
                people.effects.append(fitted)
                taken.add(var)
                wanted -= 1
        for var in REVERSIBLE:  # an attack changes it (rest, no sport, caffeine drugs)
            people.reverse.setdefault(var, np.zeros(n))
            if var not in taken and rng.random() < 0.5:
                people.reverse[var][i] = {
                    "sleep_hours": rng.uniform(0.5, 1.5),
                    "exercise_min": 0.9,  # share of exercise given up
                    "caffeine_mg": rng.uniform(60, 150),
                    "screen_hours": -rng.uniform(1.0, 3.0),
                }[var]
    return people, signs


def _cycle_effects(
    rng: np.random.Generator, people: People, i: int, latent: dict[str, np.ndarray]
) -> None:
    if not people.female[i]:
        return
    if people.on_pill[i]:
        if rng.random() < 0.4:
            people.effects.append(
                Effect(
                    i,
                    "contraceptive_phase",
                    "trigger",
                    "pill_free",
                    "0",
                    log_or=float(np.log(rng.uniform(1.5, 3.0))),
                )
            )
        return
    if rng.random() < 0.45:
        people.effects.append(
            Effect(
                i,
                "menstruation",
                "trigger",
                "window",
                "0",
                log_or=float(np.log(rng.uniform(1.5, 3.5))),
                window_from=int(rng.integers(-2, 1)),
                window_to=int(rng.integers(1, 4)),
            )
        )


def hazard_part(people: People, latent: dict[str, np.ndarray]) -> np.ndarray:
    """Sum of every cause's log-odds contribution, (patients, days), computed in groups of
    people who share a variable and form definition so the work is array-wide."""
    n, days = latent["stress"].shape
    total = np.zeros((n, days))
    groups: dict[tuple, list[Effect]] = defaultdict(list)
    for e in people.effects:
        if e.role in ("trigger", "protector", "cause"):
            groups[(e.variable, e.form, e.lag, e.baseline_days, e.window_from, e.window_to)].append(
                e
            )
    for (var, *_), members in groups.items():
        rows = np.array([e.patient for e in members])
        x = latent[var][rows]
        first = members[0]
        exposure = forms.exposure(
            x,
            first.form,
            first.lag,
            threshold=np.array([e.threshold for e in members]),
            center=np.array([e.center for e in members]),
            scale=np.array([e.scale for e in members]),
            baseline_days=first.baseline_days or 5,
            window=(first.window_from, first.window_to),
        )
        beta = np.array([e.log_or for e in members])[:, None]
        total[rows] += beta * np.nan_to_num(exposure, nan=0.0)
    return total
