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

Backdated entries (``post_at``, for a Stock Reconciliation or a Stock Entry posted in the
past): what the ledger held at a moment is the Bin's actual_qty less every non-cancelled
entry posted after it (the sample history's included). An entry posted at a past moment shifts the
qty_after_transaction of the entries posted after it, up to the next Stock Reconciliation,
as update_qty_in_future_sle does; that count sets its own figure, so it absorbs the shift
(its actual_qty, the figure less what came before, takes the difference) and the Bin stays;
with no count after it the Bin moves by the shift, as the latest entry's balance does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.erpnext.store import ADMIN, ErpStore
from sandbox.retailer import COMPANY

SLE = "Stock Ledger Entry"
RECONCILIATION = "Stock Reconciliation"
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

    def quantity_at(self, item_code: str, warehouse: str, moment: datetime) -> float:
        """What the ledger held at ``moment`` (naive, the site's time zone): entries posted
        then or before count, later ones do not."""
        later = self._posted_after(item_code, warehouse, moment)
        actual = self.quantity(item_code, warehouse, "actual_qty")
        return actual - sum(float(entry["actual_qty"]) for entry in later)

    def shortfall(
        self, item_code: str, warehouse: str, moment: datetime, qty: float
    ) -> tuple[float, dict[str, Any]] | None:
        """The first entry posted after ``moment`` (up to the next Stock Reconciliation)
        whose balance would fall below zero were ``qty`` posted at ``moment``, with that
        balance; None when none would."""
        later = self._posted_after(item_code, warehouse, moment)
        balance = self.quantity_at(item_code, warehouse, moment) + qty
        for entry in _until_count(later):
            balance += float(entry["actual_qty"])
            if balance < -1e-9:
                return balance, entry
        return None

    def post_at(
        self,
        item_code: str,
        warehouse: str,
        voucher: Voucher,
        moment: datetime,
        qty: float,
        *,
        cancelling: bool = False,
    ) -> None:
        """A ledger entry of ``qty`` for ``voucher`` posted at ``moment`` (naive, the site's
        time zone), the later entries reposted (see the module docstring)."""
        later = self._posted_after(item_code, warehouse, moment)
        after = self.quantity_at(item_code, warehouse, moment) + qty
        table = self._store.table(SLE)
        following = _until_count(later)
        for entry in following:
            shifted = float(entry["qty_after_transaction"]) + qty
            table.update(entry["name"], qty_after_transaction=shifted)
        if len(following) < len(later):
            count = later[len(following)]
            table.update(count["name"], actual_qty=float(count["actual_qty"]) - qty)
        else:
            self.move(item_code, warehouse, actual_qty=qty)
        bin_row = self.figures(item_code, warehouse)
        assert bin_row is not None  # the move made it, or the later count's entry did
        self._ledger(bin_row, qty, after, voucher, cancelling, posted_at=moment)

    def _posted_after(
        self, item_code: str, warehouse: str, moment: datetime
    ) -> list[dict[str, Any]]:
        """Non-cancelled entries of the item in the warehouse posted after ``moment``, in
        posting order (entries posted at one moment in the order they were made)."""
        table = self._store.table(SLE)
        wanted = warehouse.casefold()
        later = [
            (posted, entry)
            for entry in table.rows(table.positions("item_code", [item_code]))
            if entry["warehouse"].casefold() == wanted
            and not entry["is_cancelled"]
            and (posted := posting_moment(entry)) > moment
        ]
        later.sort(key=lambda pair: pair[0])  # stable: ties keep the order they were made
        return [entry for _, entry in later]

    def _ledger(
        self,
        bin_row: dict[str, Any],
        qty: float,
        after: float,
        voucher: Voucher,
        cancelling: bool,
        posted_at: datetime | None = None,
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
        posted = now if posted_at is None else str(posted_at)
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
                "posting_date": posted[:10],
                "posting_time": posted[11:],
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


def posting_moment(entry: dict[str, Any]) -> datetime:
    """An entry's posting_date and posting_time as one naive site-time datetime."""
    return datetime.fromisoformat(f"{entry['posting_date']} {entry['posting_time']}")


def _until_count(later: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries before the first Stock Reconciliation among ``later``."""
    for index, entry in enumerate(later):
        if entry["voucher_type"] == RECONCILIATION:
            return later[:index]
    return later
