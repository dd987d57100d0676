"""The shape of a classifier's answer: criteria with their status and evidence.

Shared by the ICHD-3 classifier and the cervicogenic-headache evidence check, so
every diagnosis is explained the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

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
