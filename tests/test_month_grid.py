"""The calendar's month grid, computed row by row (painlink/clinical/month_grid.py), is
the grid classify_days gave: compared on simulated diaries, on diaries read back from
both databases, on hand-made edge cases and on many random small diaries."""

from __future__ import annotations

import calendar as cal
import datetime as dt
import random
from typing import Any

import polars as pl
import pytest

from painlink.clinical.day_counts import classify_days
from painlink.clinical.month_grid import TABLES, diary_rows, month_days, month_grid
from painlink.diary.frames import DiaryFrames
from painlink.diary.vocabulary import AuraType, PainQuality, Relief, Side, SpineRegion
from painlink.rules.day_definitions import DEFINITIONS
from painlink.rules.medications import DrugClass
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.diary_io import frames_from_rows, read_window_rows
from painlink.store.store import Store

P = "P1"


# The reference: the calendar's grid as painlink/web/views.py computed it before,
# through classify_days over the month and the week before it (copied unchanged).
def _window(diary: DiaryFrames, first: dt.date, last: dt.date) -> DiaryFrames:
    def within(col: str) -> pl.Expr:
        day = pl.col(col).cast(pl.Date)
        return (day >= first) & (day <= last)

    return DiaryFrames(
        patients=diary.patients,
        days=diary.days.filter(within("date")),
        factor_values=diary.factor_values.filter(within("date")),
        factors=diary.factors,
        attacks=diary.attacks.filter(within("start")),
        intensity_readings=diary.intensity_readings.filter(within("at")),
        aura_symptoms=diary.aura_symptoms.filter(
            pl.col("attack_id").is_in(diary.attacks.filter(within("start"))["attack_id"].implode())
        ),
        medications=diary.medications.filter(within("taken_at")),
        spine_pain=diary.spine_pain.filter(within("start")),
        treatments=diary.treatments,
        visits=diary.visits,
        exam_measurements=diary.exam_measurements,
        clinical_findings=diary.clinical_findings,
        questionnaire_items=diary.questionnaire_items,
        screening_answers=diary.screening_answers.filter(within("at")),
    )


def reference_grid(whole: DiaryFrames, year: int, month: int) -> list[list[dict[str, Any]]]:
    first = dt.date(year, month, 1)
    last = dt.date(year, month, cal.monthrange(year, month)[1])
    diary = _window(whole, first - dt.timedelta(days=7), last)
    days = classify_days(diary) if diary.attacks.height or diary.days.height else pl.DataFrame()
    info: dict[dt.date, dict[str, Any]] = {}
    for r in days.iter_rows(named=True) if days.height else []:
        kind = (
            "migraine"
            if r["migraine_day"]
            else "headache"
            if r["headache_day_def"]
            else ("free" if r["logged"] else "none")
        )
        info[r["date"]] = {
            "kind": kind,
            "med": bool(r["acute_med_day"]),
            "treatment": r["treatment"],
        }
    weeks = []
    for week in cal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                {
                    "date": d,
                    "in_month": d.month == month,
                    **info.get(d, {"kind": "none", "med": False, "treatment": None}),
                }
                for d in week
            ]
        )
    return weeks


def assert_same(diary: DiaryFrames, year: int, month: int) -> list[list[dict[str, Any]]]:
    want = reference_grid(diary, year, month)
    rows = diary_rows(diary)
    got = month_grid(rows, year, month)
    # the database returns rows in no particular order: the grid must not depend on it
    shuffled = {
        name: random.Random(year * 12 + month).sample(r, len(r)) for name, r in rows.items()
    }
    assert month_grid(shuffled, year, month) == got
    if got != want:
        diff = [
            (w["date"], w, g)
            for wk, gk in zip(want, got, strict=True)
            for w, g in zip(wk, gk, strict=True)
            if w != g
        ]
        raise AssertionError(f"{year}-{month:02d}: {diff[:5]}")
    return want


def diary(**tables: list[dict[str, Any]]) -> DiaryFrames:
    frames = {name: pl.DataFrame(rows) for name, rows in tables.items() if rows}
    patients = pl.DataFrame([{"patient_id": P, "birth_year": 1990}])
    return DiaryFrames.from_tables(patients=patients, **frames).sorted()


def at(day: str, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hh, mm, ss))


def attack(aid: str, start: dt.datetime, end: dt.datetime | None, **kw: Any) -> dict[str, Any]:
    return {"patient_id": P, "attack_id": aid, "start": start, "end": end, **kw}


SPLIT = dt.timedelta(microseconds=900_000)
MIGRAINE = {"intensity": 3, "side": "left", "quality": "pulsating", "nausea": True}


def kinds(weeks: list[list[dict[str, Any]]]) -> dict[str, str]:
    return {str(d["date"]): d["kind"] for w in weeks for d in w if d["kind"] != "none"}


def test_simulated_patients_every_month_and_the_months_around() -> None:
    whole, _ = next(simulate(SimulationSpec(patients=6, days=150, seed=11)))
    checked = 0
    for pid in whole.patient_ids():
        one = whole.only([pid])
        first = one.attacks["start"].min().date()
        for k in range(-1, 7):
            month = dt.date(
                first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1
            )
            weeks = assert_same(one, month.year, month.month)
            checked += sum(d["kind"] != "none" for w in weeks for d in w)
    assert checked > 100  # the comparison saw many classified days, not empty grids


def test_rows_read_back_from_the_database_give_the_same_grid(db_url: str) -> None:
    """The production path: the month's rows as the database returns them (SQLite:
    text dates and 0/1 booleans; PostgreSQL: objects), never made into frames."""
    whole, _ = next(simulate(SimulationSpec(patients=3, days=120, seed=4)))
    store = Store(db_url)
    store.init()
    store.write(whole)
    try:
        with store.engine.connect() as conn:
            for pid in whole.patient_ids():
                start = whole.only([pid]).attacks["start"].min().date()
                for k in range(5):
                    y, m = start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1
                    first = dt.date(y, m, 1) - dt.timedelta(days=7)
                    last = dt.date(y, m, cal.monthrange(y, m)[1])
                    seen = read_window_rows(conn, pid, first, last)
                    frames = frames_from_rows(seen, conn.dialect.name == "sqlite")
                    assert month_grid(seen, y, m) == reference_grid(frames, y, m)
    finally:
        store.close()


def test_an_empty_month_and_a_month_of_only_tablets_show_nothing() -> None:
    empty = assert_same(diary(), 2026, 2)
    assert all(d["kind"] == "none" and not d["med"] for w in empty for d in w)
    tablets = diary(
        medications=[
            {"patient_id": P, "taken_at": at("2026-02-10", 9), "drug": "x", "drug_class": "triptan"}
        ]
    )
    weeks = assert_same(tablets, 2026, 2)
    assert kinds(weeks) == {} and not any(d["med"] for w in weeks for d in w)


def test_attacks_across_month_edges_overlapping_and_open() -> None:
    d = diary(
        attacks=[
            # starts in the look-back week and runs into the month
            attack("a1", at("2026-02-25", 20), at("2026-03-02", 3), **MIGRAINE),
            # started 8 days before the 1st: outside the window, so not shown
            attack("a2", at("2026-02-21", 10), at("2026-03-03", 10), intensity=2),
            # runs past the month's end into the grid's last week
            attack("a3", at("2026-03-31", 23, 59, 59), at("2026-04-02", 1), intensity=1),
            # three overlapping attacks whose hours add up to about one on one day
            attack("b1", at("2026-03-10", 8), at("2026-03-10", 8, 20), intensity=1),
            attack("b2", at("2026-03-10", 9), at("2026-03-10", 9, 20), intensity=1),
            attack("b3", at("2026-03-10", 10), at("2026-03-10", 10, 20), intensity=1),
            attack("b4", at("2026-03-11", 8), at("2026-03-11", 8, 20, 1), intensity=2),
            attack("b5", at("2026-03-11", 9), at("2026-03-11", 9, 19, 59), intensity=2),
            attack("b6", at("2026-03-11", 10), at("2026-03-11", 10, 20), intensity=2),
            # whole seconds count, as polars' total_seconds: 1799 + 1799 + 0 s, not 1 h
            attack("m1", at("2026-03-12", 8), at("2026-03-12", 8, 29, 59) + SPLIT, intensity=1),
            attack("m2", at("2026-03-12", 9), at("2026-03-12", 9, 29, 59) + SPLIT, intensity=1),
            attack("m3", at("2026-03-12", 10), at("2026-03-12", 10) + SPLIT, intensity=1),
            # hours that add up to 1.0 or 0.9999999999999999 by the order of addition
            *(
                attack(
                    f"o{day}{i}",
                    at(f"2026-03-{day}", 2 * i + 1),
                    at(f"2026-03-{day}", 2 * i + 1) + dt.timedelta(seconds=s),
                    intensity=1,
                )
                for day, seconds in (
                    (16, (1999, 1216, 385)),
                    (17, (1216, 1999, 385)),
                    (18, (2162, 119, 1319)),
                    (19, (331, 2965, 304)),
                )
                for i, s in enumerate(seconds)
            ),
            # open attacks (no end): counted on their first day only
            attack("c1", at("2026-03-14", 7), None, **MIGRAINE),
            attack("c2", at("2026-03-15", 7), None, intensity=None),
            # at midnight exactly, and unrated pain, and "none"
            attack("d1", at("2026-03-01", 0), at("2026-03-01", 2), intensity=None),
            attack("d2", at("2026-03-20", 0), at("2026-03-20", 5), intensity=0, **{"nausea": True}),
            # ends before it starts
            attack("e1", at("2026-03-22", 10), at("2026-03-22", 9), **MIGRAINE),
            attack("e2", at("2026-03-23", 10), at("2026-03-21", 9), **MIGRAINE),
        ]
    )
    weeks = assert_same(d, 2026, 3)
    shown = kinds(weeks)
    assert shown["2026-03-01"] == "migraine" and shown["2026-03-10"] == "headache"
    assert shown["2026-03-12"] == "free"
    assert [shown[f"2026-03-{day}"] for day in (16, 17, 18, 19)] == ["headache", "free"] * 2
    assert "2026-04-01" in shown and "2026-02-24" not in shown
    for month in (2, 4):
        assert_same(d, 2026, month)


def test_daylight_saving_changes_are_plain_local_times() -> None:
    """Times are stored as local wall-clock times, without a zone: the nights the
    clocks change (Europe: 29 March and 25 October 2026; US: 8 March, 1 November)
    hold no gap or overlap for either computation."""
    d = diary(
        attacks=[
            attack("s1", at("2026-03-29", 1, 30), at("2026-03-29", 3, 30), **MIGRAINE),
            attack("s2", at("2026-03-28", 23), at("2026-03-29", 0, 30), **MIGRAINE),
            attack("s3", at("2026-03-08", 1, 30), at("2026-03-08", 2, 15), intensity=2),
            attack("f1", at("2026-10-25", 2, 30), at("2026-10-25", 2, 59), **MIGRAINE),
            attack("f2", at("2026-11-01", 0, 59), at("2026-11-01", 2, 1), intensity=1),
        ],
        days=[{"patient_id": P, "date": dt.date(2026, 10, 26), "stress": 2.0}],
    )
    for month in (3, 10, 11):
        assert_same(d, 2026, month)


def test_aura_specific_drugs_medication_days_spine_and_treatments() -> None:
    d = diary(
        attacks=[
            attack("a1", at("2026-05-04", 8), at("2026-05-04", 8, 10), intensity=0),
            attack("a2", at("2026-05-05", 8), at("2026-05-05", 8, 10), intensity=0),
            attack("a3", at("2026-05-06", 8), at("2026-05-06", 9), intensity=1),
            attack("a4", at("2026-05-07", 8), at("2026-05-07", 9), intensity=1),
            attack("a5", at("2026-05-08", 8), at("2026-05-08", 8, 29), **MIGRAINE),
        ],
        aura_symptoms=[
            {"patient_id": P, "attack_id": "a1", "type": "visual", "duration_min": 20.0},
            {"patient_id": P, "attack_id": "a1", "type": "motor", "duration_min": 600.0},
            {"patient_id": P, "attack_id": "a2", "type": "visual", "duration_min": 61.0},
            {"patient_id": P, "attack_id": "a3", "type": "sensory", "duration_min": None},
        ],
        medications=[
            {"patient_id": P, "taken_at": at("2026-05-06", 9), "drug_class": "triptan"},
            {"patient_id": P, "taken_at": at("2026-05-07", 9), "drug_class": "preventive"},
            {
                "patient_id": P,
                "taken_at": at("2026-05-12", 9),
                "drug_class": "non_opioid_analgesic",
            },
            {"patient_id": P, "taken_at": at("2026-05-13", 9), "drug_class": None},
            {"patient_id": P, "taken_at": at("2026-05-14", 9), "drug_class": "preventive"},
        ],
        spine_pain=[
            {
                "patient_id": P,
                "region": "lumbar",
                "start": at("2026-05-15", 8),
                "end": at("2026-05-17", 8),
                "nrs": 4.0,
            },
            {
                "patient_id": P,
                "region": "cervical",
                "start": at("2026-05-20", 8),
                "end": None,
                "nrs": None,
            },
            {
                "patient_id": P,
                "region": None,
                "start": at("2026-05-22", 8),
                "end": at("2026-05-22", 9),
                "nrs": 3.0,
            },
        ],
        days=[{"patient_id": P, "date": dt.date(2026, 5, 25)}],
        factor_values=[{"patient_id": P, "date": dt.date(2026, 5, 27), "name": "x", "value": 1.0}],
        treatments=[
            {"patient_id": P, "name": "B", "kind": "other", "start": dt.date(2026, 5, 5)},
            {
                "patient_id": P,
                "name": "A",
                "kind": "other",
                "start": dt.date(2026, 5, 5),
                "end": dt.date(2026, 5, 10),
            },
            {"patient_id": P, "name": "C", "kind": "other", "start": dt.date(2020, 1, 1)},
            {"patient_id": P, "name": "D", "kind": "other", "start": dt.date(2026, 6, 1)},
        ],
    )
    weeks = assert_same(d, 2026, 5)
    by_day = {str(x["date"]): x for w in weeks for x in w}
    assert by_day["2026-05-04"]["kind"] == "migraine"  # aura 5–60 min (motor up to 72 h)
    assert by_day["2026-05-06"]["kind"] == "migraine"  # triptan on a day with pain
    assert by_day["2026-05-12"]["kind"] == "headache" and by_day["2026-05-12"]["med"]
    assert by_day["2026-05-08"]["treatment"] == "C; A; B"
    assert by_day["2026-05-28"]["treatment"] is None  # past the last entry
    assert_same(d, 2026, 6)


def test_an_entry_years_ahead_moves_the_analysis_window() -> None:
    """A spine episode ending 6 years later makes the day table start after the month
    (day_table.window_starts): both computations then show the month empty."""
    d = diary(
        attacks=[attack("a1", at("2026-07-03", 8), at("2026-07-03", 12), **MIGRAINE)],
        spine_pain=[
            {
                "patient_id": P,
                "region": "lumbar",
                "start": at("2026-07-10", 8),
                "end": at("2032-07-10", 8),
                "nrs": 2.0,
            }
        ],
    )
    weeks = assert_same(d, 2026, 7)
    assert "2026-07-03" not in kinds(weeks)


def random_diary(rng: random.Random, month: dt.date) -> DiaryFrames:
    """A small diary around one month, drawn from the values that change a day's class."""
    lo = dt.datetime.combine(month, dt.time()) - dt.timedelta(days=12)

    def when(days: int = 47) -> dt.datetime:
        t = lo + dt.timedelta(seconds=rng.randrange(days * 86_400))
        return rng.choice(
            [
                t,
                t.replace(microsecond=rng.randrange(1_000_000)),
                t.replace(hour=0, minute=0, second=0),
                t.replace(hour=23, minute=59, second=59),
            ]
        )

    def maybe(*values: Any) -> Any:
        return rng.choice([None, *values])

    lengths = [
        None,
        0,
        600,
        1799,
        1800,
        3599,
        3600,
        3601,
        1200,
        14_400,
        90_000,
        300_000,
        900_000,
        -3600,
    ]
    attacks, symptoms = [], []
    for i in range(rng.randrange(9)):
        start = when()
        length = rng.choice(lengths)
        aid = f"a{i:02d}"
        attacks.append(
            attack(
                aid,
                start,
                None if length is None else start + dt.timedelta(seconds=length),
                intensity=maybe(0, 1, 2, 3),
                side=maybe(*Side),
                quality=maybe(*PainQuality),
                aggravated_by_activity=maybe(True, False),
                nausea=maybe(True, False),
                vomiting=maybe(True, False),
                photophobia=maybe(True, False),
                phonophobia=maybe(True, False),
            )
        )
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            symptoms.append(
                {
                    "patient_id": P,
                    "attack_id": aid,
                    "type": maybe(*AuraType),
                    "duration_min": maybe(3.0, 5.0, 30.0, 60.0, 61.0, 200.0, 5000.0),
                }
            )
    meds = [
        {
            "patient_id": P,
            "taken_at": when(),
            "drug_class": maybe(*DrugClass),
            "relief_2h": maybe(*Relief),
        }
        for _ in range(rng.randrange(6))
    ]
    spine = []
    for _ in range(rng.randrange(3)):
        start = when()
        spine.append(
            {
                "patient_id": P,
                "region": maybe(*SpineRegion),
                "start": start,
                "end": maybe(start + dt.timedelta(days=rng.randrange(5))),
                "nrs": maybe(0.0, 3.0, 8.0),
            }
        )
    days = sorted({when().date() for _ in range(rng.randrange(12))})
    factors = sorted({when().date() for _ in range(rng.randrange(3))})
    treatments = []
    for name in rng.sample(["A", "B", "C"], rng.randrange(4)):
        start = (lo + dt.timedelta(days=rng.randrange(-30, 50))).date()
        end = maybe(start + dt.timedelta(days=rng.randrange(-2, 40)))
        treatments.append(
            {"patient_id": P, "name": name, "kind": "other", "start": start, "end": end}
        )
    return diary(
        attacks=attacks,
        aura_symptoms=symptoms,
        medications=meds,
        spine_pain=spine,
        days=[{"patient_id": P, "date": x} for x in days],
        factor_values=[{"patient_id": P, "date": x, "name": "f", "value": 1.0} for x in factors],
        treatments=treatments,
    )


@pytest.mark.parametrize("seed", range(4))
def test_many_random_small_diaries(seed: int) -> None:
    rng = random.Random(seed)
    classified = 0
    for _ in range(60):
        month = dt.date(rng.choice([2024, 2026]), rng.randrange(1, 13), 1)
        weeks = assert_same(random_diary(rng, month), month.year, month.month)
        classified += len(kinds(weeks))
    assert classified > 200


def test_the_definitions_it_covers_and_the_one_it_refuses() -> None:
    rows = diary_rows(diary(attacks=[attack("a", at("2026-01-05", 8), None, intensity=2)]))
    first, last = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
    assert month_days(rows, first, last)[dt.date(2026, 1, 5)]["kind"] == "free"
    with pytest.raises(ValueError, match="ichd_strict_4h"):
        month_days(rows, first, last, DEFINITIONS["ichd_strict_4h"])
    assert set(rows) == set(TABLES)
