"""Read an Apple Health ``export.xml`` into a diary (structure: ../shared/knowledge/formats.md §1).

Exports run to gigabytes, so the file is streamed through expat (which also gives
the line of every record for error messages) and never held whole. The internal DTD
is dropped before parsing: iOS 16 wrote a malformed one, and without it no entity
can be defined, so no entity-expansion attack either.

What becomes what:

- **Headache** records → attacks (overlapping or touching records are one attack, at
  their worst severity: mild/moderate/severe → IHS 1/2/3; "unspecified" → an attack
  of unknown intensity; "not present" → nothing). **Nausea** and **vomiting**
  records that overlap an attack answer those questions (present → yes, "not
  present" → no).
- **Sleep**: the asleep stages (core, deep, REM, unspecified; never "in bed" or
  "awake"), merged across sources so a watch and a phone are not counted twice,
  summed into the day the person woke: a stretch ending before 18:00 counts for that
  day, a later one for the next.
- **Menstrual flow** → the day's ``menstruation`` (the heaviest of the day).
- **Exercise**: the day's Apple exercise minutes (ActivitySummary); on days without
  one, the minutes of the workouts that started that day.
- **Me**: year of birth and sex.

Not imported, and counted in ``skipped``: lower back pain and other symptoms rated
mild/moderate/severe (painlink's pain scores are 0–10 and are not derived from
words), and every other record type. Times are converted to the patient's time zone
and stored as local wall-clock time, as the diary keeps them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from xml.parsers import expat
from zoneinfo import ZoneInfo

import polars as pl

from painlink.diary import files
from painlink.diary.errors import BadCell, DiaryFormatError
from painlink.diary.frames import DiaryFrames, model_row
from painlink.diary.schemas import PatientIn
from painlink.diary.vocabulary import FLOW_BY_AMOUNT
from painlink.rules.plausibility import (
    EARLIEST_DATE,
    birth_year_problem,
    date_problem,
    latest_date,
    span_problem,
)

_HK = "HKCategoryTypeIdentifier"
_TIME = "%Y-%m-%d %H:%M:%S %z"
SEVERITY = {"Unspecified": None, "Mild": 1, "Moderate": 2, "Severe": 3}  # NotPresent: none
_SEVERITY_CODES = {
    "0": "Unspecified",
    "1": "NotPresent",
    "2": "Mild",
    "3": "Moderate",
    "4": "Severe",
}
ASLEEP = {"Asleep", "AsleepUnspecified", "AsleepCore", "AsleepDeep", "AsleepREM"}
_SLEEP_CODES = {"0": "InBed", "1": "AsleepUnspecified", "2": "Awake", "3": "AsleepCore",
                "4": "AsleepDeep", "5": "AsleepREM"}  # fmt: skip
FLOW = {"Unspecified": "unspecified", "Light": "light", "Medium": "medium", "Heavy": "heavy",
        "None": "none"}  # fmt: skip
_FLOW_CODES = {"1": "Unspecified", "2": "Light", "3": "Medium", "4": "Heavy", "5": "None"}
SEX = {"HKBiologicalSexFemale": "female", "HKBiologicalSexMale": "male",
       "HKBiologicalSexOther": "other"}  # fmt: skip
MINUTES_PER_DAY = 1440
EVENING = 18  # sleep ending at or after this hour counts for the next day
_DOCTYPE = re.compile(rb"<!DOCTYPE.*?\]>", re.DOTALL)


@dataclass
class AppleHealthImport:
    diary: DiaryFrames
    skipped: dict[str, int] = field(default_factory=dict)  # record type → how many


def _value(raw: str, prefix: str, codes: dict[str, str]) -> str:
    """A category value by its constant name or, as some exporters write, its number."""
    for p in (prefix, "HKCategoryValueVaginalBleeding"):
        if raw.startswith(p):
            return raw[len(p) :]
    return codes.get(raw, raw)


def _merge(intervals: list[tuple[dt.datetime, dt.datetime]]) -> list[list[dt.datetime]]:
    out: list[list[dt.datetime]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


class _Reader:
    def __init__(self, name: str, zone: ZoneInfo) -> None:
        self.name, self.zone = name, zone
        self.latest = latest_date(zone)  # once: a million records need not ask the clock
        self.problems: list[BadCell] = []
        self.skipped: Counter[str] = Counter()
        self.headaches: list[tuple[dt.datetime, dt.datetime, int | None]] = []
        self.symptoms: list[tuple[str, dt.datetime, dt.datetime, bool]] = []
        self.asleep: list[tuple[dt.datetime, dt.datetime]] = []
        self.flow: dict[dt.date, str] = {}
        self.exercise: dict[dt.date, float] = {}
        self.workouts: dict[dt.date, float] = {}
        self.me: dict[str, Any] = {}
        self.records = 0
        self.line = 0

    def problem(self, key: str, value: str | None, reason: str) -> None:
        self.problems.append(BadCell(self.name, self.line, key, value, reason))

    def time(self, attrs: dict[str, str], key: str) -> dt.datetime | None:
        """A local wall-clock time within the plausible range (plausibility.py)."""
        try:
            local = dt.datetime.strptime(attrs[key], _TIME).astimezone(self.zone)
        except (KeyError, ValueError):
            self.problem(key, attrs.get(key), "not a time like 2024-03-01 09:00:00 -0800")
            return None
        except OverflowError:  # year 1 or 9999 moved by its offset
            self.problem(key, attrs.get(key), "outside the years a diary can hold")
            return None
        day = local.date()
        if not EARLIEST_DATE <= day <= self.latest and (why := date_problem(day, self.zone)):
            self.problem(key, attrs.get(key), why)
            return None
        return local.replace(tzinfo=None)

    def span(self, attrs: dict[str, str]) -> tuple[dt.datetime, dt.datetime] | None:
        """A record's start and end, when both are plausible and so is its length."""
        start, end = self.time(attrs, "startDate"), self.time(attrs, "endDate")
        if start is None or end is None:
            return None
        if why := span_problem(start, end):
            self.problem("endDate", attrs.get("endDate"), why)
            return None
        return start, end

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "Record":
            self.records += 1
            self.record(attrs)
        elif tag == "Workout":
            span = self.span(attrs)
            if span is None:
                return
            start, end = span
            minutes = (end - start).total_seconds() / 60
            self.workouts[start.date()] = self.workouts.get(start.date(), 0.0) + minutes
        elif tag == "ActivitySummary" and attrs.get("appleExerciseTime"):
            try:
                day = dt.date.fromisoformat(attrs["dateComponents"])
                minutes = float(attrs["appleExerciseTime"])
            except (KeyError, ValueError):
                self.problem(
                    "dateComponents",
                    attrs.get("dateComponents"),
                    "not a date with an exercise time",
                )
                return
            if why := date_problem(day, self.zone):
                self.problem("dateComponents", attrs["dateComponents"], why)
            elif not 0 <= minutes <= MINUTES_PER_DAY:  # also NaN and infinity
                self.problem(
                    "appleExerciseTime",
                    attrs["appleExerciseTime"],
                    f"not a number of minutes from 0 to {MINUTES_PER_DAY} (a day's)",
                )
            else:
                self.exercise[day] = minutes
        elif tag == "Me":
            born = attrs.get("HKCharacteristicTypeIdentifierDateOfBirth", "")
            if re.match(r"^\d{4}-", born):
                year = int(born[:4])
                if why := birth_year_problem(year, self.zone):
                    self.problem("HKCharacteristicTypeIdentifierDateOfBirth", born, why)
                else:
                    self.me["birth_year"] = year
            sex = SEX.get(attrs.get("HKCharacteristicTypeIdentifierBiologicalSex", ""))
            if sex:
                self.me["sex"] = sex

    def record(self, attrs: dict[str, str]) -> None:
        kind = attrs.get("type", "").removeprefix(_HK)
        if kind not in ("Headache", "Nausea", "Vomiting", "SleepAnalysis", "MenstrualFlow"):
            self.skipped[attrs.get("type", "?")] += 1
            return
        span = self.span(attrs)
        if span is None:
            return
        start, end = span
        raw = attrs.get("value", "")
        if kind in ("Headache", "Nausea", "Vomiting"):
            severity = _value(raw, "HKCategoryValueSeverity", _SEVERITY_CODES)
            if severity != "NotPresent" and severity not in SEVERITY:
                self.problems.append(
                    BadCell(self.name, self.line, "value", raw, "not a symptom severity")
                )
            elif kind == "Headache":
                if severity != "NotPresent":
                    self.headaches.append((start, end, SEVERITY[severity]))
            else:
                self.symptoms.append((kind.lower(), start, end, severity != "NotPresent"))
        elif kind == "SleepAnalysis":
            stage = _value(raw, "HKCategoryValueSleepAnalysis", _SLEEP_CODES)
            if stage in ASLEEP:
                self.asleep.append((start, end))
        else:
            flow = FLOW.get(_value(raw, "HKCategoryValueMenstrualFlow", _FLOW_CODES))
            if flow is None:
                self.problems.append(
                    BadCell(self.name, self.line, "value", raw, "not a menstrual flow")
                )
                return
            day = start.date()
            old = self.flow.get(day, "none")
            self.flow[day] = max(old, flow, key=FLOW_BY_AMOUNT.index)

    def attacks(self, patient_id: str) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for start, end, worst in sorted(self.headaches, key=lambda h: h[0]):
            last = rows[-1] if rows else None
            if last and start <= last["end"]:
                last["end"] = max(last["end"], end)
                if worst is not None:
                    last["intensity"] = max(last["intensity"] or 0, worst)
                continue
            rows.append({"start": start, "end": end, "intensity": worst})
        for row in rows:  # an id from the start minute: a later export is recognised
            row.update(patient_id=patient_id, attack_id=f"ah{row['start']:%Y%m%d%H%M}")
            for symptom in ("nausea", "vomiting"):
                answers = [
                    present
                    for kind, s, e, present in self.symptoms
                    if kind == symptom and s <= row["end"] and e >= row["start"]
                ]
                row[symptom] = any(answers) if answers else None
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()

    def days(self, patient_id: str) -> pl.DataFrame:
        sleep: dict[dt.date, float] = {}
        for start, end in _merge(self.asleep):
            day = end.date() + dt.timedelta(days=1 if end.hour >= EVENING else 0)
            sleep[day] = sleep.get(day, 0.0) + (end - start).total_seconds() / 3600
        exercise = {**self.workouts, **self.exercise}  # Apple's own minutes include workouts
        dates = sorted(set(sleep) | set(self.flow) | set(exercise))
        return pl.DataFrame(
            {
                "patient_id": [patient_id] * len(dates),
                "date": dates,
                "sleep_hours": [
                    round(min(sleep[d], 24.0), 2) if d in sleep else None for d in dates
                ],
                "menstruation": [self.flow.get(d) for d in dates],
                "exercise_min": [
                    round(min(exercise[d], 1440.0), 1) if d in exercise else None for d in dates
                ],
            },
            schema_overrides={"date": pl.Date},
        )


#: how far into the file its DTD may reach (Apple's is under 10 kB)
DOCTYPE_LIMIT = 16 << 20


def _open_without_doctype(handle: BinaryIO, name: str) -> tuple[bytes, BinaryIO]:
    """The file's head with its DTD blanked (newlines kept, so lines still count)."""
    head = handle.read(1 << 20)
    files.refuse_archive(head[:4], name, "export.xml from it")
    while b"]>" not in head and b"<!DOCTYPE" in head:
        if len(head) > DOCTYPE_LIMIT:
            line = head[: head.index(b"<!DOCTYPE")].count(b"\n") + 1
            raise files.refuse(
                name, f"a DOCTYPE that does not end within {DOCTYPE_LIMIT >> 20} MB", line
            )
        more = handle.read(1 << 20)
        if not more:
            break
        head += more
    head = _DOCTYPE.sub(lambda m: b"\n" * m.group(0).count(b"\n"), head, count=1)
    return head, handle


def read_apple_health(
    path: str | Path, patient_id: str, time_zone: str = "UTC"
) -> AppleHealthImport:
    """One person's Apple Health export; raises DiaryFormatError on any problem."""
    path = Path(path)
    patient = PatientIn(patient_id=patient_id, time_zone=time_zone)  # checks id and zone
    reader = _Reader(path.name, ZoneInfo(time_zone))
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attrs: dict[str, str]) -> None:
        reader.line = parser.CurrentLineNumber
        reader.start(tag, attrs)

    seen_root = False

    def root(tag: str, attrs: dict[str, str]) -> None:
        nonlocal seen_root
        seen_root = seen_root or tag == "HealthData"
        start(tag, attrs)

    parser.StartElementHandler = root
    with files.open_checked(path, "apple-health") as handle:
        head, rest = _open_without_doctype(handle, path.name)
        try:
            parser.Parse(head, False)
            while chunk := rest.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise DiaryFormatError(
                [BadCell(path.name, exc.lineno, "-", None, f"not well-formed XML ({exc})")]
            ) from None
    if not seen_root:
        raise DiaryFormatError(
            [BadCell(path.name, 1, "-", None, "not an Apple Health export (no <HealthData>)")]
        )
    if reader.problems:
        raise DiaryFormatError(reader.problems)
    try:
        person = PatientIn(**(patient.model_dump() | reader.me))
    except ValueError as exc:  # pydantic's ValidationError: a value the diary cannot hold
        raise files.refuse(path.name, f"<Me>: {exc}") from None
    diary = DiaryFrames.from_tables(
        patients=pl.DataFrame([model_row(person)]),
        attacks=reader.attacks(patient_id),
        days=reader.days(patient_id),
    ).sorted()
    return AppleHealthImport(diary, dict(reader.skipped))
