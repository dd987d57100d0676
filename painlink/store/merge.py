"""Add one column of daily values to a diary that already exists (e.g. a cycle app's
bleeding days): fill what is empty, create missing days, and never overwrite a value
the person recorded differently unless told to — a conflict is reported, not resolved
silently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from painlink.diary.schemas import DayIn
from painlink.store import tables as t


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
        DayIn(patient_id=patient_id, date=day, **{column: value})
    d = t.days.c
    existing = dict(
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
