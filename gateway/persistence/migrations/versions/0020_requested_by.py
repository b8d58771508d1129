"""Who asked: the principal each outbox write and each reservation was made for

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 12:20:00

The outbox names who asked for each write, so the audit entry its delivery leaves names
them too; a reservation names who took it, so only they (or staff) extend or release it.
On PostgreSQL the hold function (0006) writes the new column with the reservation.
"""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_ONE_HOLD_FUNCTION = "gateway.persistence.migrations.versions.0006_one_hold_function"
_COLUMNS = "customer_ref, order_id,"
_VALUES = "v_item->'reservation'->>'customer_ref',"


def _function_with_requested_by() -> str:
    before: str = import_module(_ONE_HOLD_FUNCTION).FUNCTION
    # The 0006 function, writing one more column; checked so a changed source fails loudly.
    assert before.count(_COLUMNS) == 1 and before.count(_VALUES) == 1
    return before.replace(_COLUMNS, "customer_ref, requested_by, order_id,").replace(
        _VALUES, _VALUES + " v_item->'reservation'->>'requested_by',"
    )


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(200), nullable=True))
    with op.batch_alter_table("reservation") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(200), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function_with_requested_by())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(import_module(_ONE_HOLD_FUNCTION).FUNCTION)
    with op.batch_alter_table("reservation") as batch:
        batch.drop_column("requested_by")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("requested_by")
