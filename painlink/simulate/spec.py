"""What a simulation draws from: the spec, the headache types and the true effects.

Why its own module: the simulator, the attack tables and the clinical records all
read these numbers (the truth a validation compares estimates with), and the
benchmarks import them; none of them needs the simulator itself to do so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
    #: every patient filled in the last day (a diary kept up to date, as the demo shows;
    #: otherwise some patients' diaries would stop a day or two early by chance)
    last_day_kept: bool = False
    type_shares: dict[str, float] = field(
        default_factory=lambda: {k: v[1] for k, v in TYPES.items()}
    )
