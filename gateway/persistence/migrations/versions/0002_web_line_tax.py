"""web order lines keep WooCommerce's total, tax and tax per rate for exact refunds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: web orders imported before this revision have no figures and are refunded
    # from their unit price, as before.
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_total_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("web_tax_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("web_taxes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("web_taxes")
        batch_op.drop_column("web_tax_minor")
        batch_op.drop_column("web_total_minor")
