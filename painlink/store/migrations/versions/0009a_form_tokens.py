"""form tokens: a form sent twice writes once (issue 12)

A token per rendered form is kept once its write commits, with what the first submit
answered, so a double tap or a resent form changes nothing (painlink.web.once).
A new table only: stored data is untouched.

Revision ID: 0009a_form_tokens
Revises: 0008
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009a_form_tokens"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_form_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "token", name=op.f("pk_form_tokens")),
    )


def downgrade() -> None:
    op.drop_table("form_tokens")
