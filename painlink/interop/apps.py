"""The exports of other apps painlink reads, behind one call for the CLI and the web app."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from painlink.diary.frames import DiaryFrames, model_row
from painlink.diary.schemas import PatientIn

#: source name → what a person would call it (the web app's choices)
SOURCES = {
    "migraine-buddy": "Migraine Buddy (CSV export)",
    "apple-health": "Apple Health (export.xml)",
    "clue": "Clue (backup, .cluedata)",
}


def read_export(
    source: str, path: str | Path, patient_id: str, time_zone: str = "UTC"
) -> tuple[DiaryFrames, dict[str, int]]:
    """(the diary the export holds, record kinds not imported → how many); raises
    DiaryFormatError on a bad file and ValueError on an unknown source, id or zone."""
    if source == "migraine-buddy":
        from painlink.interop.migraine_buddy import read_migraine_buddy

        return read_migraine_buddy(path, patient_id, time_zone), {}
    if source == "apple-health":
        from painlink.interop.apple_health import read_apple_health

        health = read_apple_health(path, patient_id, time_zone)
        return health.diary, health.skipped
    if source == "clue":
        from painlink.interop.clue import read_clue

        patient = PatientIn(patient_id=patient_id, time_zone=time_zone)
        backup = read_clue(path, time_zone)
        days = pl.DataFrame(
            {
                "patient_id": [patient_id] * len(backup.flow),
                "date": list(backup.flow),
                "menstruation": list(backup.flow.values()),
            },
            schema_overrides={"date": pl.Date},
        )
        diary = DiaryFrames.from_tables(patients=pl.DataFrame([model_row(patient)]), days=days)
        return diary.sorted(), backup.skipped
    raise ValueError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
