"""entries can be corrected: a record of every edit and delete, and undo (issue 12)

``entry_corrections`` holds one row per edit or delete of a diary entry, with the rows
as they were before (JSON), so a delete can be undone and a clinician can see that an
entry was corrected. Existing diary tables are not touched.

Revision ID: 0009b_corrections
Revises: 0009d_checkin
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009b_corrections"
down_revision = "0009d_checkin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "action IN ('edit', 'delete')", name=op.f("ck_entry_corrections_action_vocab")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.patient_id"],
            name=op.f("fk_entry_corrections_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_corrections")),
    )
    op.create_index("ix_entry_corrections_patient_at", "entry_corrections", ["patient_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_entry_corrections_patient_at", table_name="entry_corrections")
    op.drop_table("entry_corrections")
