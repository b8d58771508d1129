"""an order's exceptions in the discrepancy queue

An order that cannot be allocated, whose systems disagree on its state, whose write is
dead-lettered or whose hold a node can no longer fill is an exception about that order: the
queue's key gains the order (``""`` for the stock figures' disagreements, as before).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_KEY = ["kind", "sku", "location_id", "system"]


def upgrade() -> None:
    with op.batch_alter_table("discrepancy") as batch_op:
        batch_op.add_column(
            sa.Column("order_id", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_discrepancy_key", type_="unique")
        batch_op.create_unique_constraint("uq_discrepancy_key", [*OLD_KEY, "order_id"])
        batch_op.create_index("ix_discrepancy_order", ["order_id"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM discrepancy_event WHERE discrepancy_id IN "
        "(SELECT id FROM discrepancy WHERE order_id <> '')"
    )
    op.execute("DELETE FROM discrepancy WHERE order_id <> ''")
    with op.batch_alter_table("discrepancy") as batch_op:
        batch_op.drop_index("ix_discrepancy_order")
        batch_op.drop_constraint("uq_discrepancy_key", type_="unique")
        batch_op.create_unique_constraint("uq_discrepancy_key", OLD_KEY)
        batch_op.drop_column("order_id")
