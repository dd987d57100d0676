"""Read a Migraine Buddy CSV export into a diary (structure: ../shared/knowledge/formats.md §2.1).

The file is two quoted CSV tables separated by a blank line: ongoing events, then one
row per attack. What painlink keeps, and what it does not:

- ``Started`` is the local wall-clock time (as painlink stores it); ``Lasted`` gives
  the end. An attack without a duration is left open, as the app left it.
- ``Pain Level`` (0–10) becomes the 0–10 rating; the 0–3 scale is never derived from
  it. A level outside 0–10 is an error, not silently clipped.
- Symptoms and pain positions the app names set the matching diary fields to *yes*;
  a symptom it does not list stays *not recorded*, never *no*.
- Medications keep their rating: "helpful" and "somewhat helpful" become partial
  relief (the app does not say pain-free), "unhelpful" none, "unsure" unknown. The
  intake time is not exported, so the attack's start stands in for it.
- Attack types, potential triggers, premonitory symptoms, affected activities and
  non-drug relief go into the attack's notes. Triggers named on attack days only are
  not exposures (nothing is known of the days without attacks), so they never reach
  the trigger analysis.
- ``Geohash`` (where the person was) is never read.

Problems are reported like the CSV diary importer's: file, physical line, column,
value and reason, and nothing is imported when there is any.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ValidationError

from painlink.diary import files
from painlink.diary.errors import BadCell, DiaryFormatError
from painlink.diary.frames import DiaryFrames, model_row
from painlink.diary.plain_errors import plain_message
from painlink.diary.schemas import AttackIn, MedicationIn, PatientIn
from painlink.rules.medications import DrugClass, drug_class_of
from painlink.rules.plausibility import MAX_RECORD_SPAN, date_problem

_STARTED = "%m/%d/%y %H:%M"
_LASTED = re.compile(r"^(?:(\d+)d\s*)?(\d+)h\s*(\d+)m$")
_ONGOING = re.compile(r"Attack started (\d{1,2}/\d{1,2}/\d{2} \d{1,2}:\d{2})")
_NO_MEDICATION = "no medication"

#: symptom as the app words it (lower case) → the diary field it answers "yes" to
SYMPTOMS: dict[str, tuple[str, object]] = {
    "sensitivity to light": ("photophobia", True),
    "sensitivity to sound": ("phonophobia", True),
    "sensitivity to noise": ("phonophobia", True),
    "nausea": ("nausea", True),
    "vomiting": ("vomiting", True),
    "throbbing pain": ("quality", "pulsating"),
    "pulsating pain": ("quality", "pulsating"),
    "pressing pain": ("quality", "pressing"),
    "stabbing pain": ("quality", "stabbing"),
    "neck pain": ("neck_pain", True),
    "stiff neck": ("neck_pain", True),
    "tearing eye": ("cranial_autonomic", True),
    "runny nose": ("cranial_autonomic", True),
    "nasal congestion": ("cranial_autonomic", True),
    "drooping eyelid": ("cranial_autonomic", True),
    "red eye": ("cranial_autonomic", True),
    "restlessness": ("restlessness", True),
    "aura": ("aura", True),
    "worse with activity": ("aggravated_by_activity", True),
}
#: words in a pain position → the diary's location
POSITIONS = {
    "eye": "orbital",
    "temple": "temporal",
    "forehead": "frontal",
    "back of head": "occipital",
    "top of head": "vertex",
    "neck": "neck",
}
RELIEF = {
    "Helpful Medication": "partial",
    "Somewhat Helpful Medication": "partial",
    "Unhelpful Medication": "none",
    "Unsure Medication": None,
}
NOTED = (
    "Attack Types",
    "Attack Location",
    "Affected Activities",
    "Potential Triggers",
    "Most Bothersome Symptom",
    "Premonitory Symptoms",
    "Helpful Non Drug Relief Methods",
    "Somewhat Helpful Non Drug Relief Methods",
    "Unhelpful Non Drug Relief Methods",
    "Unsure Non Drug Relief Methods",
)


def _stable_id(prefix: str, start: dt.datetime, used: set[str]) -> str:
    """An id from the start minute, so the same attack in a later export is recognised."""
    base = f"{prefix}{start:%Y%m%d%H%M}"
    attack_id, n = base, 1
    while attack_id in used:
        n += 1
        attack_id = f"{base}-{n}"
    used.add(attack_id)
    return attack_id


def _records(name: str, text: str) -> list[tuple[int, list[str]]]:
    """(first physical line, cells) of every record, blank lines included as []."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, line = [], 1
    try:
        for row in reader:
            if len(row) > files.MAX_COLUMNS:
                raise files.refuse(name, f"more than {files.MAX_COLUMNS} columns", line)
            out.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise files.refuse_csv(name, exc, line) from None
    return out


def _items(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(",") if p.strip()]


def _duration(cell: str) -> dt.timedelta | str | None:
    if not cell.strip():
        return None
    m = _LASTED.match(cell.strip())
    if not m:
        return "not a duration like 01h 30m or 1d 02h 15m"
    days, hours, minutes = (int(g or 0) for g in m.groups())
    total = (days * 24 + hours) * 60 + minutes  # an int: "99999999d" cannot overflow here
    if total > MAX_RECORD_SPAN.total_seconds() / 60:
        return f"longer than {MAX_RECORD_SPAN.days} days"
    return dt.timedelta(minutes=total)


def _start(cell: str, zone: str) -> dt.datetime | str:
    """The start as local wall-clock time, or why it is not one."""
    try:
        start = dt.datetime.strptime(cell.strip(), _STARTED)
    except ValueError:
        return "not a date and time (M/D/YY H:MM)"
    return date_problem(start, zone) or start


def _features(row: dict[str, str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for symptom in _items(row.get("Symptoms", "")):
        if symptom.lower() in SYMPTOMS:
            field, value = SYMPTOMS[symptom.lower()]
            found[field] = value
    sides, places = set(), []
    for position in _items(row.get("Pain Positions", "")):
        low = position.lower()
        sides |= {s for s in ("left", "right") if low.startswith(s)}
        for words, place in POSITIONS.items():
            if words in low and place not in places:
                places.append(place)
    if sides:
        found["side"] = "bilateral" if len(sides) == 2 else sides.pop()
    if places:
        found["location"] = places
    return found


def _notes(row: dict[str, str]) -> str | None:
    parts = [f"{c}: {row[c]}" for c in NOTED if row.get(c, "").strip()]
    rated = [
        f"{drug} ({c.removesuffix(' Medication').lower()})"
        for c in RELIEF
        for drug in _items(row.get(c, ""))
        if drug.lower() != _NO_MEDICATION
    ]
    if rated:
        parts.append("Medication as rated in Migraine Buddy: " + ", ".join(rated))
    if row.get("Notes", "").strip():
        parts.append(row["Notes"].strip())
    return "\n".join(parts) or None


def read_migraine_buddy(path: str | Path, patient_id: str, time_zone: str = "UTC") -> DiaryFrames:
    """One person's Migraine Buddy export as a diary; raises DiaryFormatError on any problem."""
    path = Path(path)
    name = path.name
    text = files.read_text(path, "migraine-buddy", name)
    problems: list[BadCell] = []
    try:
        patient = PatientIn(patient_id=patient_id, time_zone=time_zone)
    except ValidationError as exc:
        raise ValueError(plain_message(exc.errors()[0])) from None
    records = _records(name, text)
    split = next((i for i, (_, r) in enumerate(records) if not any(c.strip() for c in r)), None)
    if split is None or split == 0:
        raise DiaryFormatError(
            [BadCell(name, 1, "-", None, "not a Migraine Buddy export (two tables, a blank line)")]
        )
    ongoing = records[1:split]
    rest = [(ln, r) for ln, r in records[split:] if any(c.strip() for c in r)]
    if not rest or "Started" not in rest[0][1]:
        raise DiaryFormatError(
            [BadCell(name, split + 1, "-", None, "the attack table's header is missing")]
        )
    header = rest[0][1]
    lacking = [c for c in ("Started", "Lasted", "Pain Level", *RELIEF, "Notes") if c not in header]
    if lacking:
        raise DiaryFormatError(
            [BadCell(name, rest[0][0], "-", None, "the attack table's header lacks: "
                     + ", ".join(lacking) + " (a cut-off file?)")]
        )  # fmt: skip
    attacks, medications = [], []
    used: set[str] = set()

    def keep(model: type[BaseModel], data: dict[str, object], line: int) -> BaseModel | None:
        try:
            return model(**data)
        except ValidationError as exc:
            for e in exc.errors():
                column = {"intensity_nrs": "Pain Level", "end": "Lasted"}.get(
                    str(e["loc"][0]) if e["loc"] else "-", str(e["loc"][0]) if e["loc"] else "-"
                )
                problems.append(BadCell(name, line, column, None, plain_message(e)))
            return None

    for line, cells in rest[1:]:
        row = dict(zip(header, cells, strict=False))
        start = _start(row.get("Started", ""), time_zone)
        if isinstance(start, str):
            problems.append(BadCell(name, line, "Started", row.get("Started"), start))
            continue
        lasted = _duration(row.get("Lasted", ""))
        if isinstance(lasted, str):
            problems.append(BadCell(name, line, "Lasted", row.get("Lasted"), lasted))
            continue
        if lasted is not None and (late := date_problem(start + lasted, time_zone)):
            problems.append(BadCell(name, line, "Lasted", row.get("Lasted"), f"ends {late}"))
            continue
        level = row.get("Pain Level", "").strip()
        try:
            nrs = float(level) if level else None
        except ValueError:
            problems.append(BadCell(name, line, "Pain Level", level, "not a number"))
            continue
        if nrs is not None and not 0 <= nrs <= 10:
            problems.append(BadCell(name, line, "Pain Level", level, "outside 0–10"))
            continue
        attack_id = _stable_id("mb", start, used)
        attack = keep(
            AttackIn,
            {
                "patient_id": patient_id,
                "attack_id": attack_id,
                "start": start,
                "end": start + lasted if lasted is not None else None,
                "intensity_nrs": nrs,
                "notes": _notes(row),
                **_features(row),
            },
            line,
        )
        if attack is None:
            continue
        attacks.append(attack)
        for column, relief in RELIEF.items():
            for drug in _items(row.get(column, "")):
                if drug.lower() == _NO_MEDICATION:
                    continue
                med = keep(
                    MedicationIn,
                    {
                        "patient_id": patient_id,
                        "taken_at": start,
                        "drug": drug,
                        "class": drug_class_of(drug) or DrugClass.other,
                        "relief_2h": relief,
                        "attack_id": attack_id,
                    },
                    line,
                )
                if med is not None:
                    medications.append(med)
    for line, cells in ongoing:
        match = _ONGOING.search(cells[2] if len(cells) > 2 else "")
        if len(cells) > 1 and cells[1].strip().lower() == "ongoing" and match:
            start = _start(match.group(1), time_zone)
            if isinstance(start, str):
                problems.append(BadCell(name, line, "Description", match.group(1), start))
                continue
            attack = keep(
                AttackIn,
                {
                    "patient_id": patient_id,
                    "attack_id": _stable_id("mb", start, used),
                    "start": start,
                    "notes": (cells[3].strip() if len(cells) > 3 else "") or None,
                },
                line,
            )
            if attack is not None:
                attacks.append(attack)
    if problems:
        raise DiaryFormatError(problems)
    return DiaryFrames.from_tables(
        patients=_frame([patient]),
        attacks=_frame(attacks),
        medications=_frame(medications),
    ).sorted()


def _frame(models: list) -> pl.DataFrame:  # type: ignore[type-arg]
    rows = [model_row(m) for m in models]
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
