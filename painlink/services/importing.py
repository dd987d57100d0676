"""One way into a diary: a painlink CSV folder or another app's export, stored as a new
diary or merged into one that exists.

The command line (``painlink import``) and the web app's upload both come through
here, so a file is read, checked and merged the same way wherever it arrives. Two
steps, because the web app reads an upload outside its write transaction (reading an
Apple Health export takes seconds) and audits the write as the signed-in person:

- :func:`read_source` reads a folder, a file or the bytes of an upload into a diary
  (nothing is stored);
- :func:`into_diary` stores it in an open write transaction: a new diary, or merged
  into the existing diary of the export's patient.

:func:`store_diary` runs the second step in a write transaction of a
:class:`~painlink.store.store.Store` with the command line's audit rows (the CLI reads
first, so a bad file is reported before any database is touched), and
:func:`import_diary` does both. Errors are the existing typed ones:
:class:`~painlink.diary.errors.DiaryFormatError` (a bad file: nothing stored),
:class:`~painlink.store.diary_io.PatientExistsError` (a CSV diary naming a patient
already stored), :class:`~painlink.store.merge.MergeConflict` /
:class:`~painlink.store.merge.MergeError` (a merge refused: nothing stored),
``ValueError`` (an unknown source, a missing patient id, a bad time zone).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from painlink.diary.frames import DiaryFrames
    from painlink.store.merge import DiaryMerge
    from painlink.store.store import Store

#: the source of a painlink CSV diary folder (docs/csv-format.md); the other sources
#: are the apps of :data:`painlink.interop.apps.SOURCES`
PAINLINK = "painlink"


@dataclass
class ImportResult:
    """What an import stored: ``written`` rows per table for new diaries, or ``merged``
    for an export added to an existing diary; ``not_imported`` counts the record kinds
    the source holds that a diary has no place for."""

    patient_ids: list[str]
    written: dict[str, int] | None = None
    merged: DiaryMerge | None = None
    not_imported: dict[str, int] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """The audit action: "merge" into a diary, or "import" of new diaries."""
        return "merge" if self.merged is not None else "import"

    @property
    def problems(self) -> list[str]:
        """What the source held and the diary did not take, in words (empty: all of it)."""
        notes = [f"{n} {kind} not imported" for kind, n in sorted(self.not_imported.items())]
        if self.merged is not None and self.merged.attacks_overlapping:
            overlapping = self.merged.attacks_overlapping
            notes.append(
                f"{len(overlapping)} attack(s) overlap one already in the diary and were "
                "left out: " + ", ".join(str(s) for s in overlapping[:10])
            )
        return notes

    def as_dict(self) -> dict[str, Any]:
        done: dict[str, Any] = (
            {"merged": self.merged.as_dict()} if self.merged is not None else {"rows": self.written}
        )
        return {**done, "not_imported": self.not_imported}


def sources() -> list[str]:
    """Every source an import reads: ``painlink`` (a CSV folder) and the apps."""
    from painlink.interop.apps import SOURCES

    return [PAINLINK, *SOURCES]


def read_source(
    source: str | Path | bytes,
    app: str = PAINLINK,
    patient_id: str | None = None,
    time_zone: str = "UTC",
) -> tuple[DiaryFrames, dict[str, int]]:
    """(the diary ``source`` holds, record kinds not imported → how many); nothing is
    stored. ``source`` is a path, or the bytes of an uploaded export (kept in a private
    temporary file while it is read). A painlink CSV folder names its patients; an
    app's export names nobody, so it needs ``patient_id`` and the ``time_zone`` its
    times are in."""
    if app not in sources():
        raise ValueError(f"unknown source {app!r}: use one of {', '.join(sources())}")
    if app == PAINLINK:
        if isinstance(source, bytes):
            raise ValueError("a painlink diary is a folder of CSV files: give its path")
        from painlink.interop.csv_diary import read_diary_folder

        return read_diary_folder(source), {}
    if not patient_id:
        raise ValueError("a patient id is needed: an export does not name its person")
    from painlink.interop.apps import read_export

    if not isinstance(source, bytes):
        return read_export(app, source, patient_id, time_zone)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export"
        path.write_bytes(source)
        return read_export(app, path, patient_id, time_zone)


def into_diary(
    conn: sa.Connection,
    diary: DiaryFrames,
    *,
    merge_into: str | None = None,
    replace: bool = False,
    not_imported: dict[str, int] | None = None,
) -> ImportResult:
    """Store ``diary`` in the open write transaction ``conn`` (the caller audits it and
    commits). Patients new to the database get the whole diary. ``merge_into`` is the
    patient an app's export belongs to: if their diary exists, it gets what is new in
    the export (:func:`~painlink.store.merge.merge_diary`): attacks not seen before,
    and day values, a different value refusing the whole merge unless ``replace``.
    Otherwise (a CSV folder) a patient already stored is :class:`PatientExistsError`."""
    from painlink.store.diary_io import existing_patients, write_diary
    from painlink.store.merge import merge_diary

    skipped = dict(not_imported or {})
    if merge_into is not None and existing_patients(conn, [merge_into]):
        merged = merge_diary(conn, merge_into, diary, replace)
        return ImportResult([merge_into], merged=merged, not_imported=skipped)
    written = write_diary(conn, diary)
    return ImportResult(diary.patient_ids(), written=written, not_imported=skipped)


def store_diary(
    store: Store,
    diary: DiaryFrames,
    *,
    merge_into: str | None = None,
    replace: bool = False,
    not_imported: dict[str, int] | None = None,
) -> ImportResult:
    """:func:`into_diary` in one write transaction of ``store``, with an audit row per
    patient in the same transaction (the operating-system user stands for "who"): all
    of it is stored, or — on any problem — none of it."""
    from painlink.store import audit
    from painlink.store.store import cli_audit_row

    store.check()
    with store.writing() as conn:
        result = into_diary(
            conn, diary, merge_into=merge_into, replace=replace, not_imported=not_imported
        )
        audit.append(conn, [cli_audit_row(result.action, "diary", p) for p in result.patient_ids])
    return result


def import_diary(
    store: Store,
    source: str | Path | bytes,
    *,
    app: str = PAINLINK,
    patient_id: str | None = None,
    time_zone: str = "UTC",
    replace: bool = False,
) -> ImportResult:
    """Read ``source`` and store it (:func:`read_source`, then :func:`store_diary`). An
    app's export for a patient already stored is merged into their diary; a CSV folder
    only ever adds new patients."""
    diary, skipped = read_source(source, app, patient_id, time_zone)
    target = None if app == PAINLINK else patient_id
    return store_diary(store, diary, merge_into=target, replace=replace, not_imported=skipped)
