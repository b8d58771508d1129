"""Stock Entry of type Material Receipt or Material Issue: goods arrive in a warehouse, or leave
it (a real ERPNext doctype; field names as in erpnext/stock/doctype/stock_entry and
stock_entry_detail, v15).

A receipt raises Bin.actual_qty of each row's target warehouse (t_warehouse, or the header's
to_warehouse), an issue lowers that of its source warehouse (s_warehouse, or from_warehouse);
the other warehouse field is cleared, as validate_warehouse does. Without ``set_posting_time``
the entry is posted now, whatever posting_date and posting_time say; with it, at that moment,
a moment after the site's now refused as the Stock Reconciliation refuses it. A backdated
entry's ledger entries are posted at its moment and the later ones reposted
(sandbox.erpnext.bins.BinLedger.post_at), so the movements after it stay.

Submitting is refused as erpnext/stock/stock_ledger.py refuses it, in its order:

1. the row's own balance at its moment, less the stock Stock Reservation Entries hold now,
   below zero (update_entries_after.validate_negative_stock, receipts included):
   NegativeStockError, with raise_exceptions' note on the reserved stock;
2. for an outgoing row, a later balance below zero (validate_negative_qty_in_future_sle):
   NegativeStockError naming the later entry;
3. for an outgoing row, today's balance less the reserved stock below zero
   (validate_reserved_stock): a ValidationError.

Cancelling reverses each row's entry at the document's moment; reversing a receipt is refused
by checks 2 and 3 (ERPNext does not run check 1 on a cancelled entry), reversing an issue puts
the units back. Other entry types (transfers, manufacture) are not simulated and are refused
with a 417. Not simulated either: valuation (an issue goes out at the Bin's rate) and serial
and batch numbers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.documents import Rows, Site, Submittable
from sandbox.erpnext.posting import desk_link, posting_moment
from sandbox.erpnext.selling import link_error, mandatory_error, money, quantity_errors
from sandbox.erpnext.wire import FrappeError, cint, validation_error
from sandbox.retailer import COMPANY

RECEIPT = "Material Receipt"
ISSUE = "Material Issue"
_LEDGER_MODULE = "erpnext.stock.stock_ledger"


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
        if entry_type not in (RECEIPT, ISSUE):
            raise validation_error(
                f"The sandbox simulates only {RECEIPT} and {ISSUE}, not {entry_type}"
            )
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            raise mandatory_error("Stock Entry", "Items")
        issue = entry_type == ISSUE
        # validate_warehouse clears the warehouse the purpose does not use.
        from_warehouse = (data.get("from_warehouse") or None) if issue else None
        to_warehouse = None if issue else (data.get("to_warehouse") or None)
        self._check_links(lines, issue, from_warehouse or to_warehouse)
        moment = posting_moment(self.site, data)
        default = from_warehouse or to_warehouse
        rows = [self._row(idx, line, issue, default) for idx, line in enumerate(lines, start=1)]
        if cint(data.get("docstatus")) == 1:
            # What on_submit would refuse, refused before anything is written.
            self._refuse_unavailable(rows, moment)
        value = money(sum((Decimal(str(r["amount"])) for r in rows), Decimal(0)))
        header = {
            "naming_series": f"{self.prefix}-.YYYY.-",
            "stock_entry_type": entry_type,
            "purpose": entry_type,
            "company": data.get("company") or COMPANY,
            "posting_date": moment.date().isoformat(),
            "posting_time": moment.time().isoformat(),
            "set_posting_time": cint(data.get("set_posting_time")),
            "from_warehouse": from_warehouse,
            "to_warehouse": to_warehouse,
            "remarks": data.get("remarks") or None,
            "total_incoming_value": 0.0 if issue else value,
            "total_outgoing_value": value if issue else 0.0,
            "value_difference": -value if issue else value,
        }
        return header, rows

    def _check_links(self, lines: list[Any], issue: bool, default: str | None) -> None:
        label = "Source Warehouse" if issue else "Target Warehouse"
        missing = []
        for idx, line in enumerate(lines, start=1):
            if str(line.get("item_code")) not in self.store.dataset.items:
                missing.append(f"Row #{idx}: Item Code: {line.get('item_code')}")
            warehouse = _warehouse_of(line, issue) or default
            if warehouse and self.store.table("Warehouse").get(str(warehouse)) is None:
                missing.append(f"Row #{idx}: {label}: {warehouse}")
        if missing:
            raise link_error(missing)

    def _row(
        self, idx: int, line: dict[str, Any], issue: bool, default: str | None
    ) -> dict[str, Any]:
        item = self.store.dataset.items[str(line["item_code"])]
        if item.has_variants:
            raise validation_error(
                f"Item {item.sku} is a template, please select one of its variants"
            )
        qty = float(line.get("qty") or 0)
        quantity_errors(self.child, idx, item.sku, qty)
        warehouse = _warehouse_of(line, issue) or default
        if not warehouse:
            if issue:
                raise validation_error(f"Source warehouse is mandatory for row {idx}")
            raise FrappeError(417, "MandatoryError", f"Target warehouse is mandatory for row {idx}")
        if (self.store.table("Warehouse").get(str(warehouse)) or {}).get("is_group"):
            raise validation_error("Group node warehouse is not allowed to select for transactions")
        if issue:
            # Stock leaves at what it is held at; a rate sent for an issue is recomputed.
            bin_row = self.bins.figures(item.sku, str(warehouse))
            held_at = bin_row["valuation_rate"] if bin_row else item.valuation_rate
            rate = Decimal(str(held_at))
        else:
            rate = Decimal(str(line.get("basic_rate") or item.valuation_rate))
        return {
            "s_warehouse": warehouse if issue else None,
            "t_warehouse": None if issue else warehouse,
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

    # --- ERPNext's stock checks ---------------------------------------------------------

    def _refuse_unavailable(self, rows: Rows, moment: datetime) -> None:
        """Checks 1 to 3 of the module docstring; rows of one item and warehouse are posted
        one after another, so each sees the ones before it."""
        earlier: dict[tuple[str, str], float] = {}
        for row in rows:
            item_code, warehouse, qty = _movement(row)
            key = (item_code, warehouse.casefold())
            before = earlier.get(key, 0.0)
            reserved = self.bins.quantity(item_code, warehouse, "reserved_stock")
            then = self.bins.quantity_at(item_code, warehouse, moment) + before
            short = round(then + qty - reserved, 2)
            if short < 0 and abs(short) > 0.0001:
                raise self._negative_stock(item_code, warehouse, qty, short, reserved)
            if qty < 0:
                self._refuse_outgoing(item_code, warehouse, moment, before + qty)
            earlier[key] = before + qty

    def _refuse_outgoing(
        self, item_code: str, warehouse: str, moment: datetime, qty: float
    ) -> None:
        """Checks 2 and 3: ``qty`` (below zero, with what this document moved before it)
        posted at ``moment``."""
        later = self.bins.shortfall(item_code, warehouse, moment, qty)
        if later is not None:
            balance, entry = later
            voucher = desk_link(entry["voucher_type"], entry["voucher_no"])
            raise FrappeError(
                417,
                "NegativeStockError",
                f"{abs(balance)} units of {desk_link('Item', item_code)} needed in "
                f"{desk_link('Warehouse', warehouse)} on {entry['posting_date']} "
                f"{entry['posting_time']} for {voucher} to complete this transaction.",
                module=_LEDGER_MODULE,
            )
        reserved = self.bins.quantity(item_code, warehouse, "reserved_stock")
        if not reserved:
            return
        left = round(self.bins.quantity(item_code, warehouse, "actual_qty") + qty - reserved, 2)
        if left < 0 and abs(left) > 0.0001:
            now = datetime.fromisoformat(self.site.now())
            # nowdate() and nowtime(): frappe's TIME_FORMAT keeps the microseconds.
            raise validation_error(
                f"{abs(left)} units of {desk_link('Item', item_code)} needed in "
                f"{desk_link('Warehouse', warehouse)} on {now:%Y-%m-%d} {now:%H:%M:%S.%f} "
                "to complete this transaction."
            )

    def _negative_stock(
        self, item_code: str, warehouse: str, qty: float, short: float, reserved: float
    ) -> FrappeError:
        """update_entries_after.raise_exceptions for the document being saved."""
        message = (
            f"<strong>{abs(short)}</strong> units of {desk_link('Item', item_code)} needed in "
            f"{desk_link('Warehouse', warehouse)} to complete this transaction."
        )
        if reserved:
            allowed = abs(qty) - abs(short)
            if allowed > 0:
                message += (
                    f" As <strong>{reserved}</strong> units are reserved for other sales "
                    f"orders, you are allowed to consume only <strong>{allowed}</strong> units."
                )
            else:
                message += (
                    " As the full stock is reserved for other sales orders, you're not "
                    "allowed to consume the stock."
                )
        return FrappeError(417, "NegativeStockError", message, module=_LEDGER_MODULE)

    # --- submit and cancel --------------------------------------------------------------

    def on_submit(self, name: str) -> None:
        moment = self._posted(name)
        for row in self.items(name):
            item_code, warehouse, qty = _movement(row)
            self.bins.post_at(item_code, warehouse, (self.doctype, name), moment, qty)

    def on_cancel(self, name: str) -> None:
        moment = self._posted(name)
        reversals = []
        earlier: dict[tuple[str, str], float] = {}
        for row in self.items(name):
            item_code, warehouse, qty = _movement(row)
            key = (item_code, warehouse.casefold())
            before = earlier.get(key, 0.0)
            if qty > 0:  # a receipt's units leave again
                self._refuse_outgoing(item_code, warehouse, moment, before - qty)
            earlier[key] = before - qty
            reversals.append((item_code, warehouse, -qty))
        for item_code, warehouse, qty in reversals:
            self.bins.post_at(
                item_code, warehouse, (self.doctype, name), moment, qty, cancelling=True
            )

    def _posted(self, name: str) -> datetime:
        header = self.header(name)
        return datetime.fromisoformat(f"{header['posting_date']} {header['posting_time']}")


def _warehouse_of(line: dict[str, Any], issue: bool) -> Any:
    return line.get("s_warehouse") if issue else line.get("t_warehouse")


def _movement(row: dict[str, Any]) -> tuple[str, str, float]:
    """The row's item, warehouse and signed quantity: into t_warehouse, out of s_warehouse."""
    if row.get("s_warehouse"):
        return row["item_code"], row["s_warehouse"], -float(row["qty"])
    return row["item_code"], row["t_warehouse"], float(row["qty"])
