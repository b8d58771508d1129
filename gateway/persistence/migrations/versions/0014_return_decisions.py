"""returned units awaiting a decision

INSPECT and REFURBISH units used to leave the ledger on receipt (REFURBISH) or stay incoming
for ever (INSPECT). They now stay incoming at their node until someone restocks or disposes
of them (``restockReturnUnits`` / ``disposeReturnUnits``), which this column records.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.persistence.columns import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("return_line") as batch_op:
        batch_op.add_column(sa.Column("decided_at", UtcDateTime(timezone=True), nullable=True))
    # REFURBISH units received before this left sellable stock on receipt: keep it so.
    op.execute(
        "UPDATE return_line SET decided_at = received_at "
        "WHERE disposition = 'REFURBISH' AND received_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("return_line") as batch_op:
        batch_op.drop_column("decided_at")
