"""the day's stoplight: green / yellow / red, for people who do not track factors

A check-in can now be just how the day went (Mayo Clinic's stoplight diary,
painlink/rules/checkin.py). Existing days keep every value and have no stoplight.

Revision ID: 0009d_checkin
Revises: 0009c_drug_names
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009d_checkin"
down_revision = "0009c_drug_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("days") as batch:
        batch.add_column(sa.Column("stoplight", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_days_stoplight_vocab"), "stoplight IN ('green', 'yellow', 'red')"
        )


def downgrade() -> None:
    with op.batch_alter_table("days") as batch:
        batch.drop_constraint(op.f("ck_days_stoplight_vocab"), type_="check")
        batch.drop_column("stoplight")
