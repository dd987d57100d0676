"""What a diary entry can plausibly say about time: the bounds every date and time obeys.

Why here: a single implausible date (year 9999, year 1) once made the day table span
eight thousand years and took the server down. Every door into the diary — forms, the
JSON API, CSV folders, app exports, FHIR — checks dates against these bounds, so the
analyses can assume a diary's span is a human lifetime at most.

Sources and reasoning:
- ``EARLIEST_DATE``: no living person recording a diary was born before 1900 (the
  oldest verified living people were born after 1900 — Gerontology Research Group
  tables); records before then are typing errors (``0001``, ``1026``).
- ``latest_date``: a diary records what has happened, so nothing lies after *tomorrow*
  in the patient's zone. One day of slack covers a device whose clock or zone is a day
  ahead (the International Date Line spans 26 hours of offsets, UTC−12 to UTC+14).
- ``EARLIEST_BIRTH_YEAR`` follows ``EARLIEST_DATE``.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

EARLIEST_DATE = dt.date(1900, 1, 1)
EARLIEST_DATETIME = dt.datetime(1900, 1, 1)
EARLIEST_BIRTH_YEAR = 1900
FUTURE_SLACK = dt.timedelta(days=1)


def today(zone: str | ZoneInfo | None = None) -> dt.date:
    """Today's date in ``zone`` (UTC when none is given)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else (zone or ZoneInfo("UTC"))
    return dt.datetime.now(tz).date()


def latest_date(zone: str | ZoneInfo | None = None) -> dt.date:
    """The last date a diary entry may carry: tomorrow in the patient's zone."""
    return today(zone) + FUTURE_SLACK


def latest_datetime(zone: str | ZoneInfo | None = None) -> dt.datetime:
    """The last local wall-clock time a diary entry may carry (end of tomorrow)."""
    return dt.datetime.combine(latest_date(zone), dt.time(23, 59, 59))


#: How far ahead a schedule may be planned: an N-of-1 experiment's first block starts
#: at most a year after today. Its power is computed from the patient's recent attack
#: rate, which says little about years ahead (and year 9999 overflowed the calendar).
PLANNING_HORIZON = dt.timedelta(days=366)


#: Names the tz database answers to that are no place's zone: the server's own
#: "localtime" (another zone on another machine, and missing where Python's tzdata
#: package is the database: every page of that diary would fail), "Factory" (the
#: database's "zone unknown", shown as "-00") and "posixrules". The "posix/" and
#: "right/" copies (the latter counting leap seconds) are not in ``available_timezones``.
NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA zone names a diary may keep (any case as the database writes it)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones()) - NOT_A_PLACE


def date_problem(value: dt.date | dt.datetime, zone: str | ZoneInfo | None = None) -> str | None:
    """Why ``value`` is not a plausible diary date, or None when it is."""
    return _bounded(value, latest_date(zone))


# ------------------------------------------------------------------ without a zone
#
# A schema (and the CSV check derived from it) does not know whose diary a row is for,
# so it checks the widest "tomorrow" any patient can have: tomorrow in UTC+14, the
# easternmost offset in use (Line Islands, Kiribati). The zone-aware bound above is
# checked again where the patient is known (the web services).

EASTERNMOST_OFFSET = dt.timezone(dt.timedelta(hours=14))


def latest_date_anywhere() -> dt.date:
    """The last date a diary entry may carry in any zone: tomorrow in UTC+14."""
    return dt.datetime.now(EASTERNMOST_OFFSET).date() + FUTURE_SLACK


def date_problem_anywhere(value: dt.date | dt.datetime) -> str | None:
    """Why ``value`` is no plausible diary date for anyone, or None when it may be."""
    return _bounded(value, latest_date_anywhere())


def _bounded(value: dt.date | dt.datetime, last: dt.date) -> str | None:
    day = value.date() if isinstance(value, dt.datetime) else value
    if day < EARLIEST_DATE:
        return f"{day.isoformat()} is before {EARLIEST_DATE.isoformat()}"
    if day > last:
        return f"{day.isoformat()} is in the future (after {last.isoformat()})"
    return None


def birth_year_problem(year: int, zone: str | ZoneInfo | None = None) -> str | None:
    """Why ``year`` is no plausible birth year, or None: from EARLIEST_BIRTH_YEAR to this
    year (a diary may be kept for a newborn by a parent; none is kept before birth).
    Without a zone, "this year" is the latest anywhere on Earth (UTC+14)."""
    this_year = (today(zone) if zone is not None else latest_date_anywhere()).year
    if year < EARLIEST_BIRTH_YEAR:
        return f"a birth year is {EARLIEST_BIRTH_YEAR} or later"
    if year > this_year:
        return f"a birth year is {this_year} or earlier"
    return None


# ------------------------------------------------------------------ numbers
#
# Every number a diary keeps is finite (NaN and infinity are refused at every door:
# ``inf`` once became a plausible-looking 1440 minutes, 1.25e308 took a request down) and
# within a physical range. The ranges that are clinical live with their rules; these
# are the outer limits of fields whose unit is free:

#: Longest duration (minutes) anything in a diary lasts or takes to peak: 31 days.
#: ICHD-3 status migrainosus is "> 72 hours"; an attack or aura longer than a month is
#: a forgotten end, not a measurement.
MAX_DURATION_MIN = 60 * 24 * 31

#: Largest single medication dose, in whatever unit it is written (mg, µg, ml, IU):
#: the largest doses in use are vitamin D loading doses of 300 000–600 000 IU.
MAX_DOSE = 1_000_000

#: Largest magnitude of a clinic measurement (degrees, millimetres, seconds): angles
#: are within ±360 and no cervical range or distance reaches 10 000 of its unit.
MAX_EXAM_VALUE = 10_000

#: Largest magnitude of a person's own numeric factor ("steps", "minutes outside",
#: "cups of coffee"): a daily count above a million is a typing error.
MAX_OWN_FACTOR_VALUE = 1_000_000


class Plausible:
    """Marks a schema field whose value obeys these bounds (``kind`` "date" or
    "birth_year"), so the CSV check derived from the schemas checks it too."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"Plausible({self.kind!r})"


#: The longest single record an app export may hold (a headache, a sleep stage, a
#: workout): 31 days. Why: an attack lasting more than 72 hours is already status
#: migrainosus (ICHD-3 1.4.1), and a headache that never stops is recorded day by day
#: (new daily persistent headache, ICHD-3 4.10), not as one record of months; the
#: schemas' own duration bound (``Minutes``, painlink/diary/schemas.py) is 31 days too.
#: Longer records are corrupt exports ("99999999d" once overflowed the date type).
MAX_RECORD_SPAN = dt.timedelta(days=31)


def span_problem(start: dt.datetime, end: dt.datetime) -> str | None:
    """Why a record from ``start`` to ``end`` is not plausible, or None when it is."""
    if end < start:
        return "ends before it starts"
    if end - start > MAX_RECORD_SPAN:
        return f"lasts {end - start}, longer than {MAX_RECORD_SPAN.days} days"
    return None
