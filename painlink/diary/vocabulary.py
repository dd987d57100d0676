"""The diary's controlled vocabularies.

Every categorical value a diary may hold is declared here once; the Pydantic
schemas, the database CHECK constraints and the CSV validator all read these
enums, so a value accepted at one edge is accepted at every other.
"""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Intensity(StrEnum):
    """Labels of the IHS 0–3 pain scale; stored as the integer, shown as the label."""

    none = "none"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"


INTENSITY_LABELS: tuple[str, ...] = tuple(i.value for i in Intensity)


class Side(StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    side_shifting = "side_shifting"


class Location(StrEnum):
    frontal = "frontal"
    temporal = "temporal"
    orbital = "orbital"
    periorbital = "periorbital"
    parietal = "parietal"
    vertex = "vertex"
    occipital = "occipital"
    neck = "neck"
    whole_head = "whole_head"


class PainQuality(StrEnum):
    pulsating = "pulsating"
    pressing = "pressing"
    stabbing = "stabbing"
    other = "other"


class AuraType(StrEnum):
    """ICHD-3 1.2 criterion B aura symptom kinds."""

    visual = "visual"
    sensory = "sensory"
    speech = "speech"
    motor = "motor"
    brainstem = "brainstem"
    retinal = "retinal"


class Relief(StrEnum):
    """Effect of an acute medication two hours after intake."""

    none = "none"
    partial = "partial"
    complete = "complete"


class SpineRegion(StrEnum):
    upper_cervical = "upper_cervical"  # C0–C2
    lower_cervical = "lower_cervical"
    cervical = "cervical"  # neck pain whose level was not recorded
    thoracic = "thoracic"
    lumbar = "lumbar"
    sacral_pelvic = "sacral_pelvic"


class BodySide(StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    central = "central"


class MenstrualFlow(StrEnum):
    none = "none"
    spotting = "spotting"
    light = "light"
    medium = "medium"
    heavy = "heavy"
    unspecified = "unspecified"  # bleeding recorded without its amount


#: menstrual flow from least to most: a day with several entries keeps the heaviest
FLOW_BY_AMOUNT = ("none", "spotting", "unspecified", "light", "medium", "heavy")


class ContraceptivePhase(StrEnum):
    active = "active"
    pill_free = "pill_free"


class TreatmentKind(StrEnum):
    preventive_drug = "preventive_drug"
    manual_therapy = "manual_therapy"
    chiropractic = "chiropractic"
    physiotherapy = "physiotherapy"
    other = "other"


class VisitKind(StrEnum):
    intake = "intake"
    follow_up = "follow_up"
    treatment = "treatment"
    exam = "exam"
    other = "other"


class FactorKind(StrEnum):
    numeric = "numeric"
    boolean = "boolean"


class CervicogenicItem(StrEnum):
    """Clinician-documented evidence items for ICHD-3 11.2.1 (see painlink.rules.cervical)."""

    cervical_lesion = "cervical_lesion"
    temporal_relation = "temporal_relation"
    parallel_improvement = "parallel_improvement"
    reduced_rom_provocation = "reduced_rom_provocation"
    diagnostic_block = "diagnostic_block"


class ScreeningContext(StrEnum):
    """Where a red-flag screen was answered: it decides who answered and how it is shown."""

    intake = "intake"  # a clinician at the first consultation
    attack = "attack"  # the patient, when logging an attack
    history = "history"  # the patient's own history, at registration or later


#: Questions of the red-flag screen, as stored answers name them (yes/no as 1/0;
#: ages, minutes, weeks and mmHg as numbers). Mirrors, in order,
#: painlink.clinical.screening.Presentation, which a test keeps in step.
SCREENING_NUMERIC = (
    "age",
    "headache_onset_age",
    "onset_to_peak_min",
    "systolic_bp",
    "diastolic_bp",
    "weeks_since_birth",
    "deficit_minutes",
)
#: Numeric answers that are whole numbers (ages, mmHg).
SCREENING_INTEGER = ("age", "headache_onset_age", "systolic_bp", "diastolic_bp")
ScreeningQuestion = StrEnum(
    "ScreeningQuestion",
    {
        name: name
        for name in (
            *SCREENING_NUMERIC[:3],
            "thunderclap",
            "new_headache",
            "pattern_change",
            "progressive",
            "atypical",
            "positional",
            "precipitated_by_valsalva",
            "after_head_trauma",
            "fever",
            "neck_stiffness",
            "rash",
            "confusion",
            "weight_loss",
            "night_sweats",
            "neuro_deficit",
            "decreased_consciousness",
            "seizure",
            "papilloedema",
            "transient_visual_obscurations",
            "painful_eye_autonomic",
            "jaw_claudication",
            "scalp_tenderness",
            "visual_disturbance",
            "pregnant_or_postpartum",
            "history_cancer",
            "history_immunosuppression",
            "anticoagulants",
            "painkiller_overuse",
            "new_drug_at_onset",
            "recent_neck_manipulation",
            "neck_trauma",
            "new_neck_pain",
            "dizziness",
            "diplopia",
            "dysarthria",
            "dysphagia",
            "ataxia",
            "drop_attack",
            "nystagmus",
            "facial_numbness",
            "spinal_pain",
            "spinal_trauma",
            "night_pain",
            "iv_drug_use",
            "saddle_anaesthesia",
            "bladder_bowel_dysfunction",
            "bilateral_leg_weakness",
            *SCREENING_NUMERIC[3:],
            "hypertension_before_pregnancy",
            "ruq_epigastric_pain",
            "worst_ever",
            "vomiting",
            "wakes_from_sleep",
            "worse_upright",
            "worse_lying_or_straining",
            "deficit_still_present",
            "motor_weakness",
            "minor_spinal_trauma",
            "osteoporosis",
            "long_term_steroids",
            "fever_or_meningism",
        )
    },
)
