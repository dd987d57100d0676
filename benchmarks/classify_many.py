"""A cohort classified at once against one patient at a time: CPU time of each.

    python benchmarks/classify_many.py [--patients 100] [--days 365]

``painlink.classify`` builds the attack criteria, the classified days and the monthly
counts once for the whole cohort (each groups by patient) and runs only the diagnosis
logic per person; one call per patient rebuilds every table each time. Both give the
same answers (tests/test_classify_many.py); this measures what the batching saves.
Process CPU time, not wall time, so a busy machine disturbs it less.
"""

from __future__ import annotations

import argparse
import time

from painlink.clinical.classify import classify, classify_many
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    spec = SimulationSpec(patients=args.patients, days=args.days, seed=3)
    diary = DiaryFrames.concat(p[0] for p in simulate(spec))
    classify_many(diary.only(diary.patient_ids()[:2]))  # warm up imports
    started = time.process_time()
    together = classify_many(diary)
    batched = time.process_time() - started
    started = time.process_time()
    alone = {pid: classify(diary.only([pid])) for pid in diary.patient_ids()}
    one_by_one = time.process_time() - started
    assert all(together[p].as_dict() == alone[p].as_dict() for p in alone)
    print(
        f"{args.patients} patients × {args.days} days: at once {batched:.2f} s CPU, "
        f"one at a time {one_by_one:.2f} s CPU ({one_by_one / batched:.1f}× as long)"
    )


if __name__ == "__main__":
    main()
