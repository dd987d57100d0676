"""Export stored diaries patient-chunk by patient-chunk, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from painlink.interop.csv_diary import DiaryCsvWriter
from painlink.store.store import Store

CHUNK_PATIENTS = 1_000


def export_csv(
    store: Store,
    folder: str | Path,
    patient_ids: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    ids = list(patient_ids) if patient_ids is not None else store.patient_ids()
    writer = DiaryCsvWriter(folder, store.factor_names(ids))
    for i in range(0, len(ids), CHUNK_PATIENTS):
        chunk = ids[i : i + CHUNK_PATIENTS]
        writer.write(store.read(chunk))
        if progress:
            progress(len(chunk))
    return writer.close()
