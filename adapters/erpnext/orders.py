"""ErpOrdersPort over ERPNext: Sales Orders that reserve stock, the Delivery Notes that ship
them, internal barcodes, and the stock writes of adapters.erpnext.stock_writes (Material
Receipts, counts).

Idempotency: ERPNext takes no idempotency key, so each write carries the gateway's reference
in a field it can be found by (a Sales Order's or Delivery Note's ``po_no``, a Stock Entry's
``remarks``) and is preceded by a look-up (adapters.look_then_create). A Stock
Reconciliation has no such field (no remarks, no free text on its rows), so it is found by
what it is: a row of the SKU in the warehouse, posted at the count's moment to the
microsecond, setting the counted figure. The insert itself is sent once (a POST
retried after a lost answer would make a second document); on a connection failure or
5xx/429 the whole look-up-then-insert is tried again after a backoff, so the look-up finds
what a lost first answer made. A draft found by the look-up (inserted, but the submit never
arrived) is submitted rather than duplicated.

Wire details: dates are sent as ERPNext stores them, plain ``YYYY-MM-DD`` in the site's
calendar (a SalesOrderDraft's dates are already site dates); rates are exact JSON numbers from
Decimal (wire.json_content), never floats.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.erpnext.stock_writes import ErpNextStockWrites
from adapters.erpnext.wire import decimal, whole
from adapters.look_then_create import look_then_create
from gateway.domain.documents import (
    SalesOrder,
    SalesOrderDraft,
    StockReservation,
)
from gateway.errors import BackendRejected, BackendUnavailable, BadUserInput, NotFound

SALES_ORDER = "Sales Order"
RESERVATION = "Stock Reservation Entry"
STOCK_ENTRY = "Stock Entry"
RECEIPT = "Material Receipt"
ISSUE = "Material Issue"
BIN = "Bin"
ITEM = "Item"
DELIVERY_NOTE = "Delivery Note"
RECONCILIATION = "Stock Reconciliation"
RECONCILIATION_ITEM = "Stock Reconciliation Item"
# ERPNext's refusal of a reconciliation whose every row matches the ledger at its moment.
NO_CHANGE = "EmptyStockReconciliationItemsError"
SALES_ORDER_FIELDS = ["name", "po_no", "docstatus", "status", "per_delivered"]
# fmt: off
RESERVATION_FIELDS = [
    "name", "item_code", "warehouse", "reserved_qty", "delivered_qty", "status", "docstatus",
]
# fmt: on
T = TypeVar("T")


class ErpNextOrders(ErpNextStockWrites):
    # --- ErpOrdersPort -------------------------------------------------------------------

    async def submit_sales_order(self, draft: SalesOrderDraft) -> SalesOrder:
        async def find() -> SalesOrder | None:
            found = await self._open_sales_order(draft)
            if found is not None and found.docstatus == 0:
                return await self._submit_draft(found.name)
            return found

        async def create() -> SalesOrder:
            path = f"/api/resource/{quote(SALES_ORDER)}"
            doc = await self._write("POST", path, self._sales_order_body(draft), retries=0)
            return _sales_order(doc) if doc else await self._require(find)

        return await look_then_create(find, create, max_retries=self._max_retries)

    async def sales_order(self, name: str) -> SalesOrder | None:
        doc = await self._document(SALES_ORDER, name)
        return _sales_order(doc) if doc is not None else None

    async def open_sales_orders(
        self, customer: str, *, offset: int, limit: int
    ) -> list[SalesOrder]:
        rows = await self._page(
            SALES_ORDER,
            SALES_ORDER_FIELDS,
            [
                ["customer", "=", customer],
                ["docstatus", "=", 1],
                ["status", "not in", ["Completed", "Closed"]],
            ],
            start=offset,
            length=limit,
            order_by="name asc",
        )
        return [_sales_order(row) for row in rows]

    async def cancel_sales_order(self, name: str) -> SalesOrder:
        body = {"doctype": SALES_ORDER, "name": name}
        try:
            doc = await self._write("POST", "/api/method/frappe.client.cancel", body, key="message")
        except BackendRejected as refused:
            # A repeat (or a retry whose first answer was lost) finds it cancelled: success.
            current = await self.sales_order(name)
            if current is not None and current.docstatus == 2:
                return current
            raise refused
        if doc is None:  # older Frappe versions answer with no document
            current = await self.sales_order(name)
            if current is None:
                raise BackendUnavailable(f"Sales Order {name} vanished", backend="erpnext")
            return current
        return _sales_order(doc)

    async def deliver_sales_order(self, name: str, reference: str) -> SalesOrder:
        """Everything still open on the Sales Order delivered by one submitted Delivery Note
        whose ``po_no`` is ``reference``; a repeat finds the note (or a fully delivered
        order) and makes none."""

        async def find() -> SalesOrder | None:
            rows = await self._page(
                DELIVERY_NOTE,
                ["name", "docstatus"],
                [["po_no", "=", reference], ["docstatus", "<", 2]],
                start=0,
                length=20,
                order_by="docstatus desc, creation asc",
            )
            if rows and rows[0].get("docstatus") == 0:  # inserted, never submitted
                path = self._doc_path(DELIVERY_NOTE, str(rows[0]["name"]))
                await self._write("PUT", path, {"docstatus": 1})
            current = await self.sales_order(name)
            if current is None:
                raise BackendRejected(f"Sales Order {name} does not exist", backend="erpnext")
            return current if rows or current.per_delivered >= 100 else None

        async def create() -> SalesOrder:
            order = await self._document(SALES_ORDER, name)
            if order is None:
                raise BackendRejected(f"Sales Order {name} does not exist", backend="erpnext")
            items = [
                {
                    "item_code": row["item_code"],
                    "qty": open_qty,
                    "warehouse": row.get("warehouse"),
                    "against_sales_order": name,
                    "so_detail": row["name"],
                }
                for row in order.get("items") or []
                if (open_qty := _quantity(row, "qty") - _quantity(row, "delivered_qty")) > 0
            ]
            body: dict[str, Any] = {
                "customer": order["customer"],
                "po_no": reference,
                "items": items,
                "docstatus": 1,
            }
            if order.get("company"):
                body["company"] = order["company"]
            await self._write("POST", f"/api/resource/{quote(DELIVERY_NOTE)}", body, retries=0)
            return await self._require(find)

        return await look_then_create(find, create, max_retries=self._max_retries)

    async def stock_reservations(self, sales_order: str) -> list[StockReservation]:
        rows = await self._all(
            RESERVATION,
            RESERVATION_FIELDS,
            [["voucher_type", "=", SALES_ORDER], ["voucher_no", "=", sales_order]],
        )
        return [
            StockReservation(
                name=str(row["name"]),
                sku=str(row["item_code"]),
                warehouse=str(row["warehouse"]),
                # Held quantities round up, delivered ones down: never under-count a hold.
                reserved_qty=whole(row.get("reserved_qty"), ROUND_CEILING),
                delivered_qty=whole(row.get("delivered_qty"), ROUND_FLOOR),
                status=str(row.get("status") or ""),
            )
            for row in rows
            if row.get("docstatus") != 0  # a draft entry holds nothing
        ]

    async def add_item_barcode(self, sku: str, barcode: str) -> None:
        """A row in the Item's barcode table, unless it is there already (a retry). Frappe
        replaces a child table with the rows a PUT sends, so the item's rows go back with
        their names and the new one after them. An internal code has no barcode_type:
        ERPNext's types are GTIN families it validates, and Code 128 is none of them."""
        item = await self._document(ITEM, sku)
        if item is None:
            raise NotFound(f"ERPNext has no Item {sku!r}", sku=sku)
        rows = [row for row in item.get("barcodes") or [] if isinstance(row, dict)]
        if any(row.get("barcode") == barcode for row in rows):
            return
        kept = [
            {key: row[key] for key in ("name", "barcode", "barcode_type", "uom") if key in row}
            for row in rows
        ]
        body = {"barcodes": [*kept, {"barcode": barcode, "barcode_type": ""}]}
        await self._write("PUT", self._doc_path(ITEM, sku), body)

    # --- helpers -------------------------------------------------------------------------

    async def _open_sales_order(self, draft: SalesOrderDraft) -> SalesOrder | None:
        """The not-cancelled order with this po_no; a submitted one wins over a draft."""
        rows = await self._page(
            SALES_ORDER,
            SALES_ORDER_FIELDS,
            [
                ["po_no", "=", draft.reference],
                ["customer", "=", draft.customer],
                ["docstatus", "<", 2],
            ],
            start=0,
            length=20,
            order_by="docstatus desc, creation asc",
        )
        return _sales_order(rows[0]) if rows else None

    async def _submit_draft(self, name: str) -> SalesOrder:
        doc = await self._write("PUT", self._doc_path(SALES_ORDER, name), {"docstatus": 1})
        if doc is None:
            raise BackendUnavailable(
                f"Sales Order {name} submit answered no document", backend="erpnext"
            )
        return _sales_order(doc)

    def _sales_order_body(self, draft: SalesOrderDraft) -> dict[str, Any]:
        if not draft.lines:
            raise BadUserInput("A sales order needs at least one line")
        currencies = {line.rate.currency for line in draft.lines if line.rate is not None}
        if len(currencies) > 1:
            raise BadUserInput(f"A sales order has one currency, not {sorted(currencies)}")
        reserve = int(draft.reserve_stock)
        delivery = draft.delivery_date.isoformat()
        items = []
        for line in draft.lines:
            item: dict[str, Any] = {
                "item_code": line.sku,
                "qty": line.quantity,
                "warehouse": line.warehouse,
                "delivery_date": delivery,
                "reserve_stock": reserve,
            }
            if line.rate is not None:
                item["rate"] = line.rate.amount  # a Decimal, written as an exact JSON number
            items.append(item)
        body: dict[str, Any] = {
            "customer": draft.customer,
            "order_type": "Sales",
            "transaction_date": draft.transaction_date.isoformat(),
            "delivery_date": delivery,
            "po_no": draft.reference,
            "reserve_stock": reserve,
            "items": items,
            "docstatus": 1,  # insert and submit in one call
        }
        if currencies:
            body["currency"] = currencies.pop()
        warehouses = {line.warehouse for line in draft.lines}
        if len(warehouses) == 1:
            body["set_warehouse"] = next(iter(warehouses))
        if self._company:
            body["company"] = self._company
        return body


def _sales_order(doc: dict[str, Any]) -> SalesOrder:
    return SalesOrder(
        name=str(doc["name"]),
        reference=doc.get("po_no") or None,
        docstatus=int(doc.get("docstatus") or 0),
        status=str(doc.get("status") or ""),
        per_delivered=decimal(doc.get("per_delivered")) or Decimal(0),
    )


def _quantity(row: dict[str, Any], field: str) -> Decimal:
    return decimal(row.get(field)) or Decimal(0)
