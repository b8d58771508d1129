"""Returns: what may come back, where it goes, and the writes that follow.

A return is opened for delivered units only (never more than was delivered less what is
already on a return). Each line gets a disposition from configurable rules and goes back to
the node that fulfilled it. Until the units arrive they show as incoming there; on receipt
RESTOCK units count as on hand (and are written to the node's source of truth: a Square
NONE -> IN_STOCK adjustment or an ERPNext Material Receipt), INSPECT units stay incoming and
unsellable, REFURBISH and DISPOSE units leave sellable stock for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Money, SourceSystem
from gateway.domain.documents import (
    OmsReturnLine,
    StockReceiptLine,
    WebOrderLine,
    WebRefundDraft,
)
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderEvent,
    OrderOrigin,
    OrderStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from gateway.domain.outbox import OutboxMessage
from gateway.errors import BadUserInput, IllegalTransition, NotFound
from gateway.persistence import idempotency
from gateway.persistence import orders as order_repo
from gateway.persistence import returns as repo
from gateway.persistence.database import Database
from gateway.persistence.outbox import enqueue
from gateway.ports import Clock
from gateway.services.availability import AvailabilityService
from gateway.services.order_states import RETURNABLE, require_transition
from gateway.services.order_writes import oms_create_reference
from gateway.services.reservations import new_id
from gateway.services.return_writes import (
    CLOSE_OMS_RETURN,
    REFUND_WEB_ORDER,
    close_oms_return,
    open_oms_return,
    refund_web_order,
    restock_at_source,
)
from gateway.services.web_orders import refund_share, web_refund_lines

OnChange = Callable[[Sequence[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DispositionRule:
    """Matches when the condition and the reason are each in its set (None = any)."""

    disposition: Disposition
    conditions: frozenset[ItemCondition] | None = None
    reasons: frozenset[ReturnReason] | None = None

    def matches(self, reason: ReturnReason, condition: ItemCondition) -> bool:
        return (self.conditions is None or condition in self.conditions) and (
            self.reasons is None or reason in self.reasons
        )


DEFAULT_RULES: tuple[DispositionRule, ...] = (
    DispositionRule(Disposition.DISPOSE, conditions=frozenset({ItemCondition.DAMAGED})),
    DispositionRule(Disposition.REFURBISH, conditions=frozenset({ItemCondition.DEFECTIVE})),
    DispositionRule(Disposition.REFURBISH, reasons=frozenset({ReturnReason.DEFECTIVE})),
    DispositionRule(Disposition.INSPECT, conditions=frozenset({ItemCondition.OPENED})),
    DispositionRule(
        Disposition.INSPECT,
        reasons=frozenset({ReturnReason.DAMAGED, ReturnReason.NOT_AS_DESCRIBED}),
    ),
    DispositionRule(Disposition.RESTOCK, conditions=frozenset({ItemCondition.NEW})),
)


def decide_disposition(
    reason: ReturnReason, condition: ItemCondition, rules: Iterable[DispositionRule]
) -> Disposition:
    """The first matching rule wins; nothing matching means a person should look at it."""
    for rule in rules:
        if rule.matches(reason, condition):
            return rule.disposition
    return Disposition.INSPECT


def parse_rules(raw: Sequence[Mapping[str, Any]]) -> tuple[DispositionRule, ...]:
    """Rules from settings: ``[{"disposition", "conditions"?: [...], "reasons"?: [...]}]``."""
    rules = []
    for entry in raw:
        conditions = entry.get("conditions")
        reasons = entry.get("reasons")
        rules.append(
            DispositionRule(
                Disposition(str(entry["disposition"])),
                None
                if conditions is None
                else frozenset(ItemCondition(str(c)) for c in conditions),
                None if reasons is None else frozenset(ReturnReason(str(r)) for r in reasons),
            )
        )
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition


def returnable(order: Order) -> dict[str, int]:
    remaining: dict[str, int] = {}
    for line in order.lines:
        remaining[line.sku] = remaining.get(line.sku, 0) + line.quantity - line.returned_quantity
    return remaining


def plan_return(
    order: Order,
    lines: Sequence[ReturnLineRequest],
    rules: Iterable[DispositionRule],
    fallback_location: str | None,
    web_lines: Mapping[int, WebOrderLine] | None = None,
) -> list[ReturnLine]:
    """The return's lines with their disposition, node and refund. A unit's refund is its
    line's unit price, or for a web order line whose WooCommerce figures are known
    (``web_lines``, by line item id) its share of what was paid for the line including tax
    (``web_orders.refund_share``), so a returned line is refunded exactly."""
    if order.status not in RETURNABLE:
        raise IllegalTransition(
            f"Order {order.id} is {order.status.value}; only delivered or collected orders "
            "can be returned",
            status=order.status.value,
        )
    if not lines:
        raise BadUserInput("at least one line is required", field="lines")
    left = returnable(order)
    node = {line.sku: line.location_id for line in order.lines}
    taken = [line.returned_quantity for line in order.lines]  # units already on returns
    rules = tuple(rules)
    planned: list[ReturnLine] = []
    for line in lines:
        if line.quantity <= 0:
            raise BadUserInput(f"quantity for {line.sku} must be at least 1", field="quantity")
        if line.sku not in left:
            raise BadUserInput(f"{line.sku} is not on order {order.id}", field="sku")
        if line.quantity > left[line.sku]:
            raise BadUserInput(
                f"{line.sku}: {line.quantity} asked, {left[line.sku]} can still be returned",
                field="quantity",
                returnable=left[line.sku],
            )
        left[line.sku] -= line.quantity
        location = node.get(line.sku) or fallback_location
        if location is None:
            raise BadUserInput(f"no node to return {line.sku} to; set RETURNS_LOCATION_ID")
        planned.append(
            ReturnLine(
                sku=line.sku,
                quantity=line.quantity,
                reason=line.reason,
                condition=line.condition,
                disposition=decide_disposition(line.reason, line.condition, rules),
                location_id=location,
                refund=_refund(order, line.sku, line.quantity, taken, web_lines or {}),
            )
        )
    return planned


def _refund(
    order: Order,
    sku: str,
    quantity: int,
    taken: list[int],
    web_lines: Mapping[int, WebOrderLine],
) -> Money:
    """Returned units of a SKU fill its order lines first to last (as the order's
    returned quantities do); ``taken`` counts, per order line, the units already claimed."""
    total = Money(order.total.amount * 0, order.total.currency)
    missing = quantity
    for index, line in enumerate(order.lines):
        if line.sku != sku or missing <= 0:
            continue
        units = min(missing, line.quantity - taken[index])
        if units <= 0:
            continue
        web = web_lines.get(line.web_line_id) if line.web_line_id is not None else None
        if web is not None and web.quantity == line.quantity:
            share = refund_share(web, taken[index], units)
        else:
            share = Money(line.unit_price.amount * units, line.unit_price.currency)
        total = Money(total.amount + share.amount, share.currency)
        taken[index] += units
        missing -= units
    return total


class ReturnService:
    def __init__(
        self,
        db: Database,
        availability: AvailabilityService,
        clock: Clock,
        rules: Sequence[DispositionRule],
        fallback_location: str | None,
        on_change: OnChange,
        wake_worker: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._availability = availability
        self._clock = clock
        self._rules = tuple(rules)
        self._fallback = fallback_location
        self._on_change = on_change
        self._wake = wake_worker

    async def get(self, return_id: str) -> ReturnRequest:
        async with self._db.transaction() as conn:
            found = await repo.get_return(conn, return_id)
        if found is None:
            raise NotFound(f"No return {return_id!r}", field="id")
        return found

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[ReturnRequest]]:
        async with self._db.transaction() as conn:
            return await repo.returns_of_orders(conn, order_ids)

    async def request(
        self, order_id: str, lines: Sequence[ReturnLineRequest], key: str
    ) -> ReturnRequest:
        now = self._clock.now()
        fingerprint = idempotency.request_hash(
            "requestReturn",
            {
                "order": order_id,
                "lines": [(x.sku, x.quantity, x.reason.value, x.condition.value) for x in lines],
            },
        )
        return_id = new_id("ret")
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation="requestReturn",
                fingerprint=fingerprint,
                resource_id=return_id,
                now=now,
            )
            if replay is not None:
                found = await repo.get_return(conn, replay.resource_id)
                assert found is not None
                return found
            order = await order_repo.get_order(conn, order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="orderId")
            web_lines = await order_repo.web_lines(conn, order.id)
            planned = plan_return(order, lines, self._rules, self._fallback, web_lines)
            total = sum((line.refund.amount for line in planned), start=order.total.amount * 0)
            request = ReturnRequest(
                id=return_id,
                order_id=order.id,
                status=ReturnStatus.OPEN,
                lines=tuple(planned),
                refund_total=Money(total, order.total.currency),
                created_at=now,
                updated_at=now,
            )
            await repo.insert_return(conn, request)
            await order_repo.add_event(
                conn,
                order.id,
                OrderEvent(
                    now,
                    "RETURN_REQUESTED",
                    SourceSystem.GATEWAY,
                    detail=f"{return_id}: "
                    + ", ".join(f"{x.quantity}x {x.sku} -> {x.disposition.value}" for x in planned),
                ),
            )
            messages: list[OutboxMessage] = []
            if order.origin is OrderOrigin.GATEWAY:
                messages.append(
                    open_oms_return(
                        order.id,
                        return_id,
                        oms_create_reference(order.id),
                        [OmsReturnLine(x.sku, x.quantity, x.reason.value) for x in planned],
                    )
                )
            await enqueue(conn, messages, now)
            stored = await repo.get_return(conn, return_id, order.total.currency)
        assert stored is not None
        await self._on_change([line.sku for line in planned])
        self._wake()
        return stored

    async def receive(self, return_id: str, key: str) -> ReturnRequest:
        """The units arrived at their node: apply the dispositions, refund, close."""
        now = self._clock.now()
        fingerprint = idempotency.request_hash("receiveReturn", {"id": return_id})
        async with self._db.transaction() as conn:
            replay = await idempotency.claim(
                conn,
                key=key,
                operation="receiveReturn",
                fingerprint=fingerprint,
                resource_id=return_id,
                now=now,
            )
            found = await repo.get_return(conn, return_id, for_update=True)
            if found is None:
                raise NotFound(f"No return {return_id!r}", field="id")
            if replay is None and found.status is ReturnStatus.OPEN:
                await self._receive_in(conn, found, now)
            elif replay is None:
                raise IllegalTransition(
                    f"Return {return_id} is {found.status.value}; it was already received",
                    status=found.status.value,
                )
            stored = await repo.get_return(conn, return_id)
        assert stored is not None
        await self._on_change([line.sku for line in stored.lines])
        self._wake()
        return stored

    async def _receive_in(self, conn: AsyncConnection, found: ReturnRequest, now: datetime) -> None:
        order = await order_repo.get_order(conn, found.order_id, for_update=True)
        assert order is not None
        await repo.mark_received(conn, found.id, now)
        await repo.set_fields(conn, found.id, now, status=ReturnStatus.RECEIVED)
        rows = await repo.line_ids(conn, found.id)
        messages: list[OutboxMessage] = []
        for row, line in zip(rows, found.lines, strict=True):
            if line.disposition is Disposition.RESTOCK:
                location = await self._availability.location(line.location_id)
                messages.append(
                    restock_at_source(
                        order.id,
                        f"{found.id}:restock:{row.id}",
                        location,
                        StockReceiptLine(line.sku, line.quantity, location.source_ref),
                        row.id,
                        now,
                    )
                )
        # Only units that arrived count: a return still on its way keeps the order partly
        # returned (and its own receipt moves it on later).
        back = await repo.received_by_sku(conn, order.id)
        ordered: dict[str, int] = {}
        for line in order.lines:
            ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
        fully = all(back.get(sku, 0) >= quantity for sku, quantity in ordered.items())
        target = OrderStatus.RETURNED if fully else OrderStatus.PARTIALLY_RETURNED
        require_transition(order.id, order.status, target)
        await order_repo.move_status(
            conn,
            order.id,
            order.status,
            target,
            at=now,
            source=SourceSystem.GATEWAY,
            kind="RETURN_RECEIVED",
            detail=found.id,
        )
        web_order_id = next(
            (s.id for s in order.systems if s.system is SourceSystem.STOREFRONT), None
        )
        if web_order_id is not None:
            figures = await order_repo.web_lines(conn, order.id)
            messages.append(
                refund_web_order(
                    order.id,
                    found.id,
                    int(web_order_id),
                    WebRefundDraft(
                        reference=found.id,
                        amount=found.refund_total,
                        lines=web_refund_lines(order, found.lines, figures),
                        reason=f"Return {found.id}",
                    ),
                )
            )
        if found.oms_return_id is not None or order.origin is OrderOrigin.GATEWAY:
            messages.append(close_oms_return(order.id, found.id))
        # The refund or the OMS close marks the return CLOSED once delivered; with neither
        # owed, receiving it is the end.
        if not any(m.operation in (REFUND_WEB_ORDER, CLOSE_OMS_RETURN) for m in messages):
            await repo.set_fields(conn, found.id, now, status=ReturnStatus.CLOSED)
        await enqueue(conn, messages, now)
