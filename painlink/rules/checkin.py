"""The daily check-in's everyday units and the stoplight day, with their sources.

Why here: people count cups and drinks, not milligrams and grams. The check-in asks in
cups and drinks and stores the diary's units (``caffeine_mg``, ``alcohol_units``), so
every analysis, import and export keeps reading one unit; the conversion figures are
clinical tables and live here with their sources (docs/clinical.md lists them).

- ``CAFFEINE_MG_PER_CUP`` = 90: EFSA Panel on Dietetic Products, Nutrition and
  Allergies, "Scientific Opinion on the safety of caffeine", EFSA Journal 2015;13(5):4102,
  Table 1: a cup of filter coffee (200 ml) provides about 90 mg of caffeine (espresso,
  60 ml, about 80 mg; a cup of black tea, 220 ml, about 50 mg — so a mug of tea or a can
  of cola counts as about half a cup).
- ``ALCOHOL_UNITS_PER_DRINK`` = 2: NHS, "Calculating alcohol units"
  (https://www.nhs.uk/live-well/alcohol-advice/calculating-alcohol-units/): a pint of
  lower-strength beer or cider (3.6 %) is 2 units, a standard 175 ml glass of wine (12 %)
  2.1 units; a UK unit is 10 ml (8 g) of pure alcohol. A single 25 ml measure of spirits
  is 1 unit, so it counts as half a drink.
- ``STOPLIGHTS``: the "stoplight diary" recommended by Amaal J. Starling, Mayo Clinic
  (Mayo Clinic Press, "Migraine treatment: What to tell your neurologist"): mark each
  calendar day green, yellow or red by how migraine affected what you could do — green
  mild, yellow moderate, red severe impairment (you may be bedbound) — and note when you
  used medication. It is a rating of function, not a headache record: it carries no
  hours or features, so no ICHD-3 day definition (rules/day_definitions.py) can make a
  migraine or headache day of it (see docs/clinical.md, "Stoplight days").
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from painlink.rules import plausibility

CAFFEINE_MG_PER_CUP = 90.0
ALCOHOL_UNITS_PER_DRINK = 2.0

#: stoplight value → (plain label for the check-in, what it means, per Mayo Clinic)
STOPLIGHTS: dict[str, tuple[str, str]] = {
    "green": ("Green", "mild: did what I planned"),
    "yellow": ("Yellow", "moderate: got through it"),
    "red": ("Red", "severe: could do little"),
}


def cups_from_mg(mg: float) -> float:
    """Stored milligrams as cups of coffee (one decimal), for the form."""
    return round(mg / CAFFEINE_MG_PER_CUP, 1)


def mg_from_cups(cups: float) -> float:
    """Cups of coffee as the diary's milligrams."""
    return cups * CAFFEINE_MG_PER_CUP


def drinks_from_units(units: float) -> float:
    """Stored units as drinks (one decimal), for the form."""
    return round(units / ALCOHOL_UNITS_PER_DRINK, 1)


def units_from_drinks(drinks: float) -> float:
    """Drinks as the diary's UK units."""
    return drinks * ALCOHOL_UNITS_PER_DRINK


def checkin_day_problem(day: dt.date, zone: str | ZoneInfo | None) -> str | None:
    """Why ``day`` cannot have a check-in, in plain words, or None.

    A check-in describes a day that has begun, so it is today in the patient's zone at
    the latest (``plausibility.today``), and no earlier than the diary's first possible
    date (``plausibility.EARLIEST_DATE``). Stricter than the diary-wide bound, which
    allows tomorrow for a device a day ahead: the check-in page is drawn by the server
    in the patient's own zone, so "today" is known there."""
    if day > plausibility.today(zone):
        return (
            f"{day:%A} {day.day} {day:%B %Y} has not happened yet — "
            "a check-in is for today or an earlier day."
        )
    if plausibility.date_problem(day, zone):
        return f"A diary starts in {plausibility.EARLIEST_DATE.year} at the earliest."
    return None
