"""ICHD-3 classification at the boundaries of every criterion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from painlink.clinical.attack_criteria import MET, NE, NOT_MET
from painlink.clinical.classify import Classification, classify
from painlink.diary.frames import DiaryFrames

START = dt.datetime(2025, 1, 1, 8, 0)
MIGRAINE = {
    "intensity": 3,
    "side": "left",
    "quality": "pulsating",
    "aggravated_by_activity": True,
    "nausea": True,
    "vomiting": False,
    "photophobia": True,
    "phonophobia": True,
}
TTH = {
    "intensity": 1,
    "side": "bilateral",
    "quality": "pressing",
    "aggravated_by_activity": False,
    "nausea": False,
    "vomiting": False,
    "photophobia": False,
    "phonophobia": False,
}


def diary(
    attacks: list[dict[str, Any]],
    *,
    meds: list[dict[str, Any]] | None = None,
    aura: list[dict[str, Any]] | None = None,
    birth_year: int = 1985,
    patient: dict[str, Any] | None = None,
) -> DiaryFrames:
    rows = []
    for i, a in enumerate(attacks):
        row = {"patient_id": "p", "attack_id": f"a{i}", **a}
        rows.append(row)
    return DiaryFrames.from_tables(
        patients=pl.DataFrame(
            [{"patient_id": "p", "birth_year": birth_year, "time_zone": "UTC", **(patient or {})}]
        ),
        attacks=pl.DataFrame(rows) if rows else pl.DataFrame(),
        medications=pl.DataFrame([{"patient_id": "p", **m} for m in meds])
        if meds
        else pl.DataFrame(),
        aura_symptoms=pl.DataFrame([{"patient_id": "p", **s} for s in aura])
        if aura
        else pl.DataFrame(),
    )


def attack(day: int, hours: float, **features: Any) -> dict[str, Any]:
    start = START + dt.timedelta(days=day)
    return {"start": start, "end": start + dt.timedelta(hours=hours), **features}


def result(c: Classification, code: str) -> tuple[str, dict[str, str]]:
    for d in [*c.diagnoses, *c.excluded]:
        if d.code == code:
            return d.status, {k.letter: k.status for k in d.criteria}
    raise KeyError(code)


@pytest.mark.parametrize(("n", "status", "probable"), [(4, NOT_MET, "probable"), (5, MET, NOT_MET)])
def test_migraine_without_aura_needs_five_attacks(n: int, status: str, probable: str) -> None:
    c = classify(diary([attack(3 * i, 8, **MIGRAINE) for i in range(n)]))
    assert result(c, "1.1")[0] == status
    assert result(c, "1.5.1")[0] == probable
    assert ("1.1" in c.labels) == (status == MET)


@pytest.mark.parametrize(
    ("hours", "age", "expected"),
    [
        (4.0, 30, MET),
        (3.9, 30, NOT_MET),
        (72.0, 30, MET),
        (72.5, 30, NOT_MET),
        (2.0, 16, MET),
        (1.9, 16, NOT_MET),
        (3.0, 16, MET),
    ],
)
def test_duration_4_to_72_hours_and_2_hours_under_18(hours: float, age: int, expected: str) -> None:
    c = classify(diary([attack(5 * i, hours, **MIGRAINE) for i in range(5)], birth_year=2025 - age))
    assert result(c, "1.1")[1]["B"] == expected


def test_a_short_attack_stopped_by_treatment_is_not_evaluable_not_a_failure() -> None:
    attacks = [attack(3 * i, 1.0, **MIGRAINE) for i in range(5)]
    meds = [
        {
            "taken_at": START + dt.timedelta(days=3 * i, minutes=10),
            "drug": "sumatriptan",
            "drug_class": "triptan",
            "relief_2h": "complete",
            "attack_id": f"a{i}",
        }
        for i in range(5)
    ]
    c = classify(diary(attacks, meds=meds))
    assert result(c, "1.1")[1]["B"] == NE
    assert result(c, "1.1")[0] == NE


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (
            {
                "side": "left",
                "quality": "pulsating",
                "intensity": 1,
                "aggravated_by_activity": False,
            },
            MET,
        ),
        (
            {
                "side": "left",
                "quality": "pressing",
                "intensity": 1,
                "aggravated_by_activity": False,
            },
            NOT_MET,
        ),
        ({"side": "left", "quality": None, "intensity": 1, "aggravated_by_activity": None}, NE),
    ],
)
def test_two_of_four_pain_features(features: dict[str, Any], expected: str) -> None:
    a = {**MIGRAINE, **features}
    c = classify(diary([attack(3 * i, 8, **a) for i in range(5)]))
    assert result(c, "1.1")[1]["C"] == expected


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"nausea": False, "photophobia": True, "phonophobia": False}, NOT_MET),  # one of the pair
        ({"nausea": False, "photophobia": True, "phonophobia": True}, MET),
        ({"nausea": False, "vomiting": True, "photophobia": False, "phonophobia": False}, MET),
    ],
)
def test_nausea_or_both_photo_and_phonophobia(features: dict[str, Any], expected: str) -> None:
    c = classify(diary([attack(3 * i, 8, **{**MIGRAINE, **features}) for i in range(5)]))
    assert result(c, "1.1")[1]["D"] == expected


def _aura(n: int, duration: float = 20.0, kind: str = "visual", **extra: Any) -> tuple[list, list]:
    attacks, symptoms = [], []
    for i in range(n):
        a = attack(4 * i, 8, **MIGRAINE, aura=True)
        attacks.append(a)
        symptoms.append(
            {
                "attack_id": f"a{i}",
                "type": kind,
                "start": a["start"] - dt.timedelta(minutes=30),
                "duration_min": duration,
                "positive": True,
                "unilateral": True,
                "gradual_spread": True,
                **extra,
            }
        )
    return attacks, symptoms


@pytest.mark.parametrize(("n", "status", "probable"), [(1, NOT_MET, "probable"), (2, MET, NOT_MET)])
def test_migraine_with_aura_needs_two_attacks(n: int, status: str, probable: str) -> None:
    attacks, symptoms = _aura(n)
    c = classify(diary(attacks, aura=symptoms))
    assert result(c, "1.2")[0] == status
    assert result(c, "1.5.2")[0] == probable
    if status == MET:
        assert {"1.2", "1.2.1", "1.2.1.1"} <= set(c.labels)


@pytest.mark.parametrize(
    ("duration", "expected"), [(5.0, MET), (60.0, MET), (4.0, NOT_MET), (61.0, NOT_MET)]
)
def test_aura_characteristics_three_of_six_with_5_to_60_minutes(
    duration: float, expected: str
) -> None:
    # spread and succession unknown, unilateral + positive met: the duration decides
    attacks, symptoms = _aura(2, duration=duration, gradual_spread=None)
    for s in symptoms:
        s["start"] = None  # no timing → "headache within 60 min" not evaluable either
    c = classify(diary(attacks, aura=symptoms))
    _, letters = result(c, "1.2")
    assert letters["C"] == (MET if expected == MET else NE)


def test_motor_aura_is_flagged_for_a_specialist() -> None:
    attacks, symptoms = _aura(3, kind="motor")
    c = classify(diary(attacks, aura=symptoms))
    hemiplegic = next(d for d in c.diagnoses if d.code == "1.2.3")
    assert hemiplegic.refer and hemiplegic.status == NE
    assert result(c, "1.2.1")[0] == NOT_MET


def _daily_attacks(
    days: int, per_month: int, migraine_per_month: int, end: int = 119
) -> list[dict]:
    """Attacks on ``per_month`` days of each 30-day block counted back from day ``end``."""
    out = []
    for block in range(days // 30):
        last = end - 30 * block
        for k in range(per_month):
            features = MIGRAINE if k < migraine_per_month else TTH
            out.append(attack(last - k, 5, **features))
    return out


@pytest.mark.parametrize(
    ("per_month", "migraine", "a", "c", "status"),
    [(15, 8, MET, MET, MET), (14, 8, NOT_MET, MET, NOT_MET), (15, 7, MET, NOT_MET, NOT_MET)],
)
def test_chronic_migraine_15_headache_and_8_migraine_days(
    per_month: int, migraine: int, a: str, c: str, status: str
) -> None:
    result_ = classify(diary(_daily_attacks(120, per_month, migraine)))
    got, letters = result(result_, "1.3")
    assert (letters["A"], letters["C"], got) == (a, c, status)


def test_chronic_migraine_needs_three_months_of_diary() -> None:
    c = classify(diary(_daily_attacks(60, 20, 10, end=59)))
    assert result(c, "1.3")[1]["A"] == NE


def test_chronic_migraine_excludes_tension_type_headache() -> None:
    c = classify(diary(_daily_attacks(120, 25, 10)))
    assert "1.3" in c.labels
    assert not [code for code in c.labels if code.startswith("2.")]
    assert any(d.code.startswith("2.") for d in c.excluded)


def _meds(days: list[int], drug: str, cls: str) -> list[dict]:
    return [
        {"taken_at": START + dt.timedelta(days=d, hours=1), "drug": drug, "drug_class": cls}
        for d in days
    ]


def _month_days(n: int, offset: int = 0) -> list[int]:
    """``n`` days in each of the last three 30-day blocks ending on day 119."""
    return [119 - 30 * b - offset - k for b in range(3) for k in range(n)]


@pytest.mark.parametrize(("n", "status"), [(10, MET), (9, NOT_MET)])
def test_triptan_overuse_on_ten_days_a_month(n: int, status: str) -> None:
    c = classify(
        diary(_daily_attacks(120, 16, 9), meds=_meds(_month_days(n), "sumatriptan", "triptan"))
    )
    assert result(c, "8.2.2")[0] == status
    assert result(c, "1.3")[0] == MET  # chronic migraine and MOH are both given


@pytest.mark.parametrize(("n", "status"), [(15, MET), (14, NOT_MET)])
def test_non_opioid_analgesics_pooled_at_fifteen_days(n: int, status: str) -> None:
    half = n // 2
    meds = _meds(_month_days(half), "paracetamol", "non_opioid_analgesic") + _meds(
        _month_days(n - half, offset=half), "ibuprofen", "non_opioid_analgesic"
    )
    c = classify(diary(_daily_attacks(120, 16, 9), meds=meds))
    assert result(c, "8.2.3")[0] == status
    assert result(c, "8.2.6")[0] != MET  # one class, so never "multiple classes"


def test_multiple_classes_only_when_none_is_overused_alone() -> None:
    meds = _meds(_month_days(5), "sumatriptan", "triptan") + _meds(
        _month_days(5, offset=5), "ibuprofen", "non_opioid_analgesic"
    )
    c = classify(diary(_daily_attacks(120, 16, 9), meds=meds))
    assert result(c, "8.2.6")[0] == MET
    assert result(c, "8.2.2")[0] == NOT_MET
    meds_over = _meds(_month_days(10), "sumatriptan", "triptan") + _meds(
        _month_days(5, offset=10), "ibuprofen", "non_opioid_analgesic"
    )
    c = classify(diary(_daily_attacks(120, 16, 9), meds=meds_over))
    assert result(c, "8.2.2")[0] == MET and result(c, "8.2.6")[0] == NOT_MET


def test_thunderclap_onset_raises_an_emergency_and_marks_every_label() -> None:
    attacks = [attack(3 * i, 8, **MIGRAINE) for i in range(5)]
    attacks[-1]["onset_to_peak_min"] = 0.5
    c = classify(diary(attacks))
    assert c.screen.urgency == "emergency"
    d11 = next(d for d in c.diagnoses if d.code == "1.1")
    assert any("red flag open" in n for n in d11.notes)
    assert c.summary().startswith("RED FLAGS FIRST")


def test_neck_pain_alone_never_makes_cervicogenic_headache() -> None:
    attacks = [attack(3 * i, 8, **{**MIGRAINE, "neck_pain": True}) for i in range(8)]
    c = classify(diary(attacks))
    assert result(c, "11.2.1")[0] == NE
    assert "11.2.1" not in c.labels


def test_cervicogenic_headache_from_clinician_documented_evidence() -> None:
    at = dt.datetime(2025, 3, 1, 10)
    findings = pl.DataFrame(
        {
            "item": [
                "cervical_lesion",
                "temporal_relation",
                "reduced_rom_provocation",
                "diagnostic_block",
            ],
            "present": [True, True, True, False],
            "at": [at] * 4,
            "clinician": ["Dr A"] * 4,
        }
    )
    c = classify(diary([attack(3 * i, 8, **MIGRAINE) for i in range(5)]), findings=findings)
    status, letters = result(c, "11.2.1")
    assert status == MET and letters["B"] == MET and letters["C"] == MET
    one_item = findings.filter(pl.col("item").is_in(["cervical_lesion", "temporal_relation"]))
    c = classify(diary([attack(3 * i, 8, **MIGRAINE) for i in range(5)]), findings=one_item)
    assert result(c, "11.2.1")[1]["C"] == NE  # C2–C4 not documented either way


def test_cluster_pattern_is_only_a_referral() -> None:
    cluster = {
        "intensity": 3,
        "side": "right",
        "location": "orbital",
        "cranial_autonomic": True,
        "quality": "stabbing",
        "nausea": False,
        "photophobia": False,
        "phonophobia": False,
    }
    c = classify(diary([attack(i, 1.0, **cluster) for i in range(6)]))
    d = next(d for d in c.diagnoses if d.code == "3.1")
    assert d.status == MET and d.refer


def test_classify_refuses_several_patients() -> None:
    two = DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["a", "b"]}))
    with pytest.raises(ValueError, match="one patient"):
        classify(two)


# ---- issue 10, defect 5: which days count for 2.3 and 1.3 --------------------------------


def _with_checkins(d: DiaryFrames, first: int, last: int) -> DiaryFrames:
    """Add a daily check-in for every day, so the diary's span is known exactly."""
    days = pl.DataFrame(
        {
            "patient_id": ["p"] * (last - first + 1),
            "date": [(START + dt.timedelta(days=k)).date() for k in range(first, last + 1)],
        }
    )
    return DiaryFrames.from_tables(**{**dict(d.items()), "days": days})


def _blocks(
    n_months: int, kinds: list[tuple[int, dict[str, Any], float]], end: int = 119
) -> list[dict]:
    """Per 30-day block counted back from ``end``: (days, features, hours) in turn."""
    out = []
    for block in range(n_months):
        day = end - 30 * block
        for count, features, hours in kinds:
            for _ in range(count):
                out.append(attack(day, hours, **features))
                day -= 1
    return out


def test_chronic_tth_counts_only_days_of_tension_type_headache_not_migraine_days() -> None:
    # 10 TTH days + 6 migraine days a month: 16 headache days, but only 10 fulfil 2.3 B–D
    c = classify(diary(_blocks(4, [(10, TTH, 5), (6, MIGRAINE, 8)])))
    assert result(c, "2.3")[1]["A"] == NOT_MET
    assert "2.2" in c.labels and "2.3" not in c.labels
    assert "1.1" in c.labels


def test_medication_only_days_count_for_neither_chronic_tth_nor_chronic_migraine() -> None:
    attacks = _blocks(4, [(10, TTH, 5), (8, MIGRAINE, 8)])
    meds = _meds(
        [119 - 30 * b - 18 - k for b in range(4) for k in range(6)],
        "ibuprofen",
        "non_opioid_analgesic",
    )
    c = classify(diary(attacks, meds=meds))
    # 18 headache days + 6 tablet-only days: 1.3 A needs 15 days *with headache*; here 18
    assert result(c, "1.3")[1]["A"] == MET
    attacks = _blocks(4, [(6, TTH, 5), (8, MIGRAINE, 8)])
    c = classify(diary(attacks, meds=meds))  # 14 headache days + 6 tablet-only days
    assert result(c, "1.3")[1]["A"] == NOT_MET
    c = classify(diary(_blocks(4, [(10, TTH, 5)]), meds=meds))  # 10 TTH + 6 tablet days
    assert result(c, "2.3")[1]["A"] == NOT_MET
    assert "2.2" in c.labels


def test_chronic_and_frequent_tth_are_never_given_together() -> None:
    c = classify(diary(_blocks(4, [(20, TTH, 5)])))
    assert "2.3" in c.labels
    assert not {"2.1", "2.2", "2.4.1", "2.4.2", "2.4.3"} & set(c.labels)


@pytest.mark.parametrize(("last_day", "status"), [(89, NE), (119, MET)])
def test_more_than_three_months_means_more_than_three_months_of_diary(
    last_day: int, status: str
) -> None:
    # the same 20-headache-day months, over exactly 3 months or over 4
    attacks = [
        attack(day, 8, **(MIGRAINE if day % 3 else TTH))
        for day in range(last_day + 1)
        if day % 30 < 20
    ]
    c = classify(_with_checkins(diary(attacks), 0, last_day))
    assert result(c, "1.3")[1]["A"] == status


# ---- issue 10, defect 6: probable codes and the hierarchy ---------------------------------

CLUSTER = {
    "intensity": 3,
    "side": "right",
    "location": "orbital",
    "cranial_autonomic": True,
    "restlessness": True,
    "quality": "stabbing",
    "aggravated_by_activity": False,
    "nausea": False,
    "vomiting": False,
    "photophobia": False,
    "phonophobia": False,
}


def test_no_probable_tth_beside_a_cluster_pattern() -> None:
    # a 24-day bout of 12 attacks in a 300-day diary
    c = classify(
        _with_checkins(diary([attack(100 + 2 * i, 1.0, **CLUSTER) for i in range(12)]), 0, 299)
    )
    assert "3.1" in c.labels
    assert not [code for code in c.labels if code.startswith(("2.", "1.5"))]


def test_probable_tth_frequency_comes_from_the_episodes_that_qualify() -> None:
    # 12 TTH-like episodes with nausea (miss 2.x D) once every 25 days: 1.2 days/month
    nauseous = {**TTH, "nausea": True}
    c = classify(_with_checkins(diary([attack(25 * i, 2, **nauseous) for i in range(12)]), 0, 299))
    assert "2.4.2" in c.labels
    assert "2.4.1" not in c.labels


def test_probable_migraine_from_separate_attacks_coexists_with_definite_tth() -> None:
    # 3 full migraine attacks (only A missing) are not tension-type episodes: both are coded
    attacks = [attack(9 * i, 3, **TTH) for i in range(12)] + [
        attack(9 * i + 4, 6, **MIGRAINE) for i in range(3)
    ]
    c = classify(diary(attacks))
    assert {"2.2", "1.5.1"} <= set(c.labels)


def test_an_attack_that_is_tth_and_probable_migraine_is_coded_as_tth() -> None:
    # bilateral, pressing, moderate, worse with activity, photophobia only: TTH B–D are met
    # and 1.1 misses only D — "a definite diagnosis always trumps a probable diagnosis"
    ambiguous = {**TTH, "intensity": 2, "aggravated_by_activity": True, "photophobia": True}
    c = classify(diary([attack(9 * i, 6, **ambiguous) for i in range(12)]))
    assert "2.2" in c.labels and "1.5.1" not in c.labels
    p151 = next(d for d in c.diagnoses if d.code == "1.5.1")
    assert "12 more are tension-type episodes" in p151.criteria[0].evidence


def test_probable_migraine_is_not_given_beside_definite_migraine_with_aura() -> None:
    attacks, symptoms = _aura(2)
    attacks += [attack(40 + 3 * i, 8, **MIGRAINE) for i in range(3)]
    c = classify(diary(attacks, aura=symptoms))
    assert "1.2" in c.labels and "1.5.1" not in c.labels


def test_probable_tth_yields_to_probable_migraine() -> None:
    attacks = [attack(40 * i, 6, **TTH) for i in range(5)] + [
        attack(40 * i + 10, 8, **MIGRAINE) for i in range(3)
    ]
    c = classify(_with_checkins(diary(attacks), 0, 299))
    assert "1.5.1" in c.labels
    assert not [code for code in c.labels if code.startswith("2.4")]


def test_cluster_needs_a_frequency_of_one_every_other_day_at_least() -> None:
    # five cluster-like attacks a week apart do not reach criterion D
    c = classify(diary([attack(7 * i, 1.0, **CLUSTER) for i in range(5)]))
    assert result(c, "3.1")[0] != MET


def test_every_hierarchy_reason_quotes_its_ichd3_note() -> None:
    c = classify(diary(_daily_attacks(120, 25, 10)))
    reasons = [n for d in c.excluded for n in d.notes if n.startswith("not coded")]
    assert reasons and all("ICHD-3" in r and "'" in r for r in reasons)
    assert any("1.3 note" in r for r in reasons)


def test_entries_rated_no_pain_are_not_headache_episodes() -> None:
    # twelve "attacks" rated 0 (none) with TTH-like descriptions, and five with migraine ones
    no_pain_tth = {**TTH, "intensity": 0}
    no_pain_migraine = {**MIGRAINE, "intensity": 0, "side": "left", "quality": "pulsating"}
    attacks = [attack(9 * i, 3, **no_pain_tth) for i in range(12)] + [
        attack(9 * i + 4, 8, **no_pain_migraine) for i in range(5)
    ]
    c = classify(diary(attacks))
    assert not [code for code in c.labels if code.startswith(("1.", "2."))]


def test_cluster_attacks_stopped_by_treatment_leave_3_1_undecided_not_failed() -> None:
    # 3.1 B: "lasting 15–180 minutes (when untreated)": a 10-minute attack that oxygen or
    # a triptan stopped cannot show its natural length
    attacks = [attack(i, 10 / 60, **CLUSTER) for i in range(6)]
    meds = [
        {
            "taken_at": START + dt.timedelta(days=i, minutes=2),
            "drug": "sumatriptan",
            "drug_class": "triptan",
            "relief_2h": "complete",
            "attack_id": f"a{i}",
        }
        for i in range(6)
    ]
    assert result(classify(diary(attacks, meds=meds)), "3.1")[0] == NE
    assert result(classify(diary(attacks)), "3.1")[0] == NOT_MET
