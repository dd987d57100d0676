"""A diary as a set of columnar tables: the shape every layer hands to the next.

CSV folders, the database and the simulator all produce or consume a
:class:`DiaryFrames`, and the day table is built from one. Keeping one in-memory
shape means an import is "read → validate → write" and an export its reverse,
with no per-row objects on the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Self

import polars as pl
from pydantic import BaseModel

from painlink.diary import schemas
from painlink.diary.fields import FieldSpec, field_specs


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str  # attribute of DiaryFrames and table name in the database
    model: type[BaseModel]
    csv_file: str | None  # None: folded into another file (factor values into days.csv)
    key: tuple[str, ...]  # natural key: unique within a diary, the order rows are kept in

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return field_specs(self.model)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {f.name: f.dtype for f in self.fields}

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


TABLES: tuple[TableSpec, ...] = (
    TableSpec("patients", schemas.PatientIn, "patients.csv", ("patient_id",)),
    TableSpec("days", schemas.DayIn, "days.csv", ("patient_id", "date")),
    TableSpec("factor_values", schemas.FactorValueIn, None, ("patient_id", "date", "name")),
    TableSpec("attacks", schemas.AttackIn, "attacks.csv", ("patient_id", "attack_id")),
    TableSpec(
        "intensity_readings",
        schemas.IntensityReadingIn,
        "intensity_readings.csv",
        ("patient_id", "attack_id", "at"),
    ),
    TableSpec(
        "aura_symptoms", schemas.AuraSymptomIn, "aura.csv", ("patient_id", "attack_id", "type")
    ),
    TableSpec(
        "medications", schemas.MedicationIn, "medications.csv", ("patient_id", "taken_at", "drug")
    ),
    TableSpec(
        "spine_pain", schemas.SpinePainIn, "spine_pain.csv", ("patient_id", "start", "region")
    ),
    TableSpec("treatments", schemas.TreatmentIn, "treatments.csv", ("patient_id", "start", "name")),
    TableSpec("visits", schemas.VisitIn, "visits.csv", ("patient_id", "at")),
    TableSpec(
        "exam_measurements",
        schemas.ExamMeasurementIn,
        "exams.csv",
        ("patient_id", "at", "measure", "repeat"),
    ),
    TableSpec(
        "clinical_findings", schemas.ClinicalFindingIn, "findings.csv", ("patient_id", "at", "item")
    ),
    TableSpec(
        "questionnaire_items",
        schemas.QuestionnaireItemIn,
        "questionnaires.csv",
        ("patient_id", "instrument", "completed_on", "item"),
    ),
    TableSpec(
        "screening_answers",
        schemas.ScreeningAnswerIn,
        "screenings.csv",
        ("patient_id", "at", "question"),
    ),
)

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

#: Schema of a diary's own-factor definitions (kind decides how a value is shown).
FACTOR_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
}


def model_row(model: BaseModel) -> dict[str, Any]:
    """A validated record as a table row: enums as their values, a list of choices
    (an attack's locations) joined by ";" as the tables keep it."""
    row = {}
    for key, value in model.model_dump().items():
        if isinstance(value, list):
            value = ";".join(str(getattr(v, "value", v)) for v in value) or None
        row[key] = getattr(value, "value", value)
    return row


def empty(table: str) -> pl.DataFrame:
    if table == "factors":
        return pl.DataFrame(schema=FACTOR_SCHEMA)
    return pl.DataFrame(schema=TABLE_BY_NAME[table].schema)


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select a table's columns in canonical order and types; missing ones become null."""
    schema = FACTOR_SCHEMA if table == "factors" else TABLE_BY_NAME[table].schema
    if not frame.columns:  # selecting literals from a frame without columns would make a row
        return pl.DataFrame(schema=schema)
    return frame.select(
        [
            (pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n)
            for n, t in schema.items()
        ]
    )


@dataclass(slots=True)
class DiaryFrames:
    """Every table of one or more patients' diaries."""

    patients: pl.DataFrame
    days: pl.DataFrame
    factor_values: pl.DataFrame
    factors: pl.DataFrame
    attacks: pl.DataFrame
    intensity_readings: pl.DataFrame
    aura_symptoms: pl.DataFrame
    medications: pl.DataFrame
    spine_pain: pl.DataFrame
    treatments: pl.DataFrame
    visits: pl.DataFrame
    exam_measurements: pl.DataFrame
    clinical_findings: pl.DataFrame
    questionnaire_items: pl.DataFrame
    screening_answers: pl.DataFrame

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def empty(cls) -> Self:
        return cls(**{name: empty(name) for name in cls.table_names()})

    @classmethod
    def from_tables(cls, **tables: pl.DataFrame) -> Self:
        """Build from any subset of tables, conforming each to its schema."""
        unknown = set(tables) - set(cls.table_names())
        if unknown:
            raise ValueError(f"unknown diary tables: {sorted(unknown)}")
        return cls(
            **{
                name: conform(name, tables[name]) if name in tables else empty(name)
                for name in cls.table_names()
            }
        )

    def items(self) -> Iterable[tuple[str, pl.DataFrame]]:
        for name in self.table_names():
            yield name, getattr(self, name)

    def sorted(self) -> Self:
        """Rows in natural-key order, so two diaries with the same content compare equal."""
        out = {}
        for name, frame in self.items():
            key = ("patient_id", "name") if name == "factors" else TABLE_BY_NAME[name].key
            out[name] = frame.sort(list(key), nulls_last=True, maintain_order=True)
        return type(self)(**out)

    def only(self, patient_ids: Iterable[str]) -> Self:
        ids = list(patient_ids)
        return type(self)(
            **{name: f.filter(pl.col("patient_id").is_in(ids)) for name, f in self.items()}
        )

    @classmethod
    def concat(cls, parts: Iterable[DiaryFrames]) -> Self:
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(
            **{name: pl.concat([getattr(p, name) for p in parts]) for name in cls.table_names()}
        )

    def row_counts(self) -> dict[str, int]:
        return {name: frame.height for name, frame in self.items()}

    def patient_ids(self) -> list[str]:
        return self.patients["patient_id"].to_list()
