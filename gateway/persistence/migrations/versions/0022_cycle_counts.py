"""Recorded cycle counts: who counted what at a node, when, and what each line meant

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cycle_count",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("location_id", sa.String(80), nullable=False),
        sa.Column("counted_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("counted_by", sa.String(120), nullable=False),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cycle_count_location_time", "cycle_count", ["location_id", "counted_at"])
    op.create_table(
        "cycle_count_line",
        sa.Column("count_id", sa.String(40), sa.ForeignKey("cycle_count.id"), primary_key=True),
        sa.Column("sku", sa.String(140), primary_key=True),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("book_at_count", sa.Integer(), nullable=True),
        sa.Column("variance", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("corrected_to", sa.Integer(), nullable=True),
        sa.Column("unit_cost_minor", sa.Integer(), nullable=True),
        sa.Column("cost_currency", sa.String(3), nullable=True),
        sa.Column("discrepancy_id", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("cycle_count_line")
    op.drop_index("ix_cycle_count_location_time", table_name="cycle_count")
    op.drop_table("cycle_count")
