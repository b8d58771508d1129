"""One handler per outbox operation: call the backend, then record what it answered.

``deliver`` runs outside any transaction and must be safe to repeat (the adapters make each
write idempotent on the message's reference). ``apply`` runs in the transaction that marks
the message delivered; it is where a hold learns that its source has taken over
(``applied_at``), and where the order learns each system's id and status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from gateway.domain import SourceSystem
from gateway.domain.documents import OmsOrder
from gateway.domain.orders import NO_CHANGES, OrderChanges, OrderEvent, ReturnStatus, SystemRecord
from gateway.domain.outbox import Delivery
from gateway.errors import BackendRejected
from gateway.ports import ErpOrdersPort, OmsPort, PosStockWritesPort, UnitOfWork, WebOrdersPort
from gateway.services import source_writes
from gateway.services.orders import writes as order_writes
from gateway.services.orders.writes import OMS_DRAFT, TRACKING
from gateway.services.outbox.worker import OperationHandler, ResultLookup
from gateway.services.returns import writes as return_writes
from gateway.services.returns.writes import RECEIPT_LINE, REFUND, RETURN_LINES
from gateway.services.source_writes import SALES_ORDER


async def _order_event(
    uow: UnitOfWork,
    order_id: str,
    now: datetime,
    kind: str,
    detail: str,
    changes: OrderChanges = NO_CHANGES,
) -> None:
    if not await uow.orders.exists(order_id):
        return  # a standalone reservation, not an order
    if changes != NO_CHANGES:
        await uow.orders.update(order_id, now, changes)
    await uow.orders.add_event(order_id, OrderEvent(now, kind, _source_of(kind), detail=detail))


def _source_of(kind: str) -> SourceSystem:
    return {"ERP": SourceSystem.ERP, "POS": SourceSystem.POS, "WEB": SourceSystem.STOREFRONT}.get(
        kind.split("_", 1)[0], SourceSystem.OMS
    )


def _oms_summary(order: OmsOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "name": order.name,
        "fulfillment_orders": [
            {"id": fo.id, "status": fo.status, "location": fo.location_ref}
            for fo in order.fulfillment_orders
        ],
        "tracking": [
            TRACKING.dump_python(t, mode="json")
            for fo in order.fulfillment_orders
            for t in fo.tracking
        ],
    }


def _oms_status(result: dict[str, Any]) -> str:
    return ",".join(sorted({fo["status"] for fo in result["fulfillment_orders"]})) or "NONE"


async def _required(lookup: ResultLookup, reference: str) -> dict[str, Any]:
    found = await lookup(reference)
    if found is None:
        raise BackendRejected(
            f"the write {reference!r} this one depends on was never delivered", backend="gateway"
        )
    return found


def build_handlers(
    erp: ErpOrdersPort, pos: PosStockWritesPort, oms: OmsPort, web: WebOrdersPort
) -> dict[str, OperationHandler]:
    # --- ERP ---------------------------------------------------------------------------
    async def submit_sales_order(d: Delivery, _: ResultLookup) -> dict[str, Any]:
        so = await erp.submit_sales_order(SALES_ORDER.validate_python(d.payload["draft"]))
        return {"name": so.name, "status": so.status}

    async def sales_order_submitted(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        owner = d.payload["hold_reference"]
        skus = await uow.reservations.settle_holds(owner, d.payload["location_id"], now)
        await _order_event(
            uow,
            owner,
            now,
            "ERP_SALES_ORDER",
            f"Sales Order {result['name']} submitted, stock reserved in the ERP",
            OrderChanges(
                systems=(SystemRecord(SourceSystem.ERP, result["name"], result["status"]),)
            ),
        )
        return skus

    async def cancel_sales_order(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        submitted = await _required(lookup, d.payload["submit_reference"])
        so = await erp.cancel_sales_order(submitted["name"])
        return {"name": so.name, "status": so.status}

    async def sales_order_cancelled(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        owner = d.ordering_key
        await _order_event(
            uow,
            owner,
            now,
            "ERP_SALES_ORDER_CANCELLED",
            f"Sales Order {result['name']} cancelled, ERP reservation released",
            OrderChanges(systems=(SystemRecord(SourceSystem.ERP, None, result["status"]),)),
        )
        # The Bins gave the units back: a reading cached before that still counts them
        # reserved, and the released holds no longer say so, so fetch afresh.
        return await uow.reservations.held_skus(owner)

    async def receive_stock(d: Delivery, _: ResultLookup) -> dict[str, Any]:
        name = await erp.receive_stock(
            d.reference, [RECEIPT_LINE.validate_python(d.payload["line"])]
        )
        return {"name": name}

    # --- POS ---------------------------------------------------------------------------
    def pos_adjustment(
        write: Callable[[str, str, str, int, datetime], Awaitable[None]],
    ) -> Callable[[Delivery, ResultLookup], Awaitable[dict[str, Any]]]:
        """A Square adjustment (sale or restock) from the message's payload."""

        async def deliver(d: Delivery, _: ResultLookup) -> dict[str, Any]:
            p = d.payload
            occurred = datetime.fromisoformat(p["occurred_at"])
            await write(d.reference, p["sku"], p["location_ref"], p["quantity"], occurred)
            return {}

        return deliver

    async def sale_recorded(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        p = d.payload
        skus = await uow.reservations.settle_holds(
            p["hold_reference"], p["location_id"], now, p["sku"]
        )
        await _order_event(
            uow,
            p["hold_reference"],
            now,
            "POS_SALE",
            f"{p['quantity']}x {p['sku']} recorded as sold at {p['location_id']}",
        )
        return skus

    async def restocked(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        line_id = d.payload.get("return_line_id")
        if line_id is not None:
            await uow.returns.mark_lines_applied([line_id], now)
        sku = d.payload["sku"] if "sku" in d.payload else d.payload["line"]["sku"]
        await _order_event(
            uow,
            d.ordering_key,
            now,
            "POS_RESTOCK" if "sku" in d.payload else "ERP_STOCK_RECEIPT",
            f"{sku} back in stock",
        )
        return [sku]

    # --- OMS ---------------------------------------------------------------------------
    async def create_oms_order(d: Delivery, _: ResultLookup) -> dict[str, Any]:
        return _oms_summary(await oms.create_order(OMS_DRAFT.validate_python(d.payload["draft"])))

    async def oms_order_created(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await _order_event(
            uow,
            d.payload["order_id"],
            now,
            "OMS_ORDER_CREATED",
            f"OMS order {result['name']} with {len(result['fulfillment_orders'])} fulfillment "
            "order(s)",
            OrderChanges(
                systems=(SystemRecord(SourceSystem.OMS, result["id"], _oms_status(result)),)
            ),
        )
        return []

    async def cancel_oms_order(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        created = await _required(lookup, d.payload["create_reference"])
        return _oms_summary(await oms.cancel_order(created["id"]))

    async def fulfill_oms_order(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        created = await _required(lookup, d.payload["create_reference"])
        tracking = d.payload.get("tracking")
        current = await oms.order(created["id"])
        if current is None:
            raise BackendRejected(f"OMS order {created['id']} is gone", backend="oms")
        for fo in current.fulfillment_orders:
            if fo.status not in ("CLOSED", "CANCELLED"):
                await oms.fulfill(
                    fo.id, None if tracking is None else TRACKING.validate_python(tracking)
                )
        refreshed = await oms.order(created["id"])
        assert refreshed is not None
        return _oms_summary(refreshed)

    async def oms_status_changed(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        kind = "OMS_CANCELLED" if d.operation == order_writes.CANCEL_OMS_ORDER else "OMS_FULFILLED"
        await _order_event(
            uow,
            d.payload["order_id"],
            now,
            kind,
            f"OMS fulfillment orders now {_oms_status(result)}",
            OrderChanges(systems=(SystemRecord(SourceSystem.OMS, None, _oms_status(result)),)),
        )
        return []

    async def open_oms_return(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        created = await _required(lookup, d.payload["create_reference"])
        opened = await oms.open_return(
            created["id"], RETURN_LINES.validate_python(d.payload["lines"]), d.reference
        )
        return {"id": opened.id, "name": opened.name, "status": opened.status}

    async def oms_return_opened(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await uow.returns.update(d.payload["return_id"], now, oms_return_id=result["id"])
        await _order_event(
            uow,
            d.ordering_key,
            now,
            "OMS_RETURN",
            f"OMS return {result['name']} {result['status']}",
        )
        return []

    async def close_oms_return(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        opened = await _required(lookup, d.payload["open_reference"])
        closed = await oms.close_return(opened["id"])
        return {"id": closed.id, "status": closed.status}

    async def return_closed(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await uow.returns.update(d.payload["return_id"], now, status=ReturnStatus.CLOSED)
        return []

    # --- Storefront --------------------------------------------------------------------
    async def refund_web_order(d: Delivery, _: ResultLookup) -> dict[str, Any]:
        refund = await web.refund(
            d.payload["web_order_id"], REFUND.validate_python(d.payload["draft"])
        )
        return {"id": refund.id, "amount": str(refund.amount.amount)}

    async def web_refunded(
        uow: UnitOfWork, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await uow.returns.update(
            d.payload["return_id"], now, status=ReturnStatus.CLOSED, web_refund_id=result["id"]
        )
        await _order_event(
            uow,
            d.ordering_key,
            now,
            "WEB_REFUND",
            f"WooCommerce refund {result['id']} of {result['amount']}",
        )
        return []

    return {
        source_writes.SUBMIT_SALES_ORDER: OperationHandler(
            submit_sales_order, sales_order_submitted
        ),
        source_writes.CANCEL_SALES_ORDER: OperationHandler(
            cancel_sales_order, sales_order_cancelled
        ),
        source_writes.RECORD_SALE: OperationHandler(pos_adjustment(pos.record_sale), sale_recorded),
        source_writes.RECORD_RESTOCK: OperationHandler(
            pos_adjustment(pos.record_restock), restocked
        ),
        return_writes.RECEIVE_ERP: OperationHandler(receive_stock, restocked),
        order_writes.CREATE_OMS_ORDER: OperationHandler(create_oms_order, oms_order_created),
        order_writes.CANCEL_OMS_ORDER: OperationHandler(cancel_oms_order, oms_status_changed),
        order_writes.FULFILL_OMS_ORDER: OperationHandler(fulfill_oms_order, oms_status_changed),
        return_writes.OPEN_OMS_RETURN: OperationHandler(open_oms_return, oms_return_opened),
        return_writes.CLOSE_OMS_RETURN: OperationHandler(close_oms_return, return_closed),
        return_writes.REFUND_WEB_ORDER: OperationHandler(refund_web_order, web_refunded),
    }
