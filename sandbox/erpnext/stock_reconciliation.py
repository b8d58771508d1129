"""Stock Reconciliation: what a count found in a warehouse at a moment (a real ERPNext doctype;
field names as in erpnext/stock/doctype/stock_reconciliation and stock_reconciliation_item,
v15). The doctype has no remarks field: a reconciliation is known by its rows and its moment.

Validation, in ERPNext's order: the items must exist; without ``set_posting_time`` the
document is posted now, whatever posting_date and posting_time say (validate_posting_time);
a moment after the site's now is refused; a row whose qty and valuation_rate (each when
given) equal the ledger's at that moment is removed, and a document left with none is
refused (EmptyStockReconciliationItemsError); then per row: an existing, non-group
warehouse, each item and warehouse once, no negative qty or rate. A row without a
valuation_rate keeps the current one (or the Item's, where the warehouse never held it).
Submitting (and cancelling) is refused while Stock Reservation Entries hold stock of a row's
item in its warehouse, as validate_reserved_stock does.

Submitting posts one Stock Ledger Entry per row at the document's moment: qty_after_transaction
the row's qty, actual_qty that less what the ledger held then (the row's current_qty). The
entries posted after it are reposted up to the next reconciliation and the Bin follows
(sandbox.erpnext.bins); a later balance that would fall below zero refuses the submit
(NegativeStockError). Cancelling reverses each row's entry the same way and is refused
likewise. Not simulated: the purpose "Opening Stock", serial and batch numbers, and
valuation (the Bin keeps its valuation rate; the rate is recorded on the row).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.documents import Rows, Site, Submittable
from sandbox.erpnext.posting import desk_link, posting_moment
from sandbox.erpnext.selling import link_error, mandatory_error, money
from sandbox.erpnext.wire import FrappeError, cint, validation_error
from sandbox.retailer import COMPANY, COMPANY_ABBR

RECONCILIATION = "Stock Reconciliation"
NO_CHANGE = "None of the items have any change in quantity or value."
_RECONCILIATION_MODULE = "erpnext.stock.doctype.stock_reconciliation.stock_reconciliation"


class StockReconciliations(Submittable):
    doctype = RECONCILIATION
    child = "Stock Reconciliation Item"
    prefix = "MAT-RECO"

    def __init__(self, site: Site, bins: BinLedger) -> None:
        super().__init__(site)
        self.bins = bins

    def build(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Rows]:
        purpose = data.get("purpose") or RECONCILIATION
        if purpose != RECONCILIATION:
            raise validation_error(f"The sandbox simulates only {RECONCILIATION}, not {purpose}")
        lines = data.get("items")
        if not isinstance(lines, list) or not lines:
            raise mandatory_error(RECONCILIATION, "Items")
        lines = [line if isinstance(line, dict) else {} for line in lines]
        set_warehouse = data.get("set_warehouse") or None
        self._check_links(lines, set_warehouse)
        moment = posting_moment(self.site, data)
        rows = [
            row for line in lines if (row := self._row(line, set_warehouse, moment)) is not None
        ]
        if not rows:
            raise FrappeError(
                417, "EmptyStockReconciliationItemsError", NO_CHANGE, module=_RECONCILIATION_MODULE
            )
        self._validate_rows(rows)
        if cint(data.get("docstatus")) == 1:
            # What on_submit would refuse, refused before anything is written.
            self._refuse_reserved(rows, "submit")
            for row in rows:
                self._refuse_shortfall(row, moment, float(row["qty"]) - row["current_qty"])
        difference = sum((Decimal(str(r["amount_difference"])) for r in rows), Decimal(0))
        header = {
            "naming_series": f"{self.prefix}-.YYYY.-",
            "company": data.get("company") or COMPANY,
            "purpose": purpose,
            "posting_date": moment.date().isoformat(),
            "posting_time": moment.time().isoformat(),
            "set_posting_time": cint(data.get("set_posting_time")),
            "set_warehouse": set_warehouse,
            "expense_account": data.get("expense_account") or f"Stock Adjustment - {COMPANY_ABBR}",
            "cost_center": data.get("cost_center") or f"Main - {COMPANY_ABBR}",
            "difference_amount": money(difference),
        }
        return header, rows

    # --- validation ---------------------------------------------------------------------

    def _check_links(self, lines: list[dict[str, Any]], set_warehouse: str | None) -> None:
        items = self.store.dataset.items
        unknown = [str(code) for line in lines if (code := line.get("item_code")) not in items]
        if unknown:
            raise validation_error(
                f"Items {', '.join(dict.fromkeys(unknown))} do not exist in the Item master."
            )
        missing = []
        for idx, line in enumerate(lines, start=1):
            warehouse = line.get("warehouse") or set_warehouse
            if not warehouse:
                raise mandatory_error(self.child, "Warehouse")
            if self.store.table("Warehouse").get(str(warehouse)) is None:
                missing.append(f"Row #{idx}: Warehouse: {warehouse}")
        if missing:
            raise link_error(missing)

    def _row(
        self, line: dict[str, Any], set_warehouse: str | None, moment: datetime
    ) -> dict[str, Any] | None:
        """The row with its current figures, or None when it changes nothing
        (remove_items_with_no_change)."""
        item = self.store.dataset.items[str(line["item_code"])]
        # As the Warehouse is named (links compare case-insensitively).
        found = self.store.table("Warehouse").get(str(line.get("warehouse") or set_warehouse))
        assert found is not None  # _check_links refused an unknown one
        warehouse = str(found["name"])
        qty, rate = _number(line.get("qty")), _number(line.get("valuation_rate"))
        bin_row = self.bins.figures(item.sku, warehouse)
        current_qty = self.bins.quantity_at(item.sku, warehouse, moment)
        current_rate = float(bin_row["valuation_rate"]) if bin_row else 0.0
        if (qty is None or qty == current_qty) and (rate is None or rate == current_rate):
            return None
        qty = current_qty if qty is None else qty
        if rate is None:
            rate = current_rate or float(item.valuation_rate)
        amount = money(Decimal(str(qty)) * Decimal(str(rate)))
        current_amount = money(Decimal(str(current_qty)) * Decimal(str(current_rate)))
        return {
            "item_code": item.sku,
            "item_name": item.name,
            "warehouse": warehouse,
            "qty": qty,
            "valuation_rate": money(Decimal(str(rate))),
            "amount": amount,
            "allow_zero_valuation_rate": cint(line.get("allow_zero_valuation_rate")),
            "current_qty": current_qty,
            "current_valuation_rate": money(Decimal(str(current_rate))),
            "current_amount": current_amount,
            "amount_difference": money(Decimal(str(amount)) - Decimal(str(current_amount))),
            "stock_uom": item.uom,
        }

    def _validate_rows(self, rows: Rows) -> None:
        """validate_data and validate_item: Frappe shows every message; this sends the
        first."""
        messages: list[str] = []
        seen: set[tuple[str, str]] = set()
        for number, row in enumerate(rows, start=1):
            item = self.store.dataset.items[row["item_code"]]
            key = (row["item_code"], row["warehouse"].casefold())
            if key in seen:
                messages.append(
                    f"Row # {number}: Same item and warehouse combination already entered."
                )
            seen.add(key)
            if not item.is_stock_item:
                messages.append(f"Row # {number}: Item {item.sku} is not a stock Item")
            if row["qty"] < 0:
                messages.append(f"Row # {number}: Negative Quantity is not allowed")
            if row["valuation_rate"] < 0:
                messages.append(f"Row # {number}: Negative Valuation Rate is not allowed")
        if messages:
            raise validation_error(messages[0])
        for number, row in enumerate(rows, start=1):
            item = self.store.dataset.items[row["item_code"]]
            if item.has_variants:
                raise FrappeError(
                    417,
                    "ItemTemplateCannotHaveStock",
                    f"Stock cannot exist for Item {item.sku} since has variants",
                    module="erpnext.controllers.item_variant",
                )
            warehouse = self.store.table("Warehouse").get(row["warehouse"]) or {}
            if warehouse.get("is_group"):
                raise validation_error(
                    "Group node warehouse is not allowed to select for transactions"
                )
            if row["qty"] and not row["valuation_rate"] and not row["allow_zero_valuation_rate"]:
                raise validation_error(
                    f"Valuation Rate required for Item {item.sku} at row {number}"
                )

    def _refuse_reserved(self, rows: Rows, action: str) -> None:
        """validate_reserved_stock: stock held by Stock Reservation Entries blocks a count."""
        held = []
        for row in rows:
            reserved = self.bins.quantity(row["item_code"], row["warehouse"], "reserved_stock")
            if reserved > 0:
                held.append((row["item_code"], row["warehouse"], reserved))
        if not held:
            return
        if len(held) == 1:
            sku, warehouse, reserved = held[0]
            message = (
                f"<strong>{reserved}</strong> units are reserved for Item <strong>{sku}</strong> "
                f"in Warehouse <strong>{warehouse}</strong>, please un-reserve the same to "
                f"{action} the Stock Reconciliation."
            )
        else:
            listed = "".join(
                f"<li><strong>{reserved}</strong> units of Item <strong>{sku}</strong> in "
                f"Warehouse <strong>{warehouse}</strong></li>"
                for sku, warehouse, reserved in held
            )
            message = (
                "The stock has been reserved for the following Items and Warehouses, "
                f"un-reserve the same to {action} the Stock Reconciliation: <br /><br /> {listed}"
            )
        raise validation_error(message)

    def _refuse_shortfall(self, row: dict[str, Any], moment: datetime, qty: float) -> None:
        """validate_negative_qty_in_future_sle: a later balance must not fall below zero."""
        short = self.bins.shortfall(row["item_code"], row["warehouse"], moment, qty)
        if short is None:
            return
        balance, entry = short
        raise FrappeError(
            417,
            "NegativeStockError",
            f"{abs(balance)} units of {desk_link('Item', row['item_code'])} needed in "
            f"{desk_link('Warehouse', row['warehouse'])} on {entry['posting_date']} "
            f"{entry['posting_time']} for {desk_link(entry['voucher_type'], entry['voucher_no'])} "
            "to complete this transaction.",
            module="erpnext.stock.stock_ledger",
        )

    # --- submit and cancel --------------------------------------------------------------

    def on_submit(self, name: str) -> None:
        moment = self._posted(name)
        for row in self.items(name):
            self.bins.post_at(
                row["item_code"],
                row["warehouse"],
                (self.doctype, name),
                moment,
                float(row["qty"]) - float(row["current_qty"]),
            )

    def on_cancel(self, name: str) -> None:
        moment = self._posted(name)
        rows = self.items(name)
        self._refuse_reserved(rows, "cancel")
        reversals = []
        for row in rows:
            posted = self._entry_of(name, row)
            if posted is None:
                continue
            qty = -float(posted["actual_qty"])
            self._refuse_shortfall(row, moment, qty)
            reversals.append((row, qty))
        for row, qty in reversals:
            self.bins.post_at(
                row["item_code"],
                row["warehouse"],
                (self.doctype, name),
                moment,
                qty,
                cancelling=True,
            )

    def _posted(self, name: str) -> datetime:
        header = self.header(name)
        return datetime.fromisoformat(f"{header['posting_date']} {header['posting_time']}")

    def _entry_of(self, name: str, row: dict[str, Any]) -> dict[str, Any] | None:
        """The row's submitted (not cancelled) ledger entry."""
        table = self.store.table("Stock Ledger Entry")
        for entry in table.rows(table.positions("item_code", [row["item_code"]])):
            if (
                (entry["voucher_type"], entry["voucher_no"]) == (self.doctype, name)
                and entry["warehouse"].casefold() == row["warehouse"].casefold()
                and not entry["is_cancelled"]
            ):
                return entry
        return None


def _number(value: Any) -> float | None:
    """A Float field as sent: None (or "") when left out."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise validation_error(f"{value!r} is not a number") from exc
