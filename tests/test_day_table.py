"""The day table: what each calendar day holds, checked on hand-built diaries."""

from __future__ import annotations

import datetime as dt

import polars as pl

from painlink.days.day_table import build_day_table
from painlink.diary.frames import DiaryFrames

D = dt.date
T = dt.datetime


def _diary(**tables: list[dict]) -> DiaryFrames:
    tables.setdefault("patients", [{"patient_id": "p1", "sex": "female", "time_zone": "UTC"}])
    return DiaryFrames.from_tables(**{k: pl.DataFrame(v) for k, v in tables.items()})


def _day(table: pl.DataFrame, date: dt.date) -> dict:
    return table.filter(pl.col("date") == date).row(0, named=True)


def test_an_attack_over_midnight_makes_two_attack_days_and_one_onset() -> None:
    table = build_day_table(
        _diary(
            attacks=[
                {
                    "patient_id": "p1",
                    "attack_id": "a",
                    "start": T(2025, 3, 1, 20),
                    "end": T(2025, 3, 2, 6),
                    "intensity": 2,
                    "intensity_nrs": 6.0,
                }
            ],
            days=[
                {"patient_id": "p1", "date": D(2025, 2, 28), "stress": 4.0},
                {"patient_id": "p1", "date": D(2025, 3, 4), "stress": 2.0},
            ],
        )
    )
    assert table["date"].to_list() == [D(2025, 2, 28) + dt.timedelta(days=i) for i in range(5)]
    first, second = _day(table, D(2025, 3, 1)), _day(table, D(2025, 3, 2))
    assert (first["onset"], first["ongoing"], first["attack_hours"]) == (True, False, 4.0)
    assert (second["onset"], second["ongoing"], second["attack_hours"]) == (False, True, 6.0)
    assert first["headache_day"] and second["headache_day"]
    assert first["max_intensity"] == 2 and first["max_intensity_nrs"] == 6.0
    gap = _day(table, D(2025, 3, 3))
    assert not gap["logged"] and not gap["headache_day"]  # not recorded, kept as a row
    assert _day(table, D(2025, 3, 4))["logged"]


def test_aura_without_pain_is_an_attack_day_but_not_a_headache_day() -> None:
    table = build_day_table(
        _diary(
            attacks=[
                {
                    "patient_id": "p1",
                    "attack_id": "a",
                    "start": T(2025, 3, 1, 9),
                    "end": T(2025, 3, 1, 9, 40),
                    "intensity": 0,
                    "aura": True,
                }
            ]
        )
    )
    row = _day(table, D(2025, 3, 1))
    assert row["attack_day"] and row["aura_day"] and not row["headache_day"]


def test_an_open_attack_counts_to_as_of_but_at_most_three_days() -> None:
    diary = _diary(attacks=[{"patient_id": "p1", "attack_id": "a", "start": T(2025, 3, 1, 9)}])
    alone = build_day_table(diary)
    assert alone.height == 1 and alone["open_attack"][0]
    live = build_day_table(diary, as_of=D(2025, 3, 2))
    assert live["headache_day"].to_list() == [True, True]
    forgotten = build_day_table(diary, as_of=D(2025, 6, 1))
    assert forgotten["headache_day"].sum() == 4  # start day + 72 h


def test_medication_days_by_class_and_acute_days() -> None:
    table = build_day_table(
        _diary(
            medications=[
                {
                    "patient_id": "p1",
                    "taken_at": T(2025, 3, 1, 9),
                    "drug": "sumatriptan",
                    "drug_class": "triptan",
                },
                {
                    "patient_id": "p1",
                    "taken_at": T(2025, 3, 1, 15),
                    "drug": "sumatriptan",
                    "drug_class": "triptan",
                },
                {
                    "patient_id": "p1",
                    "taken_at": T(2025, 3, 2, 9),
                    "drug": "ibuprofen",
                    "drug_class": "non_opioid_analgesic",
                },
                {
                    "patient_id": "p1",
                    "taken_at": T(2025, 3, 3, 9),
                    "drug": "propranolol",
                    "drug_class": "preventive",
                },
            ]
        )
    )
    assert table["med_triptan"].to_list() == [2, 0, 0]
    assert table["med_non_opioid_analgesic"].to_list() == [0, 1, 0]
    assert table["acute_med_day"].to_list() == [True, True, False]  # a preventive is not acute
    assert table["logged"].all()


def test_spine_pain_treatments_and_own_factors() -> None:
    table = build_day_table(
        _diary(
            days=[
                {
                    "patient_id": "p1",
                    "date": D(2025, 3, d),
                    "neck_pain": float(d),
                    "low_back_pain": 1.0,
                }
                for d in (1, 2, 3, 4)
            ],
            spine_pain=[
                {
                    "patient_id": "p1",
                    "region": "upper_cervical",
                    "start": T(2025, 3, 2, 8),
                    "end": T(2025, 3, 3, 8),
                    "nrs": 7.0,
                }
            ],
            treatments=[
                {
                    "patient_id": "p1",
                    "name": "Manual therapy",
                    "kind": "manual_therapy",
                    "start": D(2025, 3, 3),
                    "end": None,
                }
            ],
            factor_values=[
                {"patient_id": "p1", "date": D(2025, 3, 1), "name": "red_wine", "value": 1.0}
            ],
            factors=[{"patient_id": "p1", "name": "red_wine", "kind": "boolean"}],
        )
    )
    assert table["spine_upper_cervical"].to_list() == [None, 7.0, 7.0, None]
    assert table["neck_pain_max"].to_list() == [1.0, 7.0, 7.0, 4.0]
    assert table["back_pain_max"].to_list() == [1.0] * 4
    assert table["treatment"].to_list() == [None, None, "Manual therapy", "Manual therapy"]
    assert table["factor_red_wine"].to_list() == [1.0, None, None, None]


def test_several_patients_keep_their_own_spans() -> None:
    diary = _diary(
        patients=[{"patient_id": p, "time_zone": "UTC"} for p in ("a", "b")],
        days=[
            {"patient_id": "a", "date": D(2025, 1, 1)},
            {"patient_id": "a", "date": D(2025, 1, 3)},
            {"patient_id": "b", "date": D(2025, 5, 1)},
        ],
    )
    table = build_day_table(diary)
    assert table.group_by("patient_id").len().sort("patient_id")["len"].to_list() == [3, 1]
