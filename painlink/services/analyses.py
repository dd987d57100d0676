"""One person's analysis report, computed once per diary content and day.

The insights page and its four pictures (five requests for one visit) ask for the
same report; computing it takes a second or more, so it is cached.

Why :func:`functools.lru_cache` and not cachetools: the standard library's cache is
thread-safe for its own bookkeeping (the web app calls it from the thread pool) and
adds no dependency. Its one limitation — arguments must be hashable, and a diary is
not — is met by :class:`_Key`, which hashes and compares by (patient, day, content
fingerprint) only and lets go of the diary once the report is computed, so the cache
keeps reports, never diaries.

The day is an argument, not the clock read inside: an ongoing attack counts up to
"today", so a new day is a new report — and a test fixes the day it means.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from painlink.diary.frames import DiaryFrames

if TYPE_CHECKING:
    from painlink.analysis.report import AnalysisReport

#: reports kept (one per person and day; a clinic's busiest morning fits)
REPORT_CACHE_SIZE = 64


def fingerprint(diary: DiaryFrames) -> int:
    """A hash of every row: the same diary content gives the same analysis."""
    return hash(
        tuple(
            (name, frame.height, int(frame.hash_rows().sum()) if frame.height else 0)
            for name, frame in diary.items()
        )
    )


class _Key:
    """The cache's argument: equal and hashed by ``key``; carries the diary to analyse
    until the report is made (then dropped, see :func:`_report`)."""

    __slots__ = ("diary", "key")

    def __init__(self, key: tuple[str, dt.date, int], diary: DiaryFrames) -> None:
        self.key = key
        self.diary: DiaryFrames | None = diary

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.key == self.key


@functools.lru_cache(maxsize=REPORT_CACHE_SIZE)
def _report(key: _Key) -> AnalysisReport:
    from painlink.analysis.report import analyze

    diary = key.diary
    assert diary is not None  # a key reaches here only on a miss, still holding its diary
    report = analyze(diary)
    key.diary = None  # the cache keeps this key: keep the report, not the diary
    return report


def analysis_report(diary: DiaryFrames, patient_id: str, today: dt.date) -> AnalysisReport:
    """The person's AnalysisReport for ``today``, reused while the diary is unchanged."""
    return _report(_Key((patient_id, today, fingerprint(diary)), diary))


def clear() -> None:
    """Forget every cached report (tests; a server never needs to)."""
    _report.cache_clear()
