"""Correcting a diary: edit or delete any entry, undo a delete, and the record of it.

Why a record: a diary is evidence. An attack count that shrinks, or a medication day
that moves, changes an ICHD-3 classification or a medication-overuse flag, so a
clinician must be able to see *that* an entry was corrected and when (not what it
said: the patient owns their diary and may withdraw an entry). Each edit and delete
leaves one row in ``entry_corrections``; a delete keeps the removed rows there as JSON,
so "Deleted. Undo" can put them back exactly (same ids, same children). The deleted
rows leave the diary tables at once, so no analysis, export or chart sees them.

Every function takes the patient id from the caller (the session or the address) and
finds entries only inside that diary: an id of another person's entry is "no such
entry", never theirs. The callers write the audit rows (painlink/store/audit.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from painlink.diary.schemas import (
    AttackIn,
    DayIn,
    FactorValueIn,
    IntensityReadingIn,
    MedicationIn,
    SpinePainIn,
)
from painlink.rules.medications import drug_class_of
from painlink.services.diary import EntryError, _row, _validate, patient_zone
from painlink.store import tables as t

#: how long after a delete "Undo" still works (the brief asks for at least 10 minutes;
#: a day lets a person undo after noticing the next morning, and is still "just now")
UNDO_WINDOW = dt.timedelta(hours=24)


#: the largest id a table's integer key holds (PostgreSQL ``integer``); a larger one in
#: an address names no entry, rather than overflowing the query
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Kind:
    """One kind of entry: its table, the schema that validates it, and its key."""

    name: str
    label: str
    table: sa.Table
    model: type[BaseModel]
    key: tuple[str, ...]  # columns that name one entry inside one diary


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("attack", "Headache", t.attacks, AttackIn, ("attack_id",)),
        Kind("reading", "Pain rating", t.intensity_readings, IntensityReadingIn, ("id",)),
        Kind("medication", "Medication", t.medications, MedicationIn, ("id",)),
        Kind("spine", "Neck or back pain", t.spine_pain, SpinePainIn, ("id",)),
        Kind("day", "Daily check-in", t.days, DayIn, ("date",)),
        Kind("factor", "Own factor", t.factor_values, FactorValueIn, ("date", "name")),
    )
}

#: children that go (and come back) with a deleted attack, in insert order
ATTACK_CHILDREN = (t.intensity_readings, t.aura_symptoms, t.medications)


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise EntryError({"kind": "no such kind of entry"})
    return KINDS[name]


def entry_key(kind: Kind, key: dict[str, Any]) -> str:
    """The entry's name in the corrections record and the audit log (no health content:
    an id or a date, and an own factor's name, which the patient chose)."""
    return "/".join(str(key[c]) for c in kind.key)


def key_from_text(kind_name: str, text: str) -> dict[str, Any]:
    """The key an address names (``entry_key``'s inverse): an attack id, a row id, a
    date, or ``date/name`` for an own factor's value."""
    kind = kind_of(kind_name)
    if "\x00" in text or len(text) > 200:  # no id holds these (PostgreSQL refuses NUL)
        raise EntryError({kind.key[-1]: "no such entry"})
    parts = text.split("/", len(kind.key) - 1)
    if len(parts) != len(kind.key):
        raise EntryError({kind.key[-1]: "no such entry"})
    return _coerce_key(kind, dict(zip(kind.key, parts, strict=True)))


def _coerce_key(kind: Kind, key: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in kind.key:
        value = key.get(col)
        try:
            if col == "id":
                value = int(str(value))
                if not 0 < value <= MAX_ID:
                    raise ValueError(value)
            elif col == "date":
                value = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError:
            raise EntryError({col: "no such entry"}) from None
        if value in (None, ""):
            raise EntryError({col: "no such entry"})
        out[col] = value
    return out


def _where(kind: Kind, patient_id: str, key: dict[str, Any]) -> Any:
    c = kind.table.c
    return sa.and_(c.patient_id == patient_id, *(c[col] == key[col] for col in kind.key))


def get_entry(
    conn: sa.Connection, patient_id: str, kind_name: str, key: dict[str, Any]
) -> dict[str, Any]:
    """One entry of this diary, or EntryError("no such entry")."""
    kind = kind_of(kind_name)
    key = _coerce_key(kind, key)
    row = conn.execute(sa.select(kind.table).where(_where(kind, patient_id, key))).mappings()
    found = row.first()
    if found is None:
        raise EntryError({kind.key[-1]: "no such entry"})
    return dict(found)


# ------------------------------------------------------------------ JSON of rows


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _load(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        col_type = table.c[name].type
        if value is not None and isinstance(col_type, sa.DateTime):
            value = dt.datetime.fromisoformat(value)
        elif value is not None and isinstance(col_type, sa.Date):
            value = dt.date.fromisoformat(value)
        out[name] = value
    return out


def _rows_json(rows: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(
        {name: [{k: _dump(v) for k, v in r.items()} for r in rs] for name, rs in rows.items()}
    )


def _record(
    conn: sa.Connection,
    patient_id: str,
    kind: Kind,
    key: dict[str, Any],
    action: str,
    before: dict[str, list[dict[str, Any]]],
) -> int:
    result = conn.execute(
        t.entry_corrections.insert().values(
            patient_id=patient_id,
            kind=kind.name,
            entry_key=entry_key(kind, key),
            action=action,
            at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            rows=_rows_json(before),
        )
    )
    key_row = result.inserted_primary_key
    assert key_row is not None  # an insert of one row always has its key
    return int(key_row[0])


# ------------------------------------------------------------------ edit


def _schema_fields(kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in row.items() if k in kind.model.model_fields}
    if kind.name == "attack":
        merged["location"] = [x for x in (row.get("location") or "").split(";") if x]
    if kind.name == "medication":
        merged["class"] = row.get("drug_class")
        merged.pop("drug_class", None)
    return merged


def edit_entry(
    conn: sa.Connection,
    patient_id: str,
    kind_name: str,
    key: dict[str, Any],
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Change some fields of one entry; the whole entry is validated again by its
    schema (an end before its start is refused as on entry). The key fields (which
    attack, which day) cannot change here: that would move the entry, not correct it."""
    kind = kind_of(kind_name)
    current = get_entry(conn, patient_id, kind_name, key)
    key = {col: current[col] for col in kind.key}
    fixed = {"patient_id", "id", *kind.key} | ({"attack_id"} if kind.name == "reading" else set())
    allowed = set(kind.model.model_fields) | {"class"}
    problems = {
        k: "cannot be changed here" if k in fixed else "not a field of this entry"
        for k in changes
        if k in fixed or k not in allowed
    }
    if problems:
        raise EntryError(problems)
    merged = {**_schema_fields(kind, current), **changes}
    if kind.name == "medication" and "drug" in changes and "class" not in changes:
        merged["class"] = None  # a new drug: its class is looked up again
    model = _validate(kind.model, merged, patient_zone(conn, patient_id))
    values = _row(model, kind.table)
    if kind.name == "medication" and values.get("drug_class") is None:
        cls = drug_class_of(values["drug"])
        if cls is None:
            raise EntryError({"class": "painlink does not know this drug: choose its kind"})
        values["drug_class"] = cls.value
    attack = values.get("attack_id") if kind.name == "medication" else None
    a = t.attacks.c
    if (
        attack
        and not conn.execute(
            sa.select(a.id).where(a.patient_id == patient_id, a.attack_id == attack)
        ).first()
    ):
        raise EntryError({"attack_id": "no such attack"})
    values = {k: v for k, v in values.items() if k not in ("patient_id", *kind.key)}
    if all(current.get(k) == v for k, v in values.items()):
        return current  # nothing changed: no correction to record
    _record(conn, patient_id, kind, key, "edit", {kind.table.name: [current]})
    conn.execute(kind.table.update().where(_where(kind, patient_id, key)).values(**values))
    return {**current, **values}


# ------------------------------------------------------------------ delete and undo


def delete_entry(conn: sa.Connection, patient_id: str, kind_name: str, key: dict[str, Any]) -> int:
    """Remove one entry (an attack with its readings, aura and medications) and keep it
    for undo; returns the correction's id, which ``undo_delete`` takes."""
    kind = kind_of(kind_name)
    current = get_entry(conn, patient_id, kind_name, key)
    key = {col: current[col] for col in kind.key}
    held: dict[str, list[dict[str, Any]]] = {kind.table.name: [current]}
    if kind.name == "attack":
        for child in ATTACK_CHILDREN:
            c = child.c
            where = (c.patient_id == patient_id) & (c.attack_id == current["attack_id"])
            found = conn.execute(sa.select(child).where(where)).mappings()
            held[child.name] = [dict(r) for r in found]
            conn.execute(child.delete().where(where))
    correction = _record(conn, patient_id, kind, key, "delete", held)
    conn.execute(kind.table.delete().where(_where(kind, patient_id, key)))
    return correction


def get_correction(conn: sa.Connection, patient_id: str, correction_id: int) -> dict[str, Any]:
    if not 0 < correction_id <= MAX_ID:
        raise EntryError({"undo": "nothing to undo"})
    c = t.entry_corrections.c
    row = (
        conn.execute(
            sa.select(t.entry_corrections).where(c.patient_id == patient_id, c.id == correction_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise EntryError({"undo": "nothing to undo"})
    return dict(row)


def last_delete(
    conn: sa.Connection, patient_id: str, kind_name: str, entry_text: str
) -> dict[str, Any] | None:
    """This diary's newest delete of the entry named ``entry_text`` that is not undone,
    if any: a second tap on Delete finds the entry gone and shows that delete again."""
    if "\x00" in entry_text or len(entry_text) > 200:
        return None  # names no entry (and PostgreSQL refuses NUL)
    c = t.entry_corrections.c
    row = (
        conn.execute(
            sa.select(t.entry_corrections)
            .where(
                c.patient_id == patient_id,
                c.kind == kind_name,
                c.entry_key == entry_text,
                c.action == "delete",
                c.undone_at.is_(None),
            )
            .order_by(c.id.desc())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def can_undo(correction: dict[str, Any], now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return (
        correction["action"] == "delete"
        and correction["undone_at"] is None
        and now - correction["at"] <= UNDO_WINDOW
    )


def undo_delete(conn: sa.Connection, patient_id: str, correction_id: int) -> dict[str, Any]:
    """Put a deleted entry back as it was, within UNDO_WINDOW. The correction stays
    (marked undone), so the record still shows the entry was deleted and restored."""
    correction = get_correction(conn, patient_id, correction_id)
    if not can_undo(correction):
        raise EntryError({"undo": "this can no longer be undone"})
    kind = KINDS[correction["kind"]]
    held = json.loads(correction["rows"])
    order = [kind.table, *(ATTACK_CHILDREN if kind.name == "attack" else ())]
    for table in order:
        for raw in held.get(table.name, []):
            row = _load(table, raw)
            if row.get("patient_id") != patient_id:
                raise EntryError({"undo": "nothing to undo"})
            if (
                "id" in row
                and conn.execute(sa.select(table.c.id).where(table.c.id == row["id"])).first()
            ):
                row.pop("id")  # the id was given to a newer entry meanwhile
            try:
                with conn.begin_nested():
                    conn.execute(table.insert().values(**row))
            except sa.exc.IntegrityError:
                raise EntryError(
                    {
                        "undo": "an entry for the same day or attack was added since; "
                        "edit that one instead"
                    }
                ) from None
    conn.execute(
        t.entry_corrections.update()
        .where(t.entry_corrections.c.id == correction_id)
        .values(undone_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    )
    return correction


# ------------------------------------------------------------------ what a clinician sees


def corrections(conn: sa.Connection, patient_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The diary's corrections, newest first: kind, entry, edit/delete, when (UTC) and
    whether a delete was undone. The removed rows themselves are not shown."""
    c = t.entry_corrections.c
    rows = conn.execute(
        sa.select(c.id, c.kind, c.entry_key, c.action, c.at, c.undone_at, c.rows)
        .where(c.patient_id == patient_id)
        .order_by(c.at.desc(), c.id.desc())
        .limit(limit)
    ).mappings()
    out = []
    for r in rows:
        item = {k: v for k, v in r.items() if k != "rows"}
        item["label"] = KINDS[r["kind"]].label
        item["entry_when"] = _when(KINDS[r["kind"]], json.loads(r["rows"]))
        out.append(item)
    return out


def _when(kind: Kind, held: dict[str, list[dict[str, Any]]]) -> str | None:
    """The entry's own date or time as it was (diary local time), to name it."""
    rows = held.get(kind.table.name) or [{}]
    for name in ("start", "at", "taken_at", "date"):
        if rows[0].get(name):
            return str(rows[0][name]).replace("T", " ")[:16]
    return None


def corrected_at(conn: sa.Connection, patient_id: str, kind_name: str) -> dict[str, dt.datetime]:
    """entry key → when it was last corrected, for the "corrected" mark on a list."""
    c = t.entry_corrections.c
    rows = conn.execute(
        sa.select(c.entry_key, sa.func.max(c.at))
        .where(c.patient_id == patient_id, c.kind == kind_name)
        .group_by(c.entry_key)
    )
    return {key: at for key, at in rows}


def corrected_entries(conn: sa.Connection, patient_id: str) -> set[tuple[str, str]]:
    """(kind, entry key) of every entry edited after it was entered and still in the
    diary: the FHIR export marks these ``corrected``."""
    c = t.entry_corrections.c
    rows = conn.execute(
        sa.select(c.kind, c.entry_key).where(c.patient_id == patient_id, c.action == "edit")
    )
    return {(kind, key) for kind, key in rows}


# ------------------------------------------------------------------ the list of entries


_WORST = ("none", "mild", "moderate", "severe")


def entries(
    conn: sa.Connection, patient_id: str, limit: int = 30, offset: int = 0
) -> list[dict[str, Any]]:
    """The newest entries of every kind, newest first, for a list with Edit / Delete:
    each as ``{kind, key, when, text}`` (``key`` the columns naming it)."""
    take = limit + offset
    out: list[dict[str, Any]] = []

    def add(kind: str, query: Any, when: str, text: Any) -> None:
        for row in conn.execute(query.limit(take)).mappings():
            at = row[when]
            if not isinstance(at, dt.datetime):
                at = dt.datetime.combine(at, dt.time())
            key = {col: row[col] for col in KINDS[kind].key}
            out.append({"kind": kind, "key": key, "when": at, "text": text(row)})

    a, r, m = t.attacks.c, t.intensity_readings.c, t.medications.c
    s, d, f = t.spine_pain.c, t.days.c, t.factor_values.c

    def attack_text(row: Any) -> str:
        worst = f", {_WORST[row['intensity']]}" if row["intensity"] is not None else ""
        return "Headache" + worst + ("" if row["end"] else " (ongoing)")

    def reading_text(row: Any) -> str:
        if row["intensity_nrs"] is not None:
            return f"Pain rating: {row['intensity_nrs']:g} of 10"
        return f"Pain rating: {_WORST[row['intensity']]}"

    mine = patient_id
    add(
        "attack",
        sa.select(a.attack_id, a.start, a.end, a.intensity)
        .where(a.patient_id == mine)
        .order_by(a.start.desc()),
        "start",
        attack_text,
    )
    add(
        "reading",
        sa.select(r.id, r.at, r.intensity, r.intensity_nrs)
        .where(r.patient_id == mine)
        .order_by(r.at.desc()),
        "at",
        reading_text,
    )
    add(
        "medication",
        sa.select(m.id, m.taken_at, m.drug).where(m.patient_id == mine).order_by(m.taken_at.desc()),
        "taken_at",
        lambda row: f"Medication: {row['drug']}",
    )
    add(
        "spine",
        sa.select(s.id, s.start, s.nrs).where(s.patient_id == mine).order_by(s.start.desc()),
        "start",
        lambda row: f"Neck or back pain: {row['nrs']:g} of 10",
    )
    add(
        "day",
        sa.select(d.date).where(d.patient_id == mine).order_by(d.date.desc()),
        "date",
        lambda row: "Daily check-in",
    )
    add(
        "factor",
        sa.select(f.date, f.name, f.value).where(f.patient_id == mine).order_by(f.date.desc()),
        "date",
        lambda row: f"{row['name'].replace('_', ' ')}: {row['value']:g}",
    )
    out.sort(key=lambda e: (e["when"], e["kind"] == "attack"), reverse=True)
    return out[offset:take]
