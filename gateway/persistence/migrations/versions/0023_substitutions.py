"""Short picks: the substitutes offered for units a picker did not find, and the answer

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "substitution",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("customer_order.id"), nullable=False),
        sa.Column("location_id", sa.String(80), nullable=False),
        sa.Column("sku", sa.String(140), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("offered", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offered_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("chosen", sa.String(140), nullable=True),
        sa.Column("answered_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_substitution_order_id", "substitution", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_substitution_order_id", table_name="substitution")
    op.drop_table("substitution")
