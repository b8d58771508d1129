"""webhook events leased to one process; orders found by their Shopify order

Several gateway processes work the same webhook inbox: each claims a batch for a while
(lease_until) so no event is processed twice at once, and one whose process died is taken
again when its lease runs out. A fulfillment_orders/* event names the Shopify order, so
orders are looked up by it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_event") as batch:
        batch.add_column(sa.Column("lease_until", UtcDateTime(timezone=True), nullable=True))
    op.create_index("ix_order_oms_order_id", "customer_order", ["oms_order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_oms_order_id", table_name="customer_order")
    with op.batch_alter_table("webhook_event") as batch:
        batch.drop_column("lease_until")
