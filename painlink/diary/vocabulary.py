"""The diary's controlled vocabularies.

Every categorical value a diary may hold is declared here once; the Pydantic
schemas, the database CHECK constraints and the CSV validator all read these
enums, so a value accepted at one edge is accepted at every other.
"""

from __future__ import annotations

from enum import StrEnum

from painlink.rules.screening_questions import QUESTIONS


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


class Stoplight(StrEnum):
    """How much migraine limited the day: Mayo Clinic's stoplight diary
    (painlink/rules/checkin.py gives the source and meanings)."""

    green = "green"
    yellow = "yellow"
    red = "red"


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


#: Questions of the red-flag screen, as stored answers name them (yes/no as 1/0; ages,
#: minutes, weeks and mmHg as numbers): derived from the one declaration,
#: painlink.rules.screening_questions.Presentation, in its order.
ScreeningQuestion = StrEnum(  # type: ignore[misc]  # members from QUESTIONS, unseen by mypy
    "ScreeningQuestion", {name: name for name in QUESTIONS}
)
