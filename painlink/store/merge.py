"""Add one column of daily values to a diary that already exists (e.g. a cycle app's
bleeding days): fill what is empty, create missing days, and never overwrite a value
the person recorded differently unless told to — a conflict is reported, not resolved
silently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from painlink.days.day_table import OPEN_ATTACK_MAX_DAYS
from painlink.diary.schemas import AttackIn, DayIn
from painlink.store import tables as t


class MergeError(ValueError):
    """An import that cannot be merged; the caller rolls the transaction back."""


@dataclass
class DayMerge:
    filled: int = 0  # existing days whose empty value was set
    created: int = 0  # days that did not exist yet
    unchanged: int = 0  # already held the same value
    replaced: int = 0  # held another value, overwritten because replace=True
    conflicts: list[tuple[dt.date, Any, Any]] = field(default_factory=list)  # (day, had, new)


def merge_day_values(
    conn: sa.Connection,
    patient_id: str,
    column: str,
    values: dict[dt.date, Any],
    replace: bool = False,
) -> DayMerge:
    """Merge ``values`` into ``days.<column>``. With conflicts and ``replace=False``
    nothing is written: the caller reports them and the transaction rolls back."""
    for day, value in values.items():  # the same validation as a check-in
        try:
            DayIn(patient_id=patient_id, date=day, **{column: value})
        except ValidationError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise MergeError(f"{day} {column}: {message} (value {value!r})") from None
    d = t.days.c
    existing: dict[dt.date, Any] = dict(
        conn.execute(
            sa.select(d.date, d[column]).where(d.patient_id == patient_id, d.date.in_(values))
        ).all()
    )
    result = DayMerge()
    inserts, updates = [], []
    for day, value in sorted(values.items()):
        if day not in existing:
            inserts.append({"patient_id": patient_id, "date": day, column: value})
            result.created += 1
        elif existing[day] is None:
            updates.append({"b_date": day, "b_value": value})
            result.filled += 1
        elif existing[day] == value:
            result.unchanged += 1
        elif replace:
            updates.append({"b_date": day, "b_value": value})
            result.replaced += 1
        else:
            result.conflicts.append((day, existing[day], value))
    if result.conflicts:
        return result
    if inserts:
        conn.execute(t.days.insert(), inserts)
    if updates:
        conn.execute(
            t.days.update()
            .where(d.patient_id == patient_id, d.date == sa.bindparam("b_date"))
            .values({column: sa.bindparam("b_value")}),
            updates,
        )
    return result


class MergeConflict(MergeError):
    """Days that already record other values; nothing is written."""

    def __init__(self, conflicts: list[tuple[str, dt.date, Any, Any]]) -> None:
        self.conflicts = conflicts
        shown = "; ".join(f"{d} {c}: diary {had}, import {new}" for c, d, had, new in conflicts[:5])
        super().__init__(f"{len(conflicts)} day value(s) already recorded differently ({shown})")


@dataclass
class DiaryMerge:
    attacks_added: int = 0
    attacks_already_there: int = 0  # same id: imported before
    attacks_overlapping: list[dt.datetime] = field(default_factory=list)  # kept out, listed
    medications_added: int = 0
    days: dict[str, DayMerge] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attacks_added": self.attacks_added,
            "attacks_already_there": self.attacks_already_there,
            "attacks_overlapping_kept_out": [str(s) for s in self.attacks_overlapping],
            "medications_added": self.medications_added,
            "days": {
                column: {k: v for k, v in m.__dict__.items() if k != "conflicts"}
                for column, m in self.days.items()
            },
        }


def _check_attack(row: dict[str, Any]) -> None:
    """An attack from an export passes the same checks as one logged in painlink, so a
    value the database would refuse is a MergeError with words, not a server error."""
    data = {k: v for k, v in row.items() if v is not None}
    if isinstance(data.get("location"), str):  # frames keep a list as "a;b"
        data["location"] = [p for p in data["location"].split(";") if p]
    try:
        AttackIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "attack"
        message = first["msg"].removeprefix("Value error, ")
        raise MergeError(f"attack starting {row.get('start')}: {field}: {message}") from None


def merge_diary(
    conn: sa.Connection, patient_id: str, diary: Any, replace: bool = False
) -> DiaryMerge:
    """Add an app's export to a diary that exists.

    Attacks carry ids derived from their start, so an attack imported before is
    recognised and not added twice; one that overlaps an attack already in the diary
    (logged in painlink, or from another app) is kept out and listed rather than
    doubled. Its medications come with it. Daily values merge column by column as in
    :func:`merge_day_values`; any conflict refuses the whole merge unless ``replace``.
    """
    import polars as pl

    from painlink.store.diary_io import insert_rows

    result = DiaryMerge()
    a = t.attacks.c
    known = conn.execute(
        sa.select(a.attack_id, a.start, a.end).where(a.patient_id == patient_id)
    ).all()
    ids = {row.attack_id for row in known}
    # an attack still open in the diary counts as the day table counts it, at most 72 h
    longest = dt.timedelta(days=OPEN_ATTACK_MAX_DAYS)
    spans = [(row.start, row.end or row.start + longest) for row in known]
    added = []
    for row in diary.attacks.sort("start").iter_rows(named=True):
        end = row["end"] or row["start"]
        if row["attack_id"] in ids:
            result.attacks_already_there += 1
        elif any(row["start"] <= e and end >= s for s, e in spans):
            result.attacks_overlapping.append(row["start"])
        else:
            _check_attack(row)
            added.append(row["attack_id"])
            spans.append((row["start"], end))
    new = pl.col("attack_id").is_in(added)
    insert_rows(conn, t.attacks, diary.attacks.filter(new))
    for table in (t.intensity_readings, t.aura_symptoms, t.medications):
        frame = getattr(diary, table.name)
        if frame.height:
            frame = frame.filter(new)
            insert_rows(conn, table, frame)
            if table is t.medications:
                result.medications_added = frame.height
    result.attacks_added = len(added)
    conflicts: list[tuple[str, dt.date, Any, Any]] = []
    for column in diary.days.columns:
        if column in ("patient_id", "date"):
            continue
        values = {d: v for d, v in diary.days.select("date", column).iter_rows() if v is not None}
        if values:
            merged = merge_day_values(conn, patient_id, column, values, replace)
            conflicts += [(column, d, had, new_) for d, had, new_ in merged.conflicts]
            result.days[column] = merged
    if conflicts:
        raise MergeConflict(conflicts)
    return result
