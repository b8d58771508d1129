"""Internal barcodes the gateway assigned: one item per code, across processes

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assigned_barcode",
        sa.Column("code", sa.String(48), primary_key=True),
        sa.Column("sku", sa.String(140), nullable=False, index=True),
        sa.Column("assigned_at", UtcDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assigned_barcode")
