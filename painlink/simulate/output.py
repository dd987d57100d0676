"""Stream a simulation to a CSV folder or a database, with its truth file beside it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from painlink.days.exposures import EXPOSURES
from painlink.interop.csv_diary import DiaryCsvWriter
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.store import Store

TRUTH_FORMAT = "painlink-simulation-truth"
OWN_FACTORS = ["chocolate_craving"]


class _TruthWriter:
    """Writes truth.json patient by patient so 100,000 patients never sit in memory."""

    def __init__(self, path: Path, spec: SimulationSpec) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle: TextIO = path.open("w", encoding="utf-8")
        head = {
            "format": TRUTH_FORMAT,
            "version": 1,
            "spec": {
                k: str(v) if not isinstance(v, int | float | dict) else v
                for k, v in dataclasses.asdict(spec).items()
            },
            "exposures": {name: text for name, (text, _expr) in EXPOSURES.items()},
        }
        self.handle.write(json.dumps(head)[:-1] + ', "patients": [\n')
        self.first = True

    def write(self, patients: list[dict[str, Any]]) -> None:
        for p in patients:
            self.handle.write(("" if self.first else ",\n") + json.dumps(p))
            self.first = False

    def close(self) -> None:
        self.handle.write("\n]}\n")
        self.handle.close()


def run_simulation(
    spec: SimulationSpec,
    *,
    out: Path | None = None,
    store: Store | None = None,
    truth_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Simulate into ``out`` (CSV folder) or ``store``; returns rows written per table."""
    if (out is None) == (store is None):
        raise ValueError("give exactly one of out (a CSV folder) or store (a database)")
    truth = _TruthWriter(truth_path or (out / "truth.json"), spec)  # type: ignore[operator]
    writer = DiaryCsvWriter(out, OWN_FACTORS) if out is not None else None
    totals: dict[str, int] = {}
    try:
        for diary, patients in simulate(spec):
            if writer is not None:
                writer.write(diary)
            else:
                assert store is not None
                store.write(diary)
            for name, count in diary.row_counts().items():
                totals[name] = totals.get(name, 0) + count
            truth.write(patients)
            if progress:
                progress(len(patients))
    finally:
        truth.close()
        if writer is not None:
            writer.close()
    return totals
