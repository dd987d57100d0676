"""When a forecast of tomorrow may be shown to a person.

Why: tomorrow's forecast is computed from the most recent diary days (yesterday's
sleep and stress, the factors of the day before an onset). A diary that stopped
weeks ago gives a "chance of an attack tomorrow" that is really a forecast for the
day after the last entry, dressed up as current. So the forecast is shown only
while the diary is current: its last recorded day (a check-in, an own factor's
value or an attack) is today or yesterday in the person's time zone; otherwise the
page says where the diary stops and asks for it to be filled in. One day of slack
is the check-in done the next morning (the usual habit in diary studies).
"""

from __future__ import annotations

import datetime as dt

#: the last diary day may lie this many days before today for a forecast to show
FORECAST_CURRENT_DAYS = 1


def diary_is_current(last_day: dt.date | None, today: dt.date) -> bool:
    """True when the diary's last recorded day is recent enough for tomorrow's forecast."""
    return last_day is not None and (today - last_day).days <= FORECAST_CURRENT_DAYS
