"""What the clinic list's summary triggers cost a bulk write on SQLite.

    python benchmarks/summary_triggers.py [PATIENTS]   # default 1000, × 365 days

Writes the same simulated diaries (painlink's simulator, seed 4) through
``Store.write`` into fresh SQLite files, with the triggers of
painlink/store/summary_tables.py and with them dropped, alternating, 3 times; prints
each run and the medians (seconds).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.store import Store
from painlink.store.summary_tables import drop_triggers


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    diaries = [d for d, _ in simulate(SimulationSpec(patients=n, days=365, seed=4))]
    times: dict[str, list[float]] = {"with": [], "without": []}
    for run in range(3):
        for kind in ("with", "without"):
            folder = Path(tempfile.mkdtemp(prefix="painlink-triggers-"))
            store = Store(f"sqlite:///{folder / 'x.db'}")
            store.init()
            if kind == "without":
                with store.writing() as conn:
                    drop_triggers(conn)
            start = time.perf_counter()
            for diary in diaries:
                store.write(diary)
            times[kind].append(time.perf_counter() - start)
            store.close()
        print(run + 1, {k: round(v[-1], 1) for k, v in times.items()}, flush=True)
    print("medians (s):", {k: round(statistics.median(v), 1) for k, v in times.items()})


if __name__ == "__main__":
    main()
