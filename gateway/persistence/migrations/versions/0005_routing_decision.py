"""routing decisions: each gateway order's plan with the inputs it was decided on

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_decision",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("snapshot_version", sa.Integer(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["customer_order.id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("routing_decision")
