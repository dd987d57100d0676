"""A person's whole diary as one download: the painlink CSV folder, zipped.

A service, not a page helper: the same archive is what ``GET /account/export`` and
the API's export send, and what a script can write for someone without the web app.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from painlink.interop.csv_diary import write_diary_folder
from painlink.services.reading import Source, read


def export_zip(store: Source, patient_id: str) -> bytes:
    """The whole diary in the painlink CSV format (docs/csv-format.md), zipped."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        write_diary_folder(read(store, patient_id), tmp)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).iterdir()):
                archive.write(file, file.name)
    return buffer.getvalue()
