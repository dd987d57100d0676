"""The clinic list's per-patient summaries, and the triggers that keep them honest.

The clinic's patient list shows, for every consented patient, a few numbers that take
a classification of the whole diary to compute (seconds for a clinic of thousands).
``patient_summaries`` keeps them, one row per patient, with two counters:
``diary_version`` — bumped by a database trigger on every insert, update or delete in
any diary table naming the patient — and ``computed_version``, the ``diary_version``
the stored numbers were computed from. A row is fresh only while they are equal.

Why triggers and not a call in every service: diary rows are written from a dozen
places (forms, the JSON API, corrections and undo, imports, the CLI, clinicians'
records) and new ones keep coming; a write that forgets to call a hook would leave a
clinician looking at yesterday's count. The database sees every write, including bulk
imports (COPY) and ``ON DELETE CASCADE``. On PostgreSQL they are statement-level
triggers over the changed rows (one UPDATE per statement, so a COPY of a million rows
costs one join).

SQLite has only row triggers. A row trigger that rewrote the summary row on every
inserted diary row made a bulk write three times slower (1,000 patients × 365 days
through ``Store.write``: 24.6 s against 8.0 s without triggers, on a busy machine), so
SQLite's triggers bump only a summary that is fresh
(``computed_version = diary_version``) or being computed (``pending`` > 0): a stale
summary is already going to be computed, and a new patient's rows (no summary yet)
cost a primary-key lookup each, no write. The refresh (services/clinic_list.py)
raises ``pending`` in a write of its own *before* it reads the version and the diary,
and stores its result only if the version has not moved: SQLite has one writer at a
time, so a diary write either committed before that (and is read) or sees ``pending``
and bumps the version (and the result is thrown away). PostgreSQL's triggers bump
always: with concurrent writers a trigger could read ``pending`` before the refresh's
write commits, and one UPDATE per statement costs little there.

SQLite drops a table's triggers when Alembic's batch mode rebuilds the table, so a
later migration that rebuilds a diary table must call :func:`create_triggers` again;
``tests/test_clinic_list.py`` checks that every source table has its triggers at head.
"""

from __future__ import annotations

import sqlalchemy as sa

from painlink.store.base import metadata

#: every table whose rows the summary is computed from (the day table reads check-ins,
#: attacks, medicines, neck/back entries, factors and treatments; the classification
#: reads the patient's history, attacks, readings, auras and findings). A change to
#: any of them makes the patient's summary stale.
SOURCE_TABLES: tuple[str, ...] = (
    "patients",
    "days",
    "factors",
    "factor_values",
    "attacks",
    "intensity_readings",
    "aura_symptoms",
    "medications",
    "spine_pain",
    "treatments",
    "visits",
    "exam_measurements",
    "clinical_findings",
    "questionnaire_items",
    "screening_answers",
)

#: a summary to compute again (the partial index below holds exactly these rows)
STALE = "computed_version IS NULL OR computed_version <> diary_version"

#: days of day marks kept (the list's "last 28 days" counts; see services/clinic_list.py)
MARK_DAYS = 28

patient_summaries = sa.Table(
    "patient_summaries",
    metadata,
    sa.Column(
        "patient_id",
        sa.String(64),
        sa.ForeignKey("patients.patient_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("diary_version", sa.Integer(), nullable=False, server_default="0"),
    # refreshes in progress (SQLite's triggers bump a stale row only while one is)
    sa.Column("pending", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("computed_version", sa.Integer(), nullable=True),
    sa.Column("computed_at", sa.DateTime(), nullable=True),
    sa.Column("as_of", sa.Date(), nullable=True),
    sa.Column("last_entry", sa.Date(), nullable=True),
    sa.Column("red_flags", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("urgency", sa.String(40), nullable=True),
    sa.Column("flags", sa.Text(), nullable=True),
    sa.Column("diagnoses", sa.Text(), nullable=True),
    sa.Column("attacks", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("marks", sa.String(MARK_DAYS), nullable=True),
    sa.Index("ix_patient_summaries_order", "red_flags", "last_entry"),
    # the few stale rows, found without reading the fresh thousands
    sa.Index(
        "ix_patient_summaries_stale",
        "patient_id",
        sqlite_where=sa.text(STALE),
        postgresql_where=sa.text(STALE),
    ),
)


def _sqlite_triggers(table: str) -> list[str]:
    bump = (
        "UPDATE patient_summaries SET diary_version = diary_version + 1 "
        "WHERE patient_id = {row}.patient_id "
        "AND (pending > 0 OR computed_version = diary_version)"
    )
    out = []
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        body = bump.format(row=row)
        if table == "patients" and event == "INSERT":
            body = (
                "INSERT OR IGNORE INTO patient_summaries (patient_id, diary_version) "
                "VALUES (NEW.patient_id, 1)"
            )
        elif table == "patients" and event == "DELETE":
            continue  # the summary goes with the patient (ON DELETE CASCADE)
        elif event == "UPDATE":
            body += "; " + bump.format(row="OLD") + " AND OLD.patient_id <> NEW.patient_id"
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS summary_{table}_{event.lower()} "
            f"AFTER {event} ON {table} FOR EACH ROW BEGIN {body}; END"
        )
    return out


_PG_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION painlink_summary_new() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
      UPDATE patient_summaries s SET diary_version = s.diary_version + 1
      WHERE s.patient_id IN (SELECT DISTINCT patient_id FROM changed_rows);
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION painlink_summary_patients() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO patient_summaries (patient_id, diary_version)
      SELECT patient_id, 1 FROM changed_rows ON CONFLICT (patient_id) DO NOTHING;
      RETURN NULL;
    END $$""",
)


def _pg_triggers(table: str) -> list[str]:
    out = []
    for event, which in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        function = "painlink_summary_new"
        if table == "patients" and event == "INSERT":
            function = "painlink_summary_patients"
        elif table == "patients" and event == "DELETE":
            continue
        name = f"summary_{table}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        out.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} "
            f"REFERENCING {which} TABLE AS changed_rows "
            f"FOR EACH STATEMENT EXECUTE PROCEDURE {function}()"
        )
    return out


def create_triggers(conn: sa.Connection) -> None:
    """(Re)create the triggers that bump ``diary_version``; safe to run again."""
    if conn.dialect.name == "postgresql":
        statements = [*_PG_FUNCTIONS]
        for table in SOURCE_TABLES:
            statements += _pg_triggers(table)
    else:
        statements = [s for table in SOURCE_TABLES for s in _sqlite_triggers(table)]
    for statement in statements:
        conn.exec_driver_sql(statement)


def drop_triggers(conn: sa.Connection) -> None:
    postgres = conn.dialect.name == "postgresql"
    for table in SOURCE_TABLES:
        for event in ("insert", "update", "delete"):
            name = f"summary_{table}_{event}"
            conn.exec_driver_sql(
                f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else "")
            )
    if postgres:
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS painlink_summary_new()")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS painlink_summary_patients()")
