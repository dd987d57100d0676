"""Starting and ending an attack at the right time, once.

Why: a second tap on "Headache now" while an attack was open made another attack, and
an attack could only start "now" — a person who woke up with a migraine logged it
hours late, which shortens every duration ICHD-3 reads (4–72 h) and moves treatment
times. Here an attack starts now or earlier (woke up with it, 1 or 3 hours ago, a
chosen time), a second attack beside an open one needs ``alongside=True`` (the
person's deliberate choice), and a start that would overlap the previous attack is
refused in plain words. The end can be set now or at a time, and corrected later.

Times are the patient's local wall-clock time, like every diary time; every one obeys
rules/plausibility.py and none lies in the future. An attack still going on when the
person changes time zone moves to the new clock (:func:`change_time_zone`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from painlink.rules import plausibility
from painlink.services import accounts, diary
from painlink.services.diary import EntryError
from painlink.store import tables as t

#: "it started earlier" on the home page: the choice's value → minutes before now
STARTED_AGO = {"60": 60, "180": 180}


class AttackOpen(Exception):
    """An attack is still open; starting another needs the person's say-so."""

    def __init__(self, attack: dict[str, Any]) -> None:
        self.attack = attack
        super().__init__(f"attack {attack['attack_id']} is still open")


def _hm(value: dt.datetime, now: dt.datetime) -> str:
    """A time as a person reads it: 14:05 today, or Tue 3 Mar 14:05."""
    if value.date() == now.date():
        return value.strftime("%H:%M")
    return f"{value:%a} {value.day} {value:%b} {value:%H:%M}"


def started_at(
    choice: str | None, now: dt.datetime, woke_at: str | None = None, start_at: str | None = None
) -> dt.datetime:
    """When the attack began, from the home page's choice: ``now`` (or nothing), ``60``
    or ``180`` minutes ago, ``woke`` (today at the time the person got up) or ``at``
    (a picked ``YYYY-MM-DDTHH:MM``). Refuses a time in the future, field by field."""
    if not choice or choice == "now":
        return now
    if choice in STARTED_AGO:
        return now - dt.timedelta(minutes=STARTED_AGO[choice])
    if choice == "woke":
        try:
            clock = dt.time.fromisoformat(woke_at or "")
        except ValueError:
            raise EntryError({"woke_at": "give the time you got up, like 07:30"}) from None
        start = dt.datetime.combine(now.date(), clock.replace(second=0, microsecond=0))
        if start > now:
            raise EntryError(
                {"woke_at": f"{clock:%H:%M} is later than now ({now:%H:%M}): give an earlier time"}
            )
        return start
    if choice == "at":
        try:
            start = dt.datetime.fromisoformat(start_at or "")
        except ValueError:
            raise EntryError({"start_at": "pick a day and a time"}) from None
        start = start.replace(tzinfo=None, second=0, microsecond=0)
        if problem := plausibility.date_problem_anywhere(start):
            raise EntryError({"start_at": problem})
        if start > now:
            raise EntryError({"start_at": f"that is later than now ({_hm(now, now)})"})
        return start
    raise EntryError({"started": "choose when it started"})


def previous_end(conn: sa.Connection, patient_id: str) -> dict[str, Any] | None:
    """The ended attack whose end is latest: a new attack starts after it."""
    a = t.attacks.c
    query = sa.select(t.attacks).where(a.patient_id == patient_id, a.end.is_not(None))
    row = conn.execute(query.order_by(a.end.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def begin_attack(
    conn: sa.Connection,
    patient_id: str,
    start: dt.datetime | None = None,
    *,
    alongside: bool = False,
) -> str:
    """Start an attack at ``start`` (now when None) and return its id.

    Raises AttackOpen while another is open, unless ``alongside`` (the person said it
    is a new, separate headache); EntryError (on ``start_at``) when the start would
    fall inside the previous attack or before its end."""
    now = diary.local_now(conn, patient_id)
    start = start or now
    if not alongside and (current := diary.open_attack(conn, patient_id)) is not None:
        raise AttackOpen(current)
    last = previous_end(conn, patient_id)
    # an end later than now was written on a clock ahead of this one (the person moved
    # west; the diary keeps each entry's wall-clock time): the two cannot be compared,
    # and refusing would leave no time the person could pick
    if last is not None and last["end"] <= now and start < last["end"]:
        raise EntryError(
            {
                "start_at": (
                    f"Your last headache went from {_hm(last['start'], now)} to "
                    f"{_hm(last['end'], now)}. A new one cannot start before "
                    f"{_hm(last['end'], now)}: pick a later time — or, if it is the same "
                    "headache, open it from the list below and change its end."
                )
            }
        )
    if start > now:
        raise EntryError({"start_at": f"that is later than now ({_hm(now, now)})"})
    return diary.start_attack(conn, patient_id, start)


def end_attack(
    conn: sa.Connection, patient_id: str, attack_id: str, end: dt.datetime | None = None
) -> dict[str, Any]:
    """End an attack now (``end`` None) or at a time — also to correct an end given
    before. Not in the future, not before the attack's start."""
    now = diary.local_now(conn, patient_id)
    end = (end or now).replace(tzinfo=None, second=0, microsecond=0)
    attack = diary.get_attack(conn, patient_id, attack_id)
    if attack is None:
        raise EntryError({"attack_id": "no such attack"})
    if end > now:
        raise EntryError({"end_at": f"that is later than now ({_hm(now, now)})"})
    if end < attack["start"]:
        raise EntryError(
            {
                "end_at": f"that is before it started ({_hm(attack['start'], now)}): "
                "pick a later time"
            }
        )
    return diary.update_attack(conn, patient_id, attack_id, {"end": end})


def time_changes(
    conn: sa.Connection, patient_id: str, attack_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """The attack page's details, minus a start or end sent back unchanged (the form
    shows them to the minute: saving the details must not cut an imported time's
    seconds), refusing a corrected time that lies in the future."""
    current = diary.get_attack(conn, patient_id, attack_id) or {}
    now = diary.local_now(conn, patient_id)
    out = dict(changes)
    for name in ("start", "end"):
        given, stored = out.get(name), current.get(name)
        if not isinstance(given, str):
            continue
        if stored is not None and given == stored.strftime("%Y-%m-%dT%H:%M"):
            del out[name]
            continue
        try:
            when = dt.datetime.fromisoformat(given).replace(tzinfo=None)
        except ValueError:
            continue  # the schema names the problem
        if when > now:
            raise EntryError({name: f"that is later than now ({_hm(now, now)})"})
    return out


def parse_end(text: str | None) -> dt.datetime | None:
    """The attack page's ``end_at`` (``YYYY-MM-DDTHH:MM``); None when empty ("now")."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise EntryError({"end_at": "pick a day and a time"}) from None
    if problem := plausibility.date_problem_anywhere(value):
        raise EntryError({"end_at": problem})
    return value


#: the times that belong to an attack, by table: they move with it to a new clock
_ATTACK_TIMES: tuple[tuple[sa.Table, str], ...] = (
    (t.intensity_readings, "at"),
    (t.aura_symptoms, "start"),
    (t.medications, "taken_at"),
    (t.screening_answers, "at"),
)


def on_new_clock(when: dt.datetime, old: str, new: str) -> dt.datetime:
    """The wall-clock time ``when`` read on ``old``'s clock, as ``new``'s clock showed it
    at that instant. Each time is converted on its own: a clock change between an
    attack's start and now (summer time) must not shift it by the wrong hour, nor put
    it in an hour that did not happen there."""
    aware = when.replace(tzinfo=ZoneInfo(old))
    return aware.astimezone(ZoneInfo(new)).replace(tzinfo=None)


def change_time_zone(conn: sa.Connection, patient_id: str, typed: str) -> tuple[str, str, bool]:
    """Set the person's zone (:func:`painlink.services.accounts.set_time_zone`) and move
    every attack still going on — its start and the ratings, aura, medicines and
    red-flag answers recorded in it — to the new clock; returns (old zone, new zone,
    whether one moved).

    Why: finished entries keep the wall-clock time they were written in, but an open
    attack has to be ended on the new clock. A headache begun at 10:00 in Kiribati
    (UTC+14) and still there after landing in American Samoa (UTC−11) began at 09:00
    the day before by the clock the person now lives on; left at 10:00 "tomorrow", it
    could not be ended at all ("that is before it started"), and after a shorter flight
    west its length would read hours short — both wrong for ICHD-3's 4–72 h. Its times
    are the same instants read on the new clock, so its length stays true. Known
    limits: after a flight west the moved start may fall before a finished attack's
    end on the old clock (the two clocks cannot be compared); a deleted rating restored
    later keeps the clock it was deleted on."""
    old, new = accounts.set_time_zone(conn, patient_id, typed)
    if old == new:
        return old, new, False
    a = t.attacks.c
    open_ones = conn.execute(
        sa.select(a.attack_id, a.start).where(a.patient_id == patient_id, a.end.is_(None))
    ).all()  # all of them: a second headache "alongside" may be open too
    moved = False
    for attack_id, start in open_ones:
        if (moved_start := on_new_clock(start, old, new)) == start:
            continue  # two names of one clock ("US/Eastern", "America/New_York")
        if not conn.execute(
            t.attacks.update()
            .where(a.patient_id == patient_id, a.attack_id == attack_id, a.end.is_(None))
            .values(start=moved_start)
        ).rowcount:
            continue  # ended meanwhile: a finished attack keeps its clock, and so its times
        moved = True
        for table, column in _ATTACK_TIMES:
            rows = conn.execute(
                sa.select(table.c.id, table.c[column]).where(
                    table.c.patient_id == patient_id,
                    table.c.attack_id == attack_id,
                    table.c[column].is_not(None),
                )
            ).all()
            for row_id, when in rows:
                conn.execute(
                    table.update()
                    .where(table.c.id == row_id)
                    .values({column: on_new_clock(when, old, new)})
                )
    return old, new, moved
