"""The one error every importer raises on a bad file: each problem with its place.

Why its own module: the CSV diary reader, the app-export readers and the file checks
in :mod:`painlink.diary.files` all report through it, and the CLI and the web app
catch only it (and ValueError for a bad argument) — nothing else may escape a reader.
It lives in the diary layer, below ``clinical`` and ``interop``, because the FHIR
questionnaire scorer (clinical) reads files through the same checks as the importers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BadCell:
    file: str
    line: int  # 1-based physical line (the header is line 1); 0: the whole file
    column: str  # the column, field or JSON path; "-": none in particular
    value: str | None
    reason: str

    @property
    def place(self) -> str:
        """Where, in words: ``file, line 3, column 'date'`` (parts that are known)."""
        parts = [self.file]
        if self.line > 0:
            parts.append(f"line {self.line}")
        if self.column != "-":
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {_short(self.value)!r})"
        return f"{self.place}: {self.reason}{shown}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


def _short(value: str, limit: int = 80) -> str:
    """A value as shown in a message: a megabyte-long cell is not echoed whole."""
    return value if len(value) <= limit else value[:limit] + f"… ({len(value)} characters)"


class DiaryFormatError(ValueError):
    """A diary folder that does not follow the format; ``problems`` lists every bad cell."""

    def __init__(self, problems: list[BadCell]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column))
        first = self.problems[0]
        more = len(self.problems) - 1
        super().__init__(str(first) + (f" (and {more} more problems)" if more else ""))
