"""The Mutation root. Every mutation takes an idempotency key: the same key with the same
input returns the first result; with a different input it is refused
(IDEMPOTENCY_KEY_REUSED)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.domain.documents import Tracking
from gateway.domain.orders import Disposition
from gateway.domain.reservations import ReservationLine
from gateway.errors import BadUserInput
from gateway.services.orders.draft import PlaceOrderRequest
from gateway.services.reservations import ReserveRequest
from gateway.services.returns.rules import ReturnLineRequest
from gateway.truth.recorded_counts import CountLine
from resolvers.context import GatewayContext
from resolvers.permissions import ADMIN, OPS, STORE_ASSOCIATE, STOREFRONT, SUPPORT, allow
from resolvers.record_access import (
    callers_node,
    order_at_callers_store,
    own_hold,
    readable_order,
    return_at_callers_store,
)
from resolvers.types.cycle_counts import CountLineInput, CycleCount
from resolvers.types.order import Order, PlaceOrderInput, TrackingInput
from resolvers.types.picking import ShortPick, Substitution
from resolvers.types.product import BarcodeAssignment
from resolvers.types.reservation import LineInput, Reservation, ReserveInput
from resolvers.types.returns import Delivery, ReturnLineInput, ReturnRequest

Info = strawberry.Info[GatewayContext, None]
MAX_SKIP_REASON = 500

IdempotencyKey = Annotated[
    str, strawberry.argument(description="Unique per intended change; retries reuse it.")
]


def _lines(lines: list[LineInput]) -> tuple[ReservationLine, ...]:
    return tuple(ReservationLine(x.sku, x.quantity) for x in lines)


async def _decided(
    info: Info, return_id: strawberry.ID, skus: list[str], decision: Disposition, key: str
) -> ReturnRequest:
    await return_at_callers_store(info, str(return_id))
    decided = await info.context.services.returns.decide(str(return_id), skus, decision, key)
    return ReturnRequest.from_domain(decided)


def _delivery_id(raw: strawberry.ID) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadUserInput(f"{raw!r} is not a delivery id", field="id") from None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=allow(STOREFRONT),
        description="Hold stock at one node for a customer who committed.",
    )
    async def reserve(
        self, info: Info, input: ReserveInput, idempotency_key: IdempotencyKey
    ) -> Reservation:
        request = ReserveRequest(
            lines=_lines(input.lines),
            location_id=str(input.location_id),
            channel=input.channel,
            ttl_seconds=input.ttl_seconds,
            customer_ref=input.customer_ref,
        )
        held = await info.context.services.reservations.reserve(request, idempotency_key)
        return Reservation.from_domain(held)

    @strawberry.mutation(
        permission_classes=allow(STOREFRONT),
        description="Keep an active hold for ttlSeconds from now.",
    )
    async def extend_reservation(
        self, info: Info, id: strawberry.ID, ttl_seconds: int, idempotency_key: IdempotencyKey
    ) -> Reservation:
        await own_hold(info, str(id))
        held = await info.context.services.reservations.extend(
            str(id), ttl_seconds, idempotency_key
        )
        return Reservation.from_domain(held)

    @strawberry.mutation(
        permission_classes=allow(STOREFRONT, SUPPORT), description="Give the units back."
    )
    async def release_reservation(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Reservation:
        await own_hold(info, str(id))
        held = await info.context.services.reservations.release(str(id), idempotency_key)
        return Reservation.from_domain(held)

    @strawberry.mutation(
        permission_classes=allow(STOREFRONT),
        description="The customer committed: record the hold at the node's source of truth.",
    )
    async def confirm_reservation(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Reservation:
        await own_hold(info, str(id))
        held = await info.context.services.reservations.confirm(str(id), idempotency_key)
        return Reservation.from_domain(held)

    @strawberry.mutation(
        permission_classes=allow(STOREFRONT, SUPPORT),
        description="Check stock, hold it, choose the node, and tell the OMS, ERP and POS.",
    )
    async def place_order(
        self, info: Info, input: PlaceOrderInput, idempotency_key: IdempotencyKey
    ) -> Order:
        request = PlaceOrderRequest(
            lines=_lines(input.lines),
            channel=input.channel,
            email=input.customer.email,
            name=input.customer.name,
            delivery=None if input.delivery is None else input.delivery.address.to_domain(),
            pickup_location_id=None if input.pickup is None else str(input.pickup.location_id),
            strategy=input.strategy,
            deliver_by=input.deliver_by,
            service_level=input.service_level,
            allow_transfer=input.allow_transfer,
        )
        placed = await info.context.services.placement.place(request, idempotency_key)
        return Order.from_domain(placed)

    @strawberry.mutation(
        permission_classes=allow(SUPPORT, OPS),
        description="Cancel an order not yet shipped; its holds go back.",
    )
    async def cancel_order(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        reason: str | None = None,
    ) -> Order:
        order = await info.context.services.lifecycle.cancel(str(id), idempotency_key, reason)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS),
        description="A click-and-collect order is on the pickup shelf.",
    )
    async def mark_ready_for_pickup(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Order:
        await order_at_callers_store(info, str(id))
        order = await info.context.services.lifecycle.mark_ready_for_pickup(
            str(id), idempotency_key
        )
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS),
        description="The customer collected a click-and-collect order.",
    )
    async def confirm_pickup(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Order:
        await order_at_callers_store(info, str(id))
        order = await info.context.services.lifecycle.confirm_pickup(str(id), idempotency_key)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="Give an item a barcode: without `code`, an internal Code 128 code (the "
        "prefix BARCODES__INTERNAL_PREFIX and the SKU) for an item that has none; with it, "
        "that code (a GTIN's check digit verified). Written to the ERP item's barcode table "
        "through the outbox; a code another item has anywhere is BARCODE_CONFLICT.",
    )
    async def assign_barcode(
        self,
        info: Info,
        sku: str,
        idempotency_key: IdempotencyKey,
        code: str | None = None,
    ) -> BarcodeAssignment:
        assigned = await info.context.services.item_barcodes.assign(sku, code, idempotency_key)
        return BarcodeAssignment.from_domain(assigned)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS, ADMIN),
        description="Record a cycle count taken at `countedAt` (at most "
        "CYCLE_COUNTS__MAX_AGE_HOURS ago): each line's variance is against the node's source "
        "as it was then, so what it recorded after the count is not overwritten; a variance "
        "is written to the source as a count at that time (Square PHYSICAL_COUNT, ERPNext "
        "Stock Reconciliation) through the outbox, audited as SHRINK or GAIN with its value, "
        "and one over CYCLE_COUNTS__DISCREPANCY_* opens a COUNT_VARIANCE (a store associate: "
        "its own store).",
    )
    async def record_count(
        self,
        info: Info,
        location_id: strawberry.ID,
        lines: list[CountLineInput],
        counted_at: datetime,
        counted_by: str,
        idempotency_key: IdempotencyKey,
    ) -> CycleCount:
        await callers_node(info, str(location_id))
        count = await info.context.services.counts.record(
            str(location_id),
            [CountLine(line.sku, line.counted) for line in lines],
            counted_at,
            counted_by,
            idempotency_key,
        )
        return CycleCount.from_domain(count)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS),
        description="A picker found only `found` of the units of `sku` the order holds at the "
        "store: another node fills the rest where the order allows (REROUTED), else up to "
        "PICKING__SUBSTITUTES SKUs of the same category priced within "
        "PICKING__SUBSTITUTE_PRICE_BAND and in stock there are offered to the customer by "
        "mail (SUBSTITUTES_OFFERED), else the missing units are dropped (DROPPED).",
    )
    async def report_short_pick(
        self,
        info: Info,
        order_id: strawberry.ID,
        sku: str,
        found: int,
        idempotency_key: IdempotencyKey,
    ) -> ShortPick:
        await order_at_callers_store(info, str(order_id))
        short = await info.context.services.picking.report(
            str(order_id), sku, found, idempotency_key
        )
        return ShortPick.from_domain(short)

    @strawberry.mutation(
        permission_classes=allow(STOREFRONT, SUPPORT, STORE_ASSOCIATE, OPS),
        description="The customer's answer to a substitution: `substituteSku` (one of those "
        "offered) stands in for the missing units at the same price, or null declines and "
        "they are dropped (a web order is refunded for them). The order, its holds, Square, "
        "Shopify's order (orderEdit) and the storefront follow. Answered with the order's "
        "`accessToken`, or by staff on the customer's behalf.",
    )
    async def respond_to_substitution(
        self,
        info: Info,
        id: strawberry.ID,
        substitute_sku: str | None,
        idempotency_key: IdempotencyKey,
        access_token: str | None = None,
    ) -> Substitution:
        services = info.context.services
        offers = await services.picking.offer(str(id))
        await readable_order(info, offers.order_id, access_token)
        answered = await services.picking.respond(str(id), substitute_sku, idempotency_key)
        return Substitution.from_domain(answered)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS),
        description="The customer did not collect a ready pickup order: it is cancelled, its "
        "units go back on sale and every system is told, as the no-show sweep would.",
    )
    async def mark_no_show(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Order:
        await order_at_callers_store(info, str(id))
        order = await info.context.services.lifecycle.mark_no_show(str(id), idempotency_key)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, OPS),
        description="A delivery order left the node.",
    )
    async def ship_order(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        tracking: TrackingInput | None = None,
    ) -> Order:
        await order_at_callers_store(info, str(id))
        parsed = (
            None
            if tracking is None
            else Tracking(company=tracking.company, number=tracking.number, url=tracking.url)
        )
        order = await info.context.services.lifecycle.ship(str(id), parsed, idempotency_key)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(SUPPORT, OPS), description="A shipped order reached the customer."
    )
    async def confirm_delivery(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Order:
        order = await info.context.services.lifecycle.confirm_delivery(str(id), idempotency_key)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(SUPPORT, OPS),
        description="Bring the order's status up to what the OMS and the ERP report now.",
    )
    async def sync_order(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Order:
        order = await info.context.services.order_sync.sync(str(id), idempotency_key)
        return Order.from_domain(order)

    @strawberry.mutation(
        permission_classes=allow(SUPPORT, OPS), description="Open a return for delivered units."
    )
    async def request_return(
        self,
        info: Info,
        order_id: strawberry.ID,
        lines: list[ReturnLineInput],
        idempotency_key: IdempotencyKey,
    ) -> ReturnRequest:
        requested = await info.context.services.returns.request(
            str(order_id),
            [ReturnLineRequest(x.sku, x.quantity, x.reason, x.condition) for x in lines],
            idempotency_key,
        )
        return ReturnRequest.from_domain(requested)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, SUPPORT, OPS),
        description="The returned units arrived: restock, inspect or write off; refund.",
    )
    async def receive_return(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> ReturnRequest:
        await return_at_callers_store(info, str(id))
        received = await info.context.services.returns.receive(str(id), idempotency_key)
        return ReturnRequest.from_domain(received)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, SUPPORT, OPS),
        description="Returned units held for inspection or refurbishment go back on the "
        "shelf: written to the node's source of truth, sellable once it records them.",
    )
    async def restock_return_units(
        self,
        info: Info,
        return_id: strawberry.ID,
        skus: list[str],
        idempotency_key: IdempotencyKey,
    ) -> ReturnRequest:
        return await _decided(info, return_id, skus, Disposition.RESTOCK, idempotency_key)

    @strawberry.mutation(
        permission_classes=allow(STORE_ASSOCIATE, SUPPORT, OPS),
        description="Returned units held for inspection or refurbishment are written off: "
        "no longer incoming anywhere.",
    )
    async def dispose_return_units(
        self,
        info: Info,
        return_id: strawberry.ID,
        skus: list[str],
        idempotency_key: IdempotencyKey,
    ) -> ReturnRequest:
        return await _decided(info, return_id, skus, Disposition.DISPOSE, idempotency_key)

    @strawberry.mutation(
        permission_classes=allow(OPS),
        description="Never send a dead-lettered backend write (say why): the writes of its "
        "order waiting behind it go, and its WRITE_FAILED exception is resolved.",
    )
    async def skip_delivery(
        self, info: Info, id: strawberry.ID, reason: str, idempotency_key: IdempotencyKey
    ) -> Delivery:
        reason = reason.strip()
        if not 1 <= len(reason) <= MAX_SKIP_REASON:
            raise BadUserInput(f"reason must be 1 to {MAX_SKIP_REASON} characters", field="reason")
        skipped = await info.context.services.outbox.skip(_delivery_id(id), reason, idempotency_key)
        return Delivery.from_domain(skipped)

    @strawberry.mutation(
        permission_classes=allow(OPS), description="Try a dead-lettered backend write again."
    )
    async def retry_delivery(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> Delivery:
        revived = await info.context.services.outbox.retry(_delivery_id(id), idempotency_key)
        return Delivery.from_domain(revived)
