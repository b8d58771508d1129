"""PostgreSQL: take the holds of many reservations in one call (gw_take_holds_batch)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The batch form of gw_take_holds (migration 0003), for the reserves one gateway process
receives while its previous call is in flight: one statement and one commit for all of
them. Each item is decided exactly as a single call would decide it, in the order given,
seeing the holds of the items before it:

1. claim every item's idempotency key (a key already used answers with its first use);
2. lock the (SKU, node) guards of all claimed items in one global order (SKU, node, byte
   order: the order every other hold-taking path uses, so no two callers deadlock);
3. per item: read the ledger under the locks; a short item gets its shortfalls and its key
   back (the claim is deleted, so a refused request records nothing); otherwise write the
   reservation and its holds.

Returns a JSON array with one entry per item: {"held": true} | {"short": [...]} |
{"replay": id, "operation": ..., "request_hash": ...}.

``plan_cache_mode = force_custom_plan``: after five calls PL/pgSQL switches its statements
to generic plans, and for these the generic plans are poor (measured: 1.05 ms per item at
64 items with them, 0.18 ms with custom plans).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION gw_take_holds_batch(
    p_items jsonb,
    p_now timestamptz,
    p_applied_after timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_custom_plan
AS $fn$
DECLARE
    v_item jsonb;
    v_index int := 0;
    v_claimed boolean[] := '{}';
    v_first idempotency_record%ROWTYPE;
    v_sku text;
    v_location text;
    v_position jsonb;
    v_available bigint;
    v_short jsonb;
    v_results jsonb := '[]'::jsonb;
BEGIN
    FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        INSERT INTO idempotency_record (key, operation, request_hash, resource_id, created_at)
        VALUES (v_item->>'key', v_item->>'operation', v_item->>'request_hash',
                v_item->'reservation'->>'id', p_now)
        ON CONFLICT (key) DO NOTHING;
        v_claimed := v_claimed || FOUND;
    END LOOP;

    FOR v_sku, v_location IN
        SELECT DISTINCT pos->>'sku' COLLATE "C", t.item->'reservation'->>'location_id' COLLATE "C"
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(item, n)
        CROSS JOIN LATERAL jsonb_array_elements(t.item->'positions') AS pos
        WHERE v_claimed[t.n]
        ORDER BY 1, 2
    LOOP
        INSERT INTO stock_guard (sku, location_id, version) VALUES (v_sku, v_location, 1)
        ON CONFLICT (sku, location_id) DO UPDATE SET version = stock_guard.version + 1;
    END LOOP;

    FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_index := v_index + 1;
        IF NOT v_claimed[v_index] THEN
            SELECT * INTO v_first FROM idempotency_record WHERE key = v_item->>'key';
            v_results := v_results || jsonb_build_array(jsonb_build_object(
                'replay', v_first.resource_id,
                'operation', v_first.operation,
                'request_hash', v_first.request_hash));
            CONTINUE;
        END IF;
        v_location := v_item->'reservation'->>'location_id';
        v_short := '[]'::jsonb;
        FOR v_position IN SELECT value FROM jsonb_array_elements(v_item->'positions') LOOP
            v_available := gw_free_to_promise(v_location, v_position, p_now, p_applied_after);
            IF v_available < (v_position->>'needed')::bigint THEN
                v_short := v_short || jsonb_build_array(jsonb_build_object(
                    'sku', v_position->>'sku',
                    'locationId', v_location,
                    'requested', (v_position->>'needed')::bigint,
                    'available', v_available));
            END IF;
        END LOOP;
        IF jsonb_array_length(v_short) > 0 THEN
            DELETE FROM idempotency_record WHERE key = v_item->>'key';
            v_results := v_results || jsonb_build_array(jsonb_build_object('short', v_short));
            CONTINUE;
        END IF;
        INSERT INTO reservation (id, status, location_id, channel, customer_ref, order_id,
                                 created_at, expires_at, updated_at)
        VALUES (v_item->'reservation'->>'id', v_item->'reservation'->>'status', v_location,
                v_item->'reservation'->>'channel', v_item->'reservation'->>'customer_ref',
                v_item->'reservation'->>'order_id',
                (v_item->'reservation'->>'created_at')::timestamptz,
                (v_item->'reservation'->>'expires_at')::timestamptz, p_now);
        INSERT INTO hold (reservation_id, line_sku, line_quantity, sku, location_id, quantity)
        SELECT v_item->'reservation'->>'id', h->>'line_sku', (h->>'line_quantity')::int,
               h->>'sku', v_location, (h->>'quantity')::int
        FROM jsonb_array_elements(v_item->'holds') AS h;
        v_results := v_results || jsonb_build_array(jsonb_build_object('held', true));
    END LOOP;
    RETURN v_results;
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS gw_take_holds_batch(jsonb, timestamptz, timestamptz)")
