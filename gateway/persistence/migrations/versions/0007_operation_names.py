"""idempotency records name their operation as the GraphQL mutation does

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Every mutation now takes the one command path (gateway/services/commands.py), which names
an operation after its GraphQL mutation. Three reservation operations were stored as
``reservation.<verb>``; they are renamed so a key's first use reads the same either way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RENAMED = {
    "reservation.extend": "extendReservation",
    "reservation.release": "releaseReservation",
    "reservation.confirm": "confirmReservation",
}

_RENAME = sa.text("UPDATE idempotency_record SET operation = :new WHERE operation = :old")


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(_RENAME.bindparams(old=old, new=new))


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(_RENAME.bindparams(old=new, new=old))
