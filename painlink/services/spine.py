"""Neck and back pain as the body map records it: several places at once.

Why several rows and no new table: ``spine_pain`` already holds one region per row
with its own side and 0–10, and every analysis (the day table's ``spine_<region>``
columns, the month grid, the spine link) reads it that way. An entry that marks the
top of the neck and the low back is therefore two rows that share one start time;
the time is what groups them back into one entry for the list.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any

import sqlalchemy as sa

from painlink.services.diary import EntryError, local_now, spine_pain_row
from painlink.store import tables as t

#: what a refused field says, in words a person in pain can act on
PLAIN = {
    "nrs": "Choose how strong it is, from 0 to 10",
    "side": "Choose left, right, both sides or centre",
    "region": "Not a place on the map",
}


def add_spine_entry(
    conn: sa.Connection, patient_id: str, marks: list[dict[str, Any]]
) -> dt.datetime:
    """Store one entry of several marked places, all or nothing.

    ``marks`` holds one ``{"region", "nrs", "side"}`` per place. Every place is
    checked before any row is written, so a refused score on the third place does not
    leave the first two half-saved (the web form answers 400 and its transaction
    commits). Errors come back keyed ``<field>_<region>``, as the form names them.
    Returns the entry's shared time (the patient's local wall clock, to the minute).
    """
    if not marks:
        raise EntryError({"regions": "Tap at least one place that hurts"})
    start = local_now(conn, patient_id)
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for mark in marks:
        try:
            rows.append(spine_pain_row(conn, patient_id, {**mark, "start": start}))
        except EntryError as exc:
            for field, message in exc.fields.items():
                errors[f"{field}_{mark.get('region')}"] = PLAIN.get(field, message)
    if errors:
        raise EntryError(errors)
    conn.execute(t.spine_pain.insert(), rows)
    return start


def spine_entries(conn: sa.Connection, patient_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The latest entries, newest first: the rows that share a start (and end) form one
    entry, each with its places (``region``, ``side``, ``nrs``) top of the spine first.

    Imported episodes with one region per row appear as one-place entries."""
    sp = t.spine_pain
    rows = (
        conn.execute(
            sa.select(sp.c.start, sp.c.end, sp.c.region, sp.c.side, sp.c.nrs)
            .where(sp.c.patient_id == patient_id)
            .order_by(sp.c.start.desc(), sp.c.end)
            .limit(limit * 6)  # at most six regions to an entry
        )
        .mappings()
        .all()
    )
    entries = []
    for (start, end), group in groupby(rows, key=lambda r: (r["start"], r["end"])):
        places = [dict(r) for r in group]
        entries.append({"start": start, "end": end, "places": places})
        if len(entries) == limit:
            break
    return entries
