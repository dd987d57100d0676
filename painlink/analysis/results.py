"""One contract for every analysis's answer: ``fit(...) -> Results``.

Each analysis module has a ``fit`` (``fit(days, ...)`` for those that start from the
day table, ``fit(diary, ...)`` for those that also need the diary's treatments or
questionnaires), and whatever it returns can be read the same four ways, so a person,
a notebook, the CLI and the web app never need to know which analysis they hold:

- ``summary(patient_id=None) -> str``: plain words (one person, or every person);
- ``plot(patient_id=None, path=None) -> Figure``: one person's picture (matplotlib);
- ``to_frame(patient_id=None) -> pl.DataFrame``: the rows behind the words;
- ``to_dict() -> dict``: the same for programs (JSON-ready: NaN is None).

A results class states the contract by subclassing :class:`Results`, so mypy checks
its signatures; ``isinstance(x, Results)`` works on any object that has the four.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import polars as pl

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@runtime_checkable
class Results(Protocol):
    """What every analysis returns (see the module's docstring)."""

    def summary(self, patient_id: str | None = None) -> str:
        """Plain words on the results of one person, or of everyone."""
        ...

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """One person's picture (the only person when ``patient_id`` is None); saved
        to ``path`` when given."""
        ...

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        """The table behind ``summary``: one person's rows, or everyone's."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Everything for a program: rows as dicts, NaN as None."""
        ...


def json_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as dicts, NaN as None (JSON has no NaN)."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame.to_dicts()
    ]


def patients_of(frame: pl.DataFrame) -> list[str]:
    """The people a table has rows for, in order of first appearance."""
    if "patient_id" not in frame.columns:
        return []
    return [str(p) for p in frame["patient_id"].unique(maintain_order=True).to_list()]


def one_patient(frame: pl.DataFrame, patient_id: str | None) -> str:
    """The person a picture is of: the one named, or the only one in the table.

    A picture of several people would mix their diaries, so with more than one the
    caller must choose."""
    if patient_id is not None:
        return patient_id
    people = patients_of(frame)
    if len(people) != 1:
        raise ValueError(
            f"these results hold {len(people)} people: name one (patient_id=...) to plot"
        )
    return people[0]


def per_patient_text(
    people: list[str], patient_id: str | None, lines: Callable[[str], list[str]]
) -> str:
    """One person's lines, or every person's under a heading of their id."""
    if patient_id is not None:
        return "\n".join(lines(patient_id))
    if len(people) == 1:
        return "\n".join(lines(people[0]))
    return "\n\n".join("\n".join([f"── {pid} ──", *lines(pid)]) for pid in people)


def signed(x: float, digits: int = 2) -> str:
    """``x`` with its sign and ``digits`` decimals, never "-0.00" or "+0.00": a change
    that rounds to nothing has no direction to print (the text report, the letter and
    the web pages word a change with it)."""
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text
