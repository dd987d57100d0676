"""The functions the public API adds over the modules' own: one reader for any diary.

Kept out of ``painlink/__init__.py`` so that importing painlink stays cheap: nothing
here is loaded until ``painlink.read_diary`` is first used.
"""

from __future__ import annotations

from pathlib import Path

from painlink.diary.frames import DiaryFrames

#: a file's suffix → the app export it is (``painlink.interop.apps.SOURCES``)
SUFFIX_SOURCES = {".csv": "migraine-buddy", ".xml": "apple-health", ".cluedata": "clue"}


def read_diary(
    path: str | Path,
    *,
    source: str | None = None,
    patient_id: str | None = None,
    time_zone: str = "UTC",
) -> DiaryFrames:
    """A diary from a painlink CSV folder, or from one app's export file.

    A folder is painlink's own format (``write_diary_folder`` writes it; every table
    checked, problems raised together as ``DiaryFormatError``). A file is another app's
    export: ``source`` names it (``"migraine-buddy"``, ``"apple-health"``, ``"clue"``)
    or its suffix does (.csv, .xml, .cluedata); an export holds one person and does not
    say who, so ``patient_id`` names them (the file's stem when not given). Records an
    export holds that painlink does not import are left out, as the CLI's import does.
    """
    path = Path(path)
    if path.is_dir():
        from painlink.interop.csv_diary import read_diary_folder

        return read_diary_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"no diary folder or export file at {path}")
    from painlink.interop.apps import SOURCES, read_export

    kind = source or SUFFIX_SOURCES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"cannot tell which app exported {path.name}: pass source= one of {', '.join(SOURCES)}"
        )
    diary, _not_imported = read_export(kind, path, patient_id or path.stem, time_zone)
    return diary
