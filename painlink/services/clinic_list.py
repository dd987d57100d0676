"""The clinic's patient list: stored summaries, refreshed in batches, paged in SQL.

Each consented patient's row needs a classification of their whole diary; done on
every load that took minutes for a clinic of thousands. The numbers are kept in
``patient_summaries`` (painlink/store/summary_tables.py), whose ``diary_version`` a
database trigger bumps on every write to the patient's diary. A list load:

1. finds this clinician's consented patients whose summary is stale (its
   ``computed_version`` is not its ``diary_version``) — one indexed query;
2. claims them (``pending`` + 1, and their versions, in a short write), reads those
   diaries and classifies them together (:func:`classify_cohort`, one polars pass
   per batch rather than one per person), then stores each result only if its
   version has not moved since the claim (another short write);
3. reads one page, sorted in SQL: open red flags first, then the latest entry.

A write landing between the claim and the save bumps the version (on SQLite because
``pending`` is raised; store/summary_tables.py), so that result is dropped and the
next load computes the summary again: a summary can be recomputed needlessly, never
kept when out of date.

The "last 28 days" counts depend on the day the list is read as well as on the diary.
A summary keeps one mark per day for the 28 days up to the day it was computed
(``marks``, a hex digit per day: recorded, migraine, headache, acute medicine); a
later read counts the marks still inside its own 28 days. The days after ``as_of``
have no entries — any entry would have made the summary stale — so the count is
exact without recomputing every summary at midnight.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa

from painlink.clinical.classify import classify_cohort
from painlink.store.account_tables import grants
from painlink.store.diary_io import read_diary
from painlink.store.store import Store
from painlink.store.summary_tables import MARK_DAYS, STALE, patient_summaries
from painlink.store.tables import patients

#: rows on one page of the list (the page), and the most the API gives at once
PAGE_SIZE = 50
MAX_LIMIT = 200
#: patients classified together: big enough to share the polars work, small enough
#: that a batch's diaries (~365 days each) stay a few tens of megabytes
BATCH = 250

_RECORDED, _MIGRAINE, _HEADACHE, _ACUTE = 1, 2, 4, 8

s = patient_summaries


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def _consented(clinician_id: int) -> Any:
    return sa.and_(grants.c.clinician_id == clinician_id, grants.c.revoked_at.is_(None))


def stale(conn: sa.Connection, clinician_id: int | None) -> dict[str, int]:
    """Patient id → current diary version, for every summary that needs computing (of
    this clinician's consented patients; of every patient when ``clinician_id`` is None).

    Read through the partial index of stale rows (store/summary_tables.py): a load with
    nothing to compute costs a few index pages, however many patients are listed."""
    found = conn.execute(
        sa.select(s.c.patient_id, s.c.diary_version).where(sa.text(f"({STALE})"))
    ).all()
    if not found:
        return {}
    mine = None
    if clinician_id is not None:  # apart, so the planner cannot start from every grant
        mine = set(
            conn.execute(sa.select(grants.c.patient_id).where(_consented(clinician_id))).scalars()
        )
    return {str(pid): int(version) for pid, version in found if mine is None or str(pid) in mine}


def _today(zone: str | None) -> dt.date:
    try:
        return dt.datetime.now(ZoneInfo(zone or "UTC")).date()
    except (KeyError, ValueError):
        return dt.datetime.now(dt.UTC).date()


def _marks(days: pl.DataFrame, as_of: dt.date) -> str:
    """One hex digit per day, as_of-27 … as_of: recorded | migraine | headache | acute."""
    first = as_of - dt.timedelta(days=MARK_DAYS - 1)
    bits = [0] * MARK_DAYS
    recent = days.filter((pl.col("date") >= first) & (pl.col("date") <= as_of))
    for row in recent.select(
        "date", "logged", "migraine_day", "headache_day_def", "med_acute_any"
    ).iter_rows():
        day, logged, migraine, headache, acute = row
        bits[(day - first).days] = (
            (_RECORDED if logged else 0)
            | (_MIGRAINE if migraine else 0)
            | (_HEADACHE if headache else 0)
            | (_ACUTE if acute else 0)
        )
    return "".join(f"{b:x}" for b in bits)


def compute(conn: sa.Connection, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The summary values of these patients' diaries, computed together.

    Mirrors what the clinician's patient page says: a diary without attacks has no
    classification (no flags, no diagnoses), as on that page."""
    diary = read_diary(conn, list(ids))
    if not diary.patients.height:
        return []
    results, days = classify_cohort(diary)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    days_by = {str(k[0]): v for k, v in days.partition_by("patient_id", as_dict=True).items()}
    attacks_by = diary.attacks.group_by("patient_id").len()
    attack_count = dict(zip(attacks_by["patient_id"], attacks_by["len"], strict=True))
    out = []
    for patient in diary.patients.select("patient_id", "time_zone").iter_rows(named=True):
        pid = str(patient["patient_id"])
        mine = days_by.get(pid, days.clear())
        logged = mine.filter(pl.col("logged"))
        as_of = _today(patient["time_zone"])
        row: dict[str, Any] = {
            "patient_id": pid,
            "computed_at": now,
            "as_of": as_of,
            "last_entry": logged["date"].max() if logged.height else None,
            "attacks": int(attack_count.get(pid, 0)),
            "red_flags": 0,
            "urgency": None,
            "flags": "",
            "diagnoses": "",
            "marks": _marks(mine, as_of),
        }
        if row["attacks"]:
            result = results[pid]
            labels = set(result.labels)
            flags = []
            if result.screen.flags:
                flags.append(f"red flag: {result.screen.urgency}")
                row["red_flags"] = len(result.screen.flags)
                row["urgency"] = result.screen.urgency
            if "1.3" in labels:
                flags.append("chronic migraine")
            if any(code.startswith("8.2") for code in labels):
                flags.append("medication overuse")
            row["flags"] = "\n".join(flags)
            row["diagnoses"] = ", ".join(sorted(labels - {"11.2.1"}))
        out.append(row)
    return out


def _claim(store: Store, ids: list[str]) -> dict[str, int]:
    """Mark these summaries as being computed (``pending`` + 1) and read their diary
    versions, in one write: every diary write after it bumps the version (SQLite's
    triggers bump a stale row only while ``pending`` > 0; store/summary_tables.py)."""
    with store.writing() as conn:
        conn.execute(s.update().where(s.c.patient_id.in_(ids)).values(pending=s.c.pending + 1))
        found = conn.execute(
            sa.select(s.c.patient_id, s.c.diary_version).where(s.c.patient_id.in_(ids))
        )
        return {str(pid): int(version) for pid, version in found}


def _save(
    store: Store, ids: list[str], rows: list[dict[str, Any]], versions: dict[str, int]
) -> None:
    """Store computed summaries whose diary version has not moved since the claim, and
    release the claim. In patient order: two refreshes of the same patients lock their
    rows in the same order (no deadlock). Only existing rows are updated: a patient
    deleted meanwhile took theirs along (ON DELETE CASCADE)."""
    values = [
        {
            **{k: v for k, v in r.items() if k != "patient_id"},
            "b_pid": r["patient_id"],
            "b_version": versions[r["patient_id"]],
        }
        for r in sorted(rows, key=lambda r: r["patient_id"])
        if r["patient_id"] in versions
    ]
    with store.writing() as conn:
        if values:
            fields = [k for k in values[0] if not k.startswith("b_")]
            conn.execute(
                s.update()
                .where(s.c.patient_id == sa.bindparam("b_pid"))
                .where(s.c.diary_version == sa.bindparam("b_version"))
                .values(
                    {
                        **{k: sa.bindparam(k) for k in fields},
                        "computed_version": sa.bindparam("b_version"),
                    }
                ),
                values,
            )
        _release(conn, ids)


def _release(conn: sa.Connection, ids: list[str]) -> None:
    conn.execute(
        s.update().where(s.c.patient_id.in_(ids), s.c.pending > 0).values(pending=s.c.pending - 1)
    )


def refresh(store: Store, clinician_id: int | None) -> int:
    """Compute every stale summary of this clinician's patients (every patient's when
    None), in batches; returns how many were computed.

    Per batch: claim (a short write), read and classify (a read), save what is still
    current (a short write). A summary whose diary changed meanwhile stays stale and
    is computed by the next load."""
    with store.engine.connect() as conn, conn.begin():
        ids = sorted(stale(conn, clinician_id))
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        versions = _claim(store, chunk)
        try:
            with store.engine.connect() as conn, conn.begin():
                rows = compute(conn, chunk)
        except BaseException:
            with store.writing() as conn:
                _release(conn, chunk)
            raise
        _save(store, chunk, rows, versions)
    return len(ids)


def _counts(marks: str | None, as_of: dt.date | None, today: dt.date) -> dict[str, int | None]:
    """The last 28 days' counts as of ``today`` from marks kept as of ``as_of``."""
    if marks is None or as_of is None:
        return {"recorded_days": None, "migraine_days": None, "headache_days": None,
                "acute_days": None}  # fmt: skip
    first = as_of - dt.timedelta(days=MARK_DAYS - 1)
    since = today - dt.timedelta(days=MARK_DAYS - 1)
    bits = [int(c, 16) for i, c in enumerate(marks) if first + dt.timedelta(days=i) >= since]
    return {
        "recorded_days": sum(1 for b in bits if b & _RECORDED),
        "migraine_days": sum(1 for b in bits if b & _MIGRAINE),
        "headache_days": sum(1 for b in bits if b & _HEADACHE),
        "acute_days": sum(1 for b in bits if b & _ACUTE),
    }


def _search(query: str) -> Any:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped.lower()}%"
    return sa.or_(
        sa.func.lower(patients.c.display_name).like(pattern, escape="\\"),
        sa.func.lower(patients.c.patient_id).like(pattern, escape="\\"),
    )


def page(
    store: Store, clinician_id: int, *, offset: int = 0, limit: int = PAGE_SIZE, query: str = ""
) -> Page:
    """One page of the clinician's consented patients, fresh: stale summaries are
    computed first. Sorted by open red flags (most first), then the latest entry
    (newest first), then name; ``query`` keeps names or ids containing it."""
    refresh(store, clinician_id)
    order = (
        sa.func.coalesce(s.c.red_flags, 0).desc(),
        sa.case((s.c.last_entry.is_(None), 1), else_=0),
        s.c.last_entry.desc(),
        patients.c.display_name,
        patients.c.patient_id,
    )
    keys = (
        sa.select(patients.c.patient_id)
        .select_from(
            grants.join(patients, patients.c.patient_id == grants.c.patient_id).outerjoin(
                s, s.c.patient_id == patients.c.patient_id
            )
        )
        .where(_consented(clinician_id))
    )
    if query:
        keys = keys.where(_search(query))
    with store.engine.connect() as conn, conn.begin():
        # the sort reads narrow keys only; the page's 50 rows are fetched after
        ids = list(conn.execute(keys.order_by(*order).offset(offset).limit(limit)).scalars())
        if query:
            total = conn.execute(sa.select(sa.func.count()).select_from(keys.subquery()))
        else:  # every grant names an existing patient (foreign key): count the grants
            total = conn.execute(
                sa.select(sa.func.count()).select_from(grants).where(_consented(clinician_id))
            )
        count = int(total.scalar_one())
        details = {
            r["patient_id"]: dict(r)
            for r in conn.execute(
                sa.select(
                    patients.c.patient_id,
                    patients.c.display_name,
                    patients.c.time_zone,
                    s.c.red_flags,
                    s.c.urgency,
                    s.c.flags,
                    s.c.diagnoses,
                    s.c.attacks,
                    s.c.last_entry,
                    s.c.marks,
                    s.c.as_of,
                    s.c.computed_at,
                )
                .select_from(patients.outerjoin(s, s.c.patient_id == patients.c.patient_id))
                .where(patients.c.patient_id.in_(ids))
            ).mappings()
        }
    return Page([_present(details[pid]) for pid in ids], count, offset, limit)


def _present(r: dict[str, Any]) -> dict[str, Any]:
    counts = _counts(r["marks"], r["as_of"], _today(r["time_zone"]))
    recorded = counts.pop("recorded_days")
    return {
        "patient_id": r["patient_id"],
        "name": r["display_name"] or r["patient_id"],
        "flags": [f for f in (r["flags"] or "").split("\n") if f],
        "red_flags": r["red_flags"] or 0,
        "diagnoses": r["diagnoses"] or "",
        "attacks": r["attacks"] or 0,
        "last_entry": r["last_entry"].isoformat() if r["last_entry"] else None,
        **counts,
        "completeness": None if recorded is None else round(recorded / MARK_DAYS, 2),
        "computed_at": r["computed_at"].isoformat() if r["computed_at"] else None,
    }
