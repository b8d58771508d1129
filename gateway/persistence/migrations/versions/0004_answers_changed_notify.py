"""PostgreSQL: NOTIFY gateway_answers_changed when holds, orders, returns or deliveries change

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Every gateway process caches whole answers for a second under a generation token. Without
Redis each process has its own token; this trigger tells all of them (LISTEN, in
gateway/persistence/notify.py) that something an answer may show has changed. NOTIFY is
transactional: it is sent when the change commits and never for a rolled-back one, it costs
no extra round trip, and PostgreSQL folds the notifications of one transaction into one
(same channel and payload: the transaction id).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("hold", "reservation", "customer_order", "return_request", "return_line", "outbox")

FUNCTION = """
CREATE OR REPLACE FUNCTION gw_answers_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('gateway_answers_changed', txid_current()::text);
    RETURN NULL;
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER gw_{table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gw_answers_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS gw_{table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gw_answers_changed()")
