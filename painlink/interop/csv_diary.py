"""The painlink CSV diary format: a folder of CSV files, one per table.

Reading validates every column at once (Polars) against the ranges declared in
:mod:`painlink.diary.schemas` and collects every bad cell with its file, line and
column, so a person can fix a file in one pass. Nothing is written anywhere
until the whole folder is valid. The format is specified in docs/csv-format.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from painlink.diary import files
from painlink.diary.errors import BadCell, DiaryFormatError
from painlink.diary.fields import FieldSpec
from painlink.diary.frames import TABLES, DiaryFrames, TableSpec, conform
from painlink.diary.vocabulary import INTENSITY_LABELS, FactorKind
from painlink.rules import plausibility
from painlink.rules.medications import DRUGS, normalise_drug_name
from painlink.rules.questionnaires import INSTRUMENTS
from painlink.rules.screening_questions import NUMERIC as SCREENING_NUMERIC

FORMAT_NAME = "painlink-diary-csv"
FORMAT_VERSION = 3  # 2 added questionnaires.csv and screenings.csv; 3 split the attack fever
MANIFEST = "painlink.json"

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}
_OFFSET = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_DATETIME_OUT = "%Y-%m-%dT%H:%M:%S%.f"
_INTENSITY_WORDS = {label: str(i) for i, label in enumerate(INTENSITY_LABELS)}
_FACTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ \-]{0,63}$")
#: Columns the model requires that a hand-written CSV may leave out (or leave empty);
#: the importer fills them in (see ``_derive_attack_ids``).
OPTIONAL_IN_CSV: dict[str, set[str]] = {"attacks": {"attack_id"}}
#: A screen's yes/no answer is stored as 1/0; a spreadsheet may hold the words.
_YES_NO_NUMBERS = {**{w: "1" for w in _TRUE}, **{w: "0" for w in _FALSE}}
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
class _Problems:
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
        values = raw if raw is not None else pl.Series([None] * frame.height, dtype=pl.String)
        values = values.cast(pl.String).filter(bad).to_list()
        reasons = (
            reason.filter(bad).to_list() if isinstance(reason, pl.Series) else [reason] * len(lines)
        )
        self.items.extend(
            BadCell(file, ln, column, v, r) for ln, v, r in zip(lines, values, reasons, strict=True)
        )

    def add(self, file: str, line: int, column: str, value: str | None, reason: str) -> None:
        self.items.append(BadCell(file, line, column, value, reason))


# ---------------------------------------------------------------- reading


def _present(path: Path) -> bool:
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
        reason = (
            f"a field longer than {csv.field_size_limit():,} characters"
            if "field limit" in str(exc)
            else f"not CSV ({exc}; a quote opened on this line is not closed?)"
        )
        raise files.refuse(name, reason, line) from None
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


def _to_bool(lowered: pl.Series) -> pl.Series:
    return (
        pl.DataFrame({"v": lowered})
        .select(
            pl.when(pl.col("v").is_in(list(_TRUE)))
            .then(True)
            .when(pl.col("v").is_in(list(_FALSE)))
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
            reason = _where(
                too_long,
                f"longer than {spec.max_length} characters",
                "may hold only letters, digits, '_', '.' and '-'",
            )
            return raw, present & (too_long | unmatched), reason
        case "int" | "float":
            values = raw.cast(pl.Float64, strict=False)
            unparsed = present & (values.is_null() | ~values.is_finite()).fill_null(True)
            reason: pl.Series | str = "not a number"
            if spec.kind == "int":
                fractional = (values != values.floor()).fill_null(False)
                reason = _where(fractional, "not a whole number", "not a number")
                unparsed = unparsed | fractional
            values = values.cast(pl.Int64 if spec.kind == "int" else pl.Float64, strict=False)
            return values, unparsed, reason
        case "bool":
            values = _to_bool(raw.str.to_lowercase())
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
    problems: _Problems,
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


def _parse_table(
    spec: TableSpec,
    path: Path,
    problems: _Problems,
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
            numeric = raw["question"].str.to_lowercase().is_in(list(SCREENING_NUMERIC))
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
    problems: _Problems,
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
    renames = {}
    for name in raw.columns:
        if name in known or name == "_line":
            continue
        plain = re.sub(r"[\s\-]+", "_", name.strip().lower())
        if plain in known and plain not in raw.columns and plain not in renames.values():
            renames[name] = plain
    return raw.rename(renames) if renames else raw


def _derive_attack_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Give an attack without ``attack_id`` one made from its start minute (YYYYMMDDHHMM).

    The same rule as the app imports use, so a re-import of the same sheet gives the
    same ids; a second attack starting in the same minute gets "-2", "-3" …, and an id
    already written in the file is never reused.
    """
    if not frame.height or frame["attack_id"].null_count() == 0:
        return frame
    used: dict[str, set[str]] = {}
    for pid, aid in frame.select("patient_id", "attack_id").iter_rows():
        if aid is not None:
            used.setdefault(pid, set()).add(aid)
    ids = []
    for pid, aid, start in frame.select("patient_id", "attack_id", "start").iter_rows():
        if aid is None and start is not None:
            taken = used.setdefault(pid, set())
            base = f"{start:%Y%m%d%H%M}"
            aid, n = base, 1
            while aid in taken:
                n += 1
                aid = f"{base}-{n}"
            taken.add(aid)
        ids.append(aid)
    return frame.with_columns(pl.Series("attack_id", ids, dtype=pl.String))


def _birth_years_to_come(
    file: str,
    raw: pl.DataFrame,
    f: FieldSpec,
    values: pl.Series,
    ok: pl.Series,
    column: pl.Series,
    problems: _Problems,
) -> None:
    """Birth years up to this year (rules/plausibility.py; the schema's own ``ge`` gives
    the earliest). Dates are checked in the patient's zone by ``_implausible_dates``."""
    this_year = plausibility.latest_date_anywhere().year
    late = ok & (values > this_year).fill_null(False)
    problems.add_mask(file, raw, late, f.csv_name, f"after this year ({this_year})", column)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _duplicates(file: str, frame: pl.DataFrame, key: list[str], problems: _Problems) -> None:
    dup = frame.select(
        pl.struct(key).is_duplicated() & pl.all_horizontal([pl.col(c).is_not_null() for c in key])
    ).to_series()
    problems.add_mask(file, frame, dup, key[-1], f"duplicate {' + '.join(key)}")


def _end_after_start(file: str, frame: pl.DataFrame, problems: _Problems) -> None:
    bad = (frame["end"] < frame["start"]).fill_null(False)
    problems.add_mask(file, frame, bad, "end", "end is before start", frame["end"].cast(pl.String))


def _known_patient(file: str, frame: pl.DataFrame, known: set[str], problems: _Problems) -> None:
    bad = frame["patient_id"].is_not_null() & ~frame["patient_id"].is_in(list(known))
    problems.add_mask(
        file, frame, bad, "patient_id", "patient is not in patients.csv", frame["patient_id"]
    )


def _known_attack(
    file: str, frame: pl.DataFrame, attacks: pl.DataFrame, problems: _Problems
) -> None:
    keys = attacks.select(["patient_id", "attack_id"]).unique()
    linked = frame.select(["patient_id", "attack_id", "_line"]).filter(
        pl.col("attack_id").is_not_null()
    )
    missing = linked.join(keys, on=["patient_id", "attack_id"], how="anti")
    for row in missing.iter_rows(named=True):
        problems.add(
            file, row["_line"], "attack_id", row["attack_id"], "no such attack in attacks.csv"
        )


def _check_questionnaire_items(frame: pl.DataFrame, problems: _Problems) -> None:
    """Each item must belong to its instrument and hold one of that item's values."""
    file = "questionnaires.csv"
    for key, rules in INSTRUMENTS.items():
        mine = pl.col("instrument") == key
        foreign = frame.select(mine & ~pl.col("item").is_in(rules.items)).to_series()
        problems.add_mask(
            file, frame, foreign, "item", f"not an item of {rules.name}", frame["item"]
        )
        in_range = pl.col("value").is_between(rules.item_min, rules.item_max)
        if rules.allowed_values is not None:
            in_range = in_range & pl.col("value").is_in([float(v) for v in rules.allowed_values])
        bad = frame.select(mine & ~in_range).to_series()
        problems.add_mask(
            file,
            frame,
            bad,
            "value",
            f"not a valid {rules.name} answer ({rules.allowed_text})",
            frame["value"],
        )


def _check_screening_answers(frame: pl.DataFrame, problems: _Problems) -> None:
    """Yes/no questions hold 1 or 0; ages are at most 120 years."""
    numeric = pl.col("question").is_in(SCREENING_NUMERIC)
    yes_no = frame.select(~numeric & ~pl.col("answer").is_in([0.0, 1.0])).to_series()
    problems.add_mask(
        "screenings.csv", frame, yes_no, "answer", "a yes/no answer is 1 or 0", frame["answer"]
    )
    age = pl.col("question").is_in(["age", "headache_onset_age"]) & (pl.col("answer") > 120)
    problems.add_mask(
        "screenings.csv",
        frame,
        frame.select(age).to_series(),
        "answer",
        "an age is at most 120",
        frame["answer"],
    )


def _factor_columns(
    days: pl.DataFrame, extra: pl.DataFrame, problems: _Problems
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn extra days.csv columns into own-factor definitions and long values."""
    kinds, values = [], []
    for name in extra.columns:
        if not _FACTOR_NAME.match(name):
            problems.add(
                "days.csv",
                1,
                name,
                None,
                "an own factor's name must start with a letter and hold letters, digits, "
                "spaces, '_' or '-' (at most 64)",
            )
            continue
        raw = extra[name]
        lowered = raw.str.to_lowercase()
        present = raw.is_not_null()
        words = lowered.is_in(list((_TRUE | _FALSE) - {"1", "0"}))
        if present.any() and (words | ~present).all():
            kind = FactorKind.boolean
            number = _to_bool(lowered).cast(pl.Float64)
            reason = "not yes or no"
        else:
            kind = FactorKind.numeric
            number = raw.cast(pl.Float64, strict=False)
            reason = "not a number (an own factor is numeric or yes/no)"
        bad = present & (number.is_null() | ~number.is_finite().fill_null(True))
        problems.add_mask("days.csv", days, bad, name, reason, raw)
        limit = plausibility.MAX_OWN_FACTOR_VALUE
        huge = present & ~bad & (number.abs() > limit).fill_null(False)
        problems.add_mask("days.csv", days, huge, name, f"beyond ±{limit}", raw)
        long = pl.DataFrame(
            {
                "patient_id": days["patient_id"],
                "date": days["date"],
                "name": pl.Series([name] * days.height, dtype=pl.String),
                "value": number,
            }
        ).filter(pl.col("value").is_not_null())
        values.append(long)
        kinds.append(
            long.select("patient_id")
            .unique()
            .with_columns(pl.lit(name).alias("name"), pl.lit(kind.value).alias("kind"))
        )
    factor_values = (
        conform("factor_values", pl.concat(values))
        if values
        else conform("factor_values", pl.DataFrame())
    )
    factors = conform("factors", pl.concat(kinds)) if kinds else conform("factors", pl.DataFrame())
    return factor_values, factors


def _resolve_drug_classes(frame: pl.DataFrame, problems: _Problems) -> pl.DataFrame:
    names = {normalise_drug_name(d.name): d.drug_class.value for d in DRUGS}
    looked_up = (
        frame["drug"]
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(names, default=None, return_dtype=pl.String)
    )
    unknown = frame["drug_class"].is_null() & looked_up.is_null() & frame["drug"].is_not_null()
    problems.add_mask(
        "medications.csv",
        frame,
        unknown,
        "class",
        "drug is not in painlink's drug table; give its class "
        "(triptan, ergotamine, opioid, non_opioid_analgesic, combination_analgesic, gepant, "
        "ditan, preventive, hormonal_contraceptive, other)",
        frame["drug"],
    )
    return frame.with_columns(pl.col("drug_class").fill_null(looked_up))


def _check_manifest(folder: Path, problems: _Problems) -> int | None:
    """The folder's format version (None without a manifest); problems are recorded."""
    path = folder / MANIFEST
    if not _present(path):
        return None
    manifest = files.read_json(path, "manifest", MANIFEST)
    if not isinstance(manifest, dict):
        problems.add(MANIFEST, 1, "-", None, "not a JSON object")
        return None
    if manifest.get("format") != FORMAT_NAME:
        problems.add(
            MANIFEST, 1, "format", str(manifest.get("format")), f"expected {FORMAT_NAME!r}"
        )
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        problems.add(
            MANIFEST,
            1,
            "version",
            str(version),
            f"this painlink reads format versions up to {FORMAT_VERSION}",
        )
    return version if isinstance(version, int) else None


def _legacy_attack_fever(frame: pl.DataFrame) -> pl.DataFrame:
    """Before version 3 the attack-time check asked fever, stiff neck, rash and confusion
    as one question stored as ``fever``: read it as that combined answer (migration 0008
    does the same for stored screens)."""
    combined = (pl.col("question") == "fever") & (pl.col("context") == "attack")
    return frame.with_columns(
        pl.when(combined)
        .then(pl.lit("fever_or_meningism"))
        .otherwise(pl.col("question"))
        .alias("question")
    )


def read_diary_folder(folder: str | Path) -> DiaryFrames:
    """Read and validate a CSV diary folder; raises :class:`DiaryFormatError` on any bad cell."""
    folder = Path(folder)
    if not folder.is_dir():
        if folder.is_file():  # the account page's export is a zipped folder
            with folder.open("rb") as handle:
                files.refuse_archive(handle.read(4), folder.name, "the folder it holds")
        what = "is not a folder" + ("" if _present(folder) else " (nothing is at that path)")
        raise DiaryFormatError([BadCell(str(folder), 0, "-", None, what)])
    problems = _Problems()
    version = _check_manifest(folder, problems)
    patients_spec = next(t for t in TABLES if t.name == "patients")
    if not _present(folder / "patients.csv"):
        raise DiaryFormatError(
            [
                BadCell(
                    "patients.csv",
                    0,
                    "-",
                    None,
                    f"missing: every diary folder needs patients.csv ({folder})",
                )
            ]
        )
    patients, _ = _parse_table(patients_spec, folder / "patients.csv", problems, {})
    _duplicates("patients.csv", patients, ["patient_id"], problems)
    zones: dict[str, str] = {}
    for row in patients.select("patient_id", "time_zone", "_line").iter_rows(named=True):
        try:
            ZoneInfo(row["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.add(
                "patients.csv",
                row["_line"],
                "time_zone",
                row["time_zone"],
                "unknown IANA time zone",
            )
            continue
        if row["patient_id"] is not None:
            zones[row["patient_id"]] = row["time_zone"]
    known = set(patients["patient_id"].drop_nulls().to_list())

    tables: dict[str, pl.DataFrame] = {"patients": patients}
    for spec in TABLES:
        if spec.csv_file is None or spec.name == "patients":
            continue
        path = folder / spec.csv_file
        if not _present(path):
            continue
        frame, extra = _parse_table(spec, path, problems, zones, extra_ok=spec.name == "days")
        _known_patient(spec.csv_file, frame, known, problems)
        if spec.name == "days":
            _duplicates("days.csv", frame, ["patient_id", "date"], problems)
            tables["factor_values"], tables["factors"] = _factor_columns(frame, extra, problems)
        elif spec.name == "attacks":
            frame = _derive_attack_ids(frame)
            _duplicates("attacks.csv", frame, ["patient_id", "attack_id"], problems)
        if "end" in frame.columns:
            _end_after_start(spec.csv_file, frame, problems)
        if spec.name == "intensity_readings":
            neither = frame["intensity"].is_null() & frame["intensity_nrs"].is_null()
            problems.add_mask(
                spec.csv_file,
                frame,
                neither,
                "intensity",
                "a reading needs intensity or intensity_nrs",
            )
        if spec.name == "medications":
            frame = _resolve_drug_classes(frame, problems)
        if spec.name == "questionnaire_items":
            _check_questionnaire_items(frame, problems)
        if spec.name == "screening_answers":
            _check_screening_answers(frame, problems)
            if version is not None and version < 3:
                frame = _legacy_attack_fever(frame)
        if spec.name in ("questionnaire_items", "screening_answers"):
            _duplicates(spec.csv_file, frame, list(spec.key), problems)
        tables[spec.name] = frame

    attacks = tables.get(
        "attacks",
        conform("attacks", pl.DataFrame()).with_columns(pl.lit(None, pl.Int64).alias("_line")),
    )
    for name, file in (
        ("intensity_readings", "intensity_readings.csv"),
        ("aura_symptoms", "aura.csv"),
        ("medications", "medications.csv"),
        ("screening_answers", "screenings.csv"),
    ):
        if name in tables:
            _known_attack(file, tables[name], attacks, problems)
    if "aura_symptoms" in tables and attacks.height:
        with_symptoms = tables["aura_symptoms"].select("patient_id", "attack_id").unique()
        denied = attacks.join(with_symptoms, on=["patient_id", "attack_id"]).filter(
            pl.col("aura") == False  # noqa: E712
        )
        problems.add_mask(
            "attacks.csv",
            denied,
            pl.Series([True] * denied.height),
            "aura",
            "aura is 'no' but aura.csv lists aura symptoms for this attack",
        )
        tables["attacks"] = attacks.with_columns(
            pl.when(
                pl.struct("patient_id", "attack_id").is_in(
                    with_symptoms.select(pl.struct("patient_id", "attack_id")).to_series().implode()
                )
            )
            .then(pl.col("aura").fill_null(True))
            .otherwise(pl.col("aura"))
            .alias("aura")
        )

    if problems.items:
        raise DiaryFormatError(problems.items)
    return DiaryFrames.from_tables(
        **{k: v.drop("_line", strict=False) for k, v in tables.items()}
    ).sorted()


# ---------------------------------------------------------------- writing


def _format_for_csv(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for f in spec.fields:
        col = pl.col(f.name)
        if f.kind == "str":
            col = escape_text(col)
        elif f.kind == "bool":
            col = pl.when(col).then(pl.lit("yes")).when(~col).then(pl.lit("no")).otherwise(None)
        elif f.kind == "datetime":
            col = col.dt.to_string(_DATETIME_OUT)
        elif f.kind == "date":
            col = col.dt.to_string("%Y-%m-%d")
        elif f.kind == "float":
            col = _float_text(col)
        exprs.append(col.cast(pl.String).alias(f.csv_name))
    return frame.select(exprs)


def _float_text(col: pl.Expr) -> pl.Expr:
    """Whole numbers without ".0", so exported files read like the ones people write."""
    return (
        pl.when(col == col.round(0))
        .then(col.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(col.cast(pl.String))
    )


def _days_with_factors(diary: DiaryFrames, names: list[str]) -> pl.DataFrame:
    spec = next(t for t in TABLES if t.name == "days")
    days = _format_for_csv(spec, diary.days)
    if not names:
        return days
    kinds = diary.factors.select("patient_id", "name", "kind")
    values = diary.factor_values.join(kinds, on=["patient_id", "name"], how="left").with_columns(
        pl.when(pl.col("kind") == FactorKind.boolean.value)
        .then(pl.when(pl.col("value") != 0).then(pl.lit("yes")).otherwise(pl.lit("no")))
        .otherwise(_float_text(pl.col("value")))
        .alias("text"),
        pl.col("date").dt.to_string("%Y-%m-%d"),
    )
    if values.height:
        wide = values.pivot(on="name", index=["patient_id", "date"], values="text")
        days = days.join(wide, on=["patient_id", "date"], how="full", coalesce=True)
    days = days.with_columns(
        [pl.lit(None, pl.String).alias(n) for n in names if n not in days.columns]
    )
    return days.select([*(f.csv_name for f in spec.fields), *names]).sort(["patient_id", "date"])


class DiaryCsvWriter:
    """Write a diary folder in parts, so diaries larger than memory can be streamed out.

    Own-factor columns of days.csv are fixed when the writer opens: every part must
    use those names (pass them when streaming; ``write_diary_folder`` finds them).
    """

    def __init__(self, folder: str | Path, factor_names: list[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.factor_names = sorted(factor_names)
        self.counts = {t.csv_file: 0 for t in TABLES if t.csv_file}
        self._started = False

    def write(self, diary: DiaryFrames) -> None:
        unknown = set(diary.factors["name"].unique().to_list()) - set(self.factor_names)
        if unknown:
            raise ValueError(f"own factors not declared when the writer opened: {sorted(unknown)}")
        diary = diary.sorted()
        for spec in TABLES:
            if spec.csv_file is None:
                continue
            frame = (
                _days_with_factors(diary, self.factor_names)
                if spec.name == "days"
                else _format_for_csv(spec, getattr(diary, spec.name))
            )
            with (self.folder / spec.csv_file).open("a" if self._started else "w") as handle:
                frame.write_csv(handle, include_header=not self._started)
            self.counts[spec.csv_file] += frame.height
        self._started = True

    def close(self) -> dict[str, int]:
        if not self._started:
            self.write(DiaryFrames.empty())
        (self.folder / MANIFEST).write_text(
            json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION}, indent=2) + "\n",
            encoding="utf-8",
        )
        return self.counts


def write_diary_folder(diary: DiaryFrames, folder: str | Path) -> dict[str, int]:
    """Write every table as CSV (files with only a header where a table is empty)."""
    writer = DiaryCsvWriter(folder, diary.factors["name"].unique().to_list())
    writer.write(diary)
    return writer.close()
