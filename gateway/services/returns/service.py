"""Returns as a service: request one, receive it, and the writes that follow (the rules
that decide are in ``rules``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.domain import Money, SourceSystem
from gateway.domain.documents import OmsReturnLine, StockReceiptLine, WebRefundDraft
from gateway.domain.orders import (
    NO_CHANGES,
    Disposition,
    OrderEvent,
    ReturnRequest,
    ReturnStatus,
)
from gateway.domain.outbox import CloseOmsReturn, OutboxMessage, RefundWebOrder
from gateway.errors import BadUserInput, IllegalTransition, NotFound
from gateway.notifications.messages import mail_message, refunded
from gateway.ports import UnitOfWork, UnitOfWorkFactory
from gateway.services.availability import AvailabilityService
from gateway.services.commands import Command, Commands
from gateway.services.orders.lifecycle import oms_told
from gateway.services.orders.states import require_transition
from gateway.services.orders.web_orders import web_refund_lines
from gateway.services.orders.writes import oms_create_reference
from gateway.services.reservations import new_id
from gateway.services.returns.rules import (
    DispositionRule,
    ReturnLineRequest,
    plan_return,
    status_after_receipt,
)
from gateway.services.returns.writes import (
    close_oms_return,
    open_oms_return,
    refund_web_order,
    restock_at_source,
)


async def load_return(uow: UnitOfWork, return_id: str) -> ReturnRequest:
    found = await uow.returns.get(return_id)
    if found is None:
        raise NotFound(f"No return {return_id!r}", field="id")
    return found


def return_skus(request: ReturnRequest) -> list[str]:
    return [line.sku for line in request.lines]


def refund_reason(request: ReturnRequest) -> str:
    """What the refund says in WooCommerce: each line's fate, for the shop's staff."""
    fates = ", ".join(f"{x.quantity}x {x.sku} {_FATE[x.disposition]}" for x in request.lines)
    return f"Return {request.id}: {fates}"


_FATE = {
    Disposition.RESTOCK: "restocked",
    Disposition.INSPECT: "held for inspection",
    Disposition.REFURBISH: "to refurbishment",
    Disposition.DISPOSE: "written off",
}


class ReturnService:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        commands: Commands,
        availability: AvailabilityService,
        rules: Sequence[DispositionRule],
        fallback_location: str | None,
        *,
        mails_customers: bool = False,
    ) -> None:
        self._uow = unit_of_work
        self._commands = commands
        self._availability = availability
        self._rules = tuple(rules)
        self._fallback = fallback_location
        self._mails_customers = mails_customers

    async def get(self, return_id: str) -> ReturnRequest:
        async with self._uow(read_only=True) as uow:
            return await load_return(uow, return_id)

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[ReturnRequest]]:
        async with self._uow(read_only=True) as uow:
            return await uow.returns.of_orders(order_ids)

    async def request(
        self, order_id: str, lines: Sequence[ReturnLineRequest], key: str
    ) -> ReturnRequest:
        return_id = new_id("ret")

        async def open_return(uow: UnitOfWork, now: datetime) -> ReturnRequest:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"No order {order_id!r}", field="orderId")
            web_lines = await uow.orders.web_lines(order.id)
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
            await uow.returns.add(request)
            await uow.orders.add_event(
                order.id,
                OrderEvent(
                    now,
                    "RETURN_REQUESTED",
                    SourceSystem.GATEWAY,
                    detail=f"{return_id}: "
                    + ", ".join(f"{x.quantity}x {x.sku} -> {x.disposition.value}" for x in planned),
                ),
            )
            if await oms_told(uow, order.id):
                await uow.outbox.add(
                    [
                        open_oms_return(
                            order.id,
                            return_id,
                            oms_create_reference(order.id),
                            [OmsReturnLine(x.sku, x.quantity, x.reason.value) for x in planned],
                        )
                    ],
                    now,
                )
            stored = await uow.returns.get(return_id, currency=order.total.currency)
            assert stored is not None
            return stored

        command = Command(
            "requestReturn",
            key,
            {
                "order": order_id,
                "lines": [(x.sku, x.quantity, x.reason.value, x.condition.value) for x in lines],
            },
            return_id,
            load_return,
            return_skus,
        )
        return await self._commands.run(command, open_return)

    async def receive(self, return_id: str, key: str) -> ReturnRequest:
        """The units arrived at their node: apply the dispositions, refund, close."""

        async def received(uow: UnitOfWork, now: datetime) -> ReturnRequest:
            found = await uow.returns.get(return_id, for_update=True)
            if found is None:
                raise NotFound(f"No return {return_id!r}", field="id")
            if found.status is not ReturnStatus.OPEN:
                raise IllegalTransition(
                    f"Return {return_id} is {found.status.value}; it was already received",
                    status=found.status.value,
                )
            await self._receive_in(uow, found, now)
            return await load_return(uow, return_id)

        command = Command(
            "receiveReturn", key, {"id": return_id}, return_id, load_return, return_skus
        )
        return await self._commands.run(command, received)

    async def decide(
        self, return_id: str, skus: Sequence[str], decision: Disposition, key: str
    ) -> ReturnRequest:
        """Received INSPECT / REFURBISH lines of ``skus`` restocked (RESTOCK: written to
        the node's source of truth) or written off (DISPOSE)."""
        if decision not in (Disposition.RESTOCK, Disposition.DISPOSE):
            raise BadUserInput(f"a decision is RESTOCK or DISPOSE, not {decision.value}")
        if not skus:
            raise BadUserInput("name at least one SKU", field="skus")

        async def decide(uow: UnitOfWork, now: datetime) -> ReturnRequest:
            found = await uow.returns.get(return_id, for_update=True)
            if found is None:
                raise NotFound(f"No return {return_id!r}", field="returnId")
            lines = [x for x in found.lines if x.sku in set(skus)]
            waiting = [x for x in lines if x.awaiting_decision]
            if len(waiting) != len(lines) or {x.sku for x in lines} != set(skus):
                awaiting = sorted({x.sku for x in found.lines if x.awaiting_decision})
                raise BadUserInput(
                    f"Return {return_id}: only received INSPECT or REFURBISH units await a "
                    f"decision ({', '.join(awaiting) or 'none'} here)",
                    field="skus",
                )
            messages: list[OutboxMessage] = []
            for line in waiting:
                assert line.line_id is not None
                await uow.returns.decide(line.line_id, decision, now)
                if decision is Disposition.RESTOCK:
                    location = await self._availability.location(line.location_id)
                    messages.append(
                        restock_at_source(
                            found.order_id,
                            f"{found.id}:restock:{line.line_id}",
                            location,
                            StockReceiptLine(line.sku, line.quantity, location.source_ref),
                            line.line_id,
                            now,
                        )
                    )
            await uow.outbox.add(messages, now)
            fate = "restocked" if decision is Disposition.RESTOCK else "written off"
            await uow.orders.add_event(
                found.order_id,
                OrderEvent(
                    now,
                    f"RETURN_UNITS_{decision.value}",
                    SourceSystem.GATEWAY,
                    detail=f"{found.id}: "
                    + ", ".join(f"{x.quantity}x {x.sku} {fate}" for x in waiting),
                ),
            )
            return await load_return(uow, return_id)

        operation = (
            "restockReturnUnits" if decision is Disposition.RESTOCK else "disposeReturnUnits"
        )
        command = Command(
            operation,
            key,
            {"id": return_id, "skus": sorted(skus)},
            return_id,
            load_return,
            return_skus,
        )
        return await self._commands.run(command, decide)

    async def _receive_in(self, uow: UnitOfWork, found: ReturnRequest, now: datetime) -> None:
        order = await uow.orders.get(found.order_id, for_update=True)
        assert order is not None
        await uow.returns.mark_received(found.id, now)
        await uow.returns.update(found.id, now, status=ReturnStatus.RECEIVED)
        line_ids = await uow.returns.line_ids(found.id)
        messages: list[OutboxMessage] = []
        for line_id, line in zip(line_ids, found.lines, strict=True):
            if line.disposition is Disposition.RESTOCK:
                location = await self._availability.location(line.location_id)
                messages.append(
                    restock_at_source(
                        order.id,
                        f"{found.id}:restock:{line_id}",
                        location,
                        StockReceiptLine(line.sku, line.quantity, location.source_ref),
                        line_id,
                        now,
                    )
                )
        target = status_after_receipt(order, await uow.returns.received_by_sku(order.id))
        require_transition(order.id, order.status, target)
        await uow.orders.move_status(
            order.id,
            OrderEvent(
                now, "RETURN_RECEIVED", SourceSystem.GATEWAY, order.status, target, found.id
            ),
            NO_CHANGES,
        )
        web_order_id = next(
            (s.id for s in order.systems if s.system is SourceSystem.STOREFRONT), None
        )
        if web_order_id is not None:
            figures = await uow.orders.web_lines(order.id)
            messages.append(
                refund_web_order(
                    order.id,
                    found.id,
                    int(web_order_id),
                    WebRefundDraft(
                        reference=found.id,
                        amount=found.refund_total,
                        lines=web_refund_lines(order, found.lines, figures),
                        reason=refund_reason(found),
                        # WooCommerce's copy takes the units back only when every one goes
                        # back on the shelf (its restock is all or nothing per refund).
                        restock=all(x.disposition is Disposition.RESTOCK for x in found.lines),
                    ),
                )
            )
        if found.oms_return_id is not None or await oms_told(uow, order.id):
            messages.append(close_oms_return(order.id, found.id))
        # The refund or the OMS close marks the return CLOSED once delivered; with neither
        # owed, receiving it is the end.
        if not any(isinstance(m, RefundWebOrder | CloseOmsReturn) for m in messages):
            await uow.returns.update(found.id, now, status=ReturnStatus.CLOSED)
        if self._mails_customers and order.customer_email and found.refund_total.amount > 0:
            items = ", ".join(f"{x.quantity}x {x.sku}" for x in found.lines)
            mail = refunded(order, found.id, found.refund_total, items)
            messages.append(mail_message(order.id, mail))
        await uow.outbox.add(messages, now)
