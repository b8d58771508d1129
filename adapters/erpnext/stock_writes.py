"""ERPNext's stock writes: Material Receipts for returned units, and cycle counts: Stock
Reconciliations, or, where Stock Reservation Entries hold the item (ERPNext refuses to
reconcile reserved stock), backdated Material Issues and Receipts moving the variance.

Idempotency as in adapters.erpnext.orders: a Stock Entry carries the gateway's reference in
its ``remarks``; a Stock Reconciliation has no such field (no remarks, no free text on its
rows), so it is found by what it is: a row of the SKU in the warehouse, posted at the
count's moment to the microsecond, setting the counted figure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from adapters.erpnext.rest import FrappeRest
from adapters.erpnext.wire import decimal
from adapters.look_then_create import look_then_create
from adapters.resilience.policy import BackendPolicy
from gateway.domain.documents import StockReceiptLine
from gateway.errors import BackendRejected, BackendUnavailable, BadUserInput

STOCK_ENTRY = "Stock Entry"
RECEIPT = "Material Receipt"
ISSUE = "Material Issue"
BIN = "Bin"
RECONCILIATION = "Stock Reconciliation"
RECONCILIATION_ITEM = "Stock Reconciliation Item"
# ERPNext's refusal of a reconciliation whose every row matches the ledger at its moment.
NO_CHANGE = "EmptyStockReconciliationItemsError"

T = TypeVar("T")


class ErpNextStockWrites(FrappeRest):
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timezone: str = "Europe/Berlin",
        max_retries: int = 2,
        page_size: int = 500,
        company: str | None = None,
        policy: BackendPolicy | None = None,
    ) -> None:
        super().__init__(
            client,
            timezone=timezone,
            max_retries=max_retries,
            page_size=page_size,
            policy=policy,
        )
        # None lets ERPNext use the integration user's default company.
        self._company = company

    async def receive_stock(self, reference: str, lines: Sequence[StockReceiptLine]) -> str:
        if not lines:
            raise BadUserInput("A stock receipt needs at least one line")
        remarks = receipt_remarks(reference)

        async def find() -> str | None:
            return await self._stock_entry(remarks)

        async def create() -> str:
            body: dict[str, Any] = {
                "stock_entry_type": RECEIPT,
                "remarks": remarks,
                "items": [
                    {"item_code": line.sku, "qty": line.quantity, "t_warehouse": line.warehouse}
                    for line in lines
                ],
                "docstatus": 1,
            }
            return await self._insert(STOCK_ENTRY, body, find)

        return await look_then_create(find, create, max_retries=self._max_retries)

    async def reconcile_stock(
        self, reference: str, sku: str, warehouse: str, quantity: int, at: datetime
    ) -> str:
        """A submitted Stock Reconciliation posted at ``at`` (aware; sent as the site's wall
        time, with set_posting_time so ERPNext keeps it): ``sku`` in ``warehouse`` counted
        ``quantity`` then. ERPNext reposts the entries posted after it, so later movements
        stay. Returns the document's name, or "" when ERPNext refuses it for holding that
        figure then already (EmptyStockReconciliationItemsError: there is nothing to write).

        A repeat, or a retry after a lost answer, finds the reconciliation it made (see the
        module docstring: ``reference`` has no field to go in) and writes nothing more. The
        valuation rate is left out, so ERPNext keeps the current one.
        """
        if at.tzinfo is None:
            raise BadUserInput("A count's time must carry its time zone", field="at")
        if quantity < 0:
            raise BadUserInput("A count is not negative", field="quantity")
        local = at.astimezone(self._tz).replace(tzinfo=None)

        async def find() -> str | None:
            return await self._reconciliation(sku, warehouse, local, quantity)

        async def create() -> str:
            body: dict[str, Any] = {
                "purpose": RECONCILIATION,
                **_posted_at(local),
                "items": [{"item_code": sku, "warehouse": warehouse, "qty": quantity}],
                "docstatus": 1,
            }
            try:
                return await self._insert(RECONCILIATION, body, find)
            except BackendRejected as refused:
                if refused.backend_code == NO_CHANGE:
                    return ""
                raise

        return await look_then_create(find, create, max_retries=self._max_retries)

    async def correct_count(
        self, reference: str, sku: str, warehouse: str, counted: int, variance: int, at: datetime
    ) -> str:
        """A cycle count at ``at`` written to ERPNext: a Stock Reconciliation to ``counted``
        (reconcile_stock), unless Stock Reservation Entries hold the item in that warehouse
        (the Bin's reserved_stock > 0, read fresh), when it is a Stock Entry at ``at`` moving
        the ``variance`` (Material Issue of -variance when short, Material Receipt when
        over), found again by a remarks marker built from ``reference`` (as receive_stock
        does) so a retry writes once. Returns the document's name ("" when there was nothing
        to write).

        ERPNext refuses a Stock Reconciliation of reserved stock outright, while a backdated
        Stock Entry is refused only where it would take the stock below what is reserved
        (BackendRejected then, with ERPNext's words). A retry looks for what either kind of
        earlier attempt wrote, since the reservation may have come or gone in between.
        """
        if at.tzinfo is None:
            raise BadUserInput("A count's time must carry its time zone", field="at")
        if counted < 0:
            raise BadUserInput("A count is not negative", field="counted")
        if variance == 0:
            return ""
        remarks = count_remarks(reference)
        local = at.astimezone(self._tz).replace(tzinfo=None)
        if not await self._stock_is_reserved(sku, warehouse):
            found = await self._stock_entry(remarks)
            return found or await self.reconcile_stock(reference, sku, warehouse, counted, at)

        async def find() -> str | None:
            return await self._stock_entry(remarks) or await self._reconciliation(
                sku, warehouse, local, counted
            )

        async def create() -> str:
            short = variance < 0
            side = "s_warehouse" if short else "t_warehouse"
            body: dict[str, Any] = {
                "stock_entry_type": ISSUE if short else RECEIPT,
                **_posted_at(local),
                "remarks": remarks,
                "items": [{"item_code": sku, "qty": abs(variance), side: warehouse}],
                "docstatus": 1,
            }
            return await self._insert(STOCK_ENTRY, body, find)

        return await look_then_create(find, create, max_retries=self._max_retries)

    # --- helpers -------------------------------------------------------------------------

    async def _insert(
        self, doctype: str, body: dict[str, Any], find: Callable[[], Awaitable[str | None]]
    ) -> str:
        """Insert (and submit) one document, in the configured company; sent once (a retried
        POST after a lost answer would make a second one), the name found again by
        ``find`` when the answer carried none."""
        if self._company:
            body = {**body, "company": self._company}
        path = f"/api/resource/{quote(doctype)}"
        doc = await self._write("POST", path, body, retries=0)
        return str(doc["name"]) if doc else await self._require(find)

    async def _stock_is_reserved(self, sku: str, warehouse: str) -> bool:
        """Whether Stock Reservation Entries hold ``sku`` in ``warehouse`` now (the Bin's
        reserved_stock; no Bin holds nothing)."""
        rows = await self._page(
            BIN,
            ["reserved_stock"],
            [["item_code", "=", sku], ["warehouse", "=", warehouse]],
            start=0,
            length=1,
        )
        return bool(rows) and _quantity(rows[0], "reserved_stock") > 0

    async def _stock_entry(self, remarks: str) -> str | None:
        """The not-cancelled Stock Entry carrying ``remarks``; a draft an earlier call
        inserted but never submitted is submitted (finishing that call's work)."""
        rows = await self._page(
            STOCK_ENTRY,
            ["name", "docstatus"],
            [["remarks", "=", remarks], ["docstatus", "<", 2]],
            start=0,
            length=20,
            order_by="creation asc",
        )
        submitted = [r for r in rows if r.get("docstatus") == 1]
        if submitted:
            return str(submitted[0]["name"])
        if rows:
            name = str(rows[0]["name"])
            await self._write("PUT", self._doc_path(STOCK_ENTRY, name), {"docstatus": 1})
            return name
        return None

    async def _reconciliation(
        self, sku: str, warehouse: str, local: datetime, quantity: int
    ) -> str | None:
        """The not-cancelled Stock Reconciliation counting ``quantity`` of ``sku`` in
        ``warehouse`` at ``local`` (site time, to the microsecond); a draft is submitted."""
        rows = await self._page(
            RECONCILIATION,
            ["name", "docstatus", "posting_time", f"`tab{RECONCILIATION_ITEM}`.`qty` as qty"],
            [
                [RECONCILIATION_ITEM, "item_code", "=", sku],
                [RECONCILIATION_ITEM, "warehouse", "=", warehouse],
                ["posting_date", "=", local.date().isoformat()],
                ["docstatus", "<", 2],
            ],
            start=0,
            length=100,
            order_by=f"`tab{RECONCILIATION}`.`creation` asc",
        )
        mine = [
            row
            for row in rows
            if _time_of(row.get("posting_time")) == local.time()
            and _quantity(row, "qty") == quantity
        ]
        submitted = [row for row in mine if row.get("docstatus") == 1]
        if submitted:
            return str(submitted[0]["name"])
        if mine:
            name = str(mine[0]["name"])
            await self._write("PUT", self._doc_path(RECONCILIATION, name), {"docstatus": 1})
            return name
        return None

    async def _require(self, find: Callable[[], Awaitable[T | None]]) -> T:
        found = await find()
        if found is None:
            raise BackendUnavailable(
                "erpnext answered a write without a document", backend="erpnext"
            )
        return found


def receipt_remarks(reference: str) -> str:
    """The Stock Entry remarks that carry the gateway's reference, matched exactly."""
    return f"commerce-gateway receipt {reference}"


def count_remarks(reference: str) -> str:
    """The remarks of a Stock Entry correcting a count, matched exactly."""
    return f"commerce-gateway count {reference}"


def _posted_at(local: datetime) -> dict[str, Any]:
    """The fields that post a stock document at ``local`` (site wall time): without
    set_posting_time ERPNext would post it now."""
    return {
        "set_posting_time": 1,
        "posting_date": local.date().isoformat(),
        "posting_time": local.time().isoformat(),
    }


def _quantity(row: dict[str, Any], field: str) -> Decimal:
    return decimal(row.get(field)) or Decimal(0)


def _time_of(value: Any) -> time | None:
    """A Time field as Frappe sends it: ``str(timedelta)``, so "9:05:00" or "09:05:00.250000"."""
    text = str(value or "").strip()
    for pattern in ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    return None
