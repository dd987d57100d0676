"""audit chain: append-only, hash-chained audit_log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 22:50:00

Existing audit rows are chained here, in id order, so ``painlink audit verify`` holds
from the first row on; from then on the triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painlink.store import audit

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("hash_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))

    conn = op.get_bind()
    log = sa.table(
        "audit_log",
        *(sa.column(n) for n in ("id", *audit.HASHED_FIELDS, "hash_kind", "prev_hash", "row_hash")),
    )
    key = audit.audit_key()
    kind = audit.HMAC if key else audit.SHA256
    prev, seq, last_id = audit.GENESIS, 0, None
    update = (
        log.update()
        .where(log.c.id == sa.bindparam("_id"))
        .values(
            seq=sa.bindparam("_seq"),
            hash_kind=sa.bindparam("_kind"),
            prev_hash=sa.bindparam("_prev"),
            row_hash=sa.bindparam("_hash"),
        )
    )
    while True:  # in id order, 10,000 rows at a time: a long log need not fit in memory
        query = sa.select(log).order_by(log.c.id).limit(10_000)
        if last_id is not None:
            query = query.where(log.c.id > last_id)
        rows = conn.execute(query).mappings().all()
        if not rows:
            break
        params = []
        for row in rows:
            seq += 1
            digest = audit.row_hash({**row, "seq": seq}, prev, kind, key)
            params.append(
                {"_id": row["id"], "_seq": seq, "_kind": kind, "_prev": prev, "_hash": digest}
            )
            prev = digest
        conn.execute(update, params)
        last_id = rows[-1]["id"]
    conn.execute(
        sa.table("audit_chain_head", sa.column("id"), sa.column("seq"), sa.column("row_hash"))
        .insert()
        .values(id=1, seq=seq, row_hash=prev)
    )

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("hash_kind", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_audit_log_seq"), ["seq"])
    audit.create_triggers(conn)


def downgrade() -> None:
    conn = op.get_bind()
    audit.drop_triggers(conn)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_audit_log_seq"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash_kind")
        batch_op.drop_column("seq")
    op.drop_table("audit_chain_head")
