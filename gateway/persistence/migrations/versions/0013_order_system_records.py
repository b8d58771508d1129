"""every record of an order in every backend

An order's id and status per backend were one column pair per system, so a split order's
second Sales Order overwrote its first. Each record now has a row of its own (system, its
id there, the node it is for, status, when last heard of); the existing pairs are copied.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COPIES = (
    ("STOREFRONT", "CAST(web_order_id AS VARCHAR(80))", "web_status", "web_order_id"),
    ("OMS", "oms_order_id", "oms_status", "oms_order_id"),
    ("ERP", "erp_sales_order", "erp_status", "erp_sales_order"),
)


def upgrade() -> None:
    op.create_table(
        "order_system_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id", sa.String(length=40), sa.ForeignKey("customer_order.id"), nullable=False
        ),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("location_id", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("synced_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_id", "system", "record_id", name="uq_order_system_record"),
    )
    op.create_index("ix_order_system_record_order_id", "order_system_record", ["order_id"])
    for system, record_id, status, present in COPIES:
        op.execute(
            "INSERT INTO order_system_record (order_id, system, record_id, status, synced_at) "
            f"SELECT id, '{system}', {record_id}, {status}, updated_at FROM customer_order "
            f"WHERE {present} IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_index("ix_order_system_record_order_id", table_name="order_system_record")
    op.drop_table("order_system_record")
