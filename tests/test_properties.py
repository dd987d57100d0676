"""Properties that hold for every diary, checked on diaries Hypothesis makes up.

Example tests show that the cases someone thought of work; these state what must hold
for all of them — the CSV format loses nothing, a parser never lets an out-of-range
value through, a day is a day however attacks overlap, and more evidence never
takes a diagnosis away where ICHD-3 says it cannot (1.1 and 1.2 count attacks: one
more attack that fulfils the criteria can only add to the count). Examples are kept
few (``max_examples``) and the database off, so the file stays in the quick loop.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from painlink.clinical.classify import classify
from painlink.clinical.criteria import MET
from painlink.clinical.day_counts import classify_days
from painlink.days.day_table import build_day_table
from painlink.diary.errors import DiaryFormatError
from painlink.diary.frames import DiaryFrames
from painlink.interop.csv_diary import read_diary_folder, write_diary_folder
from painlink.rules import plausibility

PROPERTY = settings(max_examples=40, deadline=None, database=None)

#: a fixed past period: never "in the future", whatever today is
FIRST = dt.datetime(2020, 3, 1)
SPAN_DAYS = 120
ZONES = ["UTC", "Europe/London", "America/New_York", "Pacific/Kiritimati", "Asia/Kolkata"]

moment = st.integers(0, SPAN_DAYS * 24 * 60).map(lambda m: FIRST + dt.timedelta(minutes=m))
#: text as people type it into a note: stripped (the importer strips), never NUL
note = st.one_of(
    st.none(),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
    ).map(lambda s: s.strip() or None),
    st.sampled_from(["=1+1", "+49 30", "-4", "@SUM(A1)", 'say "hi", then, go', "a\nb", "é 頭痛"]),
)
maybe_bool = st.sampled_from([None, True, False])


@st.composite
def attacks(draw: st.DrawFn, patient_id: str = "p1", max_size: int = 8) -> list[dict[str, Any]]:
    """Attacks of one patient, open or closed, overlapping or not, any features."""
    starts = draw(st.lists(moment, max_size=max_size, unique=True))
    out = []
    for i, start in enumerate(starts):
        minutes = draw(st.one_of(st.none(), st.integers(0, 5 * 24 * 60)))
        out.append(
            {
                "patient_id": patient_id,
                "attack_id": f"a{i}",
                "start": start,
                "end": None if minutes is None else start + dt.timedelta(minutes=minutes),
                "intensity": draw(st.sampled_from([None, 0, 1, 2, 3])),
                "side": draw(st.sampled_from([None, "left", "right", "bilateral"])),
                "quality": draw(st.sampled_from([None, "pulsating", "pressing"])),
                "aggravated_by_activity": draw(maybe_bool),
                "nausea": draw(maybe_bool),
                "photophobia": draw(maybe_bool),
                "phonophobia": draw(maybe_bool),
                "aura": draw(st.sampled_from([None, True])),
                "notes": draw(note),
            }
        )
    return out


def _diary(rows: list[dict[str, Any]], **tables: pl.DataFrame) -> DiaryFrames:
    patients = pl.DataFrame({"patient_id": ["p1"], "time_zone": ["UTC"]})
    frame = pl.DataFrame(rows) if rows else pl.DataFrame()
    return DiaryFrames.from_tables(patients=patients, attacks=frame, **tables)


# ------------------------------------------------------------------ the CSV format


@st.composite
def diaries(draw: st.DrawFn) -> DiaryFrames:
    """One or two patients with attacks, check-ins and medications."""
    ids = draw(
        st.lists(st.sampled_from(["p1", "P-2", "x.y_z"]), min_size=1, max_size=2, unique=True)
    )
    patients = pl.DataFrame(
        {
            "patient_id": ids,
            "time_zone": [draw(st.sampled_from(ZONES)) for _ in ids],
            "birth_year": [draw(st.one_of(st.none(), st.integers(1900, 2020))) for _ in ids],
            "display_name": [draw(note) for _ in ids],
            "sex": [draw(st.sampled_from(["female", "male", "unknown"])) for _ in ids],
        }
    )
    attack_rows = [row for pid in ids for row in draw(attacks(pid, max_size=4))]
    day_rows = []
    for pid in ids:
        for day in draw(st.sets(st.integers(0, SPAN_DAYS), max_size=5)):
            day_rows.append(
                {
                    "patient_id": pid,
                    "date": FIRST.date() + dt.timedelta(days=day),
                    "sleep_hours": draw(
                        st.one_of(st.none(), st.floats(0, 24, allow_nan=False, width=32))
                    ),
                    "stress": draw(st.one_of(st.none(), st.integers(0, 10).map(float))),
                    "pressure_hpa": draw(st.one_of(st.none(), st.floats(850, 1100))),
                    "menstruation": draw(st.sampled_from([None, "none", "light", "heavy"])),
                }
            )
    med_rows = [
        {
            "patient_id": pid,
            "taken_at": draw(moment),
            "drug": draw(st.sampled_from(["ibuprofen", "Sumatriptan 50", "=cmd|' /C calc'!A0"])),
            "drug_class": draw(st.sampled_from(["triptan", "non_opioid_analgesic", "other"])),
            "dose": draw(st.one_of(st.none(), st.floats(0, 1000, allow_nan=False))),
        }
        for pid in ids
        for _ in range(draw(st.integers(0, 2)))
    ]
    med_rows = list({(r["patient_id"], r["taken_at"], r["drug"]): r for r in med_rows}.values())
    return DiaryFrames.from_tables(
        patients=patients,
        attacks=pl.DataFrame(attack_rows) if attack_rows else pl.DataFrame(),
        days=pl.DataFrame(day_rows) if day_rows else pl.DataFrame(),
        medications=pl.DataFrame(med_rows) if med_rows else pl.DataFrame(),
    )


@PROPERTY
@given(diaries())
def test_a_diary_written_as_csv_reads_back_unchanged(diary: DiaryFrames) -> None:
    with tempfile.TemporaryDirectory(prefix="painlink-prop-") as folder:
        write_diary_folder(diary, folder)
        back = read_diary_folder(folder)
    want, got = diary.sorted(), back.sorted()
    for name, frame in want.items():
        for column in frame.columns:
            assert getattr(got, name)[column].equals(frame[column]), (name, column)


NUMBER_CELLS = st.one_of(
    st.text(max_size=12),
    st.floats(-5, 30).map(str),
    st.floats().map(repr),
    st.integers().map(str),
    st.sampled_from(["24", "24.0000001", "-0", "1e1", "0x10", "٧", "7,5", " 7 ", "inf", "NaN"]),
)
DATE_CELLS = st.one_of(
    st.text(max_size=12),
    st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)).map(str),
    st.dates().map(str),
    st.sampled_from(
        ["1899-12-31", "1900-01-01", "2020-02-30", "20200301", "2020-3-1", "9999-12-31"]
    ),
)


@PROPERTY
@given(st.lists(st.tuples(DATE_CELLS, NUMBER_CELLS), min_size=1, max_size=4))
@example([("2020-03-01", "7.5"), ("1900-01-01", "")])  # read, so the checks below run
def test_a_date_or_number_cell_is_refused_or_read_within_its_range(
    cells: list[tuple[str, str]],
) -> None:
    """Whatever a check-in's date and sleep_hours cells hold, the reader either refuses
    the file or returns a date from 1900 to tomorrow and hours from 0 to 24."""
    with tempfile.TemporaryDirectory(prefix="painlink-prop-") as name:
        folder = Path(name)
        pl.DataFrame({"patient_id": ["p1"], "time_zone": ["UTC"]}).write_csv(
            folder / "patients.csv"
        )
        pl.DataFrame(
            {
                "patient_id": ["p1"] * len(cells),
                "date": [d for d, _ in cells],
                "sleep_hours": [h for _, h in cells],
            }
        ).write_csv(folder / "days.csv")
        try:
            days = read_diary_folder(folder).days
        except DiaryFormatError as exc:
            assert exc.problems and all(p.reason for p in exc.problems)
            return
    assert days.height == len(cells)
    latest = plausibility.latest_date_anywhere()
    assert days["date"].is_between(plausibility.EARLIEST_DATE, latest).all()
    hours = days["sleep_hours"].drop_nulls()
    assert hours.is_between(0, 24).all() and hours.is_finite().all()


# ------------------------------------------------------------------ day counting


def _covered(rows: list[dict[str, Any]], as_of: dt.date) -> set[dt.date]:
    """Calendar days touched by painful attacks: from the start's day to the end's (an
    open attack up to three days, and not past ``as_of``)."""
    days = set()
    for a in rows:
        if a["intensity"] == 0:
            continue
        end = a["end"] or min(
            a["start"] + dt.timedelta(days=3), dt.datetime.combine(as_of, dt.time.max)
        )
        day = a["start"].date()
        while day <= end.date():
            days.add(day)
            day += dt.timedelta(days=1)
    return days


AS_OF = (FIRST + dt.timedelta(days=SPAN_DAYS + 10)).date()


@PROPERTY
@given(attacks())
def test_a_day_is_counted_once_however_attacks_overlap(rows: list[dict[str, Any]]) -> None:
    table = build_day_table(_diary(rows), as_of=AS_OF)
    assert table.select("patient_id", "date").is_unique().all()
    headache = set(table.filter(pl.col("headache_day"))["date"].to_list())
    assert headache == _covered(rows, AS_OF)
    ichd = classify_days(_diary(rows), as_of=AS_OF)
    assert set(ichd.filter(pl.col("ichd_headache_day"))["date"].to_list()) == headache


@PROPERTY
@given(attacks(), attacks(max_size=1))
def test_adding_an_attack_never_lowers_a_day_count(
    rows: list[dict[str, Any]], extra: list[dict[str, Any]]
) -> None:
    """Every day that was a headache, migraine or ICHD headache day still is one."""
    added = [{**a, "attack_id": f"extra{i}"} for i, a in enumerate(extra)]
    before = classify_days(_diary(rows), as_of=AS_OF)
    after = classify_days(_diary(rows + added), as_of=AS_OF)
    for column in ("headache_day", "headache_day_def", "migraine_day", "ichd_headache_day"):
        was = set(before.filter(pl.col(column))["date"].to_list())
        now = set(after.filter(pl.col(column))["date"].to_list())
        assert was <= now, (column, sorted(was - now))


# ------------------------------------------------------------------ the classifier


@st.composite
def migraine_attacks(draw: st.DrawFn, aura: bool = False) -> dict[str, Any]:
    """An attack that fulfils ICHD-3 1.1 B–D (4–72 h; two pain features; nausea, or
    photophobia and phonophobia), with aura (and 1.2's B and C) when asked."""
    start = draw(moment)
    features = draw(
        st.sampled_from(
            [
                {"intensity": 2, "quality": "pulsating"},
                {"intensity": 3, "side": "left", "aggravated_by_activity": True},
                {"intensity": 1, "side": "right", "quality": "pulsating"},
            ]
        )
    )
    accompanied = draw(
        st.sampled_from([{"nausea": True}, {"photophobia": True, "phonophobia": True}])
    )
    return {
        "patient_id": "p1",
        "start": start,
        "end": start + dt.timedelta(minutes=draw(st.integers(4 * 60, 72 * 60))),
        "cranial_autonomic": False,
        "restlessness": False,
        "aura": True if aura else None,
        "aura_succession": True if aura else None,
        **features,
        **accompanied,
    }


def _aura_symptoms(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Two visual symptoms in succession, 20 min each, spreading, ending before the pain:
    1.2 C's spread, succession, duration and 'headache within 60 min' all met."""
    out = []
    for a in rows:
        if a.get("aura_succession"):
            for k, kind in enumerate(("visual", "sensory")):
                out.append(
                    {
                        "patient_id": "p1",
                        "attack_id": a["attack_id"],
                        "type": kind,
                        "start": a["start"] - dt.timedelta(minutes=50 - 20 * k),
                        "duration_min": 20.0,
                        "gradual_spread": True,
                        "unilateral": True,
                        "positive": True,
                    }
                )
    return pl.DataFrame(out) if out else pl.DataFrame()


def _met(rows: list[dict[str, Any]]) -> set[str]:
    result = classify(_diary(rows, aura_symptoms=_aura_symptoms(rows)))
    return {d.code for d in result.diagnoses + result.excluded if d.status == MET}


@PROPERTY
@given(attacks(max_size=6), st.lists(migraine_attacks(), min_size=5, max_size=6), st.booleans())
def test_one_more_fulfilling_attack_never_takes_migraine_without_aura_away(
    others: list[dict[str, Any]], migraine: list[dict[str, Any]], aura: bool
) -> None:
    """1.1 A asks for ≥5 attacks fulfilling B–D: whatever else the diary holds, such
    attacks keep 1.1 met, and one more attack (with or without aura) cannot undo it."""
    rows = others + [{**a, "attack_id": f"m{i}"} for i, a in enumerate(migraine)]
    assert "1.1" in _met(rows)
    extra = {**migraine[0], "attack_id": "extra", "aura": True if aura else None}
    assert "1.1" in _met([*rows, extra])


@PROPERTY
@given(attacks(max_size=6), st.lists(migraine_attacks(aura=True), min_size=2, max_size=3))
def test_one_more_fulfilling_attack_never_takes_migraine_with_aura_away(
    others: list[dict[str, Any]], aura: list[dict[str, Any]]
) -> None:
    """1.2 A asks for ≥2 attacks fulfilling B and C: the same holds with aura."""
    rows = [{**a, "aura": None} for a in others]  # their aura, if any, would lack symptoms
    rows += [{**a, "attack_id": f"au{i}"} for i, a in enumerate(aura)]
    before = _met(rows)
    assert "1.2" in before
    after = _met([*rows, {**aura[0], "attack_id": "extra"}])
    assert "1.2" in after and (before & {"1.1", "1.2", "1.2.1"}) <= after
