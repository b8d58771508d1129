"""PostgreSQL: one function decides holds (gw_take_holds_batch); gw_take_holds delegates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

An order's holds were taken by gw_take_holds (0003) and reserves by gw_take_holds_batch
(0004): two copies of one decision. The batch function now also takes items without an
idempotency key (an order's holds, whose key the order's own transaction claimed), so the
gateway calls it for both, with one item inside the order's transaction. gw_take_holds
stays, as a wrapper that hands its one item to the batch function and raises GW001 on a
shortfall as before, for gateway processes of the previous version still running during a
rolling upgrade; a later migration can drop it. The ledger rule stays in
gw_free_to_promise (0003).
"""

from __future__ import annotations

from importlib import import_module

from alembic import op

revision = "0006"
down_revision = "0005"
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
        IF v_item->>'key' IS NULL THEN
            -- The caller's transaction claimed its key (or the write needs none).
            v_claimed := v_claimed || true;
            CONTINUE;
        END IF;
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


SINGLE = r"""
CREATE OR REPLACE FUNCTION gw_take_holds(
    p_key text,
    p_operation text,
    p_request_hash text,
    p_reservation jsonb,
    p_positions jsonb,
    p_holds jsonb,
    p_now timestamptz,
    p_applied_after timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_answer jsonb;
BEGIN
    v_answer := gw_take_holds_batch(
        jsonb_build_array(jsonb_build_object(
            'key', p_key, 'operation', p_operation, 'request_hash', p_request_hash,
            'reservation', p_reservation, 'positions', p_positions, 'holds', p_holds)),
        p_now, p_applied_after) -> 0;
    IF v_answer ? 'short' THEN
        -- Raising undoes the caller's transaction, the idempotency claim included.
        RAISE EXCEPTION 'INSUFFICIENT_STOCK' USING ERRCODE = 'GW001',
            DETAIL = (v_answer->'short')::text;
    END IF;
    RETURN v_answer;
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(SINGLE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The two functions exactly as 0003 and 0004 made them.
        versions = "gateway.persistence.migrations.versions"
        op.execute(import_module(f"{versions}.0004_take_holds_batch").FUNCTION)
        op.execute(import_module(f"{versions}.0003_take_holds_function").FUNCTION)
