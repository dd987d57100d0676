"""Database tables, derived from the diary schemas.

Columns, types and CHECK constraints come from the Pydantic field specs, so the
database refuses exactly what the schemas refuse even when a row arrives by a
path that skipped validation. Keys, foreign keys and indexes are stated here.
Attacks are referenced by their natural key (patient, attack_id), which lets a
bulk import write children without first reading back generated ids.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem

from painlink.diary.fields import FieldSpec
from painlink.diary.frames import TABLE_BY_NAME
from painlink.diary.vocabulary import FactorKind
from painlink.store.base import Base, metadata


def _sql_type(spec: FieldSpec) -> sa.types.TypeEngine[Any]:
    match spec.kind:
        case "str":
            return sa.String(spec.max_length) if spec.max_length else sa.Text()
        case "enum" | "enum_list":
            return sa.String(200)
        case "int":
            return sa.Integer()
        case "float":
            return sa.Double()
        case "bool":
            return sa.Boolean()
        case "date":
            return sa.Date()
        case "datetime":
            return sa.DateTime()
    raise TypeError(spec.kind)


def _checks(spec: FieldSpec) -> list[sa.CheckConstraint]:
    col: sa.ColumnClause[Any] = sa.column(spec.name)
    checks = []
    if spec.ge is not None:
        checks.append(sa.CheckConstraint(col >= spec.ge, name=f"{spec.name}_min"))
    if spec.le is not None:
        checks.append(sa.CheckConstraint(col <= spec.le, name=f"{spec.name}_max"))
    if spec.kind == "enum":
        checks.append(sa.CheckConstraint(col.in_(spec.choices), name=f"{spec.name}_vocab"))
    return checks


def _columns(table: str, primary: tuple[str, ...] = ()) -> list[SchemaItem]:
    items: list[SchemaItem] = []
    for spec in TABLE_BY_NAME[table].fields:
        items.append(
            sa.Column(
                spec.name,
                _sql_type(spec),
                nullable=not spec.required and spec.name not in primary,
                primary_key=spec.name in primary,
            )
        )
        items.extend(_checks(spec))
    return items


def _surrogate_id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _patient_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["patient_id"], ["patients.patient_id"], ondelete="CASCADE")


def _attack_fk(ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["patient_id", "attack_id"],
        ["attacks.patient_id", "attacks.attack_id"],
        ondelete=ondelete,
    )


def _end_after_start() -> sa.CheckConstraint:
    return sa.CheckConstraint(
        sa.or_(sa.column("end").is_(None), sa.column("end") >= sa.column("start")),
        name="end_after_start",
    )


patients = sa.Table(
    "patients",
    metadata,
    *_columns("patients", primary=("patient_id",)),
    sa.Column(
        "created_at", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()
    ),
)

days = sa.Table("days", metadata, *_columns("days", primary=("patient_id", "date")), _patient_fk())

factors = sa.Table(
    "factors",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    # A retired factor leaves the check-in form but keeps its recorded values.
    sa.Column("retired_on", sa.Date, nullable=True),
    sa.CheckConstraint(sa.column("kind").in_([k.value for k in FactorKind]), name="kind_vocab"),
    _patient_fk(),
)

factor_values = sa.Table(
    "factor_values",
    metadata,
    *_columns("factor_values", primary=("patient_id", "date", "name")),
    sa.ForeignKeyConstraint(
        ["patient_id", "name"], ["factors.patient_id", "factors.name"], ondelete="CASCADE"
    ),
)

attacks = sa.Table(
    "attacks",
    metadata,
    _surrogate_id(),
    *_columns("attacks"),
    _patient_fk(),
    sa.UniqueConstraint("patient_id", "attack_id", name="uq_attacks_patient_attack"),
    _end_after_start(),
    sa.Index("ix_attacks_patient_start", "patient_id", "start"),
)

intensity_readings = sa.Table(
    "intensity_readings",
    metadata,
    _surrogate_id(),
    *_columns("intensity_readings"),
    _attack_fk("CASCADE"),
    sa.Index("ix_intensity_readings_attack", "patient_id", "attack_id"),
)

aura_symptoms = sa.Table(
    "aura_symptoms",
    metadata,
    _surrogate_id(),
    *_columns("aura_symptoms"),
    _attack_fk("CASCADE"),
    sa.Index("ix_aura_symptoms_attack", "patient_id", "attack_id"),
)

medications = sa.Table(
    "medications",
    metadata,
    _surrogate_id(),
    *_columns("medications"),
    _patient_fk(),
    _attack_fk(None),
    # the importer resolves every drug to a class; overuse counting depends on it
    sa.CheckConstraint(sa.column("drug_class").is_not(None), name="class_known"),
    sa.Index("ix_medications_patient_taken", "patient_id", "taken_at"),
)

spine_pain = sa.Table(
    "spine_pain",
    metadata,
    _surrogate_id(),
    *_columns("spine_pain"),
    _patient_fk(),
    _end_after_start(),
    sa.Index("ix_spine_pain_patient_start", "patient_id", "start"),
)

treatments = sa.Table(
    "treatments",
    metadata,
    _surrogate_id(),
    *_columns("treatments"),
    _patient_fk(),
    _end_after_start(),
    sa.Index("ix_treatments_patient", "patient_id"),
)

visits = sa.Table(
    "visits",
    metadata,
    _surrogate_id(),
    *_columns("visits"),
    _patient_fk(),
    sa.Index("ix_visits_patient", "patient_id"),
)

exam_measurements = sa.Table(
    "exam_measurements",
    metadata,
    _surrogate_id(),
    *_columns("exam_measurements"),
    _patient_fk(),
    sa.Index("ix_exam_measurements_patient", "patient_id", "measure"),
)

clinical_findings = sa.Table(
    "clinical_findings",
    metadata,
    _surrogate_id(),
    *_columns("clinical_findings"),
    _patient_fk(),
    sa.Index("ix_clinical_findings_patient", "patient_id"),
)

questionnaire_items = sa.Table(
    "questionnaire_items",
    metadata,
    _surrogate_id(),
    *_columns("questionnaire_items"),
    _patient_fk(),
    sa.UniqueConstraint(
        "patient_id", "instrument", "completed_on", "item", name="uq_questionnaire_items_key"
    ),
)

screening_answers = sa.Table(
    "screening_answers",
    metadata,
    _surrogate_id(),
    *_columns("screening_answers"),
    _patient_fk(),
    sa.UniqueConstraint("patient_id", "at", "question", name="uq_screening_answers_key"),
)

#: One row per edit or delete of a diary entry (painlink/services/corrections.py): what
#: kind, which entry, when (UTC), and the rows as they were before, as JSON, so a delete
#: can be undone and a clinician can see that an entry was corrected. Not a diary table:
#: no analysis, export or import reads it.
entry_corrections = sa.Table(
    "entry_corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("entry_key", sa.String(200), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("rows", sa.Text, nullable=False),
    sa.Column("undone_at", sa.DateTime, nullable=True),
    sa.CheckConstraint(sa.column("action").in_(["edit", "delete"]), name="action_vocab"),
    _patient_fk(),
    sa.Index("ix_entry_corrections_patient_at", "patient_id", "at"),
)

#: Tables in an order that satisfies foreign keys when inserting (reverse to delete).
INSERT_ORDER: tuple[sa.Table, ...] = (
    patients,
    days,
    factors,
    factor_values,
    attacks,
    intensity_readings,
    aura_symptoms,
    medications,
    spine_pain,
    treatments,
    visits,
    exam_measurements,
    clinical_findings,
    questionnaire_items,
    screening_answers,
)


class Patient(Base):
    __table__ = patients


class Day(Base):
    __table__ = days


class Factor(Base):
    __table__ = factors


class FactorValue(Base):
    __table__ = factor_values


class Attack(Base):
    __table__ = attacks


class IntensityReading(Base):
    __table__ = intensity_readings


class AuraSymptom(Base):
    __table__ = aura_symptoms


class Medication(Base):
    __table__ = medications


class SpinePain(Base):
    __table__ = spine_pain


class Treatment(Base):
    __table__ = treatments


class Visit(Base):
    __table__ = visits


class ExamMeasurement(Base):
    __table__ = exam_measurements


class ClinicalFinding(Base):
    __table__ = clinical_findings


class QuestionnaireItem(Base):
    __table__ = questionnaire_items


class ScreeningAnswer(Base):
    __table__ = screening_answers


# The web app's account tables join the same metadata, after the diary tables they
# reference, so the migrations and the tests read one complete ``metadata`` from here.
from painlink.store import account_tables as _account_tables  # noqa: E402, F401
from painlink.store import summary_tables as _summary_tables  # noqa: E402, F401
