"""Read a Clue backup (``.cluedata``, JSON; formats.md §2.3) into daily menstrual flow.

Clue records the cycle, which painlink needs for the menstrual window; it does not
record attacks with times. So only the days' bleeding is taken — heavy, medium,
light, spotting, the heaviest when a day has several entries — and a day Clue does
not mark stays *not recorded* in painlink, never "no bleeding". Everything else
(pain tags, moods, tests, user tags) is counted and reported as not imported.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from painlink.diary import files
from painlink.diary.errors import BadCell, DiaryFormatError
from painlink.diary.vocabulary import FLOW_BY_AMOUNT
from painlink.rules.plausibility import date_problem

FLOW = ("spotting", "light", "medium", "heavy")  # what Clue records


@dataclass
class ClueBackup:
    flow: dict[dt.date, str]
    skipped: dict[str, int] = field(default_factory=dict)  # what was there but not taken


def read_clue(path: str | Path, time_zone: str = "UTC") -> ClueBackup:
    """A Clue backup's bleeding days; raises DiaryFormatError on anything it cannot read.
    Days must lie from 1900 to tomorrow in ``time_zone`` (rules/plausibility.py)."""
    path = Path(path)
    name = path.name
    backup = files.read_json(path, "clue", name)
    entries = backup.get("data") if isinstance(backup, dict) else None
    if not isinstance(entries, list):
        raise DiaryFormatError(
            [BadCell(name, 1, "data", None, "not a Clue backup (no list of days under 'data')")]
        )
    problems: list[BadCell] = []
    flow: dict[dt.date, str] = {}
    skipped: Counter[str] = Counter()
    for i, entry in enumerate(entries):
        where = f"data[{i}]"
        if not isinstance(entry, dict):
            problems.append(BadCell(name, 0, where, None, "not an object"))
            continue
        try:
            day = dt.date.fromisoformat(str(entry.get("day", ""))[:10])
        except ValueError:
            shown = str(entry.get("day"))[:40]
            problems.append(BadCell(name, 0, f"{where}.day", shown, "not a date"))
            continue
        if why := date_problem(day, time_zone):
            problems.append(BadCell(name, 0, f"{where}.day", str(entry.get("day")), why))
            continue
        period = entry.get("period")
        if period is not None and period not in FLOW:
            problems.append(
                BadCell(
                    name, 0, f"{where}.period", str(period)[:40], f"not one of {', '.join(FLOW)}"
                )
            )
        elif period is not None:
            flow[day] = max(flow.get(day, period), period, key=FLOW_BY_AMOUNT.index)
        for key, value in entry.items():
            if key not in ("day", "period") and value:
                skipped[key] += 1
    if problems:
        raise DiaryFormatError(problems)
    return ClueBackup(flow, dict(skipped))
