"""Moving a Bin's figures as documents are submitted, cancelled and delivered.

ERPNext keeps one Bin per (item, warehouse), made on first use, and updates its quantities from
the stock ledger (actual_qty) and from open documents (reserved_qty from Sales Orders,
reserved_stock from Stock Reservation Entries); projected_qty follows (meta.projected_qty).
Every move stamps the Bin's ``modified``, which the gateway reads as the figure's time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.erpnext.store import ErpStore

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

    def move(self, item_code: str, warehouse: str, **deltas: float) -> None:
        """Add ``deltas`` (actual_qty=-2, reserved_qty=+1, ...) to the Bin, making it if new."""
        unknown = set(deltas) - set(_QUANTITIES)
        if unknown:
            raise ValueError(f"not a Bin quantity: {sorted(unknown)}")
        table = self._store.table("Bin")
        row = self.figures(item_code, warehouse)
        if row is None:
            year = self._store.dataset.base_time.year
            table.append((item_code, warehouse, f"MAT-BIN-{year}-{len(table) + 1:05d}"))
            row = self.figures(item_code, warehouse)
            assert row is not None
        values = {field: float(row[field]) + delta for field, delta in deltas.items()}
        if "actual_qty" in values:
            values["stock_value"] = float(row["valuation_rate"]) * values["actual_qty"]
        table.update(row["name"], **values, modified=self._now())
