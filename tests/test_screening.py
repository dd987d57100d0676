"""Red-flag screening: every flag, its urgency, and "not asked" never read as "no"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from painlink.clinical.screening import screen
from painlink.rules.red_flag_checks import ScreeningSettings
from painlink.rules.red_flags import RED_FLAGS

RAISING = {
    "thunderclap": {"onset_to_peak_min": 0.5},
    "fever_meningism": {"fever": True, "neck_stiffness": True},
    "neuro_deficit": {"neuro_deficit": True},
    "head_injury": {"after_head_trauma": True},
    "painful_red_eye": {"painful_eye_autonomic": True},
    "cervical_artery_dissection": {
        "recent_neck_manipulation": True,
        "new_neck_pain": True,
        "diplopia": True,
    },
    "cauda_equina": {"saddle_anaesthesia": True},
    "pregnancy": {"pregnant_or_postpartum": True},
    "pre_eclampsia": {"pregnant_or_postpartum": True, "systolic_bp": 162, "diastolic_bp": 95},
    "head_injury_anticoagulated": {"after_head_trauma": True, "anticoagulants": True},
    "anticoagulated_new_headache": {"new_headache": True, "anticoagulants": True},
    "abrupt_onset": {"onset_to_peak_min": 3},
    "worst_ever": {"worst_ever": True},
    "transient_deficit": {
        "neuro_deficit": True,
        "deficit_still_present": False,
        "deficit_minutes": 25,
        "motor_weakness": False,
    },
    "severe_hypertension": {"systolic_bp": 185, "diastolic_bp": 100},
    "low_csf_pressure": {"worse_upright": True},
    "raised_pressure": {"worse_lying_or_straining": True},
    "new_headache_vomiting": {"pattern_change": True, "vomiting": True},
    "fever_or_meningism_combined": {"fever_or_meningism": True},
    "wakes_from_sleep": {"wakes_from_sleep": True},
    "older_onset_gca": {"headache_onset_age": 70, "jaw_claudication": True},
    "papilloedema": {"papilloedema": True},
    "cancer_or_immunosuppression": {"new_headache": True, "history_cancer": True},
    "valsalva": {"precipitated_by_valsalva": True},
    "positional": {"positional": True},
    "systemic": {"weight_loss": True},
    "spine_fracture": {"spinal_trauma": True},
    "spine_malignancy": {"spinal_pain": True, "night_pain": True},
    "spine_infection": {"spinal_pain": True, "iv_drug_use": True},
    "older_onset": {"headache_onset_age": 55},
    "pattern_change": {"pattern_change": True},
    "progressive": {"progressive": True},
    "painkiller_overuse": {"painkiller_overuse": True},
}


def test_every_flag_has_a_raising_case() -> None:
    assert set(RAISING) == {f.code for f in RED_FLAGS}


@pytest.mark.parametrize("flag", RED_FLAGS, ids=lambda f: f.code)
def test_each_flag_is_raised_with_its_urgency_and_source(flag) -> None:  # type: ignore[no-untyped-def]
    result = screen(RAISING[flag.code])
    raised = {f.code: f for f in result.flags}
    assert flag.code in raised
    assert raised[flag.code].urgency == flag.urgency.name
    assert raised[flag.code].source and raised[flag.code].may_point_to
    assert result.level >= flag.urgency


def test_the_most_urgent_flag_comes_first() -> None:
    result = screen({"pattern_change": True, "onset_to_peak_min": 0.2, "positional": True})
    assert result.urgency == "emergency"
    assert [f.urgency for f in result.flags] == ["emergency", "urgent", "soon"]
    assert result.summary().startswith("EMERGENCY")


def test_unanswered_is_not_asked_and_no_is_none() -> None:
    assert screen({}).advice.startswith("Not screened")
    answers = {
        k: False
        for k in {
            "thunderclap",
            "fever",
            "neuro_deficit",
            "decreased_consciousness",
            "seizure",
            "after_head_trauma",
            "painful_eye_autonomic",
            "recent_neck_manipulation",
            "neck_trauma",
            "saddle_anaesthesia",
            "bladder_bowel_dysfunction",
            "bilateral_leg_weakness",
            "pregnant_or_postpartum",
            "papilloedema",
            "transient_visual_obscurations",
            "new_headache",
            "pattern_change",
            "precipitated_by_valsalva",
            "positional",
            "weight_loss",
            "night_sweats",
            "spinal_trauma",
            "spinal_pain",
            "progressive",
            "atypical",
            "painkiller_overuse",
            "new_drug_at_onset",
            "worst_ever",
            "vomiting",
            "wakes_from_sleep",
            "worse_upright",
            "worse_lying_or_straining",
            "motor_weakness",
            "minor_spinal_trauma",
            "fever_or_meningism",
            "history_cancer",
            "history_immunosuppression",
            "anticoagulants",
            "jaw_claudication",
            "scalp_tenderness",
            "visual_disturbance",
            "dizziness",
            "diplopia",
            "dysarthria",
            "dysphagia",
            "ataxia",
            "drop_attack",
            "nystagmus",
            "facial_numbness",
            "new_neck_pain",
        }
    }
    measured = {"headache_onset_age": 20, "onset_to_peak_min": 30, "systolic_bp": 120}
    measured["diastolic_bp"] = 80
    result = screen({**answers, **measured})
    assert result.urgency == "none" and not result.flags and not result.not_asked


def test_fever_alone_is_not_meningism_but_is_systemic() -> None:
    result = screen({"fever": True, "neck_stiffness": False, "rash": False, "confusion": False})
    codes = {f.code for f in result.flags}
    assert "fever_meningism" not in codes and "systemic" in codes


@pytest.mark.parametrize(
    ("onset", "threshold", "raised"), [(50, 50, True), (49, 50, False), (60, 65, False)]
)
def test_older_onset_threshold_is_configurable(onset: int, threshold: int, raised: bool) -> None:
    result = screen({"headache_onset_age": onset}, ScreeningSettings(older_onset_age=threshold))
    assert ("older_onset" in {f.code for f in result.flags}) is raised


def test_dissection_needs_all_three_parts() -> None:
    assert (
        screen(
            {
                "recent_neck_manipulation": True,
                "new_neck_pain": True,
                "dizziness": False,
                "diplopia": False,
                "dysarthria": False,
                "dysphagia": False,
                "ataxia": False,
                "drop_attack": False,
                "nystagmus": False,
                "facial_numbness": False,
            }
        ).urgency
        != "emergency"
    )


def test_bad_answers_name_the_field() -> None:
    with pytest.raises(ValidationError, match="age"):
        screen({"age": 200})
    with pytest.raises(ValidationError, match="fevr"):
        screen({"fevr": True})
