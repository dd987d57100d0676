"""The calendar's month grid, computed from a month's diary rows in plain Python.

Why this exists: the calendar is the page people open most, and nearly every visit
follows a write to the month it shows, so a cached grid is rarely still valid. The
grid used to come from :func:`painlink.clinical.day_counts.classify_days` over the
month's rows: ~145 polars steps, ~20 ms of CPU for a month of a few dozen rows, which
under 200 users on 2 cores made the calendar the slowest page. The grid needs only
five of classify_days' columns (``migraine_day``, ``headache_day_def``, ``logged``,
``acute_med_day``, ``treatment``) under the default day definition, and a month holds
a few dozen rows, so here they are computed row by row (well under a millisecond).

The result must be the one classify_days gives, column for column: the rules below
follow :mod:`painlink.days.day_table`, :mod:`painlink.clinical.attack_criteria` and
:mod:`painlink.clinical.day_counts` step by step (each step names its source), and
``tests/test_month_grid.py`` compares the two on simulated diaries and on hand-made
edge cases. A change to those rules must be made here too; that test fails until it is.

Input: one patient's stored rows, table name → tuples in the diary table's field
order (:data:`painlink.diary.frames.TABLE_BY_NAME`), as the store reads them — dates
and datetimes as objects or as the store's ISO text, booleans as bool or 0/1 — so the
calendar needs no data frames at all. :func:`diary_rows` gives the same from frames.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from painlink.days.day_table import ANALYSIS_WINDOW_DAYS, OPEN_ATTACK_MAX_DAYS
from painlink.diary.frames import TABLE_BY_NAME, DiaryFrames
from painlink.diary.vocabulary import SpineRegion
from painlink.rules.day_definitions import DEFAULT_DEFINITION, DEFINITIONS, DayDefinition
from painlink.rules.ichd3 import Ichd3Rules
from painlink.rules.medications import ACUTE_CLASSES, DrugClass

#: the tables a month's grid depends on (the others do not change it)
TABLES = (
    "days",
    "factor_values",
    "attacks",
    "aura_symptoms",
    "medications",
    "spine_pain",
    "treatments",
)
#: how many days before the month the grid's classification looks at: the grid's first
#: week starts at most 6 days before the 1st (the window the calendar always used)
LOOK_BACK_DAYS = 7

_DRUG_CLASSES = frozenset(c.value for c in DrugClass)
_ACUTE = frozenset(c.value for c in ACUTE_CLASSES)
_REGIONS = frozenset(r.value for r in SpineRegion)
_UNILATERAL = frozenset({"left", "right", "side_shifting"})
_SECOND = dt.timedelta(seconds=1)
_DAY = dt.timedelta(days=1)


def _columns(name: str) -> dict[str, int]:
    return {f.name: i for i, f in enumerate(TABLE_BY_NAME[name].fields)}


_COL = {name: _columns(name) for name in TABLES}
#: a diary's stored rows: table name → tuples in the table's field order
Rows = Mapping[str, Sequence[tuple[Any, ...]]]


def _date(value: Any) -> dt.date | None:
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _as_stored(value: Any) -> Any:
    return value


def _records(rows: Rows, table: str, /, **kinds: str) -> list[dict[str, Any]]:
    """The named columns of a table's rows, typed: ``kinds`` maps column → date,
    datetime, bool or any (as stored)."""
    index = _COL[table]
    convert = {"date": _date, "datetime": _datetime, "bool": _bool, "any": _as_stored}
    plan = [(c, index[c], convert[k]) for c, k in kinds.items()]
    return [{c: f(row[i]) for c, i, f in plan} for row in rows.get(table, ())]


def _in(day: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return day is not None and first <= day <= last


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


def _floor_hours(span: dt.timedelta) -> float:
    """Hours in whole seconds, as polars' ``dt.total_seconds() / 3600`` (clipped at 0)."""
    return max(0.0, (span // _SECOND) / 3600.0)


def _kahan_add(state: tuple[float, float], value: float) -> tuple[float, float]:
    """One step of Kahan summation: polars sums a group's floats this way, in row
    order, and a day's hours near the 1-hour threshold can fall either side of it by
    the last bit (1999 + 1216 + 385 s is 0.9999999999999999 h added naively, 1.0 here
    and in polars)."""
    total, carry = state
    y = value - carry
    t = total + y
    return t, (t - total) - y


def _aura_ok(symptoms: list[dict[str, Any]], rules: Ichd3Rules) -> bool:
    """ICHD-3 1.2 C3 for one attack, null read as false (attack_criteria's
    ``aura_durations_ok``, ``fill_null(False)``): some symptoms, every duration known,
    and each 5–60 min (motor: up to 72 h)."""
    if not symptoms:
        return False
    known = True
    for s in symptoms:
        minutes = s["duration_min"]
        if minutes is None:
            known = False
            continue
        longest = rules.aura_motor_max if s["type"] == "motor" else rules.aura_symptom_max
        if not (minutes >= rules.aura_symptom_min and minutes <= longest):
            return False  # "duration_out": any definite duration out of range
    return known


def _pain_features(a: dict[str, Any], rules: Ichd3Rules) -> bool:
    """1.1 C met (2 of 4 pain features; an unrecorded feature counts as absent)."""
    features: tuple[bool, ...] = (
        a["side"] in _UNILATERAL,
        a["quality"] == "pulsating",
        a["intensity"] is not None and a["intensity"] >= 2,
        a["aggravated_by_activity"] is True,
    )
    return sum(features) >= rules.migraine_pain_features_needed


def _accompanying(a: dict[str, Any]) -> bool:
    """1.1 D met: nausea or vomiting, or photo- and phonophobia."""
    return (
        a["nausea"] is True
        or a["vomiting"] is True
        or (a["photophobia"] is True and a["phonophobia"] is True)
    )


def month_days(
    rows: Rows,
    first: dt.date,
    last: dt.date,
    definition: DayDefinition | None = None,
    rules: Ichd3Rules | None = None,
    as_of: dt.datetime | None = None,
) -> dict[dt.date, dict[str, Any]]:
    """Per day of the day table, from the entries dated ``first``..``last``: ``kind``
    (migraine, headache, free or none), ``med`` (acute medication) and ``treatment``.

    ``as_of`` (the patient's wall-clock now) lets an attack still in progress count its
    hours so far, at most ``OPEN_ATTACK_MAX_DAYS`` (as the day table does up to a date):
    so today's open attack is a headache day once it has lasted the definition's
    ``headache_min_hours``, a migraine day once it qualifies. Without it an open attack
    ends where it starts, as in classify_days without ``as_of``.

    What :func:`~painlink.clinical.day_counts.classify_days` gives for that window
    (``migraine_day``, ``headache_day_def``, ``logged``, ``acute_med_day``,
    ``treatment``). Days outside the table are absent, as they are from classify_days."""
    d = definition or DEFINITIONS[DEFAULT_DEFINITION]
    if d.require_full_attack:
        raise ValueError(
            f"day definition {d.name!r} needs whole-attack criteria: use classify_days"
        )
    rules = rules or Ichd3Rules()
    # the month's entries, as the calendar's window keeps them (a datetime by its date)
    checkins = [r for r in _records(rows, "days", date="date") if _in(r["date"], first, last)]
    attacks = [
        r
        for r in _records(
            rows,
            "attacks",
            patient_id="any",
            attack_id="any",
            start="datetime",
            end="datetime",
            intensity="any",
            side="any",
            quality="any",
            aggravated_by_activity="bool",
            nausea="bool",
            vomiting="bool",
            photophobia="bool",
            phonophobia="bool",
        )
        if _in(_day(r["start"]), first, last)
    ]
    if not attacks and not checkins:
        return {}  # the calendar shows nothing without an attack or a check-in
    factor_dates = [
        r["date"]
        for r in _records(rows, "factor_values", date="date")
        if _in(r["date"], first, last)
    ]
    meds = [
        r
        for r in _records(
            rows, "medications", taken_at="datetime", drug_class="any", relief_2h="any"
        )
        if _in(_day(r["taken_at"]), first, last)
    ]
    spine = [
        r
        for r in _records(
            rows, "spine_pain", region="any", start="datetime", end="datetime", nrs="any"
        )
        if _in(_day(r["start"]), first, last)
    ]
    kept = {(a["patient_id"], a["attack_id"]) for a in attacks}
    symptoms: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for s in _records(
        rows, "aura_symptoms", patient_id="any", attack_id="any", type="any", duration_min="any"
    ):
        if (s["patient_id"], s["attack_id"]) in kept:
            symptoms.setdefault((s["patient_id"], s["attack_id"]), []).append(s)
    # natural-key order, as the frames are sorted: the hours of a day add up in it
    attacks.sort(key=lambda a: a["attack_id"])
    for a in attacks:  # as_of None: an open attack ends where it starts
        a["end_eff"] = a["end"] if a["end"] is not None else _open_end(a["start"], as_of)

    # day_table.window_starts: the last ANALYSIS_WINDOW_DAYS before the latest entry
    latest = [
        *(r["date"] for r in checkins),
        *factor_dates,
        *(r["taken_at"].date() for r in meds),
        *(max(a["start"], a["end_eff"]).date() for a in attacks),
        *((s["end"] or s["start"]).date() for s in spine),
    ]
    since = max(latest) - dt.timedelta(days=ANALYSIS_WINDOW_DAYS - 1)

    # day_table.attack_day_rows and day_counts.classify_days' per-day aggregates
    attack_day: set[dt.date] = set()
    painful_day: set[dt.date] = set()
    feature_day: set[dt.date] = set()
    headache_hours: dict[dt.date, tuple[float, float]] = {}  # (sum, compensation)
    for a in attacks:
        painful = a["intensity"] is None or a["intensity"] > 0
        features = _pain_features(a, rules) and _accompanying(a)
        aura = d.aura_counts and _aura_ok(
            symptoms.get((a["patient_id"], a["attack_id"]), []), rules
        )
        start, end = a["start"], a["end_eff"]
        day = max(start.date(), since)
        while day <= end.date():
            midnight = dt.datetime.combine(day, dt.time())
            hours = _floor_hours(min(end, midnight + _DAY) - max(start, midnight))
            attack_day.add(day)
            if painful:
                painful_day.add(day)
                headache_hours[day] = _kahan_add(headache_hours.get(day, (0.0, 0.0)), hours)
            if (painful and hours >= d.feature_min_hours and features) or (
                aura and start.date() == day
            ):
                feature_day.add(day)
            day += _DAY

    # day_table._medication_days, _spine_days, the check-ins and own factors
    med_day: set[dt.date] = set()
    acute_day: set[dt.date] = set()
    for m in meds:
        day = m["taken_at"].date()
        if day >= since and m["drug_class"] in _DRUG_CLASSES:
            med_day.add(day)
            if m["drug_class"] in _ACUTE:
                acute_day.add(day)
    spine_days: set[dt.date] = set()  # every day an episode touches: the table's span
    spine_logged: set[dt.date] = set()  # and where a region's rating makes it logged
    for s in spine:
        day, end_day = max(s["start"].date(), since), (s["end"] or s["start"]).date()
        rated = s["region"] in _REGIONS and s["nrs"] is not None
        while day <= end_day:
            spine_days.add(day)
            if rated:
                spine_logged.add(day)
            day += _DAY
    checked_in = {r["date"] for r in checkins if r["date"] >= since}
    entries = (
        checked_in
        | attack_day
        | {m["taken_at"].date() for m in meds if m["taken_at"].date() >= since}
        | spine_days
        | {day for day in factor_dates if day >= since}
    )
    if not entries:
        return {}
    first_date, last_date = min(entries), max(entries)

    # day_table._treatment_days: names in force per day, by start (then name), "; "-joined
    in_force: dict[dt.date, list[str]] = {}
    treatments = _records(rows, "treatments", name="any", start="date", end="date")
    # polars' sort puts a missing start first; frames arrive sorted by (start, name)
    for t in sorted(
        treatments, key=lambda t: (t["start"] is not None, t["start"] or first, t["name"] or "")
    ):
        day = max(x for x in (t["start"], first_date) if x is not None)
        until = min(t["end"] or last_date, last_date)
        while day <= until:
            if t["name"] is not None:
                in_force.setdefault(day, []).append(t["name"])
            day += _DAY

    # day_counts.classify_days: specific-drug days (triptan or ergot, by the definition)
    specific = {"triptan", "ergotamine"} | (
        {"gepant", "ditan"} if d.count_gepants_ditans else set()
    )
    specific_day = {
        m["taken_at"].date()
        for m in meds
        if m["drug_class"] in specific
        and (d.specific_drug != "effective" or m["relief_2h"] in ("partial", "complete"))
    }

    out: dict[dt.date, dict[str, Any]] = {}
    day = first_date
    while day <= last_date:
        painful = day in painful_day
        acute = day in acute_day
        migraine = day in feature_day or (
            day in specific_day and painful and d.specific_drug != "never"
        )
        headache = (
            migraine
            or (painful and headache_hours.get(day, (0.0, 0.0))[0] >= d.headache_min_hours)
            or (acute and d.medication_day_is_headache_day)
        )
        logged = day in checked_in or day in attack_day or day in med_day or day in spine_logged
        names = in_force.get(day)
        out[day] = {
            "kind": "migraine"
            if migraine
            else "headache"
            if headache
            else ("free" if logged else "none"),
            "med": acute,
            "treatment": "; ".join(names) if names else None,
        }
        day += _DAY
    return out


def _open_end(start: dt.datetime, as_of: dt.datetime | None) -> dt.datetime:
    """Where an attack without an end stops counting: now, at most
    ``OPEN_ATTACK_MAX_DAYS`` after it began (a forgotten end), never before it began."""
    if as_of is None:
        return start
    return max(start, min(as_of, start + dt.timedelta(days=OPEN_ATTACK_MAX_DAYS)))


def day_marks(
    rows: Rows, first: dt.date, last: dt.date, as_of: dt.datetime | None
) -> dict[dt.date, dict[str, Any]]:
    """What the calendar marks beside a day's class: ``ongoing`` (an attack without an
    end runs through the day, counted up to ``as_of``) and the day's ``stoplight``."""
    marks: dict[dt.date, dict[str, Any]] = {}
    for r in _records(rows, "days", date="date", stoplight="any"):
        if r["stoplight"] and _in(r["date"], first, last):
            marks.setdefault(r["date"], {})["stoplight"] = r["stoplight"]
    if as_of is None:
        return marks
    for a in _records(rows, "attacks", start="datetime", end="datetime"):
        if a["end"] is not None or a["start"] is None or a["start"] > as_of:
            continue
        day, until = a["start"].date(), _open_end(a["start"], as_of).date()
        while day <= until:
            if _in(day, first, last):
                marks.setdefault(day, {})["ongoing"] = True
            day += _DAY
    return marks


def month_grid(
    rows: Rows, year: int, month: int, as_of: dt.datetime | None = None
) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of the month's days, each with ``date``, ``in_month``,
    ``kind``, ``med`` and ``treatment``: the calendar page's heatmap.

    Classified from the month's entries and the week before (so an attack running
    into the 1st counts there), under the default day definition; ``as_of`` counts an
    attack still in progress up to then (:func:`month_days`)."""
    first = dt.date(year, month, 1)
    last = dt.date(year, month, cal.monthrange(year, month)[1])
    info = month_days(rows, first - dt.timedelta(days=LOOK_BACK_DAYS), last, as_of=as_of)
    none = {"kind": "none", "med": False, "treatment": None}
    return [
        [{"date": d, "in_month": d.month == month, **info.get(d, none)} for d in week]
        for week in cal.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]


def month_counts(weeks: list[list[dict[str, Any]]]) -> dict[str, int]:
    """The month's days by class, counted from the grid the calendar draws (days of the
    month only): ``migraine`` days, ``headache`` days (migraine days included, as the
    day definitions count them), ``acute_medication`` days and ``recorded`` days."""
    days = [d for week in weeks for d in week if d["in_month"]]
    return {
        "migraine": sum(d["kind"] == "migraine" for d in days),
        "headache": sum(d["kind"] in ("migraine", "headache") for d in days),
        "acute_medication": sum(bool(d["med"]) for d in days),
        "recorded": sum(d["kind"] != "none" for d in days),
    }


def diary_rows(
    diary: DiaryFrames, tables: Iterable[str] = TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """A diary's rows as :func:`month_grid` reads them (tuples in field order)."""
    return {name: getattr(diary, name).rows() for name in tables}
