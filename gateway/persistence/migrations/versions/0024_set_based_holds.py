"""PostgreSQL: gw_take_holds_batch takes one statement per step for a batch, not per item

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 14:00:00

The function of 0006 (as 0020 amended it) ran a claim, a guard upsert, two ledger sums in
gw_free_to_promise, a reservation insert and a hold insert for every item, each planned
afresh (force_custom_plan): about 0.55 ms of PostgreSQL CPU per hold at 16 items a batch,
most of it planning and per-statement overhead. This one makes the same decisions with one
statement per step for the whole batch:

1. claim every key (sorted, so two batches never wait on each other's keys in a cycle);
2. lock the guards of the claimed items in the one global order (SKU, node, byte order);
3. read the ledger under the locks once per item and position (gw_free_to_promise's rule
   of 0003, written inline: it must stay identical to it and to gateway/domain/ledger.py),
   then decide the items in arrival order in memory: an item taken counts against the later
   items of the batch at its positions exactly as its rows would (holds of a reservation
   that is CONFIRMED or ACTIVE and unexpired), and an item refused takes nothing, not even
   at its positions that had enough;
4. give back the refused items' claims, write the taken reservations and holds.

The answers, the rows and the GW001 of the gw_take_holds wrapper (0006) are unchanged;
tests/services/test_pg_hold_batch_decisions.py runs both functions on the same batches.

The statements are planned once per session (force_generic_plan), which only pays because
no plan here depends on the tables' sizes: every read is a lookup by key, the reservation
behind a hold is read by a scalar subquery so no join order or method is left to choose,
and enable_seqscan is off so a plan made while the tables were still empty does not scan
them once they are not. jit is off: the row estimates of jsonb_array_elements (100 a level)
push the cost past jit_above_cost, and compiling took 0.5 s a call.
"""

from __future__ import annotations

from importlib import import_module

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION gw_take_holds_batch(
    p_items jsonb,
    p_now timestamptz,
    p_applied_after timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET jit = off
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $fn$
DECLARE
    v_claimed boolean[];
    v_item record;
    v_first idempotency_record%ROWTYPE;
    v_available bigint;
    v_short jsonb;
    v_position text;
    v_taken jsonb := '{}';          -- units held by earlier items of this batch, per position
    v_refused text[] := '{}';       -- keys of refused items: their claims are given back
    v_accepted bigint[] := '{}';    -- items whose reservation and holds are written
    v_answers jsonb[] := '{}';
BEGIN
    -- 1. Claim the keys. A key twice in one batch: its first item claims it, as in a loop.
    WITH claim AS (
        INSERT INTO idempotency_record AS r (key, operation, request_hash, resource_id,
                                             created_at)
        SELECT DISTINCT ON ((i.item->>'key') COLLATE "C")
               i.item->>'key', i.item->>'operation', i.item->>'request_hash',
               i.item->'reservation'->>'id', p_now
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
        WHERE i.item->>'key' IS NOT NULL
        ORDER BY (i.item->>'key') COLLATE "C", i.n
        ON CONFLICT (key) DO NOTHING
        RETURNING r.key
    ), first_use AS (
        SELECT DISTINCT ON (i.item->>'key') i.n
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
        JOIN claim c ON c.key = i.item->>'key'
        ORDER BY i.item->>'key', i.n
    )
    SELECT array_agg(i.item->>'key' IS NULL OR f.n IS NOT NULL ORDER BY i.n)
    INTO v_claimed
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
    LEFT JOIN first_use f ON f.n = i.n;

    -- 2. Lock the guards of every claimed item, in the one global order.
    INSERT INTO stock_guard AS g (sku, location_id, version)
    SELECT DISTINCT p.pos->>'sku' COLLATE "C",
           (i.item->'reservation'->>'location_id') COLLATE "C", 1
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
    CROSS JOIN LATERAL jsonb_array_elements(i.item->'positions') AS p(pos)
    WHERE v_claimed[i.n]
    ORDER BY 1, 2
    ON CONFLICT (sku, location_id) DO UPDATE SET version = g.version + 1;

    -- 3. Read the ledger under the locks once per item and position (gw_free_to_promise's
    --    rule; this batch's own holds are not written yet), then decide the items in
    --    arrival order, counting the holds of the items taken before each.
    FOR v_item IN
        SELECT i.n, i.item->>'key' AS key, v_claimed[i.n] AS claimed,
               i.item->'reservation'->>'location_id' AS location,
               d.skus, d.needed, d.free, t.skus AS take_skus, t.quantities AS take_quantities
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
        LEFT JOIN LATERAL (
            SELECT array_agg(p.sku ORDER BY p.k) AS skus,
                   array_agg(p.needed ORDER BY p.k) AS needed,
                   array_agg(
                       p.on_hand
                       + (SELECT coalesce(sum(l.quantity), 0)
                          FROM return_line l
                          WHERE l.sku = p.sku
                            AND l.location_id = i.item->'reservation'->>'location_id'
                            AND l.received_at IS NOT NULL AND l.disposition = 'RESTOCK'
                            AND (l.applied_at IS NULL OR l.applied_at > p_applied_after)
                            AND (l.applied_at IS NULL OR p.observed_at IS NULL
                                 OR p.observed_at < l.applied_at))
                       - p.reserved
                       - (SELECT coalesce(sum(h.quantity), 0)
                          FROM hold h
                          WHERE h.sku = p.sku
                            AND h.location_id = i.item->'reservation'->>'location_id'
                            AND (h.applied_at IS NULL OR h.applied_at > p_applied_after)
                            AND (h.applied_at IS NULL OR p.observed_at IS NULL
                                 OR p.observed_at < h.applied_at)
                            AND (SELECT r.status = 'CONFIRMED'
                                        OR (r.status = 'ACTIVE' AND r.expires_at > p_now)
                                 FROM reservation r WHERE r.id = h.reservation_id))
                       - p.safety
                       ORDER BY p.k) AS free
            FROM ROWS FROM (jsonb_to_recordset(i.item->'positions') AS (
                     sku text, needed bigint, on_hand bigint, reserved bigint, safety bigint,
                     observed_at timestamptz)) WITH ORDINALITY
                 AS p(sku, needed, on_hand, reserved, safety, observed_at, k)
        ) d ON v_claimed[i.n]
        LEFT JOIN LATERAL (
            -- What the item holds if it is taken, as later items of the batch must count it.
            SELECT array_agg(h.sku) AS skus, array_agg(h.quantity) AS quantities
            FROM jsonb_to_recordset(i.item->'holds') AS h(sku text, quantity int)
            WHERE i.item->'reservation'->>'status' = 'CONFIRMED'
               OR (i.item->'reservation'->>'status' = 'ACTIVE'
                   AND (i.item->'reservation'->>'expires_at')::timestamptz > p_now)
        ) t ON v_claimed[i.n]
        ORDER BY i.n
    LOOP
        IF NOT v_item.claimed THEN
            -- Its key was used before. If that was an item earlier in this batch that was
            -- refused, its claim is taken back (below), and the answer names nothing.
            SELECT * INTO v_first FROM idempotency_record WHERE key = v_item.key;
            IF v_item.key = ANY (v_refused) THEN
                v_first := NULL;
            END IF;
            v_answers := v_answers || jsonb_build_object(
                'replay', v_first.resource_id,
                'operation', v_first.operation,
                'request_hash', v_first.request_hash);
            CONTINUE;
        END IF;
        v_short := NULL;
        FOR j IN 1 .. coalesce(cardinality(v_item.skus), 0) LOOP
            v_available := greatest(0, v_item.free[j] - coalesce(
                (v_taken->>jsonb_build_array(v_item.location, v_item.skus[j])::text)::bigint, 0));
            IF v_available < v_item.needed[j] THEN
                v_short := coalesce(v_short, '[]'::jsonb) || jsonb_build_array(
                    jsonb_build_object(
                        'sku', v_item.skus[j],
                        'locationId', v_item.location,
                        'requested', v_item.needed[j],
                        'available', v_available));
            END IF;
        END LOOP;
        IF v_short IS NOT NULL THEN
            IF v_item.key IS NOT NULL THEN
                v_refused := v_refused || v_item.key;
            END IF;
            v_answers := v_answers || jsonb_build_object('short', v_short);
            CONTINUE;
        END IF;
        v_accepted := v_accepted || v_item.n;
        FOR j IN 1 .. coalesce(cardinality(v_item.take_skus), 0) LOOP
            v_position := jsonb_build_array(v_item.location, v_item.take_skus[j])::text;
            v_taken := v_taken || jsonb_build_object(
                v_position,
                coalesce((v_taken->>v_position)::bigint, 0) + v_item.take_quantities[j]);
        END LOOP;
        v_answers := v_answers || '{"held": true}'::jsonb;
    END LOOP;

    -- 4. Write what was decided: refused claims go, taken reservations and holds come.
    IF cardinality(v_refused) > 0 THEN
        DELETE FROM idempotency_record WHERE key = ANY (v_refused);
    END IF;
    IF cardinality(v_accepted) > 0 THEN
        INSERT INTO reservation (id, status, location_id, channel, customer_ref, requested_by,
                                 order_id, created_at, expires_at, updated_at)
        SELECT r.id, r.status, r.location_id, r.channel, r.customer_ref, r.requested_by,
               r.order_id, r.created_at, r.expires_at, p_now
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
        CROSS JOIN LATERAL jsonb_to_record(i.item->'reservation') AS r(
            id text, status text, location_id text, channel text, customer_ref text,
            requested_by text, order_id text, created_at timestamptz, expires_at timestamptz)
        WHERE i.n = ANY (v_accepted)
        ORDER BY i.n;
        INSERT INTO hold (reservation_id, line_sku, line_quantity, sku, location_id, quantity)
        SELECT i.item->'reservation'->>'id', h.line_sku, h.line_quantity, h.sku,
               i.item->'reservation'->>'location_id', h.quantity
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(item, n)
        CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(i.item->'holds') AS (
                line_sku text, line_quantity int, sku text, quantity int)) WITH ORDINALITY
            AS h(line_sku, line_quantity, sku, quantity, k)
        WHERE i.n = ANY (v_accepted)
        ORDER BY i.n, h.k;
    END IF;
    RETURN to_jsonb(v_answers);
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The function as 0006 made it and 0020 amended it (it writes requested_by).
        amended = import_module("gateway.persistence.migrations.versions.0020_requested_by")
        op.execute(amended._function_with_requested_by())
