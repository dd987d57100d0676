"""Read what a person types for a medication: "Sumatriptan 50 mg", "ibuprofen 400mg",
"Advil 2x200 mg", "Maxalt 10", "2 x Nurofen 200".

Why a parser and not separate fields: in an attack nobody fills three fields; they
type the name as it is on the box and, often, the strength after it. The name is
matched against every generic, brand and synonym in the table, then — for names of
five letters or more — within a small edit distance, so "sumatripan" or "Ibuprophen"
still land on the right row. Short names must match exactly: "ASA" one letter off is
too many other words. A typo that is equally close to two names matches neither.

A number with no unit is taken as milligrams ("Maxalt 10" is a 10 mg tablet: every
acute migraine drug in the table is dosed in mg); grams and micrograms are converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from painlink.rules.medications import NAMES, Drug, normalise_drug_name

#: the longest typo forgiven: one letter for names of 5-7 letters, two from 8 on
_MIN_FUZZY = 5
_TWO_EDITS_FROM = 8

_UNITS_TO_MG = {"mg": 1.0, "g": 1000.0, "mcg": 0.001, "µg": 0.001, "ug": 0.001}
_NUMBER = r"\d+(?:[.,]\d+)?"
_DOSE = re.compile(
    rf"""(?:^|\s)
    (?:(?P<count>\d{{1,2}})\s*[x×*]\s*)?          # "2x" or "2 ×"
    (?P<amount>{_NUMBER})\s*
    (?P<unit>mg|g|mcg|µg|ug)?\.?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_LEADING_COUNT = re.compile(r"^(?P<count>\d{1,2})\s*[x×*]\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DrugEntry:
    """One typed medication: the name as typed (without its dose), the table row it
    matched (None: painlink does not know it), the strength of one unit in mg, and
    how many units were taken."""

    name: str
    drug: Drug | None
    strength_mg: float | None = None
    count: int = 1

    @property
    def dose_mg(self) -> float | None:
        """The total taken: count × strength."""
        return None if self.strength_mg is None else self.strength_mg * self.count


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, cut short once it must exceed ``limit`` (returns limit+1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def allowed_edits(name: str) -> int:
    """How many typed letters may be wrong in a name of this length."""
    if len(name) < _MIN_FUZZY:
        return 0
    return 2 if len(name) >= _TWO_EDITS_FROM else 1


def match_name(typed: str) -> Drug | None:
    """The table row a typed name means: exact first, then the one nearest name
    within :func:`allowed_edits`; None when nothing is that close or two rows are."""
    key = normalise_drug_name(typed)
    if key in NAMES:
        return NAMES[key]
    limit = allowed_edits(key)
    if limit == 0:
        return None
    best: dict[int, set[str]] = {}
    for name, drug in NAMES.items():
        if len(name) < _MIN_FUZZY:
            continue
        distance = edit_distance(key, name, min(limit, allowed_edits(name)))
        if distance <= min(limit, allowed_edits(name)):
            best.setdefault(distance, set()).add(drug.name)
    if not best:
        return None
    nearest = best[min(best)]
    if len(nearest) != 1:
        return None  # as close to two different drugs: ask, do not guess
    return NAMES[normalise_drug_name(nearest.pop())]


def parse_drug(text: str) -> DrugEntry:
    """Split typed text into name, strength and count, and match the name."""
    rest = " ".join(text.split())
    count = 1
    lead = _LEADING_COUNT.match(rest)
    if lead:
        count = int(lead["count"])
        rest = rest[lead.end() :]
    strength: float | None = None
    dose = _DOSE.search(rest)
    if dose and dose.start() > 0:  # a name must come first: "200" alone is no drug
        amount = float(dose["amount"].replace(",", "."))
        strength = amount * _UNITS_TO_MG[(dose["unit"] or "mg").lower()]
        if dose["count"]:
            count = int(dose["count"])
        rest = rest[: dose.start()]
    name = rest.strip(" ,;:-")
    return DrugEntry(name=name, drug=match_name(name), strength_mg=strength, count=max(count, 1))
