"""Delivery Note: goods leave a warehouse against a submitted Sales Order (a real ERPNext
doctype; field names as in erpnext/stock/doctype/delivery_note and delivery_note_item).

Each row names the Sales Order row it delivers (``against_sales_order``, ``so_detail``), as
``make_delivery_note`` fills them. Submitting lowers Bin.actual_qty and Bin.reserved_qty
together (the hold becomes the shipment, so projected_qty does not move), consumes the
order's Stock Reservation Entries and raises the order's delivered quantities; a fully
delivered order becomes "To Bill". Refused: a row without a Sales Order row, more than is
still to deliver, or more than the warehouse holds (NegativeStockError). Cancelling a
Delivery Note is not simulated (417).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.erpnext.documents import Rows, Site, Submittable
from sandbox.erpnext.selling import SalesOrders, getdate, mandatory_error, money, quantity_errors
from sandbox.erpnext.wire import FrappeError, validation_error
from sandbox.retailer import COMPANY

DELIVERY_NOTE = "Delivery Note"


class DeliveryNotes(Submittable):
    doctype = DELIVERY_NOTE
    child = "Delivery Note Item"
    prefix = "MAT-DN"

    def __init__(self, site: Site, sales_orders: SalesOrders) -> None:
        super().__init__(site)
        self.sales_orders = sales_orders

    def build(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Rows]:
        customer = data.get("customer")
        if not customer:
            raise mandatory_error(DELIVERY_NOTE, "Customer")
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            raise mandatory_error(DELIVERY_NOTE, "Items")
        rows = [self._row(idx, line) for idx, line in enumerate(lines, start=1)]
        for row in rows:
            order = self.sales_orders.header(row["against_sales_order"])
            if order["customer"] != customer:
                raise validation_error(
                    f"Customer {customer} does not match Sales Order "
                    f"{row['against_sales_order']} ({order['customer']})"
                )
        now = self.site.now()
        header = {
            "naming_series": f"{self.prefix}-.YYYY.-",
            "customer": customer,
            "customer_name": customer,
            "company": data.get("company") or COMPANY,
            "posting_date": getdate(data.get("posting_date") or self.site.today()).isoformat(),
            "posting_time": data.get("posting_time") or now.split(" ")[1],
            "po_no": data.get("po_no") or None,
            "status": "Draft",
            "per_billed": 0.0,
            "total_qty": float(sum(r["qty"] for r in rows)),
            "grand_total": money(sum((Decimal(str(r["amount"])) for r in rows), Decimal(0))),
        }
        return header, rows

    def _row(self, idx: int, line: Any) -> dict[str, Any]:
        line = line if isinstance(line, dict) else {}
        so_name, so_detail = line.get("against_sales_order"), line.get("so_detail")
        if not so_name or not so_detail:
            raise validation_error(
                f"Row #{idx}: the sandbox delivers only against a Sales Order row "
                "(against_sales_order and so_detail, as make_delivery_note fills them)"
            )
        so_row = self.store.table(self.sales_orders.child).get(str(so_detail))
        if so_row is None or so_row["parent"] != so_name:
            raise FrappeError(
                417, "LinkValidationError", f"Could not find Row #{idx}: Sales Order Item"
            )
        qty = float(line.get("qty") or 0)
        quantity_errors(self.child, idx, so_row["item_code"], qty)
        return {
            "item_code": so_row["item_code"],
            "item_name": so_row["item_name"],
            "qty": qty,
            "stock_uom": so_row["stock_uom"],
            "uom": so_row["uom"],
            "warehouse": line.get("warehouse") or so_row["warehouse"],
            "rate": so_row["rate"],
            "amount": money(Decimal(str(so_row["rate"])) * Decimal(str(qty))),
            "against_sales_order": so_name,
            "so_detail": so_detail,
        }

    def on_submit(self, name: str) -> None:
        quantities: dict[str, float] = {}
        order = ""
        for row in self.items(name):
            order = row["against_sales_order"]
            quantities[row["so_detail"]] = quantities.get(row["so_detail"], 0.0) + row["qty"]
        self.sales_orders.deliver_rows(order, quantities, name)
        self.set(self.doctype, name, status="To Bill")

    def on_cancel(self, name: str) -> None:
        raise validation_error("The sandbox does not simulate cancelling a Delivery Note")

    def deliver_everything(self, sales_order: str) -> str:
        """A Delivery Note for every open row of ``sales_order``, submitted (what
        make_delivery_note followed by a submit makes)."""
        header = self.sales_orders.header(sales_order)
        open_rows = [
            {"against_sales_order": sales_order, "so_detail": r["name"], "qty": open_qty}
            for r in self.sales_orders.items(sales_order)
            if (open_qty := float(r["qty"]) - float(r["delivered_qty"])) > 0
        ]
        if header["docstatus"] != 1:
            raise validation_error(f"Sales Order {sales_order} must be submitted to be delivered")
        if not open_rows:
            raise validation_error(f"Sales Order {sales_order} is already fully delivered")
        return self.insert({"customer": header["customer"], "items": open_rows, "docstatus": 1})
