"""Stock Entry of type Material Receipt: goods arrive in a warehouse (a real ERPNext doctype;
field names as in erpnext/stock/doctype/stock_entry and stock_entry_detail).

Submitting raises Bin.actual_qty of each row's target warehouse (t_warehouse, or the header's
to_warehouse); cancelling lowers it again, refused when the stock has meanwhile left. Other
entry types (issues, transfers, manufacture) are not simulated and are refused with a 417.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.documents import Rows, Site, Submittable
from sandbox.erpnext.selling import getdate, link_error, mandatory_error, money, quantity_errors
from sandbox.erpnext.wire import FrappeError, validation_error
from sandbox.retailer import COMPANY

RECEIPT = "Material Receipt"


class StockEntries(Submittable):
    doctype = "Stock Entry"
    child = "Stock Entry Detail"
    prefix = "MAT-STE"

    def __init__(self, site: Site, bins: BinLedger) -> None:
        super().__init__(site)
        self.bins = bins

    def build(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Rows]:
        entry_type = data.get("stock_entry_type") or data.get("purpose")
        if not entry_type:
            raise mandatory_error("Stock Entry", "Stock Entry Type")
        if entry_type != RECEIPT:
            raise validation_error(f"The sandbox simulates only {RECEIPT}, not {entry_type}")
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            raise mandatory_error("Stock Entry", "Items")
        to_warehouse = data.get("to_warehouse") or None
        missing = []
        for idx, line in enumerate(lines, start=1):
            if str(line.get("item_code")) not in self.store.dataset.items:
                missing.append(f"Row #{idx}: Item Code: {line.get('item_code')}")
            target = line.get("t_warehouse") or to_warehouse
            if target and self.store.table("Warehouse").get(str(target)) is None:
                missing.append(f"Row #{idx}: Target Warehouse: {target}")
        if missing:
            raise link_error(missing)
        rows = [self._row(idx, line, to_warehouse) for idx, line in enumerate(lines, start=1)]
        now = self.site.now()
        value = money(sum((Decimal(str(r["amount"])) for r in rows), Decimal(0)))
        header = {
            "naming_series": f"{self.prefix}-.YYYY.-",
            "stock_entry_type": entry_type,
            "purpose": entry_type,
            "company": data.get("company") or COMPANY,
            "posting_date": getdate(data.get("posting_date") or self.site.today()).isoformat(),
            "posting_time": data.get("posting_time") or now.split(" ")[1],
            "from_warehouse": None,
            "to_warehouse": to_warehouse,
            "remarks": data.get("remarks") or None,
            "total_incoming_value": value,
            "value_difference": value,
        }
        return header, rows

    def _row(self, idx: int, line: dict[str, Any], to_warehouse: str | None) -> dict[str, Any]:
        item = self.store.dataset.items[str(line["item_code"])]
        if item.has_variants:
            raise validation_error(
                f"Item {item.sku} is a template, please select one of its variants"
            )
        qty = float(line.get("qty") or 0)
        quantity_errors(self.child, idx, item.sku, qty)
        target = line.get("t_warehouse") or to_warehouse
        if not target:
            raise FrappeError(417, "MandatoryError", f"Target warehouse is mandatory for row {idx}")
        if (self.store.table("Warehouse").get(str(target)) or {}).get("is_group"):
            raise validation_error("Group node warehouse is not allowed to select for transactions")
        rate = Decimal(str(line.get("basic_rate") or item.valuation_rate))
        return {
            "s_warehouse": None,
            "t_warehouse": target,
            "item_code": item.sku,
            "item_name": item.name,
            "qty": qty,
            "transfer_qty": qty,
            "uom": item.uom,
            "stock_uom": item.uom,
            "conversion_factor": 1.0,
            "basic_rate": money(rate),
            "valuation_rate": money(rate),
            "amount": money(rate * Decimal(str(qty))),
        }

    def on_submit(self, name: str) -> None:
        for row in self.items(name):
            self.bins.move(
                row["item_code"],
                row["t_warehouse"],
                (self.doctype, name),
                actual_qty=float(row["qty"]),
            )

    def on_cancel(self, name: str) -> None:
        rows = self.items(name)
        for row in rows:
            actual = self.bins.quantity(row["item_code"], row["t_warehouse"], "actual_qty")
            if actual < float(row["qty"]):
                raise FrappeError(
                    417,
                    "NegativeStockError",
                    f"{float(row['qty']) - actual:g} units of Item {row['item_code']}: "
                    f"{row['item_name']} needed in Warehouse {row['t_warehouse']} to complete "
                    "this transaction.",
                )
        for row in rows:
            self.bins.move(
                row["item_code"],
                row["t_warehouse"],
                (self.doctype, name),
                cancelling=True,
                actual_qty=-float(row["qty"]),
            )
