"""One CSV file of a diary folder, read into typed columns with every bad cell recorded.

Why its own module: reading a cell — yes/no words, intensity labels, local times
with or without an offset, a spreadsheet's header spelling, formula escapes — is
the same for every file of the folder; :mod:`painlink.interop.csv_diary` reads the
folder with it and :mod:`painlink.interop.csv_checks` checks rows against each other.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from painlink.diary import files
from painlink.diary.errors import BadCell
from painlink.diary.fields import FieldSpec
from painlink.diary.frames import TableSpec, conform
from painlink.diary.vocabulary import INTENSITY_LABELS
from painlink.rules import plausibility, screening_questions

TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
_OFFSET = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_INTENSITY_WORDS = {label: str(i) for i, label in enumerate(INTENSITY_LABELS)}
#: Columns the model requires that a hand-written CSV may leave out (or leave empty);
#: the importer fills them in (see ``painlink.interop.csv_checks.derive_attack_ids``).
OPTIONAL_IN_CSV: dict[str, set[str]] = {"attacks": {"attack_id"}}
#: A screen's yes/no answer is stored as 1/0; a spreadsheet may hold the words.
_YES_NO_NUMBERS = {**{w: "1" for w in TRUE_WORDS}, **{w: "0" for w in FALSE_WORDS}}
#: How people write sex in a spreadsheet, read case-insensitively; the stored values
#: are the FHIR administrative-gender codes (female, male, other, unknown).
_SEX_WORDS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "other": "other",
    "unknown": "unknown",
}


@dataclass
class Problems:
    items: list[BadCell] = field(default_factory=list)

    def add_mask(
        self,
        file: str,
        frame: pl.DataFrame,
        bad: pl.Series,
        column: str,
        reason: str | pl.Series,
        raw: pl.Series | None = None,
    ) -> None:
        """Record every row where ``bad`` is true (``frame`` must carry ``_line``)."""
        bad = bad.fill_null(False)
        if not bad.any():
            return
        lines = frame["_line"].filter(bad).to_list()
        given = raw if raw is not None else pl.Series([None] * frame.height, dtype=pl.String)
        values = given.cast(pl.String).filter(bad).to_list()
        reasons = (
            reason.filter(bad).to_list() if isinstance(reason, pl.Series) else [reason] * len(lines)
        )
        self.items.extend(
            BadCell(file, ln, column, v, r) for ln, v, r in zip(lines, values, reasons, strict=True)
        )

    def add(self, file: str, line: int, column: str, value: str | None, reason: str) -> None:
        self.items.append(BadCell(file, line, column, value, reason))


def file_present(path: Path) -> bool:
    """A file is there when its name is — a broken link is there too, and is refused."""
    return path.exists() or path.is_symlink()


def _physical_lines(name: str, data: bytes, records: int) -> list[int]:
    """First physical line of every record (quoted fields may span lines). ``data`` is
    UTF-8; it is decoded again only when records span lines (the rare, slow path)."""
    newlines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if newlines == records + 1 and data.count(b"\r") == data.count(b"\r\n"):
        return list(range(2, records + 2))
    text = data.decode("utf-8")
    starts, line = [], 1
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        line = 2
        for row in reader:
            if len(row) > len(header):
                raise files.refuse(
                    name, f"{len(row)} fields where the header has {len(header)}", line
                )
            starts.append(line)  # a blank line is a record of empty cells, as Polars reads it
            line = reader.line_num + 1
    except csv.Error as exc:
        raise files.refuse_csv(name, exc, line) from None
    if records >= 0 and len(starts) != records:
        raise files.refuse(name, "the records cannot be told apart: check the quotes", 1)
    return starts


def _read_raw(path: Path) -> pl.DataFrame:
    """One CSV file as strings, every cell stripped, with each record's physical line.

    The file is checked and decoded by :mod:`painlink.diary.files` first (regular
    file, size, encoding), and a header wider than ``MAX_COLUMNS`` is refused before
    Polars sees it (a million columns once exhausted memory). Plain UTF-8 goes to
    Polars as read; only a file with a byte-order mark is re-encoded."""
    name = path.name
    data = files.read_bytes(path, "painlink", name)
    text = files.decode_text(data, name)  # refuses what is not text, with the place
    if files.encoding_of(data) != "utf-8" or data.startswith(b"\xef\xbb\xbf"):
        data = text.encode("utf-8")
    del text  # a 500 MB file is not held twice
    first = data.split(b"\n", 1)[0]
    if first.count(b",") + 1 > files.MAX_COLUMNS:
        raise files.refuse(
            name,
            f"more than {files.MAX_COLUMNS} columns in the header ({first.count(b',') + 1})",
            1,
        )
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            raise_if_empty=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as exc:
        _physical_lines(name, data, -1)  # names the line when it can
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise files.refuse(name, f"not a CSV table painlink can read ({reason})", 1) from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    lines = _physical_lines(name, data, frame.height)
    frame = frame.with_columns(
        [pl.col(c).str.strip_chars().replace("", None) for c in frame.columns]
    )
    return frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))


def _where(mask: pl.Series, then: str, otherwise: str) -> pl.Series:
    return pl.Series([then if m else otherwise for m in mask.fill_null(False)], dtype=pl.String)


def to_bool(lowered: pl.Series) -> pl.Series:
    return (
        pl.DataFrame({"v": lowered})
        .select(
            pl.when(pl.col("v").is_in(list(TRUE_WORDS)))
            .then(True)
            .when(pl.col("v").is_in(list(FALSE_WORDS)))
            .then(False)
            .otherwise(None)
        )
        .to_series()
    )


def _parse_column(spec: FieldSpec, raw: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series | str]:
    """Parse one column; returns values, a mask of unparseable cells and the reason(s)."""
    present = raw.is_not_null()
    match spec.kind:
        case "str":
            too_long = (
                raw.str.len_chars() > spec.max_length
                if spec.max_length is not None
                else pl.Series([False] * raw.len())
            ).fill_null(False)
            unmatched = (
                ~raw.str.contains(spec.pattern)
                if spec.pattern is not None
                else pl.Series([False] * raw.len())
            ).fill_null(False)
            reason: pl.Series | str = _where(
                too_long,
                f"longer than {spec.max_length} characters",
                "may hold only letters, digits, '_', '.' and '-'",
            )
            return raw, present & (too_long | unmatched), reason
        case "int" | "float":
            values = raw.cast(pl.Float64, strict=False)
            unparsed = present & (values.is_null() | ~values.is_finite()).fill_null(True)
            reason = "not a number"
            if spec.kind == "int":
                fractional = (values != values.floor()).fill_null(False)
                reason = _where(fractional, "not a whole number", "not a number")
                unparsed = unparsed | fractional
            values = values.cast(pl.Int64 if spec.kind == "int" else pl.Float64, strict=False)
            return values, unparsed, reason
        case "bool":
            values = to_bool(raw.str.to_lowercase())
            return values, present & values.is_null(), "not yes or no"
        case "date":
            values = raw.str.to_date("%Y-%m-%d", strict=False)
            return values, present & values.is_null(), "not a date (YYYY-MM-DD)"
        case "datetime":
            values = _parse_local_datetime(raw)
            with_offset = raw.str.contains(_OFFSET).fill_null(False)
            bad = present & values.is_null() & ~with_offset
            return values, bad, "not a date and time (YYYY-MM-DDTHH:MM)"
        case "enum":
            lowered = raw.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
            bad = present & ~lowered.is_in(list(spec.choices))
            return lowered, bad, f"not one of: {', '.join(spec.choices)}"
        case "enum_list":
            order = {c: i for i, c in enumerate(spec.choices)}
            items = (
                raw.str.to_lowercase()
                .str.replace_all(r"\s+", "")
                .str.replace_all(",", ";")
                .str.split(";")
                .list.eval(pl.element().filter(pl.element() != ""))
            )
            bad_item = items.list.eval(~pl.element().is_in(list(spec.choices))).list.any()
            canonical = (
                items.list.eval(
                    pl.element()
                    .filter(pl.element().is_in(list(spec.choices)))
                    .unique()
                    .sort_by(pl.element().replace_strict(order, default=len(order)))
                )
                .list.join(";")
                .replace("", None)
            )
            reason = f"has a value that is not one of: {', '.join(spec.choices)}"
            return canonical, present & bad_item.fill_null(False), reason
    raise TypeError(spec.kind)


def _parse_local_datetime(raw: pl.Series) -> pl.Series:
    text = raw.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
    seconds = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    minutes = text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us")
    return seconds.fill_null(minutes)


def _localise_offsets(
    file: str,
    frame: pl.DataFrame,
    column: str,
    values: pl.Series,
    zones: dict[str, str],
    problems: Problems,
) -> pl.Series:
    """Convert timestamps written with a UTC offset to the patient's wall-clock time."""
    raw = frame[column]
    has_offset = raw.str.contains(_OFFSET).fill_null(False)
    if not has_offset.any():
        return values
    text = raw.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"[Zz]$", "+00:00")
    aware = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC"
    ).fill_null(
        text.str.to_datetime("%Y-%m-%dT%H:%M%z", strict=False, time_unit="us", time_zone="UTC")
    )
    problems.add_mask(
        file,
        frame,
        has_offset & aware.is_null(),
        column,
        "not a date and time (YYYY-MM-DDTHH:MM±HH:MM)",
        raw,
    )
    zone = frame["patient_id"].replace_strict(zones, default="UTC", return_dtype=pl.String)
    out = values.clone()
    for name in zone.filter(has_offset).unique().to_list():
        rows = has_offset & (zone == name) & aware.is_not_null()
        local = aware.dt.convert_time_zone(name).dt.replace_time_zone(None)
        out = pl.select(pl.when(rows).then(local).otherwise(out)).to_series().alias(values.name)
    return out


def parse_table(
    spec: TableSpec,
    path: Path,
    problems: Problems,
    zones: dict[str, str],
    extra_ok: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse one file into a frame of the table's schema (+ ``_line``) and its extra columns."""
    file = path.name
    raw = _spreadsheet_header(spec, _read_raw(path))
    by_csv = {f.csv_name: f for f in spec.fields}
    optional = OPTIONAL_IN_CSV.get(spec.name, set())
    missing = [
        f.csv_name
        for f in spec.fields
        if f.required and f.name not in optional and f.csv_name not in raw.columns
    ]
    for name in missing:
        problems.add(file, 1, name, None, "required column is missing from the header")
    extra = [c for c in raw.columns if c not in by_csv and c != "_line"]
    if extra and not extra_ok:
        for name in extra:
            problems.add(
                file,
                1,
                name,
                None,
                f"unknown column; {file} has: {', '.join(by_csv)}",
            )
    parsed: dict[str, pl.Series] = {}
    for f in spec.fields:
        if f.csv_name not in raw.columns:
            continue
        column = raw[f.csv_name]
        if f.kind == "str":  # undo the exporter's spreadsheet escape (see unescape_text)
            column = unescape_text(column)
        if f.name == "intensity":  # the IHS scale may be written as its words
            column = column.str.to_lowercase().replace(_INTENSITY_WORDS).alias(f.csv_name)
        if f.name == "sex":  # F/M, woman/man ... as the FHIR codes
            column = column.str.to_lowercase().replace(_SEX_WORDS).alias(f.csv_name)
        if spec.name == "screening_answers" and f.name == "answer" and "question" in raw:
            # yes/no questions may be answered with the words; ages and minutes may not
            numeric = raw["question"].str.to_lowercase().is_in(list(screening_questions.NUMERIC))
            words = column.str.to_lowercase().replace(_YES_NO_NUMBERS)
            column = pl.select(
                pl.when(numeric.fill_null(False)).then(column).otherwise(words)
            ).to_series()
            column = column.alias(f.csv_name)
        values, bad, reason = _parse_column(f, column)
        problems.add_mask(file, raw, bad, f.csv_name, reason, column)
        ok = ~bad
        if f.kind in {"int", "float"}:
            if f.ge is not None:
                low = ok & (values < f.ge).fill_null(False)
                problems.add_mask(
                    file, raw, low, f.csv_name, f"below the minimum {_num(f.ge)}", column
                )
            if f.le is not None:
                high = ok & (values > f.le).fill_null(False)
                problems.add_mask(
                    file, raw, high, f.csv_name, f"above the maximum {_num(f.le)}", column
                )
        if f.kind == "datetime":
            values = _localise_offsets(file, raw, f.csv_name, values, zones, problems)
        if f.plausible == "birth_year":
            _birth_years_to_come(file, raw, f, values, ok, column, problems)
        if f.kind in {"date", "datetime"}:
            good = ok.fill_null(False)
            _implausible_dates(file, raw, f.csv_name, values.filter(good), zones, problems, good)
        if f.required and f.name not in optional:
            problems.add_mask(file, raw, column.is_null(), f.csv_name, "is required", column)
        parsed[f.name] = values.alias(f.name)
    if not parsed:  # no column it knows (a wrong delimiter): the header problems say so
        empty = conform(spec.name, pl.DataFrame()).with_columns(
            pl.lit(None, pl.Int64).alias("_line")
        )
        return empty, pl.DataFrame()
    frame = conform(spec.name, pl.DataFrame(parsed)).with_columns(raw["_line"])
    defaults = {
        f.name: spec.model.model_fields[f.name].default
        for f in spec.fields
        if not f.required
        and spec.model.model_fields[f.name].default not in (None, ...)
        and f.kind in {"str", "enum", "int", "float", "bool"}
    }
    if defaults:
        frame = frame.with_columns([pl.col(c).fill_null(v) for c, v in defaults.items()])
    return frame, raw.select(extra) if extra_ok else pl.DataFrame()


def _implausible_dates(
    file: str,
    frame: pl.DataFrame,
    column: str,
    values: pl.Series,
    zones: dict[str, str],
    problems: Problems,
    parsed: pl.Series,
) -> None:
    """Dates outside :mod:`painlink.rules.plausibility`'s bounds (1900 to tomorrow in
    the patient's zone): one year 9999 once made the day table span 8,000 years."""
    rows = frame.filter(parsed)
    if not rows.height:
        return
    days = values if values.dtype == pl.Date else values.dt.date()
    zone = (
        rows["patient_id"].replace_strict(zones, default="UTC", return_dtype=pl.String)
        if "patient_id" in rows.columns
        else pl.Series(["UTC"] * rows.height, dtype=pl.String)
    ).fill_null("UTC")
    last = zone.replace_strict(
        {z: plausibility.latest_date(z) for z in zone.unique().to_list()}, return_dtype=pl.Date
    )
    early = (days < plausibility.EARLIEST_DATE).fill_null(False)
    late = (days > last).fill_null(False)
    first = plausibility.EARLIEST_DATE.isoformat()
    problems.add_mask(file, rows, early, column, f"before {first}", rows[column])
    problems.add_mask(
        file, rows, late, column, "in the future (after tomorrow in the patient's zone)",
        rows[column],
    )  # fmt: skip


#: a text cell a spreadsheet would run as a formula starts with one of these (OWASP)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape_text(col: pl.Expr) -> pl.Expr:
    """A text column made safe to open in a spreadsheet (OWASP "CSV Injection").

    A cell starting with a formula character gets a leading apostrophe, which
    spreadsheets read as "this is text" and do not show. So that painlink's own
    import can undo exactly this, a cell that already starts with an apostrophe gets
    one too: the importer removes one leading apostrophe from every text cell.
    Numbers, dates and yes/no columns are never text and are never escaped (a
    temperature of -4 stays -4)."""
    starts = "^[" + re.escape("".join(FORMULA_START) + ESCAPE) + "]"
    escaped = pl.when(col.str.contains(starts)).then(pl.lit(ESCAPE) + col).otherwise(col)
    return escaped.alias(col.meta.output_name())


def unescape_text(column: pl.Series) -> pl.Series:
    """The inverse of :func:`escape_text`: one leading apostrophe is removed."""
    return column.str.strip_prefix(ESCAPE)


def _spreadsheet_header(spec: TableSpec, raw: pl.DataFrame) -> pl.DataFrame:
    """Read a sheet saved from a spreadsheet as a person meant it.

    Known columns match whatever their case or spacing ("Patient ID" → patient_id);
    only names that then equal a column of the file are renamed, so own-factor columns
    of days.csv keep their spelling. A column with no name and no value (a stray
    trailing comma) and rows with no value at all (blank lines a spreadsheet keeps)
    are dropped; line numbers in messages stay those of the file.
    """
    blank = [c for c in raw.columns if c == "" and raw[c].null_count() == raw.height]
    raw = raw.drop(blank)
    data = [c for c in raw.columns if c != "_line"]
    if data and raw.height:
        raw = raw.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in data]))
    known = {f.csv_name for f in spec.fields}
    renames: dict[str, str] = {}
    for name in raw.columns:
        if name in known or name == "_line":
            continue
        plain = re.sub(r"[\s\-]+", "_", name.strip().lower())
        if plain in known and plain not in raw.columns and plain not in renames.values():
            renames[name] = plain
    return raw.rename(renames) if renames else raw


def _birth_years_to_come(
    file: str,
    raw: pl.DataFrame,
    f: FieldSpec,
    values: pl.Series,
    ok: pl.Series,
    column: pl.Series,
    problems: Problems,
) -> None:
    """Birth years up to this year (rules/plausibility.py; the schema's own ``ge`` gives
    the earliest). Dates are checked in the patient's zone by ``_implausible_dates``."""
    this_year = plausibility.latest_date_anywhere().year
    late = ok & (values > this_year).fill_null(False)
    problems.add_mask(file, raw, late, f.csv_name, f"after this year ({this_year})", column)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
