"""Single diary entries from the app: validated by the same schemas as a CSV import.

Partial updates are merged with the stored record and the whole record re-validated,
so a form can never store what an import would refuse (an end before its start, an
intensity of 14). Errors come back per field for inline messages.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from painlink.diary.fields import field_specs
from painlink.diary.frames import model_row
from painlink.diary.plain_errors import plain_message
from painlink.diary.schemas import (
    AttackIn,
    DayIn,
    FactorIn,
    FactorValueIn,
    IntensityReadingIn,
    MedicationIn,
    SpinePainIn,
)
from painlink.rules import plausibility
from painlink.rules.drug_entry import parse_drug
from painlink.rules.medications import drug_class_of
from painlink.services.time_zones import missing_time_problem, wall_clock
from painlink.store import tables as t


class EntryError(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "end"
        out.setdefault(name, plain_message(e))
    return out


def address_body(data: dict[str, Any], **address: Any) -> dict[str, Any]:
    """The body of a write, minus the ids the address already gives.

    Why: the address (``/api/patients/{patient_id}/…``) and the session decide whose
    diary is written — never the body. A body that repeats an id of the address is
    fine; one that names another (``"patient_id": "<someone else>"``, another date or
    attack) is refused, field by field, instead of being silently rewritten: the sender
    asked for something the address does not say, so nothing is stored.
    """
    problems = {
        key: f"the address names the {key.replace('_', ' ')} ({value}); "
        "a body cannot name another — leave it out"
        for key, value in address.items()
        if data.get(key) not in (None, "") and str(data[key]) != str(value)
    }
    if problems:
        raise EntryError(problems)
    return {k: v for k, v in data.items() if k not in address}


def _times(model: type[BaseModel]) -> tuple[str, ...]:
    """The schema's dates and times that obey rules/plausibility.py."""
    return tuple(f.name for f in field_specs(model) if f.plausible == "date")


def _local(value: Any, zone: ZoneInfo) -> Any:
    """A time with a UTC offset as the patient's wall-clock time (a diary keeps local
    time); anything else as it is, for the schema to judge."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed if parsed.tzinfo is not None else value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return wall_clock(value, zone)
    return value


def _validate(
    model: type[BaseModel],
    data: dict[str, Any],
    zone: ZoneInfo | None = None,
    kept: dict[str, Any] | None = None,
) -> BaseModel:
    """Validate one record; with the patient's ``zone``, times given with an offset are
    converted to local time first and every date is checked against tomorrow *there*
    (the schema alone can only check the zone-free bound); a wall-clock time the zone
    skipped (02:30 on a spring-forward night) is refused in plain words — unless it is
    the stored value ``kept`` unchanged (recorded in another zone before a move)."""
    clean = {k: (None if v == "" else v) for k, v in data.items()}
    times = _times(model) if zone is not None else ()
    if zone is not None:
        for name in times:
            if clean.get(name) is not None:
                clean[name] = _local(clean[name], zone)
    try:
        record = model(**clean)
    except ValidationError as exc:
        raise EntryError(_errors(exc)) from None
    problems = {
        name: problem
        for name in times
        if (value := getattr(record, name)) is not None
        and (
            problem := plausibility.date_problem(value, zone)
            or (
                isinstance(value, dt.datetime)
                and zone is not None
                and (kept or {}).get(name) != value
                and missing_time_problem(value, zone)
            )
        )
    }
    if problems:
        raise EntryError(problems)
    return record


def patient_zone(conn: sa.Connection, patient_id: str) -> ZoneInfo:
    """The patient's IANA time zone (UTC when none is stored)."""
    zone = conn.execute(
        sa.select(t.patients.c.time_zone).where(t.patients.c.patient_id == patient_id)
    ).scalar()
    return ZoneInfo(zone or "UTC")


def local_now(conn: sa.Connection, patient_id: str) -> dt.datetime:
    """The patient's wall-clock time, to the minute (diaries store local time)."""
    return dt.datetime.now(patient_zone(conn, patient_id)).replace(
        tzinfo=None, second=0, microsecond=0
    )


def _row(model: BaseModel, table: sa.Table) -> dict[str, Any]:
    return {k: v for k, v in model_row(model).items() if k in table.c}


def new_attack_id() -> str:
    """A fresh attack id: "W" and 128 random bits. Ids built from the time to the second
    and 16 random bits once collided on two quick starts (a 500)."""
    return "W" + secrets.token_hex(16)


def start_attack(conn: sa.Connection, patient_id: str, start: dt.datetime | None = None) -> str:
    """Store a new attack and return its id. Should an id ever be taken, the insert is
    retried with another one (in a savepoint, so the request's transaction lives on):
    a duplicate key is never an error the person sees."""
    zone = patient_zone(conn, patient_id)
    for _ in range(5):
        attack_id = new_attack_id()
        model = _validate(
            AttackIn,
            {
                "patient_id": patient_id,
                "attack_id": attack_id,
                "start": start or local_now(conn, patient_id),
            },
            zone,
        )
        try:
            with conn.begin_nested():
                conn.execute(t.attacks.insert().values(**_row(model, t.attacks)))
        except sa.exc.IntegrityError:
            continue
        return attack_id
    raise EntryError({"start": "could not store the attack just now: please try again"})


def get_attack(conn: sa.Connection, patient_id: str, attack_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(t.attacks).where(
                t.attacks.c.patient_id == patient_id, t.attacks.c.attack_id == attack_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def open_attack(conn: sa.Connection, patient_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(t.attacks)
            .where(t.attacks.c.patient_id == patient_id, t.attacks.c.end.is_(None))
            .order_by(t.attacks.c.start.desc())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def update_attack(
    conn: sa.Connection, patient_id: str, attack_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    changes = address_body(changes, patient_id=patient_id, attack_id=attack_id)
    current = get_attack(conn, patient_id, attack_id)
    if current is None:
        raise EntryError({"attack_id": "no such attack"})
    merged = {k: v for k, v in current.items() if k in AttackIn.model_fields}
    merged["location"] = [x for x in (current.get("location") or "").split(";") if x]
    unknown = set(changes) - set(AttackIn.model_fields)
    if unknown:
        raise EntryError({k: "not a field of an attack" for k in unknown})
    merged.update(changes)
    model = _validate(AttackIn, merged, patient_zone(conn, patient_id), kept=current)
    values = _row(model, t.attacks)
    conn.execute(
        t.attacks.update()
        .where(t.attacks.c.patient_id == patient_id, t.attacks.c.attack_id == attack_id)
        .values(**values)
    )
    return values


def add_reading(conn: sa.Connection, patient_id: str, attack_id: str, data: dict[str, Any]) -> None:
    data = address_body(data, patient_id=patient_id, attack_id=attack_id)
    if get_attack(conn, patient_id, attack_id) is None:
        raise EntryError({"attack_id": "no such attack"})
    model = _validate(
        IntensityReadingIn,
        {
            **data,
            "patient_id": patient_id,
            "attack_id": attack_id,
            "at": data.get("at") or local_now(conn, patient_id),
        },
        patient_zone(conn, patient_id),
    )
    conn.execute(t.intensity_readings.insert().values(**_row(model, t.intensity_readings)))


def rate_attack(conn: sa.Connection, patient_id: str, attack_id: str, data: dict[str, Any]) -> None:
    """A rating during an attack is kept as a reading (the attack's course), and the
    attack's own intensity becomes the peak so far: ICHD-3 criterion C3 and the trial
    outcomes ask for the worst pain of the attack, not the latest."""
    add_reading(conn, patient_id, attack_id, data)
    r = t.intensity_readings.c
    peaks = conn.execute(
        sa.select(sa.func.max(r.intensity), sa.func.max(r.intensity_nrs)).where(
            r.patient_id == patient_id, r.attack_id == attack_id
        )
    ).one()
    current = get_attack(conn, patient_id, attack_id) or {}
    raise_to = {
        field: peak
        for field, peak in zip(("intensity", "intensity_nrs"), peaks, strict=True)
        if peak is not None and (current.get(field) is None or peak > current[field])
    }
    if raise_to:
        update_attack(conn, patient_id, attack_id, raise_to)


def readings(conn: sa.Connection, patient_id: str, attack_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(t.intensity_readings)
        .where(
            t.intensity_readings.c.patient_id == patient_id,
            t.intensity_readings.c.attack_id == attack_id,
        )
        .order_by(t.intensity_readings.c.at)
    ).mappings()
    return [dict(r) for r in rows]


def add_medication(
    conn: sa.Connection, patient_id: str, data: dict[str, Any], *, acute_only: bool = False
) -> None:
    """One intake. The drug may be typed as on the box ("Maxalt 10", "Advil 2x200 mg"):
    it is stored under its generic name with the total dose in mg, so every count and
    export sees one name per drug. ``acute_only`` (the attack form) refuses a known
    preventive: a daily treatment is not an attack intake, and belongs on its own page."""
    data = {
        "taken_at": local_now(conn, patient_id),
        **{k: v for k, v in data.items() if v not in ("", None)},
    }
    data = address_body(data, patient_id=patient_id)
    data = _typed_drug(data, acute_only=acute_only)
    model = _validate(
        MedicationIn, {**data, "patient_id": patient_id}, patient_zone(conn, patient_id)
    )
    values = _row(model, t.medications)
    if values.get("drug_class") is None:
        cls = drug_class_of(values["drug"])
        if cls is None:
            raise EntryError(
                {"class": f"painlink does not know “{values['drug']}”: choose its kind"}
            )
        values["drug_class"] = cls.value
    if values.get("attack_id") and get_attack(conn, patient_id, values["attack_id"]) is None:
        raise EntryError({"attack_id": "no such attack"})
    conn.execute(t.medications.insert().values(**values))


def _typed_drug(data: dict[str, Any], *, acute_only: bool) -> dict[str, Any]:
    """The drug text read by the parser: the generic name (or the name without its dose
    when painlink does not know it), and the dose typed with it unless one is given."""
    if not isinstance(data.get("drug"), str):
        return data  # for the schema to refuse
    entry = parse_drug(data["drug"])
    if not entry.name:
        return data
    out = {**data, "drug": entry.drug.name if entry.drug else entry.name}
    if out.get("dose") is None and entry.dose_mg is not None:
        out["dose"], out["dose_unit"] = entry.dose_mg, "mg"
    if acute_only and entry.drug and entry.drug.preventive and not out.get("class"):
        raise EntryError(
            {
                "drug": f"{entry.drug.name} is a preventive you take every day: "
                "add it under Preventive treatment, not to an attack"
            }
        )
    return out


def spine_pain_row(conn: sa.Connection, patient_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """One checked ``spine_pain`` row, not yet stored: the body map checks every
    marked place before it stores any (raises :class:`EntryError`)."""
    data = address_body(data, patient_id=patient_id)
    model = _validate(
        SpinePainIn,
        {"start": local_now(conn, patient_id), **data, "patient_id": patient_id},
        patient_zone(conn, patient_id),
    )
    return _row(model, t.spine_pain)


def add_spine_pain(conn: sa.Connection, patient_id: str, data: dict[str, Any]) -> None:
    conn.execute(t.spine_pain.insert().values(**spine_pain_row(conn, patient_id, data)))


def get_day(conn: sa.Connection, patient_id: str, date: dt.date) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(t.days).where(t.days.c.patient_id == patient_id, t.days.c.date == date)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def save_day(
    conn: sa.Connection, patient_id: str, date: dt.date, data: dict[str, Any]
) -> dict[str, Any]:
    """Create or replace the check-in of one day (editable afterwards)."""
    data = address_body(data, patient_id=patient_id, date=date)
    unknown = set(data) - set(DayIn.model_fields)
    if unknown:
        raise EntryError({k: "not a field of the daily check-in" for k in unknown})
    model = _validate(
        DayIn, {**data, "patient_id": patient_id, "date": date}, patient_zone(conn, patient_id)
    )
    values = _row(model, t.days)
    where = (t.days.c.patient_id == patient_id) & (t.days.c.date == date)
    if conn.execute(sa.select(t.days.c.date).where(where)).first():
        conn.execute(t.days.update().where(where).values(**values))
    else:
        conn.execute(t.days.insert().values(**values))
    return values


def attacks_on(conn: sa.Connection, patient_id: str, day: dt.date) -> list[dict[str, Any]]:
    """The attacks that began on ``day`` (local time) or were still going at its start,
    earliest first: the entries a tap on that calendar day leads to."""
    midnight = dt.datetime.combine(day, dt.time())
    a = t.attacks.c
    return [
        dict(r)
        for r in conn.execute(
            sa.select(t.attacks)
            .where(
                a.patient_id == patient_id,
                a.start < midnight + dt.timedelta(days=1),
                sa.or_(a.start >= midnight, a.end >= midnight, a.end.is_(None)),
                a.start >= midnight - dt.timedelta(days=31),  # plausibility's longest record
            )
            .order_by(a.start)
        ).mappings()
    ]


def recent_attacks(conn: sa.Connection, patient_id: str, limit: int = 10) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            sa.select(t.attacks)
            .where(t.attacks.c.patient_id == patient_id)
            .order_by(t.attacks.c.start.desc())
            .limit(limit)
        ).mappings()
    ]


def add_exam(
    conn: sa.Connection,
    patient_id: str,
    examiner: str,
    measurements: dict[str, float | None],
    method: str | None = None,
) -> int:
    """Store one visit's measurements (name → value); blank ones are skipped."""
    from painlink.diary.schemas import ExamMeasurementIn

    at = local_now(conn, patient_id)
    rows = []
    for measure, value in measurements.items():
        if value is None:
            continue
        name, _, repeat = measure.partition("#")
        model = _validate(
            ExamMeasurementIn,
            {
                "patient_id": patient_id,
                "at": at,
                "measure": name,
                "value": value,
                "unit": "deg" if name.endswith("_deg") else None,
                "method": method,
                "examiner": examiner,
                "repeat": int(repeat or 1),
            },
        )
        rows.append(_row(model, t.exam_measurements))
    if not rows:
        raise EntryError({"frt_left_deg": "enter at least one measurement"})
    conn.execute(t.exam_measurements.insert(), rows)
    return len(rows)


def add_finding(
    conn: sa.Connection,
    patient_id: str,
    clinician: str,
    item: str,
    present: bool,
    notes: str | None = None,
) -> None:
    from painlink.diary.schemas import ClinicalFindingIn

    model = _validate(
        ClinicalFindingIn,
        {
            "patient_id": patient_id,
            "at": local_now(conn, patient_id),
            "item": item,
            "present": present,
            "clinician": clinician,
            "notes": notes,
        },
    )
    conn.execute(t.clinical_findings.insert().values(**_row(model, t.clinical_findings)))


def own_factors(
    conn: sa.Connection, patient_id: str, *, include_retired: bool = False
) -> list[dict[str, Any]]:
    f = t.factors.c
    query = sa.select(f.name, f.kind, f.retired_on).where(f.patient_id == patient_id)
    if not include_retired:
        query = query.where(f.retired_on.is_(None))
    return [dict(r) for r in conn.execute(query.order_by(f.name)).mappings()]


def retire_factor(conn: sa.Connection, patient_id: str, name: str, on: dt.date) -> None:
    """Stop asking about a factor. Its past values stay: deleting them would silently
    change every analysis that already used them."""
    f = t.factors.c
    done = conn.execute(
        t.factors.update()
        .where(f.patient_id == patient_id, f.name == name, f.retired_on.is_(None))
        .values(retired_on=on)
    )
    if done.rowcount != 1:
        raise EntryError({"retire": "not one of the factors you track"})


def add_factor(conn: sa.Connection, patient_id: str, name: str, kind: str) -> None:
    model = _validate(FactorIn, {"patient_id": patient_id, "name": name, "kind": kind})
    values = _row(model, t.factors)
    existing = {f["name"].lower(): f for f in own_factors(conn, patient_id, include_retired=True)}
    match = existing.get(values["name"].lower())
    if match is None:
        conn.execute(t.factors.insert().values(**values))
    elif match["retired_on"] is None:
        raise EntryError({"name": "you already track this"})
    elif match["kind"] != values["kind"]:
        raise EntryError({"kind": f"you tracked this before as {match['kind']}"})
    else:  # tracking it again continues the same series
        f = t.factors.c
        conn.execute(
            t.factors.update()
            .where(f.patient_id == patient_id, f.name == match["name"])
            .values(retired_on=None)
        )


def rename_factor(conn: sa.Connection, patient_id: str, old: str, new: str) -> None:
    """Give a factor a better name and keep its series: its values move with it."""
    mine = {f["name"]: f for f in own_factors(conn, patient_id, include_retired=True)}
    if old not in mine:
        raise EntryError({"rename": "not one of the factors you track"})
    try:
        model = _validate(
            FactorIn, {"patient_id": patient_id, "name": new, "kind": mine[old]["kind"]}
        )
    except EntryError as exc:
        raise EntryError({"rename": exc.fields.get("name", str(exc))}) from None
    values = _row(model, t.factors)
    if values["name"].lower() in {n.lower() for n in mine if n != old}:
        raise EntryError({"rename": f"you already have a factor called {values['name']!r}"})
    # the key changes, so insert the new name, move the values, then drop the old name
    conn.execute(t.factors.insert().values(**values, retired_on=mine[old]["retired_on"]))
    v, f = t.factor_values.c, t.factors.c
    conn.execute(
        t.factor_values.update()
        .where(v.patient_id == patient_id, v.name == old)
        .values(name=values["name"])
    )
    conn.execute(t.factors.delete().where(f.patient_id == patient_id, f.name == old))


def day_factor_values(conn: sa.Connection, patient_id: str, date: dt.date) -> dict[str, float]:
    v = t.factor_values.c
    rows = conn.execute(
        sa.select(v.name, v.value).where(v.patient_id == patient_id, v.date == date)
    )
    return {name: value for name, value in rows}


def save_factor_values(
    conn: sa.Connection, patient_id: str, date: dt.date, values: dict[str, Any]
) -> None:
    """Replace one day's own-factor values. A factor left empty is unknown for that day,
    not zero: only recorded values reach the analysis. Errors are keyed by factor name."""
    known = {f["name"] for f in own_factors(conn, patient_id)}
    rows, errors = [], {}
    for name, value in values.items():
        if name not in known:
            errors[name] = "not one of your factors"
            continue
        if value is None:
            continue
        try:
            model = _validate(
                FactorValueIn,
                {"patient_id": patient_id, "date": date, "name": name, "value": value},
                patient_zone(conn, patient_id),
            )
        except EntryError:
            errors[name] = "enter a number"
            continue
        rows.append(_row(model, t.factor_values))
    if errors:
        raise EntryError(errors)
    v = t.factor_values.c
    conn.execute(  # retired factors are not on the form: their values stay as they were
        t.factor_values.delete().where(
            v.patient_id == patient_id, v.date == date, v.name.in_(known)
        )
    )
    if rows:
        conn.execute(t.factor_values.insert(), rows)
