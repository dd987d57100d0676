"""Where a diary is read from, for every view and service that reads a whole one."""

from __future__ import annotations

import sqlalchemy as sa

from painlink.diary.frames import DiaryFrames
from painlink.store.diary_io import read_diary
from painlink.store.store import Store

#: where a view reads a diary from: the request's own connection (the web app: one
#: connection per request, never a second one from the pool while the first is held),
#: or a Store (commands and tests, which open a connection for the read)
Source = sa.Connection | Store


def read(source: Source, patient_id: str) -> DiaryFrames:
    """One patient's whole diary, on the caller's connection when given one."""
    if isinstance(source, sa.Connection):
        return read_diary(source, [patient_id])
    return source.read([patient_id])
