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


def date_problem(value: dt.date | dt.datetime, zone: str | ZoneInfo | None = None) -> str | None:
    """Why ``value`` is not a plausible diary date, or None when it is."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if day < EARLIEST_DATE:
        return f"{day.isoformat()} is before {EARLIEST_DATE.isoformat()}"
    last = latest_date(zone)
    if day > last:
        return f"{day.isoformat()} is in the future (after {last.isoformat()})"
    return None


#: The longest single record an app export may hold (a headache, a sleep stage, a
#: workout): 31 days. Why: an attack lasting more than 72 hours is already status
#: migrainosus (ICHD-3 1.4.1), and a headache that never stops is recorded day by day
#: (new daily persistent headache, ICHD-3 4.10), not as one record of months; the
#: schemas' own duration bound (``Minutes``, painlink/diary/schemas.py) is 31 days too.
#: Longer records are corrupt exports ("99999999d" once overflowed the date type).
MAX_RECORD_SPAN = dt.timedelta(days=31)


def birth_year_problem(year: int, zone: str | ZoneInfo | None = None) -> str | None:
    """Why ``year`` is not a plausible year of birth, or None when it is."""
    if year < EARLIEST_BIRTH_YEAR:
        return f"a birth year before {EARLIEST_BIRTH_YEAR} ({year})"
    if year > today(zone).year:
        return f"a birth year in the future ({year})"
    return None


def span_problem(start: dt.datetime, end: dt.datetime) -> str | None:
    """Why a record from ``start`` to ``end`` is not plausible, or None when it is."""
    if end < start:
        return "ends before it starts"
    if end - start > MAX_RECORD_SPAN:
        return f"lasts {end - start}, longer than {MAX_RECORD_SPAN.days} days"
    return None
