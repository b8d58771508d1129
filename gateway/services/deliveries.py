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

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import SourceSystem
from gateway.domain.documents import OmsOrder
from gateway.domain.orders import OrderEvent
from gateway.domain.outbox import Delivery
from gateway.errors import BackendRejected
from gateway.persistence import orders as order_repo
from gateway.persistence import returns as return_repo
from gateway.persistence.reservations import holds, reservations
from gateway.ports import ErpOrdersPort, OmsPort, PosStockWritesPort, WebOrdersPort
from gateway.services import order_writes, return_writes, source_writes
from gateway.services.order_writes import OMS_DRAFT, TRACKING
from gateway.services.outbox_worker import OperationHandler, ResultLookup
from gateway.services.return_writes import RECEIPT_LINE, REFUND, RETURN_LINES
from gateway.services.source_writes import SALES_ORDER


async def _settle_holds(
    conn: AsyncConnection, owner: str, location_id: str, now: datetime, sku: str | None = None
) -> list[str]:
    """The source now carries these holds: readings taken from now on include them."""
    owned = select(reservations.c.id).where(
        or_(reservations.c.id == owner, reservations.c.order_id == owner)
    )
    query = (
        update(holds)
        .where(
            holds.c.reservation_id.in_(owned),
            holds.c.location_id == location_id,
            holds.c.applied_at.is_(None),
        )
        .values(applied_at=now)
        .returning(holds.c.sku)
    )
    if sku is not None:
        query = query.where(holds.c.sku == sku)
    return [r.sku for r in await conn.execute(query)]


async def _held_skus(conn: AsyncConnection, owner: str) -> list[str]:
    owned = select(reservations.c.id).where(
        or_(reservations.c.id == owner, reservations.c.order_id == owner)
    )
    query = select(holds.c.sku).where(holds.c.reservation_id.in_(owned)).distinct()
    return sorted(r.sku for r in await conn.execute(query))


async def _order_event(
    conn: AsyncConnection, order_id: str, now: datetime, kind: str, detail: str, **fields: Any
) -> None:
    if await order_repo.get_order(conn, order_id) is None:
        return  # a standalone reservation, not an order
    if fields:
        await order_repo.set_fields(conn, order_id, now, **fields)
    await order_repo.add_event(
        conn, order_id, OrderEvent(now, kind, _source_of(kind), detail=detail)
    )


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
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        owner = d.payload["hold_reference"]
        skus = await _settle_holds(conn, owner, d.payload["location_id"], now)
        await _order_event(
            conn,
            owner,
            now,
            "ERP_SALES_ORDER",
            f"Sales Order {result['name']} submitted, stock reserved in the ERP",
            erp_sales_order=result["name"],
            erp_status=result["status"],
        )
        return skus

    async def cancel_sales_order(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        submitted = await _required(lookup, d.payload["submit_reference"])
        so = await erp.cancel_sales_order(submitted["name"])
        return {"name": so.name, "status": so.status}

    async def sales_order_cancelled(
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        owner = d.ordering_key
        await _order_event(
            conn,
            owner,
            now,
            "ERP_SALES_ORDER_CANCELLED",
            f"Sales Order {result['name']} cancelled, ERP reservation released",
            erp_status=result["status"],
        )
        # The Bins gave the units back: a reading cached before that still counts them
        # reserved, and the released holds no longer say so, so fetch afresh.
        return await _held_skus(conn, owner)

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
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        p = d.payload
        skus = await _settle_holds(conn, p["hold_reference"], p["location_id"], now, p["sku"])
        await _order_event(
            conn,
            p["hold_reference"],
            now,
            "POS_SALE",
            f"{p['quantity']}x {p['sku']} recorded as sold at {p['location_id']}",
        )
        return skus

    async def restocked(
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        line_id = d.payload.get("return_line_id")
        if line_id is not None:
            await return_repo.mark_lines_applied(conn, [line_id], now)
        sku = d.payload["sku"] if "sku" in d.payload else d.payload["line"]["sku"]
        await _order_event(
            conn,
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
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await _order_event(
            conn,
            d.payload["order_id"],
            now,
            "OMS_ORDER_CREATED",
            f"OMS order {result['name']} with {len(result['fulfillment_orders'])} fulfillment "
            "order(s)",
            oms_order_id=result["id"],
            oms_status=_oms_status(result),
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
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        kind = "OMS_CANCELLED" if d.operation == order_writes.CANCEL_OMS_ORDER else "OMS_FULFILLED"
        await _order_event(
            conn,
            d.payload["order_id"],
            now,
            kind,
            f"OMS fulfillment orders now {_oms_status(result)}",
            oms_status=_oms_status(result),
        )
        return []

    async def open_oms_return(d: Delivery, lookup: ResultLookup) -> dict[str, Any]:
        created = await _required(lookup, d.payload["create_reference"])
        opened = await oms.open_return(
            created["id"], RETURN_LINES.validate_python(d.payload["lines"]), d.reference
        )
        return {"id": opened.id, "name": opened.name, "status": opened.status}

    async def oms_return_opened(
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await return_repo.set_fields(conn, d.payload["return_id"], now, oms_return_id=result["id"])
        await _order_event(
            conn,
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
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await return_repo.set_fields(conn, d.payload["return_id"], now, status="CLOSED")
        return []

    # --- Storefront --------------------------------------------------------------------
    async def refund_web_order(d: Delivery, _: ResultLookup) -> dict[str, Any]:
        refund = await web.refund(
            d.payload["web_order_id"], REFUND.validate_python(d.payload["draft"])
        )
        return {"id": refund.id, "amount": str(refund.amount.amount)}

    async def web_refunded(
        conn: AsyncConnection, d: Delivery, result: dict[str, Any], now: datetime
    ) -> Sequence[str]:
        await return_repo.set_fields(
            conn, d.payload["return_id"], now, status="CLOSED", web_refund_id=result["id"]
        )
        await _order_event(
            conn,
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
