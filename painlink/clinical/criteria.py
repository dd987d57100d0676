"""The shape of a classifier's answer: criteria with their status and evidence.

Shared by the ICHD-3 classifier and the cervicogenic-headache evidence check, so
every diagnosis is explained the same way; and the tallies every diagnosis module
counts its criteria with (attacks meeting a letter, days per month over months).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from painlink.rules.ichd3 import Ichd3Rules

MET, NOT_MET, NE = "met", "not met", "not evaluable"
CLINICIAN = "a clinician must exclude other causes"


@dataclass(frozen=True)
class Criterion:
    letter: str
    requirement: str
    status: str  # met / not met / not evaluable
    evidence: str
    attacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    code: str
    name: str
    status: str  # met / probable / not met / not evaluable
    criteria: tuple[Criterion, ...]
    notes: tuple[str, ...] = ()
    refer: bool = False


def tally(met: int, unknown: int, needed: int) -> str:
    """Met with ``met`` ≥ needed; not met if even every unknown could not reach it."""
    if met >= needed:
        return MET
    return NOT_MET if met + unknown < needed else NE


def clinician_criterion(
    letter: str, requirement: str = "not better accounted for by another ICHD-3 diagnosis"
) -> Criterion:
    """A criterion only a clinician can judge: always not evaluable, never blocking 'met'."""
    return Criterion(letter, requirement, NE, CLINICIAN)


def attack_ids(frame: pl.DataFrame, mask: pl.Expr, limit: int = 50) -> tuple[str, ...]:
    return tuple(frame.filter(mask)["attack_id"].head(limit).to_list())


def letter_criterion(
    attacks: pl.DataFrame, col: str, letter: str, requirement: str, needed: int
) -> Criterion:
    met = attacks.filter(pl.col(col) == MET).height
    unknown = attacks.filter(pl.col(col) == NE).height
    status = tally(met, unknown, needed)
    return Criterion(
        letter,
        requirement,
        status,
        f"{met} of {attacks.height} attacks meet it; {unknown} not evaluable",
        attack_ids(attacks, pl.col(col) == MET),
    )


def a_criterion(
    attacks: pl.DataFrame, fulfils: str, could_be: pl.Expr, needed: int, requirement: str
) -> Criterion:
    n = attacks.filter(pl.col(fulfils)).height
    possible = attacks.filter(could_be).height
    status = MET if n >= needed else (NE if possible >= needed else NOT_MET)
    return Criterion(
        "A",
        requirement,
        status,
        f"{n} attacks fulfil all the attack criteria (need {needed})",
        attack_ids(attacks, pl.col(fulfils)),
    )


def diagnosis_status(criteria: list[Criterion]) -> str:
    states = [c.status for c in criteria]
    if all(s == MET for s in states):
        return MET
    if NOT_MET in states:
        return NOT_MET
    return NE


def months_criterion(
    months: pl.DataFrame,
    column: str,
    threshold: int,
    letter: str,
    requirement: str,
    r: Ichd3Rules,
    span_days: int,
    *,
    average: bool = False,
    possible: str | None = None,
) -> Criterion:
    """A count on ≥``threshold`` days/month "for more than 3 months".

    Each of the last three 30-day months must reach it (``average``: their mean, for
    the TTH criteria that say "on average"), and the diary must span more than three
    months. A month that already misses it makes the criterion not met even in a short
    diary; otherwise a short diary leaves it not evaluable. ``possible`` counts days
    that may qualify (a feature not recorded): reaching the threshold only with them
    leaves the criterion not evaluable rather than not met.
    """
    recent = months.filter(pl.col("month") <= r.chronic_months).sort("month")
    values = recent[column].to_list()
    shown = ", ".join(
        f"{row['month_start']}–{row['month_end']}: {row[column]}"
        + (f" (up to {row[possible]})" if possible and row[possible] != row[column] else "")
        for row in recent.iter_rows(named=True)
    )
    span = f"diary of {span_days} days"

    def reaches(vals: list[int]) -> bool:
        if not vals:
            return False
        return (sum(vals) / len(vals) if average else min(vals)) >= threshold

    maybe = recent[possible].to_list() if possible else values
    enough = len(values) >= r.chronic_months and r.more_than_months(span_days)
    if values and not reaches(maybe) and (average is False or enough):
        return Criterion(letter, requirement, NOT_MET, f"{shown}; {span}")
    if not enough:
        return Criterion(
            letter,
            requirement,
            NE,
            f"{shown or 'no complete month'}; {span}: more than {r.chronic_months} months "
            f"(> {r.chronic_months * r.average_month_days:.0f} days) are needed",
        )
    status = MET if reaches(values) else NE
    return Criterion(letter, requirement, status, f"{shown}; {span}")
