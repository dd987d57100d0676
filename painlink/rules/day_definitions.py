"""Named definitions of a migraine day and a headache day.

ICHD-3 classifies people, not days; trials and diaries still need to count days, and
published definitions differ (clinical-standards.md §2). Every report names the
definition it used. The default is the Leiden e-diary definition:

- van der Arend et al., "Defining migraine days based on longitudinal e-diary data",
  Cephalalgia 2023 (n = 1,494): a migraine day is a calendar day with headache lasting
  ≥30 min with ≥2 of the 4 pain features and nausea/vomiting or photo- and
  phonophobia, or with aura lasting 5–60 min, or with headache treated with a
  migraine-specific acute drug (triptan or ergot) whatever its effect. A headache day
  is a day with headache lasting ≥1 h or with any acute medication.
- ``ichd_strict_4h``: only days inside attacks that fulfil ICHD-3 1.1 B–D (≥4 h) or
  1.2 B–C; headache days need ≥30 min of headache.
- ``ihs_effective_triptan_only``: as the default, but a triptan or ergot day counts
  only when the drug worked (partial or complete relief at 2 h), as the IHS preventive
  trial guidelines describe (van der Arend thesis p. 72).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DayDefinition:
    name: str
    source: str
    feature_min_hours: float  # headache on the day this long, with ICHD features → migraine day
    require_full_attack: bool  # the attack itself must fulfil 1.1 B–D or 1.2 B–C
    aura_counts: bool  # an aura of 5–60 min makes a migraine day
    specific_drug: Literal["any", "effective", "never"]  # triptan/ergot day → migraine day
    headache_min_hours: float  # headache this long on the day → headache day
    medication_day_is_headache_day: bool
    count_gepants_ditans: bool = False  # migraine-specific "by extension" [unverified]


DEFINITIONS: dict[str, DayDefinition] = {
    d.name: d
    for d in (
        DayDefinition(
            "vdarend_2023",
            "van der Arend et al., Cephalalgia 2023 (Leiden e-diary definition)",
            feature_min_hours=0.5,
            require_full_attack=False,
            aura_counts=True,
            specific_drug="any",
            headache_min_hours=1.0,
            medication_day_is_headache_day=True,
        ),
        DayDefinition(
            "ichd_strict_4h",
            "ICHD-3 1.1 B–D / 1.2 B–C attacks only",
            feature_min_hours=0.0,
            require_full_attack=True,
            aura_counts=False,
            specific_drug="never",
            headache_min_hours=0.5,
            medication_day_is_headache_day=False,
        ),
        DayDefinition(
            "ihs_effective_triptan_only",
            "IHS preventive-trial guidelines as summarised by van der Arend (thesis p. 72)",
            feature_min_hours=0.5,
            require_full_attack=False,
            aura_counts=True,
            specific_drug="effective",
            headache_min_hours=1.0,
            medication_day_is_headache_day=True,
        ),
    )
}

DEFAULT_DEFINITION = "vdarend_2023"
COMPLETENESS_MIN = (
    0.8  # below this share of logged days a month's rate is flagged [U: choose with clinicians]
)
