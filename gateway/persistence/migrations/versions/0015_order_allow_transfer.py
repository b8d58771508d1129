"""an order remembers whether its customer accepted a transfer

A pickup order placed with ``allowTransfer`` may be collected after units are transferred
from another node. The order now keeps that consent, so a unit sold at the till can be
replaced by a transfer without asking again (and only then).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch_op:
        batch_op.add_column(
            sa.Column("allow_transfer", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_order") as batch_op:
        batch_op.drop_column("allow_transfer")
