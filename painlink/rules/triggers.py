"""Settings of the per-person trigger analysis, with the reasons for each default.

- Risk set: attack onsets against days not already inside an attack (PAMINA, Holsteen
  2020; statistics.md §7.1).
- Lags 0, 1 and 2 days: alcohol acts at lag 2 (Vives-Mestres 2022), sleep efficiency at
  lag 1 (Bertisch 2020), stress let-down within a day (Lipton 2014).
- False discoveries: Benjamini–Hochberg at q = 0.10 across every factor and lag tested
  for one person (statistics.md §7.4).
- Prior: a normal prior with SD 2 on log odds ratios (odds ratios beyond ~50 need
  strong evidence) keeps estimates finite with sparse 2×2 tables.
- Power: about 24 events are needed to detect moderate associations per person
  (Holsteen dissertation, statistics.md §1); the power statement uses the normal
  approximation var(log OR) ≈ 1 / (events · p · (1 − p)).
- Premonitory symptoms that mimic triggers: neck pain or stiffness, fatigue, yawning,
  food craving, light/sound sensitivity, mood change (Giffin 2003; Karsan 2021;
  clinical-standards.md §6). A factor whose name marks it as one of these is shown as
  a "possible early attack sign", never as a trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TriggerSettings:
    lags: tuple[int, ...] = (0, 1, 2)
    q: float = 0.10  # Benjamini–Hochberg false-discovery rate
    prior_sd: float = 2.0  # normal prior SD on each log odds ratio
    min_attacks: int = 8  # fewer onsets at risk: "not enough data" for every factor
    min_days_each: int = 5  # a factor needs this many exposed and unexposed days at risk
    detect_odds_ratio: float = 2.0  # the effect the power statement is about
    power: float = 0.8
    shrink_min_patients: int = 20  # cohort shrinkage needs at least this many patients
    alpha: float = 0.05  # for confidence intervals


PREMONITORY = re.compile(
    r"neck|stiff|yawn|fatigue|tired|crav|photophob|phonophob|light_sens|sound_sens|mood|irritab"
)
