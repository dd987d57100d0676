"""the clinic list's per-patient summaries, kept fresh by triggers (issue 14)

``patient_summaries`` holds what the clinic's patient list shows, one row per patient,
with the diary version it was computed from; triggers on every diary table bump the
version (painlink/store/summary_tables.py says why). Every existing patient gets a row
marked stale (no computed version): the first list load computes it. Nothing else is
touched.

Revision ID: 0010_patient_summaries
Revises: 0009b_corrections
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painlink.store.summary_tables import create_triggers, drop_triggers

revision = "0010_patient_summaries"
down_revision = "0009b_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_summaries",
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("diary_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pending", sa.Integer(), server_default="0", nullable=False),
        sa.Column("computed_version", sa.Integer(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("last_entry", sa.Date(), nullable=True),
        sa.Column("red_flags", sa.Integer(), server_default="0", nullable=False),
        sa.Column("urgency", sa.String(40), nullable=True),
        sa.Column("flags", sa.Text(), nullable=True),
        sa.Column("diagnoses", sa.Text(), nullable=True),
        sa.Column("attacks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("marks", sa.String(28), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.patient_id"],
            name=op.f("fk_patient_summaries_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_summaries")),
    )
    op.create_index("ix_patient_summaries_order", "patient_summaries", ["red_flags", "last_entry"])
    stale = "computed_version IS NULL OR computed_version <> diary_version"
    op.create_index(
        "ix_patient_summaries_stale",
        "patient_summaries",
        ["patient_id"],
        sqlite_where=sa.text(stale),
        postgresql_where=sa.text(stale),
    )
    op.execute(
        "INSERT INTO patient_summaries (patient_id, diary_version) "
        "SELECT patient_id, 1 FROM patients"
    )
    create_triggers(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_index("ix_patient_summaries_stale", table_name="patient_summaries")
    op.drop_index("ix_patient_summaries_order", table_name="patient_summaries")
    op.drop_table("patient_summaries")
