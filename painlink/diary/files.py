"""Opening a file someone hands to painlink, before any importer parses it.

Why one place: a file handed to an importer may be anything — a symbolic link to
``/dev/zero`` (read without end), a FIFO (an ``open`` that never returns), a broken
link, a gigabyte of one JSON bracket, a spreadsheet saved as UTF-16 or Latin-1.
Every importer (CSV diary folders, Migraine Buddy, Apple Health, Clue, FHIR) opens
its files through these functions, so each of those is refused the same way, before
a byte is parsed, with the file and the reason — and text is never stored with
U+FFFD replacement characters in place of bytes that could not be decoded. It sits
in the diary layer, not in ``interop``, so the questionnaire scorer in ``clinical`` can
use it without importing upwards.

The limits (documented in docs/imports.md):

- ``LIMITS``: the largest file each importer reads. Apple Health exports run to
  gigabytes and are streamed; the others are read whole, and are far smaller than
  their limit in real use (a Clue backup of five years is under 1 MB, a Migraine
  Buddy export of a thousand attacks under 1 MB).
- ``MAX_JSON_DEPTH``: the deepest nesting of a JSON file. A Clue backup nests 3
  levels and a FHIR QuestionnaireResponse about 8; Python's parser recurses per
  level, so 200,000 levels ended in ``RecursionError``.
- ``MAX_COLUMNS``: columns in a CSV header (a diary has about 40 plus own factors).

Encodings: UTF-8, with or without a byte-order mark; UTF-16 (and UTF-32) *with* a
byte-order mark, which Excel's "Unicode text" writes, is decoded. Anything else —
Latin-1, Windows-1252, UTF-16 without a mark — is refused with the line and byte
offset of the first byte that is not UTF-8, and a NUL character is refused (no text
format painlink reads contains one; it is the sign of UTF-16 without its mark or of
a binary file).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO

from painlink.diary.errors import BadCell, DiaryFormatError

MB = 1 << 20
#: importer → the largest file it reads, in bytes
LIMITS: dict[str, int] = {
    "painlink": 512 * MB,  # one CSV file of a diary folder (a 10,000-patient year is ~300 MB)
    "migraine-buddy": 64 * MB,
    "clue": 64 * MB,
    "apple-health": 4096 * MB,  # streamed, never held whole
    "fhir": 1 * MB,  # a QuestionnaireResponse is a few kilobytes
    "manifest": 1 * MB,  # painlink.json
}
MAX_JSON_DEPTH = 64
MAX_COLUMNS = 1_000

_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def refuse(name: str, reason: str, line: int = 0, column: str = "-") -> DiaryFormatError:
    """A one-problem DiaryFormatError about a whole file (line 0) or one place in it."""
    return DiaryFormatError([BadCell(name, line, column, None, reason)])


def refuse_csv(name: str, exc: Exception, line: int) -> DiaryFormatError:
    """The refusal for a ``csv.Error`` met on ``line``: Python's csv module says either
    that a field outgrew its limit or, in its own words, what broke the quoting."""
    import csv

    reason = (
        f"a field longer than {csv.field_size_limit():,} characters"
        if "field limit" in str(exc)
        else f"not CSV ({exc}; a quote opened on this line is not closed?)"
    )
    return refuse(name, reason, line)


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n} bytes"


def check_file(path: str | Path, kind: str, name: str | None = None) -> int:
    """Refuse, before reading, anything that is not a regular file within ``kind``'s
    limit; returns its size. Missing files, broken links, folders, devices, FIFOs and
    sockets (also behind a symbolic link) are each named as what they are."""
    path = Path(path)
    name = name or path.name
    try:
        info = path.stat()  # follows links; never opens, so a FIFO cannot block here
    except FileNotFoundError:
        if path.is_symlink():
            raise refuse(name, "a symbolic link to a file that does not exist") from None
        raise refuse(name, "no such file") from None
    except OSError as exc:  # a loop of links, a name too long, no permission
        raise refuse(name, f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse(name, "a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        what = (
            "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        link = " (through a symbolic link)" if path.is_symlink() else ""
        raise refuse(name, f"{what}{link}, not a regular file: refused before reading")
    limit = LIMITS[kind]
    if info.st_size > limit:
        raise refuse(
            name, f"{info.st_size:,} bytes, larger than the limit of {limit:,} ({_size(limit)})"
        )
    return info.st_size


def open_checked(path: str | Path, kind: str, name: str | None = None) -> BinaryIO:
    """The file opened for reading after :func:`check_file` (for a streaming reader).

    Opened without blocking and checked again on the open descriptor, so a file
    swapped for a FIFO or device between the check and the open is still refused."""
    path = Path(path)
    name = name or path.name
    check_file(path, kind, name)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refuse(name, f"cannot be read ({exc.strerror or exc})") from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise refuse(name, "not a regular file: refused before reading")
    return handle


def read_bytes(path: str | Path, kind: str, name: str | None = None) -> bytes:
    """The whole file, after :func:`check_file`; never more than the limit is read
    (the file may grow between the check and the read)."""
    path = Path(path)
    name = name or path.name
    limit = LIMITS[kind]
    with open_checked(path, kind, name) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise refuse(name, f"larger than the limit of {limit:,} bytes ({_size(limit)})")
    return data


_ARCHIVES = {b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "a gzip file"}


def refuse_archive(head: bytes, name: str, inside: str = "the file inside") -> None:
    """No importer unpacks archives (so no zip bomb can be unpacked): say what it is."""
    for magic, what in _ARCHIVES.items():
        if head.startswith(magic):
            raise refuse(name, f"{what}: unpack it first and import {inside}", 1)


def encoding_of(data: bytes) -> str:
    """The codec for ``data``: by its byte-order mark, else UTF-8."""
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")


def decode_text(data: bytes, name: str) -> str:
    """Bytes as text by the rules in this module's docstring; refuses with a place."""
    refuse_archive(data[:4], name)
    encoding = encoding_of(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        what = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
        guess = (
            "UTF-16 without its byte-order mark?"
            if b"\x00" in data[:4096]
            else "Latin-1 or Windows-1252?"
        )
        raise refuse(
            name,
            f"not {what} text: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"({guess}) — save the file as UTF-8; nothing was read",
            line,
        ) from None
    text = text.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        offset = len(text[:nul].encode(encoding.removesuffix("-sig")))
        raise refuse(
            name,
            f"a NUL character at character {nul} (byte offset {offset}): not a text file, "
            "or UTF-16 without its byte-order mark — save the file as UTF-8",
            line,
        )
    return text


def read_text(path: str | Path, kind: str, name: str | None = None) -> str:
    """A checked file's text (see :func:`decode_text`)."""
    path = Path(path)
    name = name or path.name
    return decode_text(read_bytes(path, kind, name), name)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_problem(text: str, limit: int = MAX_JSON_DEPTH) -> tuple[int, str] | None:
    """(line, reason) when JSON nests deeper than ``limit``, before any recursive parse."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    outside = _STRING.sub('""', text)  # brackets inside strings do not nest
    for match in _BRACKET.finditer(outside):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            line = outside.count("\n", 0, match.start()) + 1
            return line, f"JSON nested more than {limit} levels deep"
    return None


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a JSON number")


def parse_json(text: str, name: str) -> Any:
    """JSON text parsed with a depth limit, refusing NaN/Infinity and absurd numbers."""
    import json

    deep = json_depth_problem(text)
    if deep:
        raise refuse(name, deep[1], deep[0])
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise refuse(name, f"not JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # NaN, a 5,000-digit integer
        raise refuse(name, f"not JSON painlink reads ({exc})") from None


def read_json(path: str | Path, kind: str, name: str | None = None) -> Any:
    """A checked file's JSON (see :func:`parse_json`)."""
    path = Path(path)
    name = name or path.name
    return parse_json(read_text(path, kind, name), name)
