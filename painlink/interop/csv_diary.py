"""The painlink CSV diary format: a folder of CSV files, one per table.

Reading validates every column at once (Polars) against the ranges declared in
:mod:`painlink.diary.schemas` and collects every bad cell with its file, line and
column, so a person can fix a file in one pass. Nothing is written anywhere
until the whole folder is valid. The format is specified in docs/csv-format.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from painlink.diary import files
from painlink.diary.errors import BadCell, DiaryFormatError
from painlink.diary.frames import TABLES, DiaryFrames, TableSpec, conform
from painlink.diary.vocabulary import FactorKind
from painlink.interop.csv_cells import Problems, escape_text, file_present, parse_table
from painlink.interop.csv_checks import (
    check_questionnaire_items,
    check_screening_answers,
    derive_attack_ids,
    duplicates,
    end_after_start,
    factor_columns,
    known_attack,
    known_patient,
    legacy_attack_fever,
    resolve_drug_classes,
)
from painlink.rules import plausibility

FORMAT_NAME = "painlink-diary-csv"
FORMAT_VERSION = 3  # 2 added questionnaires.csv and screenings.csv; 3 split the attack fever
MANIFEST = "painlink.json"
_DATETIME_OUT = "%Y-%m-%dT%H:%M:%S%.f"


# ---------------------------------------------------------------- reading


def _check_manifest(folder: Path, problems: Problems) -> int | None:
    """The folder's format version (None without a manifest); problems are recorded."""
    path = folder / MANIFEST
    if not file_present(path):
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


def read_diary_folder(folder: str | Path) -> DiaryFrames:
    """Read and validate a CSV diary folder; raises :class:`DiaryFormatError` on any bad cell."""
    folder = Path(folder)
    if not folder.is_dir():
        if folder.is_file():  # the account page's export is a zipped folder
            with folder.open("rb") as handle:
                files.refuse_archive(handle.read(4), folder.name, "the folder it holds")
        what = "is not a folder" + ("" if file_present(folder) else " (nothing is at that path)")
        raise DiaryFormatError([BadCell(str(folder), 0, "-", None, what)])
    problems = Problems()
    version = _check_manifest(folder, problems)
    patients_spec = next(t for t in TABLES if t.name == "patients")
    if not file_present(folder / "patients.csv"):
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
    patients, _ = parse_table(patients_spec, folder / "patients.csv", problems, {})
    duplicates("patients.csv", patients, ["patient_id"], problems)
    zones: dict[str, str] = {}
    for row in patients.select("patient_id", "time_zone", "_line").iter_rows(named=True):
        if row["time_zone"] not in plausibility.known_zones():  # not "localtime", "right/UTC"
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
        if not file_present(path):
            continue
        frame, extra = parse_table(spec, path, problems, zones, extra_ok=spec.name == "days")
        known_patient(spec.csv_file, frame, known, problems)
        if spec.name == "days":
            duplicates("days.csv", frame, ["patient_id", "date"], problems)
            tables["factor_values"], tables["factors"] = factor_columns(frame, extra, problems)
        elif spec.name == "attacks":
            frame = derive_attack_ids(frame)
            duplicates("attacks.csv", frame, ["patient_id", "attack_id"], problems)
        if "end" in frame.columns:
            end_after_start(spec.csv_file, frame, problems)
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
            frame = resolve_drug_classes(frame, problems)
        if spec.name == "questionnaire_items":
            check_questionnaire_items(frame, problems)
        if spec.name == "screening_answers":
            check_screening_answers(frame, problems)
            if version is not None and version < 3:
                frame = legacy_attack_fever(frame)
        if spec.name in ("questionnaire_items", "screening_answers"):
            duplicates(spec.csv_file, frame, list(spec.key), problems)
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
            known_attack(file, tables[name], attacks, problems)
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
