"""webhook deliveries as received

Each verified webhook delivery is recorded before it is acknowledged, keyed by its event's
identity, so a replay (even after a restart) is recognised, and processed after.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.UniqueConstraint("system", "event_key", name="uq_webhook_event"),
    )
    op.create_index("ix_webhook_event_processed_at", "webhook_event", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_event_processed_at", table_name="webhook_event")
    op.drop_table("webhook_event")
