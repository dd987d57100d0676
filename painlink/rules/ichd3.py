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
    # ">3 months" (1.3 A and C, 2.2 A, 2.3 A, 8.2 B): the diary must span more than
    # three average calendar months (3 × 365.25/12 = 91.3 days), so a diary of exactly
    # three months (90 or 91 days) cannot show it; the counts are then checked in each
    # of the last three 30-day months. [Interpretation of ">3 months" for a diary.]
    average_month_days: float = 365.25 / 12
    # 2 Tension-type headache
    tth_min_episodes: int = 10  # 2.1 A, 2.2 A
    tth_min_minutes: float = 30.0  # 2.1–2.2 B: 30 min to 7 days
    tth_max_hours: float = 7 * 24.0
    tth_features_needed: int = 2  # 2.x C: 2 of 4
    tth_infrequent_below: float = 1.0  # 2.1 A: <1 day/month
    tth_chronic_days: int = 15  # 2.3 A: ≥15 days/month on average
    # 2.3 B: "lasting hours to days, or unremitting" — read as at least 1 hour
    # (no upper bound). [Interpretation: ICHD-3 gives no number for "hours".]
    tth_chronic_min_hours: float = 1.0
    # 3.1 Cluster headache (only ever a suggestion to refer)
    cluster_min_attacks: int = 5  # 3.1 A
    cluster_min_minutes: float = 15.0  # 3.1 B: 15–180 min
    cluster_max_minutes: float = 180.0
    # 3.1 D: "occurring with a frequency between one every other day and eight per day"
    cluster_max_gap_hours: float = 48.0
    cluster_max_per_day: int = 8
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

    def more_than_months(self, span_days: int, months: int | None = None) -> bool:
        """Whether a diary of ``span_days`` days covers *more than* ``months`` months."""
        return span_days > (months or self.chronic_months) * self.average_month_days


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

#: The ICHD-3 sentences each coding rule of the classifier rests on (quoted from
#: ichd-3.org / beta.ichd-3.org; the 2018 text is the authority). The classifier
#: names the note in the reason it gives for every diagnosis it leaves out.
HIERARCHY_NOTES: dict[str, str] = {
    "1.3 excludes 2": (
        "ICHD-3 1.3 note: 'The diagnosis of 1.3 Chronic migraine excludes the diagnosis of "
        "2. Tension-type headache or its subtypes because tension-type-like headache is "
        "within the diagnostic criteria for 1.3 Chronic migraine.'"
    ),
    "2.3 excludes 2.1 2.2": (
        "ICHD-3 2.1–2.3 criterion A: episodes on <1 day (2.1), on 1–14 days (2.2) or "
        "headache on ≥15 days (2.3) per month on average — one frequency subtype for a "
        "period; '2.3 Chronic tension-type headache evolves over time from 2.2'."
    ),
    "definite migraine": (
        "ICHD-3 1.5 note: 'in patients who already have a migraine diagnosis ... attacks "
        "fulfilling criteria for 1.5 Probable migraine should be counted as migraine'; "
        "1.5: 'Migraine-like attacks missing one of the features required to fulfil all "
        "criteria for a type or subtype of migraine coded above'."
    ),
    "definite TTH": (
        "ICHD-3 2.4: 'Tension-type-like headache missing one of the features required to "
        "fulfil all criteria for a type or subtype of tension-type headache coded above'; "
        "definite diagnoses always trump probable diagnoses (2.2 note)."
    ),
    "TTH over probable migraine": (
        "ICHD-3 1.5 note: 'attacks that fulfil criteria for both 2. Tension-type headache "
        "and 1.5 Probable migraine are coded as the former in accordance with the general "
        "rule that a definite diagnosis always trumps a probable diagnosis.'"
    ),
    "migraine before TTH": (
        "ICHD-3 2.4 note: 'Patients meeting one of the sets of criteria below may also meet "
        "the criteria for 1.5.1 Probable migraine without aura. In such cases, the general "
        "rule of hierarchy applies, putting 1. Migraine and its types and subtypes before "
        "2. Tension-type headache and its types and subtypes.'"
    ),
    "not another disorder": (
        "ICHD-3 1.5 B and 2.4 B: 'Not fulfilling ICHD-3 criteria for any other headache "
        "disorder' — attacks with aura, cluster-like attacks and attacks with migraine "
        "features are not counted as tension-type episodes."
    ),
}

#: ICHD-3 1.3 note d and 2.3 comment: a daily headache unremitting from onset is 4.10.
NDPH_NOTE = (
    "If this headache was daily and unremitting from less than 24 hours after its first "
    "onset, ICHD-3 codes 4.10 New daily persistent headache instead; when the onset is "
    "not remembered or uncertain, this code stands (ICHD-3 1.3 and 2.3 comments)."
)
