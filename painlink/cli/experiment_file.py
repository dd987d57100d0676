"""An N-of-1 design file read back for ``painlink experiment analyze``: the schedule
``experiment design`` wrote, or refused.

The file is plain JSON a person may edit or a script may write, and the analysis trusts
it: each listed block is counted once. So the file must still describe the design
``design_experiment`` makes — ``pairs`` pairs, each one "on" and one "off" block of
``block_days`` days, none overlapping another — or a result it did not plan could come
out (the same four pairs listed fifty times over read as "Fewer attacks, 95% CI
0.75–0.89" from data that showed no clear difference).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from typing import TYPE_CHECKING, Any

from painlink.rules import plausibility

if TYPE_CHECKING:
    from painlink.analysis.nof1 import ExperimentDesign

#: the bounds ``painlink experiment design`` offers (its --block-days, --pairs)
BLOCK_DAYS = (7, 90)
PAIRS = (2, 24)
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_FIELDS = {
    "patient_id", "change", "block_days", "pairs", "assumed_rate_ratio",
    "baseline_attacks_per_28d", "dispersion", "power", "pairs_for_80_percent", "seed",
    "blocks",
}  # fmt: skip


class DesignError(ValueError):
    """The file is no design ``experiment design`` could have written."""


def _integer(data: dict[str, Any], key: str, low: int, high: int) -> int:
    value = data.get(key)
    if type(value) is not int or not low <= value <= high:
        raise DesignError(f"{key} must be a whole number from {low} to {high}")
    return value


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise DesignError(f"{key} must be a finite number")
    return float(value)


def _day(block: dict[str, Any], key: str, where: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(block[key])
    except (KeyError, TypeError, ValueError):
        raise DesignError(f"{where}: {key} must be a date (YYYY-MM-DD)") from None
    if day < plausibility.EARLIEST_DATE:
        raise DesignError(f"{where}: {key} {day} is before {plausibility.EARLIEST_DATE}")
    return day


def read_design(data: dict[str, Any]) -> ExperimentDesign:
    """The design in ``data`` (a design file's JSON object), or :class:`DesignError`."""
    from painlink.analysis.nof1 import Block, ExperimentDesign

    if missing := _FIELDS - data.keys():
        raise DesignError(f"missing {', '.join(sorted(missing))}")
    if extra := data.keys() - _FIELDS:
        raise DesignError(f"unknown {', '.join(sorted(extra))}")
    pid, change = data["patient_id"], data["change"]
    if not isinstance(pid, str) or not _IDENTIFIER.fullmatch(pid):
        raise DesignError("patient_id must be a patient's id")
    if not isinstance(change, str) or not 0 < len(change) <= 200:
        raise DesignError("change must say in up to 200 characters what changes")
    block_days = _integer(data, "block_days", *BLOCK_DAYS)
    pairs = _integer(data, "pairs", *PAIRS)
    rate_ratio = _number(data, "assumed_rate_ratio")
    if not 0 < rate_ratio < 10 or rate_ratio == 1:
        raise DesignError("assumed_rate_ratio must be positive, below 10 and not 1")
    dispersion = _number(data, "dispersion")
    if dispersion < 1:  # the analysis' floor: below 1 would narrow every interval
        raise DesignError("dispersion must be 1 or more (as the design measured it)")
    baseline, power = _number(data, "baseline_attacks_per_28d"), _number(data, "power")
    needed = data["pairs_for_80_percent"]
    if needed is not None:
        needed = _integer(data, "pairs_for_80_percent", *PAIRS)
    seed = _integer(data, "seed", 0, 2**63 - 1)
    raw = data["blocks"]
    if not isinstance(raw, list) or len(raw) != 2 * pairs:
        raise DesignError(f"blocks must list {2 * pairs} blocks: {pairs} pairs of two")
    blocks = []
    for i, b in enumerate(raw, 1):
        where = f"block {i}"
        if not isinstance(b, dict) or b.keys() != {"pair", "condition", "start", "end"}:
            raise DesignError(f"{where} must have pair, condition, start and end")
        start, end = _day(b, "start", where), _day(b, "end", where)
        if (end - start).days + 1 != block_days:
            raise DesignError(f"{where} must last {block_days} days, {start} to its end")
        if b["condition"] not in ("on", "off"):
            raise DesignError(f'{where}: condition must be "on" or "off"')
        if type(b["pair"]) is not int or not 1 <= b["pair"] <= pairs:
            raise DesignError(f"{where}: pair must be a number from 1 to {pairs}")
        blocks.append(Block(b["pair"], b["condition"], start, end))
    if {(b.pair, b.condition) for b in blocks} != {
        (p, c) for p in range(1, pairs + 1) for c in ("on", "off")
    }:
        raise DesignError('each pair must have one "on" and one "off" block')
    ordered = sorted(blocks, key=lambda b: b.start)
    for before, after in itertools.pairwise(ordered):
        if after.start <= before.end:
            raise DesignError(f"blocks overlap: {before.start} to {before.end} and {after.start}")
    return ExperimentDesign(
        pid, change, block_days, pairs, rate_ratio, baseline, dispersion, power, needed,
        seed, blocks,
    )  # fmt: skip
