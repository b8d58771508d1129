"""The backends behind small interfaces. Adapters implement them; tests use fakes.

Every read is batched by SKU list: one call for N SKUs, whatever N is, so a page of
products costs one request per backend endpoint. A SKU a backend does not know is simply
absent from the answer; errors are the project's typed errors (gateway.errors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from gateway.domain import (
    BackendLocation,
    ItemMaster,
    ItemSupply,
    Kit,
    Location,
    PosVariation,
    Sale,
    StockChanges,
    StockReading,
    StoreSum,
    WebListing,
    WebStockUpdate,
    WebStockWritten,
)
from gateway.domain.cycle_counts import StockMovement
from gateway.domain.documents import (
    OmsAllocation,
    OmsFulfillmentOrder,
    OmsLineChange,
    OmsOrder,
    OmsOrderDraft,
    OmsReturn,
    OmsReturnLine,
    SalesOrder,
    SalesOrderDraft,
    StockReceiptLine,
    StockReservation,
    Tracking,
    WebOrder,
    WebRefund,
    WebRefundDraft,
)
from gateway.domain.health import BackendHealth
from gateway.domain.mail import CustomerMail
from gateway.domain.reservations import LedgerEntry


class ErpPort(Protocol):
    """ERPNext: item master, warehouses, warehouse stock (Bins), kits (Product Bundles)."""

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]: ...

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        """Sellable items (not templates, not disabled) in a stable order (by item code)."""
        ...

    async def sku_for_barcode(self, barcode: str) -> str | None: ...

    async def warehouses(self) -> list[BackendLocation]:
        """Leaf, enabled, stock-holding warehouses (groups and transit excluded)."""
        ...

    async def stock(self, skus: Sequence[str]) -> list[StockReading]: ...

    async def stock_moved_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(SKU, when) of the stock figures that moved after ``since`` (the ERP's time)."""
        ...

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]: ...

    async def supply(self, skus: Sequence[str]) -> dict[str, ItemSupply]:
        """What the ERP says of buying each SKU it knows."""
        ...

    async def deliveries(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        """The units of these SKUs these warehouses delivered since then (as sales)."""
        ...

    async def stock_movements(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        """What the ERP's stock ledger recorded moving these SKUs in these warehouses after
        ``since`` (any document, cancelled ones left out), oldest first; a Stock
        Reconciliation carries the figure it set as ``counted``."""
        ...


class StorefrontPort(Protocol):
    """WooCommerce: the web listing of each SKU (simple products and variations)."""

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]: ...

    async def set_stock(self, sku: str, quantity: int) -> WebListing: ...

    async def listings_modified_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(SKU, when) of the listings modified after ``since``."""
        ...

    async def set_stock_levels(self, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        """Many listings at once through the batch endpoints (products/batch for simple
        products, products/<id>/variations/batch per parent; at most 100 items a call), in
        the order given. Absolute values, so a repeat changes nothing. An item the
        storefront refuses comes back with its error; the others are saved."""
        ...


class PosPort(Protocol):
    """Square: store locations, store prices and store stock."""

    async def locations(self) -> list[BackendLocation]: ...

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]: ...

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]: ...

    async def skus_of_variations(self, variation_ids: Sequence[str]) -> dict[str, str]:
        """POS item id -> SKU, for the ids the POS still has (its events name items)."""
        ...

    async def sales(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        """The units of these SKUs the POS recorded as sold at these locations since then."""
        ...

    async def stock_changes(self, since: datetime, location_refs: Sequence[str]) -> StockChanges:
        """The items whose stock at these locations changed after ``since`` (the POS's
        time): a delta read, for a copy kept current without reading everything again."""
        ...

    async def stock_movements(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        """What the POS recorded moving these SKUs' sellable stock at these locations after
        ``since`` (adjustments in and out, and counts), oldest first."""
        ...


class PosStoreSums(Protocol):
    async def store_sums(
        self, skus: Sequence[str], safety_stock: Mapping[str, int]
    ) -> dict[str, StoreSum]:
        """Each SKU's counts at the stores in ``safety_stock`` (location ref -> units kept
        back), added up as ``gateway.domain.ledger.store_sum`` adds readings, without a
        reading per count; every SKU asked has one (nothing counted: zero, no ``as_of``)."""
        ...


class PosCounts(PosPort, PosStoreSums, Protocol):
    """What the kept copy of the stores' counts reads (gateway.truth.store_counts)."""


class LocationsProvider(Protocol):
    """The fulfillment nodes currently known, built from the backends and the node file."""

    async def locations(self) -> list[Location]: ...


class LedgerSource(Protocol):
    """The gateway's own movements (holds, returns) the sources may not have recorded yet."""

    async def entries(self, skus: Sequence[str]) -> list[LedgerEntry]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class OmsPort(Protocol):
    """Shopify Admin GraphQL: orders split into fulfillment orders per location, and returns.

    Every write is idempotent on the draft's ``reference``: a repeat returns what the first
    call made (and finishes any step the first call did not reach).
    """

    async def create_order(self, draft: OmsOrderDraft) -> OmsOrder:
        """orderCreate (sourceIdentifier = reference), then fulfillmentOrderMove for any
        fulfillment order Shopify assigned to another location than the allocation's."""
        ...

    async def order(self, order_id: str) -> OmsOrder | None: ...

    async def fulfill(
        self, fulfillment_order_id: str, tracking: Tracking | None
    ) -> OmsFulfillmentOrder:
        """fulfillmentCreate for everything remaining; a closed fulfillment order is returned
        as it is."""
        ...

    async def reallocate(self, order_id: str, allocations: Sequence[OmsAllocation]) -> OmsOrder:
        """Open fulfillment-order lines moved (fulfillmentOrderMove) so each location holds
        what ``allocations`` say; idempotent."""
        ...

    async def cancel_order(self, order_id: str) -> OmsOrder:
        """fulfillmentOrderCancel on every fulfillment order still open."""
        ...

    async def open_return(
        self, order_id: str, lines: Sequence[OmsReturnLine], reference: str
    ) -> OmsReturn:
        """returnRequest then returnApproveRequest: the return ends OPEN."""
        ...

    async def close_return(self, return_id: str) -> OmsReturn: ...

    async def edit_lines(
        self, order_id: str, changes: Sequence[OmsLineChange], reference: str
    ) -> OmsOrder:
        """One order edit (orderEditBegin ... orderEditCommit) moving each SKU's quantity by
        its change; idempotent on ``reference``."""
        ...


class ErpOrdersPort(Protocol):
    """ERPNext selling and stock documents: Sales Orders that reserve stock, Delivery Notes,
    receipts."""

    async def submit_sales_order(self, draft: SalesOrderDraft) -> SalesOrder:
        """Insert and submit (docstatus 1, reserve_stock); an order already posted with this
        po_no is returned instead."""
        ...

    async def sales_order(self, name: str) -> SalesOrder | None: ...

    async def open_sales_orders(
        self, customer: str, *, offset: int, limit: int
    ) -> list[SalesOrder]:
        """The customer's submitted Sales Orders not yet completed or closed (what still
        reserves stock), by name."""
        ...

    async def cancel_sales_order(self, name: str) -> SalesOrder:
        """frappe.client.cancel; already cancelled is not an error."""
        ...

    async def deliver_sales_order(self, name: str, reference: str) -> SalesOrder:
        """A submitted Delivery Note for everything still open on the Sales Order (the Bin's
        stock leaves, its reservation is consumed). Idempotent on ``reference``."""
        ...

    async def stock_reservations(self, sales_order: str) -> list[StockReservation]: ...

    async def receive_stock(self, reference: str, lines: Sequence[StockReceiptLine]) -> str:
        """A submitted Stock Entry (Material Receipt); returns its name. Idempotent."""
        ...

    async def reconcile_stock(
        self, reference: str, sku: str, warehouse: str, quantity: int, at: datetime
    ) -> str:
        """A submitted Stock Reconciliation posted at ``at`` (aware): ``quantity`` of ``sku``
        counted in ``warehouse`` then; the movements posted after it stay. Returns its name,
        or "" when the ledger already held ``quantity`` then (nothing to write). A repeat
        writes nothing more."""
        ...

    async def correct_count(
        self, reference: str, sku: str, warehouse: str, counted: int, variance: int, at: datetime
    ) -> str:
        """A count at ``at`` (aware) written to the ERP: a Stock Reconciliation to ``counted``
        (as reconcile_stock), or, while Stock Reservation Entries hold ``sku`` in
        ``warehouse`` (ERPNext refuses to reconcile reserved stock), a submitted Stock Entry
        posted at ``at`` moving ``variance`` (a Material Issue when short, a Material Receipt
        when over). The movements posted after ``at`` stay. Returns the document's name, or
        "" when there was nothing to write (``variance`` 0). A repeat writes nothing more."""
        ...

    async def add_item_barcode(self, sku: str, barcode: str) -> None:
        """A row in the Item's barcode table (no barcode type); none added when it is there."""
        ...


class WebOrdersPort(Protocol):
    """WooCommerce orders and refunds."""

    async def web_orders(self, *, modified_after: datetime | None = None) -> list[WebOrder]:
        """Every order (all pages), oldest modification first."""
        ...

    async def web_order(self, order_id: int) -> WebOrder | None: ...

    async def refund(self, order_id: int, draft: WebRefundDraft) -> WebRefund: ...

    async def set_status(self, order_id: int, status: str) -> str:
        """The order's status set (WooCommerce runs its own transition: emails, stock);
        answers the status it now has."""
        ...

    async def add_note(self, order_id: int, note: str, *, customer_note: bool) -> int:
        """An order note (sent to the customer when ``customer_note``), unless one with
        the same text is there; answers its id."""
        ...


class PosStockWritesPort(Protocol):
    """Square inventory adjustments, idempotent on ``reference`` (idempotency_key)."""

    async def record_sale(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        """ADJUSTMENT IN_STOCK -> SOLD."""
        ...

    async def record_restock(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        """ADJUSTMENT NONE -> IN_STOCK (a returned unit back on the shelf)."""
        ...

    async def record_count(
        self, reference: str, sku: str, location_ref: str, quantity: int, counted_at: datetime
    ) -> None:
        """PHYSICAL_COUNT of IN_STOCK at ``counted_at``: later adjustments stay on top."""
        ...


class MailPort(Protocol):
    """Mail to a customer (SMTP in production, the demo's mail sink)."""

    async def send(self, mail: CustomerMail) -> str:
        """Send it; answers the Message-ID. Raises BackendRejected for a refused recipient,
        BackendUnavailable when the server cannot be reached."""
        ...


class ErpBackend(ErpPort, ErpOrdersPort, Protocol):
    """What one ERPNext adapter offers: reads and writes."""


class StorefrontBackend(StorefrontPort, WebOrdersPort, Protocol):
    """What one WooCommerce adapter offers: listings, orders and refunds."""


class PosBackend(PosCounts, PosStockWritesPort, Protocol):
    """What one Square adapter offers: locations, catalogue, counts and adjustments."""


# Each backend's health as its guard sees it, in this process (``backendHealth``).
BackendHealthSource = Callable[[], Sequence[BackendHealth]]
