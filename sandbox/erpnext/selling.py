"""Sales Orders: the gateway's way to hold stock in ERPNext, and their Stock Reservation Entries.

What erpnext/selling/doctype/sales_order/sales_order.py does and this reproduces:

* validate: mandatory customer and items, links (customer, company, items, warehouses) checked
  together as Frappe's "Could not find ...", quantities above zero, row delivery dates not
  before the order date, one open order per customer and po_no (Selling Settings default);
  prices from the Standard Selling list unless a rate is sent; the company's default tax
  template (19% VAT included in the rate) splits totals into net and tax.
* on_submit: every stock row raises Bin.reserved_qty (the soft reservation); with reserve_stock
  on the header and the row, one Stock Reservation Entry per row holds what is available
  (actual_qty - reserved_stock) and raises Bin.reserved_stock. Status "To Deliver and Bill".
* on_cancel: both released, the entries Cancelled, refused once something was delivered.

``deliver_rows`` is what a submitted Delivery Note (sandbox.erpnext.delivery_note) does to the
order: stock leaves the warehouse, so actual_qty and reserved_qty fall together and
projected_qty does not move.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.documents import Rows, Site, Submittable
from sandbox.erpnext.store import SELLING
from sandbox.erpnext.wire import FrappeError, cint, validation_error
from sandbox.retailer import COMPANY, COMPANY_ABBR, CURRENCY, Item

SRE = "Stock Reservation Entry"
WEB_CUSTOMER = "WooCommerce Web Customer"
TAX_TEMPLATE = f"Germany VAT 19% - {COMPANY_ABBR}"
_VAT = Decimal("0.19")
_CENT = Decimal("0.01")


def link_error(missing: Sequence[str]) -> FrappeError:
    return FrappeError(417, "LinkValidationError", f"Could not find {', '.join(missing)}")


def mandatory_error(doctype: str, label: str) -> FrappeError:
    return FrappeError(417, "MandatoryError", f"Error: Value missing for {doctype}: {label}")


def getdate(value: Any) -> date:
    """frappe.utils.getdate for the ISO dates an API client sends."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise validation_error(f"<strong>{value}</strong> is not a valid date string.") from exc


def quantity_errors(doctype: str, idx: int, item_code: str, qty: float) -> None:
    if qty == 0:
        raise FrappeError(
            417,
            "InvalidQtyError",
            f"Row #{idx}: Quantity for Item <strong>{item_code}</strong> cannot be zero.",
        )
    if qty < 0:
        raise FrappeError(
            417,
            "NonNegativeError",
            f"<strong>{doctype}</strong> Row #{idx}: Value cannot be negative for "
            "<strong>Quantity</strong>",
        )


def money(value: Decimal) -> float:
    # Frappe rounds Currency fields to the precision (2) and sends them as JSON floats.
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


class SalesOrders(Submittable):
    doctype = "Sales Order"
    child = "Sales Order Item"
    prefix = "SAL-ORD"

    def __init__(self, site: Site, bins: BinLedger) -> None:
        super().__init__(site)
        self.bins = bins
        self._delivery_notes: dict[str, str] = {}
        customers = self.store.table("Customer")
        customers.append(
            {
                **site.stamped(WEB_CUSTOMER),
                "customer_name": WEB_CUSTOMER,
                "customer_type": "Individual",
                "customer_group": "Individual",
                "territory": "Germany",
                "disabled": 0,
            }
        )

    # --- validate -----------------------------------------------------------------------

    def build(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Rows]:
        customer = data.get("customer")
        if not customer:
            raise mandatory_error("Sales Order", "Customer")
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            raise mandatory_error("Sales Order", "Items")
        self._check_links(data, lines)
        transaction_date = getdate(data.get("transaction_date") or self.site.today())
        reserve = cint(data.get("reserve_stock"))
        rows = [self._row(idx, line, data, reserve) for idx, line in enumerate(lines, start=1)]
        for idx, row in enumerate(rows, start=1):
            if getdate(row["delivery_date"]) < transaction_date:
                raise validation_error(
                    f"Row #{idx}: Delivery Date cannot be before Sales Order Date"
                )
        po_no = data.get("po_no") or None
        if po_no:
            self._check_po_no(str(po_no), str(customer), name)
        total = sum((Decimal(str(r["amount"])) for r in rows), Decimal(0))
        # The template's VAT is included in the rate: the tax is what the net total leaves.
        net_total = (total / (1 + _VAT)).quantize(_CENT, rounding=ROUND_HALF_UP)
        customer_row = self.store.table("Customer").get(str(customer)) or {}
        header = {
            "naming_series": f"{self.prefix}-.YYYY.-",
            "customer": customer,
            "customer_name": customer_row.get("customer_name", customer),
            "order_type": data.get("order_type") or "Sales",
            "transaction_date": transaction_date.isoformat(),
            "delivery_date": max(r["delivery_date"] for r in rows),
            "po_no": po_no,
            "company": data.get("company") or COMPANY,
            "currency": data.get("currency") or CURRENCY,
            "conversion_rate": 1.0,
            "selling_price_list": data.get("selling_price_list") or SELLING,
            "price_list_currency": CURRENCY,
            "set_warehouse": data.get("set_warehouse") or None,
            "reserve_stock": reserve,
            "total_qty": float(sum(r["qty"] for r in rows)),
            "total": money(total),
            "net_total": money(net_total),
            "taxes_and_charges": TAX_TEMPLATE,
            "total_taxes_and_charges": money(total - net_total),
            "grand_total": money(total),
            "rounded_total": money(total),  # EUR rounds to its smallest fraction: a cent
            "advance_paid": 0.0,
            "status": "Draft",
            "delivery_status": "Not Delivered",
            "billing_status": "Not Billed",
            "per_delivered": 0.0,
            "per_billed": 0.0,
            "per_picked": 0.0,
        }
        return header, rows

    def _check_links(self, data: dict[str, Any], lines: list[Any]) -> None:
        missing = []
        if self.store.table("Customer").get(str(data["customer"])) is None:
            missing.append(f"Customer: {data['customer']}")
        if data.get("company") and data["company"] != COMPANY:
            missing.append(f"Company: {data['company']}")
        if data.get("set_warehouse") and not self._warehouse(data["set_warehouse"]):
            missing.append(f"Set Source Warehouse: {data['set_warehouse']}")
        template = data.get("taxes_and_charges")
        if template and template != TAX_TEMPLATE:
            missing.append(f"Sales Taxes and Charges Template: {template}")
        for idx, line in enumerate(lines, start=1):
            line = line if isinstance(line, dict) else {}
            if str(line.get("item_code")) not in self.store.dataset.items:
                missing.append(f"Row #{idx}: Item Code: {line.get('item_code')}")
            warehouse = line.get("warehouse")
            if warehouse and not self._warehouse(warehouse):
                missing.append(f"Row #{idx}: Delivery Warehouse: {warehouse}")
        if missing:
            raise link_error(missing)

    def _warehouse(self, name: str) -> dict[str, Any] | None:
        return self.store.table("Warehouse").get(str(name))

    def _row(
        self, idx: int, line: dict[str, Any], data: dict[str, Any], reserve: int
    ) -> dict[str, Any]:
        item: Item = self.store.dataset.items[str(line["item_code"])]
        if item.has_variants:
            raise validation_error(
                f"Item {item.sku} is a template, please select one of its variants"
            )
        qty = float(line.get("qty") or 0)
        quantity_errors(self.child, idx, item.sku, qty)
        uom = line.get("uom") or item.uom
        if uom != item.uom:
            raise validation_error(
                f"UOM Conversion factor required for UOM: {uom} in Item: {item.sku}"
            )
        warehouse = line.get("warehouse") or data.get("set_warehouse")
        if item.is_stock_item and not warehouse:
            raise FrappeError(
                417, "WarehouseRequired", f"Delivery warehouse required for stock item {item.sku}"
            )
        if warehouse and (self._warehouse(warehouse) or {}).get("is_group"):
            raise validation_error("Group node warehouse is not allowed to select for transactions")
        delivery = line.get("delivery_date") or data.get("delivery_date")
        if not delivery:
            raise validation_error("Please enter Delivery Date")
        price = Decimal(str(item.list_price))
        rate = Decimal(str(line["rate"])) if line.get("rate") is not None else price
        amount = rate * Decimal(str(qty))
        bin_row = self.bins.figures(item.sku, warehouse) if warehouse else None
        return {
            "item_code": item.sku,
            "item_name": item.name,
            "delivery_date": getdate(delivery).isoformat(),
            "qty": qty,
            "stock_uom": item.uom,
            "uom": uom,
            "conversion_factor": 1.0,
            "stock_qty": qty,
            "price_list_rate": money(price),
            "rate": money(rate),
            "amount": money(amount),
            "net_rate": money(rate / (1 + _VAT)),
            "net_amount": money(amount / (1 + _VAT)),
            "warehouse": warehouse,
            "delivered_qty": 0.0,
            "billed_amt": 0.0,
            "reserve_stock": cint(line.get("reserve_stock", reserve)),
            "stock_reserved_qty": 0.0,
            "actual_qty": float(bin_row["actual_qty"]) if bin_row else 0.0,
            "projected_qty": float(bin_row["projected_qty"]) if bin_row else 0.0,
        }

    def _check_po_no(self, po_no: str, customer: str, name: str) -> None:
        for row in self.store.table(self.doctype).rows():
            same = str(row.get("po_no") or "").casefold() == po_no.casefold()
            if (
                same
                and row["customer"] == customer
                and row["name"] != name
                and row["docstatus"] < 2
            ):
                raise validation_error(
                    f"Sales Order {row['name']} already exists against Customer's Purchase "
                    f"Order {po_no}. To allow multiple Sales Orders, Enable <strong>Allow "
                    "Multiple Sales Orders Against a Customer's Purchase Order</strong> in "
                    "<strong>Selling Settings</strong>"
                )

    # --- submit and cancel --------------------------------------------------------------

    def on_submit(self, name: str) -> None:
        header = self.header(name)
        for row in self.items(name):
            if not self._is_stock(row) or not row.get("warehouse"):
                continue
            item, warehouse, qty = row["item_code"], row["warehouse"], float(row["qty"])
            self.bins.move(item, warehouse, reserved_qty=qty)
            if header["reserve_stock"] and row["reserve_stock"]:
                self._reserve(name, header, row)
            bin_row = self.bins.figures(item, warehouse) or {}
            self.set(
                self.child,
                row["name"],
                actual_qty=float(bin_row.get("actual_qty", 0)),
                projected_qty=float(bin_row.get("projected_qty", 0)),
            )
        self.set(self.doctype, name, status="To Deliver and Bill")

    def _reserve(self, name: str, header: dict[str, Any], row: dict[str, Any]) -> None:
        item, warehouse, qty = row["item_code"], row["warehouse"], float(row["qty"])
        available = self.bins.quantity(item, warehouse, "actual_qty") - self.bins.quantity(
            item, warehouse, "reserved_stock"
        )
        reserved = min(qty, max(available, 0.0))
        if reserved <= 0:
            return  # ERPNext only warns that nothing is available to reserve
        entry = self.site.next_name("MAT-SRE")
        self.store.table("Stock Reservation Entry").append(
            {
                **self.site.stamped(entry),
                "docstatus": 1,
                "item_code": item,
                "warehouse": warehouse,
                "voucher_type": "Sales Order",
                "voucher_no": name,
                "voucher_detail_no": row["name"],
                "voucher_qty": qty,
                "available_qty": available,
                "reserved_qty": reserved,
                "delivered_qty": 0.0,
                "stock_uom": row["stock_uom"],
                "reservation_based_on": "Qty",
                "status": "Reserved" if reserved >= qty else "Partially Reserved",
                "company": header["company"],
            }
        )
        self.bins.move(item, warehouse, reserved_stock=reserved)
        self.set(self.child, row["name"], stock_reserved_qty=reserved)
        self.store.events.emit(SRE, entry, "after_insert", "on_update", "on_submit")

    def on_cancel(self, name: str) -> None:
        if name in self._delivery_notes:
            raise validation_error(
                f"Delivery Notes {self._delivery_notes[name]} must be cancelled before "
                "cancelling this Sales Order"
            )
        for row in self.items(name):
            if self._is_stock(row) and row.get("warehouse"):
                open_qty = float(row["qty"]) - float(row["delivered_qty"])
                self.bins.move(row["item_code"], row["warehouse"], reserved_qty=-open_qty)
            self.set(self.child, row["name"], stock_reserved_qty=0.0)
        for entry in self.reservations(name):
            held = float(entry["reserved_qty"]) - float(entry["delivered_qty"])
            self.bins.move(entry["item_code"], entry["warehouse"], reserved_stock=-held)
            self.set(SRE, entry["name"], docstatus=2, status="Cancelled")
            self.store.events.emit(SRE, entry["name"], "on_cancel", "on_change")
        self.set(self.doctype, name, status="Cancelled")

    def reservations(self, name: str) -> Rows:
        """The submitted Stock Reservation Entries of one order."""
        return [
            row
            for row in self.store.table(SRE).rows()
            if row["voucher_no"] == name and row["docstatus"] == 1
        ]

    def _is_stock(self, row: dict[str, Any]) -> bool:
        item = self.store.dataset.items.get(row["item_code"])
        return item is not None and item.is_stock_item

    # --- delivery (a Delivery Note's submit) ---------------------------------------------

    def deliver_rows(self, name: str, quantities: dict[str, float], delivery_note: str) -> None:
        """What a submitted Delivery Note does to the order and the Bins: ``quantities``
        per Sales Order row leave the warehouse."""
        header = self.header(name)
        if header["docstatus"] != 1:
            raise validation_error(f"Sales Order {name} must be submitted to be delivered")
        rows = {r["name"]: r for r in self.items(name)}
        for detail, qty in quantities.items():
            row = rows[detail]
            open_qty = float(row["qty"]) - float(row["delivered_qty"])
            if qty > open_qty:
                raise validation_error(
                    f"Row {row['idx']}: {qty:g} of Item {row['item_code']} is more than the "
                    f"{open_qty:g} still to deliver against Sales Order {name}"
                )
            if self._is_stock(row) and row.get("warehouse"):
                actual = self.bins.quantity(row["item_code"], row["warehouse"], "actual_qty")
                if actual < qty:
                    raise FrappeError(
                        417,
                        "NegativeStockError",
                        f"{qty - actual:g} units of Item {row['item_code']}: "
                        f"{row['item_name']} needed in Warehouse {row['warehouse']} to "
                        "complete this transaction.",
                    )
        for detail, qty in quantities.items():
            row = rows[detail]
            if self._is_stock(row) and row.get("warehouse"):
                self.bins.move(
                    row["item_code"],
                    row["warehouse"],
                    ("Delivery Note", delivery_note),
                    actual_qty=-qty,
                    reserved_qty=-qty,
                )
            self.set(self.child, detail, delivered_qty=float(row["delivered_qty"]) + qty)
            for entry in self.reservations(name):
                if entry["voucher_detail_no"] != detail:
                    continue
                held = float(entry["reserved_qty"]) - float(entry["delivered_qty"])
                used = min(held, qty)
                self.bins.move(entry["item_code"], entry["warehouse"], reserved_stock=-used)
                delivered = float(entry["delivered_qty"]) + used
                done = delivered >= float(entry["reserved_qty"])
                self.set(
                    SRE,
                    entry["name"],
                    delivered_qty=delivered,
                    status="Delivered" if done else "Partially Delivered",
                )
        self._delivery_notes[name] = delivery_note
        items = self.items(name)
        ordered = sum(float(r["qty"]) for r in items)
        delivered = sum(float(r["delivered_qty"]) for r in items)
        per_delivered = round(100.0 * delivered / ordered, 2) if ordered else 100.0
        full = per_delivered >= 100
        self.set(
            self.doctype,
            name,
            per_delivered=per_delivered,
            delivery_status="Fully Delivered" if full else "Partly Delivered",
            status="To Bill" if full else "To Deliver and Bill",
        )
        # update_prevdoc_status: db_set on the order, which runs its on_change.
        self.store.events.emit(self.doctype, name, "on_change")
