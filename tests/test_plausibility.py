"""Implausible dates and numbers are refused at every door, with the place named.

Defect 2 of the security issue: ``PUT /api/patients/{id}/days/9999-12-31`` was accepted
and the patient's classification then grew past 3 GiB; 1.25e308 minutes of
onset-to-peak in a red-flag screen was an uncaught 500. The bounds are in
painlink/rules/plausibility.py; these tests use them rather than restating them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from painlink.diary.schemas import AttackIn, DayIn, MedicationIn, PatientIn
from painlink.interop.csv_diary import DiaryFormatError, read_diary_folder
from painlink.rules import plausibility
from painlink.rules.screening_questions import Presentation
from painlink.store.tables import attacks, days, medications, screening_answers
from tests.test_web import PASSWORD, Web, form_token


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def _rows(web: Web, table: sa.Table) -> int:
    with web.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_a_check_in_in_year_9999_or_1_is_refused(web: Web) -> None:
    c, pid, csrf = web.patient("ana")
    h = {"X-CSRF-Token": csrf}
    for day in ("9999-12-31", "0001-01-01", "1899-12-31"):
        r = c.put(f"/api/patients/{pid}/days/{day}", json={"stress": 3}, headers=h)
        assert r.status_code == 422, (day, r.text)
        assert "date" in r.json()["detail"], r.text
    assert _rows(web, days) == 0
    assert c.get(f"/api/patients/{pid}/classification").status_code == 200


def test_tomorrow_is_counted_in_the_patients_own_zone(web: Web) -> None:
    """Berlin's tomorrow is allowed, the day after is not — whatever UTC says."""
    c, pid, csrf = web.patient("bea")  # Europe/Berlin
    h = {"X-CSRF-Token": csrf}
    last = plausibility.latest_date("Europe/Berlin")
    assert c.put(f"/api/patients/{pid}/days/{last}", json={}, headers=h).status_code == 200
    after = last + dt.timedelta(days=1)
    r = c.put(f"/api/patients/{pid}/days/{after}", json={}, headers=h)
    assert r.status_code == 422 and "in the future" in r.json()["detail"]["date"]


def test_attack_and_medication_times_are_bounded_and_localised(web: Web) -> None:
    c, pid, csrf = web.patient("cai")
    h = {"X-CSRF-Token": csrf}
    for start in ("9999-01-01T08:00:00", "0001-01-01T08:00:00"):
        r = c.post(f"/api/patients/{pid}/attacks", json={"start": start}, headers=h)
        assert r.status_code == 422 and "start" in r.json()["detail"], r.text
    r = c.post(
        f"/api/patients/{pid}/medications",
        json={"drug": "ibuprofen", "taken_at": "9999-12-31T10:00:00"},
        headers=h,
    )
    assert r.status_code == 422 and "taken_at" in r.json()["detail"]
    assert _rows(web, attacks) == 0 and _rows(web, medications) == 0
    # a time with an offset is kept as the patient's wall-clock time (Berlin: UTC+1 in winter)
    r = c.post(f"/api/patients/{pid}/attacks", json={"start": "2026-01-10T07:00:00Z"}, headers=h)
    assert r.status_code == 201 and r.json()["start"] == "2026-01-10T08:00:00", r.text
    attack = r.json()["attack_id"]
    r = c.patch(
        f"/api/patients/{pid}/attacks/{attack}",
        json={"end": "2026-01-10T09:30:00+00:00"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["end"] == "2026-01-10T10:30:00", r.text


@pytest.mark.slow
@pytest.mark.parametrize(
    "answers",
    [
        {"onset_to_peak_min": 1.25e308},
        {"onset_to_peak_min": "inf"},
        {"onset_to_peak_min": "NaN"},
        {"onset_to_peak_min": -1},
    ],
)
def test_a_screen_with_an_impossible_number_is_refused(web: Web, answers: dict) -> None:
    c, pid, csrf = web.patient("dan")
    h = {"X-CSRF-Token": csrf}
    r = c.post(f"/api/patients/{pid}/screens", json={"answers": answers}, headers=h)
    assert r.status_code == 422 and r.json()["detail"], r.text
    r = c.post("/api/screen", json=answers, headers=h)
    assert r.status_code == 422 and r.json()["detail"], r.text
    assert _rows(web, screening_answers) == 0


def test_numbers_are_finite_in_every_schema() -> None:
    base = {"patient_id": "p1", "date": dt.date(2024, 1, 1)}
    for bad in (float("nan"), float("inf"), "nan", "-inf", "Infinity"):
        with pytest.raises(ValidationError):
            DayIn(**base, sleep_hours=bad)
        with pytest.raises(ValidationError):
            MedicationIn(patient_id="p1", taken_at=dt.datetime(2024, 1, 1), drug="x", dose=bad)
        with pytest.raises(ValidationError):
            Presentation(onset_to_peak_min=bad)
    with pytest.raises(ValidationError):
        MedicationIn(
            patient_id="p1",
            taken_at=dt.datetime(2024, 1, 1),
            drug="x",
            dose=plausibility.MAX_DOSE * 10,
        )


def test_schemas_bound_dates_without_a_zone() -> None:
    """UTC+14's tomorrow is the last date any patient can have."""
    last = plausibility.latest_date_anywhere()
    assert last == dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date() + dt.timedelta(days=1)
    DayIn(patient_id="p", date=last)
    for bad in (last + dt.timedelta(days=1), dt.date(1, 1, 1), dt.date(9999, 12, 31)):
        with pytest.raises(ValidationError, match="date"):
            DayIn(patient_id="p", date=bad)
    with pytest.raises(ValidationError, match="UTC offset"):
        AttackIn(patient_id="p", attack_id="a", start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_birth_year_from_1900_to_this_year(web: Web) -> None:
    this_year = plausibility.latest_date_anywhere().year
    PatientIn(patient_id="p", birth_year=plausibility.EARLIEST_BIRTH_YEAR)
    for bad in (1800, this_year + 1):
        with pytest.raises(ValidationError, match="birth_year"):
            PatientIn(patient_id="p", birth_year=bad)
        c = web.client()
        r = c.post(
            "/register",
            data={
                "csrf_token": form_token(c, "/register"),
                "email": f"b{bad}@x.org",
                "display_name": "B",
                "password": PASSWORD,
                "birth_year": str(bad),
            },
        )
        assert r.status_code == 400 and 'id="birth_year-error"' in r.text


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "diary"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,time_zone\np1,UTC\n")
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


@pytest.mark.parametrize(
    ("file", "text", "column", "reason"),
    [
        ("days", "patient_id,date\np1,2024-01-01\np1,9999-12-31\n", "date", "in the future"),
        ("days", "patient_id,date\np1,2024-01-01\np1,0001-01-01\n", "date", "before 1900"),
        (
            "attacks",
            "patient_id,attack_id,start\np1,a,2024-01-01T08:00\np1,b,9999-12-31T08:00\n",
            "start",
            "in the future",
        ),
        (
            "days",
            "patient_id,date,sleep_hours\np1,2024-01-01,1\np1,2024-01-02,NaN\n",
            "sleep_hours",
            "not a number",
        ),
        (
            "attacks",
            "patient_id,attack_id,start,onset_to_peak_min\np1,a,2024-01-01T08:00,5\n"
            "p1,b,2024-01-02T08:00,inf\n",
            "onset_to_peak_min",
            "not a number",
        ),
        (
            "days",
            "patient_id,date,steps\np1,2024-01-01,100\np1,2024-01-02,1e300\n",
            "steps",
            "beyond",
        ),
    ],
)
def test_the_csv_check_names_file_line_and_column(
    tmp_path: Path, file: str, text: str, column: str, reason: str
) -> None:
    with pytest.raises(DiaryFormatError) as caught:
        read_diary_folder(_folder(tmp_path, **{file: text}))
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (f"{file}.csv", 3, column)
    assert reason in problem.reason


def test_the_csv_check_refuses_a_birth_year_after_this_year(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    year = plausibility.latest_date_anywhere().year + 1
    (folder / "patients.csv").write_text(f"patient_id,time_zone,birth_year\np1,UTC,{year}\n")
    with pytest.raises(DiaryFormatError) as caught:
        read_diary_folder(folder)
    assert [(p.file, p.line, p.column) for p in caught.value.problems] == [
        ("patients.csv", 2, "birth_year")
    ]


def test_a_plausible_csv_diary_still_reads(tmp_path: Path) -> None:
    today = plausibility.today("UTC")
    folder = _folder(
        tmp_path, days=f"patient_id,date,sleep_hours\np1,1900-01-01,7\np1,{today},6.5\n"
    )
    diary = read_diary_folder(folder)
    assert diary.days["date"].to_list() == [dt.date(1900, 1, 1), today]
    assert diary.days["sleep_hours"].dtype == pl.Float64


@pytest.mark.slow
def test_pages_and_calendars_at_the_ends_of_time(web: Web) -> None:
    """Year 0001 and 9999 in an address once overflowed "the day before" or "next month"
    into a 500; a check-in form with a bad date once saved today's check-in instead."""
    c, pid, csrf = web.patient("eve")
    for month in ("9999-12", "0001-01", "1899-12"):
        assert c.get(f"/calendar?month={month}").status_code == 200
        r = c.get(f"/api/patients/{pid}/calendar?month={month}")
        assert r.status_code == 422 and "month" in r.json()["detail"]
    for day in ("9999-12-31", "0001-01-01"):
        assert c.get(f"/checkin?date={day}").status_code == 200
    for day in ("2026-02-30", "9999-12-31", "0001-01-01"):
        r = c.post("/checkin", data={"csrf_token": csrf, "date": day, "stress": "3"})
        assert r.status_code == 400 and 'id="date-error"' in r.text, (day, r.status_code)
    assert _rows(web, days) == 0


def test_a_simulated_diary_ends_today_at_the_latest(tmp_path: Path) -> None:
    """`painlink simulate` must not write diaries its own import would refuse."""
    from typer.testing import CliRunner

    from painlink.cli import app

    today = plausibility.today("UTC")
    result = CliRunner().invoke(
        app,
        ["simulate", "--patients", "1", "--days", "60", "--start", str(today),
         "--out", str(tmp_path / "late")],
    )  # fmt: skip
    assert result.exit_code == 1 and "start on" in result.output
    assert not (tmp_path / "late").exists()
    first = today - dt.timedelta(days=59)
    result = CliRunner().invoke(
        app,
        ["simulate", "--patients", "1", "--days", "60", "--start", str(first),
         "--out", str(tmp_path / "ok")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_diary_folder(tmp_path / "ok").days["date"].max() == today
