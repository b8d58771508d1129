"""Moving a Bin's figures as documents are submitted, cancelled and delivered.

ERPNext keeps one Bin per (item, warehouse), made on first use, and updates its quantities from
the stock ledger (actual_qty) and from open documents (reserved_qty from Sales Orders,
reserved_stock from Stock Reservation Entries); projected_qty follows (meta.projected_qty).
Every move stamps the Bin's ``modified``, which the gateway reads as the figure's time.

Stock that really moves (actual_qty) for a document (``voucher``) leaves a Stock Ledger Entry,
as ERPNext's make_sl_entries does before it updates the Bin; cancelling the document adds
the reversing entry and marks both cancelled (``is_cancelled``). Both the Bin and the entry
raise their document events on the site (sandbox.erpnext.doc_events): a new Bin
after_insert and on_update, a moved one on_update and on_change (ERPNext moves Bins with
db_set, which runs on_change; on_update is the simulator's addition so a Webhook on either
event hears every move), a ledger entry after_insert, on_update and on_submit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.erpnext.store import ADMIN, ErpStore
from sandbox.retailer import COMPANY

SLE = "Stock Ledger Entry"
Voucher = tuple[str, str]  # (voucher_type, voucher_no)
_QUANTITIES = ("actual_qty", "reserved_qty", "reserved_stock", "ordered_qty")


class BinLedger:
    def __init__(self, store: ErpStore, now: Callable[[], str]) -> None:
        self._store = store
        self._now = now

    def figures(self, item_code: str, warehouse: str) -> dict[str, Any] | None:
        """The Bin row, or None: a missing Bin means zero in that warehouse."""
        table = self._store.table("Bin")
        for row in table.rows(table.positions("item_code", [item_code]), full=False):
            if row["warehouse"].casefold() == warehouse.casefold():
                return row
        return None

    def quantity(self, item_code: str, warehouse: str, field: str) -> float:
        row = self.figures(item_code, warehouse)
        return float(row[field]) if row else 0.0

    def move(
        self,
        item_code: str,
        warehouse: str,
        voucher: Voucher | None = None,
        *,
        cancelling: bool = False,
        **deltas: float,
    ) -> None:
        """Add ``deltas`` (actual_qty=-2, reserved_qty=+1, ...) to the Bin, making it if new;
        an actual_qty moved for ``voucher`` is written to the stock ledger."""
        unknown = set(deltas) - set(_QUANTITIES)
        if unknown:
            raise ValueError(f"not a Bin quantity: {sorted(unknown)}")
        table = self._store.table("Bin")
        row = self.figures(item_code, warehouse)
        created = row is None
        if row is None:
            year = self._store.dataset.base_time.year
            table.append((item_code, warehouse, f"MAT-BIN-{year}-{len(table) + 1:05d}"))
            row = self.figures(item_code, warehouse)
            assert row is not None
        values = {field: float(row[field]) + delta for field, delta in deltas.items()}
        if "actual_qty" in values:
            values["stock_value"] = float(row["valuation_rate"]) * values["actual_qty"]
        table.update(row["name"], **values, modified=self._now())
        if voucher is not None and deltas.get("actual_qty"):
            self._ledger(row, deltas["actual_qty"], values["actual_qty"], voucher, cancelling)
        events = ("after_insert", "on_update") if created else ("on_update", "on_change")
        self._store.events.emit("Bin", row["name"], *events)

    def _ledger(
        self,
        bin_row: dict[str, Any],
        qty: float,
        after: float,
        voucher: Voucher,
        cancelling: bool,
    ) -> None:
        table = self._store.table(SLE)
        item_code, warehouse = bin_row["item_code"], bin_row["warehouse"]
        if cancelling:
            # By the item's index: the ledger also holds the sample history.
            for entry in table.rows(table.positions("item_code", [item_code])):
                if (entry["voucher_type"], entry["voucher_no"]) == voucher and (
                    entry["item_code"],
                    entry["warehouse"],
                ) == (item_code, warehouse):
                    table.update(entry["name"], is_cancelled=1, modified=self._now())
        now = self._now()
        name = f"MAT-SLE-{now[:4]}-{len(table) + 1:05d}"
        rate = float(bin_row["valuation_rate"])
        table.append(
            {
                "name": name,
                "owner": ADMIN,
                "creation": now,
                "modified": now,
                "modified_by": ADMIN,
                "docstatus": 1,
                "idx": 0,
                "item_code": item_code,
                "warehouse": warehouse,
                "posting_date": now[:10],
                "posting_time": now[11:],
                "voucher_type": voucher[0],
                "voucher_no": voucher[1],
                "actual_qty": qty,
                "qty_after_transaction": after,
                "valuation_rate": rate,
                "stock_value_difference": rate * qty,
                "stock_uom": bin_row["stock_uom"],
                "company": COMPANY,
                "is_cancelled": int(cancelling),
            }
        )
        self._store.events.emit(SLE, name, "after_insert", "on_update", "on_submit")
