"""Time zones as a person types them, and wall-clock times that a zone does not have.

Why this module: a diary keeps the patient's local wall-clock time (see
``painlink/diary/schemas.py``), so the zone decides what "now", "today" and "which day"
mean. People do not know IANA names: they type "Berlin" or "new york". A name that
points to one zone is taken; otherwise the page suggests names instead of refusing
with "unknown time zone". And twice a year a local time is odd: on the spring-forward
night 02:30 does not exist (Europe/Berlin, America/New_York), which is refused with
the times that did exist; on the fall-back night 01:30 (New York) or 02:30 (Berlin)
happens twice, which a diary of wall-clock times records as it was read off the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo

from painlink.rules import plausibility

#: The regions of the IANA database; zones outside them ("US/Eastern", "EST5EDT",
#: "Etc/GMT+3") are old aliases, accepted when typed in full but never offered.
AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
MAX_SUGGESTIONS = 8


class ZoneError(ValueError):
    """A zone that could not be found; ``suggestions`` are names that might be meant."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        self.suggestions = suggestions
        super().__init__(message)


def _keys() -> frozenset[str]:
    return plausibility.known_zones()  # not the server's "localtime", not "Factory"


@functools.cache
def offered_zones() -> tuple[str, ...]:
    """The zones a list offers: every region/city name, sorted, and UTC first."""
    return ("UTC", *sorted(k for k in _keys() if k.split("/")[0] in AREAS))


def _city(key: str) -> str:
    return key.rsplit("/", 1)[-1].lower()


def _squash(text: str) -> str:
    """Lower case, spaces and hyphens as IANA writes them (``new york`` → ``new_york``)."""
    return re.sub(r"\s+", "_", text.strip().lower())


def _same_rules(a: str, b: str) -> bool:
    """Two names for one zone (``America/Buenos_Aires`` is a link to
    ``America/Argentina/Buenos_Aires``): the same offset twice a year, 1970–2037."""
    za, zb = ZoneInfo(a), ZoneInfo(b)
    for year in range(1970, 2038):
        for month in (1, 7):
            t = dt.datetime(year, month, 1, 12, tzinfo=dt.UTC)
            if t.astimezone(za).utcoffset() != t.astimezone(zb).utcoffset():
                return False
    return True


def resolve_zone(text: str) -> str:
    """The IANA name for what a person typed: the exact name in any case, or a city
    that names one zone ("Berlin" → ``Europe/Berlin``). Several *different* zones, or
    none, raise :class:`ZoneError` with names to choose from."""
    typed = text.strip()
    if not typed:
        raise ZoneError("Choose your time zone, e.g. Europe/Berlin — or type your city.")
    squashed = _squash(typed)
    by_case = {k.lower(): k for k in _keys()}
    if squashed in by_case:
        return by_case[squashed]
    cities = [k for k in offered_zones() if _city(k) == squashed]
    if cities:
        # the canonical name is the longer one (America/Argentina/Buenos_Aires)
        cities.sort(key=lambda k: (-k.count("/"), k))
        if all(_same_rules(cities[0], other) for other in cities[1:]):
            return cities[0]
        raise ZoneError(
            f"Several time zones are called “{typed}”. Choose one:", tuple(cities[:MAX_SUGGESTIONS])
        )
    near = tuple(k for k in offered_zones() if squashed and squashed in k.lower())
    if near:
        raise ZoneError(
            f"“{typed}” is not a time zone name. Did you mean one of these:",
            near[:MAX_SUGGESTIONS],
        )
    raise ZoneError(
        f"“{typed}” is not a time zone we know. Type a big city near you (e.g. Berlin, "
        "New York, Tokyo) or pick one from the list."
    )


def zone_problem(text: str) -> str | None:
    """The message for a zone that cannot be used, suggestions included (None if fine)."""
    try:
        resolve_zone(text)
    except ZoneError as exc:
        return str(exc) + (" " + ", ".join(exc.suggestions) + "?" if exc.suggestions else "")
    return None


def wall_clock(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An instant (with an offset) as the wall-clock time in ``zone``, without a zone:
    what a diary stores."""
    return instant.astimezone(zone).replace(tzinfo=None)


def utc_to_local(value: dt.datetime | None, zone: str | None) -> dt.datetime | None:
    """An account-table time (UTC without a zone: sign-ins, grants) as wall-clock time
    in the patient's ``zone``, so a page shows one clock; for templates."""
    if value is None:
        return None
    return wall_clock(value.replace(tzinfo=dt.UTC), ZoneInfo(zone or "UTC"))


def missing_time_problem(local: dt.datetime, zone: ZoneInfo) -> str | None:
    """Why a wall-clock time cannot be stored in ``zone``: on the spring-forward night
    the clocks skip an hour, and a time in it (02:30 in Berlin on the last Sunday of
    March) never happened. Refused, in plain words, with the times on either side,
    rather than silently moved — the person may have meant either."""
    naive = local.replace(tzinfo=None)
    there = naive.replace(tzinfo=zone)
    if wall_clock(there.astimezone(dt.UTC), zone) == naive:
        return None
    a = there.replace(fold=0).astimezone(dt.UTC)
    b = there.replace(fold=1).astimezone(dt.UTC)
    lo, hi = min(a, b), max(a, b)
    while hi - lo > dt.timedelta(minutes=1):  # the instant the clocks jumped
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
            lo = mid
        else:
            hi = mid
    jump = hi.replace(second=0, microsecond=0)
    before = (jump + lo.astimezone(zone).utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    after = wall_clock(jump, zone)
    return (
        f"{naive:%H:%M} on {naive:%d %b %Y} did not happen in {zone.key}: that night the "
        f"clocks went from {before:%H:%M} straight to {after:%H:%M}. "
        f"Choose a time before {before:%H:%M} or from {after:%H:%M}."
    )
