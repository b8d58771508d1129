"""an order's record in a backend remembers the backend's own time of the state recorded

A webhook's read of a WooCommerce order can reach the gateway after the gateway recorded a
later state of that order (its own refund, say). Comparing the read's ``date_modified``
with the time WooCommerce gave the recorded state, both on WooCommerce's clock, tells an
old read from news.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_system_record") as batch_op:
        batch_op.add_column(
            sa.Column("source_modified_at", UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("order_system_record") as batch_op:
        batch_op.drop_column("source_modified_at")
