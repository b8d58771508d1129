"""PostgreSQL: take holds in one round trip (function gw_take_holds)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The same decision as gateway/services/holds.py:take_holds plus the inserts that follow it,
run inside the database: claim the idempotency key, lock the (SKU, node) guards in order,
read the ledger under the locks, refuse a shortfall, write the reservation and its holds.
A reserve then costs one statement (autocommit) instead of seven round trips. SQLite keeps
the Python path; tests run the reservation service on both and expect the same answers.

The ledger rule lives in gw_free_to_promise, shared with the batch form (0004), and must
match gateway/domain/ledger.py: a movement counts against a reading unless the source
applied it at or before the moment the reading was observed.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FREE_TO_PROMISE = r"""
CREATE OR REPLACE FUNCTION gw_free_to_promise(
    p_location text,
    p_position jsonb,           -- {sku, on_hand, reserved, safety, observed_at}
    p_now timestamptz,
    p_applied_after timestamptz
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_observed timestamptz := (p_position->>'observed_at')::timestamptz;
    v_held bigint;
    v_restocked bigint;
BEGIN
    -- Holds still promised, and restocked returns, that the reading does not contain yet.
    SELECT coalesce(sum(h.quantity), 0) INTO v_held
    FROM hold h JOIN reservation r ON r.id = h.reservation_id
    WHERE h.sku = p_position->>'sku' AND h.location_id = p_location
      AND (r.status = 'CONFIRMED' OR (r.status = 'ACTIVE' AND r.expires_at > p_now))
      AND (h.applied_at IS NULL OR h.applied_at > p_applied_after)
      AND (h.applied_at IS NULL OR v_observed IS NULL OR v_observed < h.applied_at);
    SELECT coalesce(sum(l.quantity), 0) INTO v_restocked
    FROM return_line l
    WHERE l.sku = p_position->>'sku' AND l.location_id = p_location
      AND l.received_at IS NOT NULL AND l.disposition = 'RESTOCK'
      AND (l.applied_at IS NULL OR l.applied_at > p_applied_after)
      AND (l.applied_at IS NULL OR v_observed IS NULL OR v_observed < l.applied_at);
    RETURN greatest(
        0,
        (p_position->>'on_hand')::bigint + v_restocked - (p_position->>'reserved')::bigint
        - v_held - (p_position->>'safety')::bigint
    );
END
$fn$;
"""

FUNCTION = r"""
CREATE OR REPLACE FUNCTION gw_take_holds(
    p_key text,                 -- idempotency key, NULL when the caller claimed it already
    p_operation text,
    p_request_hash text,
    p_reservation jsonb,        -- the reservation row to write
    p_positions jsonb,          -- [{sku, needed, on_hand, reserved, safety, observed_at}]
    p_holds jsonb,              -- [{line_sku, line_quantity, sku, quantity}]
    p_now timestamptz,
    p_applied_after timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_location text := p_reservation->>'location_id';
    v_first idempotency_record%ROWTYPE;
    v_position jsonb;
    v_available bigint;
    v_short jsonb := '[]'::jsonb;
BEGIN
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_record (key, operation, request_hash, resource_id, created_at)
        VALUES (p_key, p_operation, p_request_hash, p_reservation->>'id', p_now)
        ON CONFLICT (key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO v_first FROM idempotency_record WHERE key = p_key;
            RETURN jsonb_build_object(
                'replay', v_first.resource_id,
                'operation', v_first.operation,
                'request_hash', v_first.request_hash
            );
        END IF;
    END IF;

    -- Lock every position first, in the caller's (sorted) order.
    FOR v_position IN SELECT * FROM jsonb_array_elements(p_positions) LOOP
        INSERT INTO stock_guard (sku, location_id, version)
        VALUES (v_position->>'sku', v_location, 1)
        ON CONFLICT (sku, location_id) DO UPDATE SET version = stock_guard.version + 1;
    END LOOP;

    -- Each statement below sees every hold committed before the locks were granted.
    FOR v_position IN SELECT * FROM jsonb_array_elements(p_positions) LOOP
        v_available := gw_free_to_promise(v_location, v_position, p_now, p_applied_after);
        IF v_available < (v_position->>'needed')::bigint THEN
            v_short := v_short || jsonb_build_object(
                'sku', v_position->>'sku',
                'locationId', v_location,
                'requested', (v_position->>'needed')::bigint,
                'available', v_available
            );
        END IF;
    END LOOP;
    IF jsonb_array_length(v_short) > 0 THEN
        -- Raising undoes the idempotency claim too: a refused request records nothing.
        RAISE EXCEPTION 'INSUFFICIENT_STOCK' USING ERRCODE = 'GW001', DETAIL = v_short::text;
    END IF;

    INSERT INTO reservation (id, status, location_id, channel, customer_ref, order_id,
                             created_at, expires_at, updated_at)
    VALUES (p_reservation->>'id', p_reservation->>'status', v_location,
            p_reservation->>'channel', p_reservation->>'customer_ref',
            p_reservation->>'order_id', (p_reservation->>'created_at')::timestamptz,
            (p_reservation->>'expires_at')::timestamptz, p_now);
    INSERT INTO hold (reservation_id, line_sku, line_quantity, sku, location_id, quantity)
    SELECT p_reservation->>'id', h->>'line_sku', (h->>'line_quantity')::int, h->>'sku',
           v_location, (h->>'quantity')::int
    FROM jsonb_array_elements(p_holds) AS h;
    RETURN jsonb_build_object('held', true);
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FREE_TO_PROMISE)
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS gw_take_holds(text, text, text, jsonb, jsonb, jsonb, timestamptz, timestamptz)"
        )
