"""ICHD-3 (2018) thresholds used by the classifier, each with its source.

Authority: Headache Classification Committee of the International Headache Society.
The International Classification of Headache Disorders, 3rd edition.
Cephalalgia 2018;38(1):1–211 (online: https://ichd-3.org). The online pages mix ICHD-3
beta (2013) and final (2018) text; where they differ the final text is used (notably
1.2 criterion C: three of six characteristics, not two of four).

Every number the classifier compares against is a field of :class:`Ichd3Rules`, so a
clinician can review them in one place and a deployment can change one (for example
the attack count) without touching logic. docs/clinical.md lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from painlink.rules.medications import DrugClass

SOURCE = "ICHD-3, Cephalalgia 2018;38(1):1–211"


@dataclass(frozen=True)
class Ichd3Rules:
    # 1.1 Migraine without aura
    migraine_min_attacks: int = 5  # 1.1 A
    migraine_min_hours: float = 4.0  # 1.1 B (untreated or unsuccessfully treated)
    migraine_min_hours_under_18: float = 2.0  # 1.1 B note: 2–72 h in children and adolescents
    migraine_max_hours: float = 72.0  # 1.1 B
    adolescent_age: int = 18  # 1.1 B note applies below this age
    migraine_pain_features_needed: int = 2  # 1.1 C: 2 of 4
    # 1.2 Migraine with aura
    aura_min_attacks: int = 2  # 1.2 A
    aura_characteristics_needed: int = 3  # 1.2 C (final 2018): 3 of 6
    aura_spread_min: float = 5.0  # 1.2 C1: spreads gradually over ≥5 min
    aura_symptom_min: float = 5.0  # 1.2 C3: each symptom 5–60 min
    aura_symptom_max: float = 60.0
    aura_motor_max: float = 72 * 60.0  # 1.2 note: motor symptoms may last up to 72 h
    aura_headache_within: float = 60.0  # 1.2 C6: headache within 60 min
    # 1.3 Chronic migraine
    chronic_headache_days: int = 15  # 1.3 A: ≥15 headache days/month
    chronic_migraine_days: int = 8  # 1.3 C: ≥8 days/month with migraine features
    chronic_months: int = 3  # 1.3 A and C: "for more than 3 months" (see docs)
    month_days: int = 30  # length of a "month" when counting days in a diary
    # 2 Tension-type headache
    tth_min_episodes: int = 10  # 2.1 A, 2.2 A
    tth_min_minutes: float = 30.0  # 2.1–2.2 B: 30 min to 7 days
    tth_max_hours: float = 7 * 24.0
    tth_features_needed: int = 2  # 2.x C: 2 of 4
    tth_infrequent_below: float = 1.0  # 2.1 A: <1 day/month
    tth_chronic_days: int = 15  # 2.3 A: ≥15 days/month
    # 3.1 Cluster headache (only ever a suggestion to refer)
    cluster_min_attacks: int = 5  # 3.1 A
    cluster_min_minutes: float = 15.0  # 3.1 B: 15–180 min
    cluster_max_minutes: float = 180.0
    # 8.2 Medication-overuse headache: intake days per month, for >3 months
    moh_headache_days: int = 15  # 8.2 A
    moh_months: int = 3  # 8.2 B: "regular overuse for more than 3 months"
    moh_days: dict[str, int] = field(
        default_factory=lambda: {
            DrugClass.ergotamine.value: 10,  # 8.2.1
            DrugClass.triptan.value: 10,  # 8.2.2
            DrugClass.non_opioid_analgesic.value: 15,  # 8.2.3 (all non-opioid analgesics one class)
            DrugClass.opioid.value: 10,  # 8.2.4
            DrugClass.combination_analgesic.value: 10,  # 8.2.5
        }
    )
    moh_multiple_days: int = 10  # 8.2.6 and 8.2.7: total days, no single class overused
    # Gepants and ditans post-date ICHD-3 (2018) and are not in 8.2; counting them
    # toward 8.2.6 is a deployment choice, off by default.
    moh_count_gepants_ditans: bool = False


MOH_CODES: dict[str, tuple[str, str]] = {
    DrugClass.ergotamine.value: ("8.2.1", "Ergotamine-overuse headache"),
    DrugClass.triptan.value: ("8.2.2", "Triptan-overuse headache"),
    DrugClass.non_opioid_analgesic.value: ("8.2.3", "Non-opioid analgesic-overuse headache"),
    DrugClass.opioid.value: ("8.2.4", "Opioid-overuse headache"),
    DrugClass.combination_analgesic.value: ("8.2.5", "Combination-analgesic-overuse headache"),
}

NAMES: dict[str, str] = {
    "1.1": "Migraine without aura",
    "1.2": "Migraine with aura",
    "1.2.1": "Migraine with typical aura",
    "1.2.1.1": "Typical aura with headache",
    "1.2.1.2": "Typical aura without headache",
    "1.2.2": "Migraine with brainstem aura",
    "1.2.3": "Hemiplegic migraine",
    "1.2.4": "Retinal migraine",
    "1.3": "Chronic migraine",
    "1.5.1": "Probable migraine without aura",
    "1.5.2": "Probable migraine with aura",
    "2.1": "Infrequent episodic tension-type headache",
    "2.2": "Frequent episodic tension-type headache",
    "2.3": "Chronic tension-type headache",
    "2.4.1": "Probable infrequent episodic tension-type headache",
    "2.4.2": "Probable frequent episodic tension-type headache",
    "2.4.3": "Probable chronic tension-type headache",
    "3.1": "Cluster headache (pattern only: refer to a specialist)",
    "8.2.6": (
        "Medication-overuse headache attributed to multiple drug classes not individually overused"
    ),
    "8.2.7": (
        "Medication-overuse headache attributed to unverified overuse of multiple drug classes"
    ),
    "11.2.1": "Cervicogenic headache",
    **{code: name for code, name in MOH_CODES.values()},
}

#: Aura types that make an aura "typical" (1.2.1 B); the others point to 1.2.2–1.2.4.
TYPICAL_AURA = frozenset({"visual", "sensory", "speech"})
SPECIALIST_AURA = {"motor": "1.2.3", "brainstem": "1.2.2", "retinal": "1.2.4"}
