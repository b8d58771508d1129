"""In-memory backends implementing the ports; tests assert on their state and call log.

Each write is idempotent on its ``reference`` as the real backend's idempotency mechanism
is, and changes the stock figures the way the backend would (an ERPNext Sales Order that
reserves stock raises the Bin's reserved quantity, a Square sale lowers the count). Set
``fail_with`` (and optionally ``fail_times``) to make the next writes fail, as a backend
that is down (BackendUnavailable) or refuses the write (BackendRejected) would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from gateway.domain import (
    BackendLocation,
    GeoPoint,
    ItemMaster,
    ItemSupply,
    Kit,
    KitComponent,
    Money,
    PosVariation,
    Sale,
    SourceSystem,
    StockChanges,
    StockReading,
    StoreSum,
    WebListing,
    WebStockUpdate,
    WebStockWritten,
)
from gateway.domain.cycle_counts import StockMovement
from gateway.domain.documents import (
    OmsFulfillmentLine,
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
from gateway.domain.ledger import store_sum
from gateway.errors import BackendRejected, NotFound

AS_OF = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@dataclass
class FailureSwitch:
    """Makes a fake's writes fail: ``fail_times`` times (None: until switched off)."""

    fail_with: Exception | None = None
    fail_times: int | None = None
    failed: int = 0

    def check(self) -> None:
        if self.fail_with is None:
            return
        if self.fail_times is not None:
            if self.fail_times <= 0:
                return
            self.fail_times -= 1
        self.failed += 1
        raise self.fail_with

    def fail(self, error: Exception, times: int | None = None) -> None:
        self.fail_with, self.fail_times = error, times

    def heal(self) -> None:
        self.fail_with, self.fail_times = None, None


@dataclass
class FakeErp:
    items: dict[str, ItemMaster] = field(default_factory=dict)
    warehouse_list: list[BackendLocation] = field(default_factory=list)
    bins: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    kit_defs: dict[str, Kit] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    sales_orders: dict[str, tuple[SalesOrder, SalesOrderDraft]] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)  # reference -> Stock Entry name
    writes: FailureSwitch = field(default_factory=FailureSwitch)
    moved_at: dict[str, datetime] = field(default_factory=dict)  # sku -> its Bins' modified
    supplies: dict[str, ItemSupply] = field(default_factory=dict)  # what the Item says of buying
    delivered: list[Sale] = field(default_factory=list)  # the Stock Ledger's deliveries
    reconciled: list[StockMovement] = field(default_factory=list)  # Stock Reconciliations
    reconciliations: dict[str, str] = field(default_factory=dict)  # reference -> name
    # correct_count's calls (reference, sku, warehouse, counted, variance, at), and the Stock
    # Entries it made where stock was reserved: reference -> name, and their movements.
    corrections: list[tuple[str, str, str, int, int, datetime]] = field(default_factory=list)
    count_entries: dict[str, str] = field(default_factory=dict)
    adjusted: list[StockMovement] = field(default_factory=list)

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]:
        self.calls["items_by_sku"] += 1
        return {s: self.items[s] for s in skus if s in self.items}

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        self.calls["list_items"] += 1
        rows = sorted(
            (
                i
                for i in self.items.values()
                if (search is None or search.lower() in (i.sku + i.name).lower())
                and (category is None or i.category == category)
            ),
            key=lambda i: i.sku,
        )
        return rows[offset : offset + limit]

    async def sku_for_barcode(self, barcode: str) -> str | None:
        self.calls["sku_for_barcode"] += 1
        return next((i.sku for i in self.items.values() if barcode in i.barcodes), None)

    async def warehouses(self) -> list[BackendLocation]:
        self.calls["warehouses"] += 1
        return list(self.warehouse_list)

    async def stock(self, skus: Sequence[str]) -> list[StockReading]:
        self.calls["stock"] += 1
        return [
            StockReading(sku, SourceSystem.ERP, wh, on_hand, reserved, AS_OF)
            for (sku, wh), (on_hand, reserved) in self.bins.items()
            if sku in skus
        ]

    async def stock_moved_since(self, since: datetime) -> list[tuple[str, datetime]]:
        self.calls["stock_moved_since"] += 1
        return sorted((sku, at) for sku, at in self.moved_at.items() if at > since)

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]:
        self.calls["kits"] += 1
        return {s: self.kit_defs[s] for s in skus if s in self.kit_defs}

    async def deliveries(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        self.calls["deliveries"] += 1
        return [
            d
            for d in self.delivered
            if d.sku in skus and d.location_ref in warehouse_refs and d.occurred_at > since
        ]

    async def supply(self, skus: Sequence[str]) -> dict[str, ItemSupply]:
        self.calls["supply"] += 1
        return {s: self.supplies.get(s, ItemSupply()) for s in skus if s in self.items}

    async def stock_movements(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        self.calls["stock_movements"] += 1
        return self._ledger(skus, warehouse_refs, since)

    def _ledger(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        """The deliveries and the counts posted after ``since``, oldest first."""
        moved = [
            StockMovement(d.sku, d.location_ref, d.occurred_at, -d.quantity) for d in self.delivered
        ]
        moved += self.reconciled + self.adjusted
        return sorted(
            (
                m
                for m in moved
                if m.sku in skus and m.location_ref in warehouse_refs and m.at > since
            ),
            key=lambda m: m.at,
        )

    # --- ErpOrdersPort ---------------------------------------------------------------------

    async def submit_sales_order(self, draft: SalesOrderDraft) -> SalesOrder:
        self.calls["submit_sales_order"] += 1
        self.writes.check()
        for name, (so, _) in self.sales_orders.items():
            if so.reference == draft.reference:
                return self.sales_orders[name][0]
        name = f"SAL-ORD-2026-{len(self.sales_orders) + 1:05d}"
        self.sales_orders[name] = (
            SalesOrder(name, draft.reference, 1, "To Deliver and Bill"),
            draft,
        )
        if draft.reserve_stock:
            for line in draft.lines:
                self._add_to_bin(line.sku, line.warehouse, reserved=line.quantity)
        return self.sales_orders[name][0]

    async def sales_order(self, name: str) -> SalesOrder | None:
        self.calls["sales_order"] += 1
        found = self.sales_orders.get(name)
        return None if found is None else found[0]

    async def open_sales_orders(
        self, customer: str, *, offset: int, limit: int
    ) -> list[SalesOrder]:
        self.calls["open_sales_orders"] += 1
        found = sorted(
            (
                so
                for so, draft in self.sales_orders.values()
                if draft.customer == customer
                and so.docstatus == 1
                and so.status not in ("Completed", "Closed")
            ),
            key=lambda so: so.name,
        )
        return found[offset : offset + limit]

    async def cancel_sales_order(self, name: str) -> SalesOrder:
        self.calls["cancel_sales_order"] += 1
        self.writes.check()
        if name not in self.sales_orders:
            raise BackendRejected(f"Sales Order {name} not found", backend="erpnext", status=404)
        so, draft = self.sales_orders[name]
        if so.docstatus != 2:
            so = replace(so, docstatus=2, status="Cancelled")
            self.sales_orders[name] = (so, draft)
            if draft.reserve_stock:
                for line in draft.lines:
                    self._add_to_bin(line.sku, line.warehouse, reserved=-line.quantity)
        return so

    async def deliver_sales_order(self, name: str, reference: str) -> SalesOrder:
        self.calls["deliver_sales_order"] += 1
        self.writes.check()
        if name not in self.sales_orders:
            raise BackendRejected(f"Sales Order {name} not found", backend="erpnext", status=404)
        so, draft = self.sales_orders[name]
        if so.docstatus != 1:
            raise BackendRejected(f"Sales Order {name} is not submitted", backend="erpnext")
        if so.per_delivered < 100:
            so = replace(so, status="To Bill", per_delivered=Decimal(100))
            self.sales_orders[name] = (so, draft)
            for line in draft.lines:
                reserved = -line.quantity if draft.reserve_stock else 0
                self._add_to_bin(
                    line.sku, line.warehouse, on_hand=-line.quantity, reserved=reserved
                )
                self.delivered.append(
                    Sale(line.sku, line.warehouse, datetime.now(UTC), line.quantity)
                )
        return so

    async def stock_reservations(self, sales_order: str) -> list[StockReservation]:
        self.calls["stock_reservations"] += 1
        found = self.sales_orders.get(sales_order)
        if found is None or not found[1].reserve_stock:
            return []
        so, draft = found
        status = "Cancelled" if so.docstatus == 2 else "Reserved"
        return [
            StockReservation(
                f"MAT-SRE-{so.name}-{i}", line.sku, line.warehouse, line.quantity, 0, status
            )
            for i, line in enumerate(draft.lines, start=1)
        ]

    async def receive_stock(self, reference: str, lines: Sequence[StockReceiptLine]) -> str:
        self.calls["receive_stock"] += 1
        self.writes.check()
        if reference in self.receipts:
            return self.receipts[reference]
        name = f"MAT-STE-2026-{len(self.receipts) + 1:05d}"
        self.receipts[reference] = name
        for line in lines:
            self._add_to_bin(line.sku, line.warehouse, on_hand=line.quantity)
        return name

    async def reconcile_stock(
        self, reference: str, sku: str, warehouse: str, quantity: int, at: datetime
    ) -> str:
        """As ERPNext does: the figure at ``at`` set to ``quantity``, the movements after it
        on top (a later count absorbs the change); "" when the ledger held that then."""
        self.calls["reconcile_stock"] += 1
        self.writes.check()
        return self._reconcile(reference, sku, warehouse, quantity, at)

    async def correct_count(
        self, reference: str, sku: str, warehouse: str, counted: int, variance: int, at: datetime
    ) -> str:
        """The count wins (a reconciliation) unless stock is reserved there; then a Stock
        Entry at ``at`` moves the Bin by ``variance``. Once per reference."""
        self.calls["correct_count"] += 1
        self.writes.check()
        self.corrections.append((reference, sku, warehouse, counted, variance, at))
        if variance == 0:
            return ""
        if reference in self.count_entries:
            return self.count_entries[reference]
        if not self.bins.get((sku, warehouse), (0, 0))[1]:
            return self._reconcile(reference, sku, warehouse, counted, at)
        name = f"MAT-STE-2026-{len(self.receipts) + len(self.count_entries) + 1:05d}"
        self.count_entries[reference] = name
        self.adjusted.append(StockMovement(sku, warehouse, at, variance))
        self._add_to_bin(sku, warehouse, on_hand=variance)
        return name

    def _reconcile(
        self, reference: str, sku: str, warehouse: str, quantity: int, at: datetime
    ) -> str:
        if reference in self.reconciliations:
            return self.reconciliations[reference]
        later = self._ledger([sku], [warehouse], at)
        on_hand, _ = self.bins.get((sku, warehouse), (0, 0))
        delta = quantity - (on_hand - sum(m.units for m in later))
        if delta == 0:
            return ""
        name = f"MAT-RECO-2026-{len(self.reconciliations) + 1:05d}"
        self.reconciliations[reference] = name
        self.reconciled.append(StockMovement(sku, warehouse, at, delta, counted=quantity))
        next_count = next((m for m in later if m.counted is not None), None)
        if next_count is None:
            self._add_to_bin(sku, warehouse, on_hand=delta)
        else:
            self.reconciled.remove(next_count)
            self.reconciled.append(replace(next_count, units=next_count.units - delta))
        return name

    async def add_item_barcode(self, sku: str, barcode: str) -> None:
        self.calls["add_item_barcode"] += 1
        self.writes.check()
        item = self.items[sku]
        if barcode not in item.barcodes:
            self.items[sku] = replace(item, barcodes=(*item.barcodes, barcode))

    def _add_to_bin(self, sku: str, warehouse: str, *, on_hand: int = 0, reserved: int = 0) -> None:
        current_on_hand, current_reserved = self.bins.get((sku, warehouse), (0, 0))
        self.bins[(sku, warehouse)] = (current_on_hand + on_hand, current_reserved + reserved)


@dataclass
class FakeStorefront:
    listings: dict[str, WebListing] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    orders: dict[int, WebOrder] = field(default_factory=dict)
    refunds: dict[int, list[tuple[str, WebRefund]]] = field(default_factory=dict)
    notes: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)  # (text, to customer)
    writes: FailureSwitch = field(default_factory=FailureSwitch)
    modified_at: dict[str, datetime] = field(default_factory=dict)  # sku -> date_modified

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        self.calls["listings_by_sku"] += 1
        return {s: self.listings[s] for s in skus if s in self.listings}

    async def listings_modified_since(self, since: datetime) -> list[tuple[str, datetime]]:
        self.calls["listings_modified_since"] += 1
        return sorted((sku, at) for sku, at in self.modified_at.items() if at > since)

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        self.calls["set_stock"] += 1
        self.listings[sku] = replace(self.listings[sku], stock_quantity=quantity)
        return self.listings[sku]

    async def set_stock_levels(self, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        """Applies each update to the listing with its ids, as WooCommerce saves it (a
        managed stock's status follows the quantity); an unknown id is that item's error."""
        self.calls["set_stock_levels"] += 1
        self.writes.check()
        by_ids = {(w.product_id, w.variation_id): key for key, w in self.listings.items()}
        written: list[WebStockWritten] = []
        for update in updates:
            key = by_ids.get((update.product_id, update.variation_id))
            if key is None:
                code = (
                    "woocommerce_rest_product_invalid_id"
                    if update.variation_id is None
                    else "woocommerce_rest_product_variation_invalid_id"
                )
                written.append(WebStockWritten(update.sku, None, error=f"{code}: Invalid ID."))
                continue
            listing = self.listings[key]
            if update.quantity is not None:
                listing = replace(listing, manage_stock=True, stock_quantity=update.quantity)
            if update.backorders is not None:
                listing = replace(listing, backorders=update.backorders)
            if listing.manage_stock:
                listing = replace(listing, stock_status=_stock_status(listing))
            elif update.stock_status is not None:
                listing = replace(listing, stock_status=update.stock_status)
            self.listings[key] = listing
            written.append(WebStockWritten(update.sku, listing))
        return written

    # --- WebOrdersPort ---------------------------------------------------------------------

    async def web_orders(self, *, modified_after: datetime | None = None) -> list[WebOrder]:
        self.calls["web_orders"] += 1
        found = [
            o
            for o in self.orders.values()
            if modified_after is None or o.modified_at > modified_after
        ]
        return sorted(found, key=lambda o: (o.modified_at, o.id))

    async def web_order(self, order_id: int) -> WebOrder | None:
        self.calls["web_order"] += 1
        return self.orders.get(order_id)

    async def refund(self, order_id: int, draft: WebRefundDraft) -> WebRefund:
        """Idempotent on ``draft.reference`` (the real adapter tags the refund's reason)."""
        self.calls["refund"] += 1
        self.writes.check()
        order = self.orders.get(order_id)
        if order is None:
            raise BackendRejected(f"no order {order_id}", backend="woocommerce", status=404)
        done = self.refunds.setdefault(order_id, [])
        for reference, refund in done:
            if reference == draft.reference:
                return refund
        refund = WebRefund(
            1000 + sum(len(r) for r in self.refunds.values()), draft.amount, draft.reason
        )
        done.append((draft.reference, refund))
        if sum(r.amount.amount for _, r in done) >= order.total.amount:
            self.orders[order_id] = replace(order, status="refunded")
        return refund

    async def set_status(self, order_id: int, status: str) -> str:
        self.calls["set_status"] += 1
        self.writes.check()
        order = self.orders.get(order_id)
        if order is None:
            raise BackendRejected(f"no order {order_id}", backend="woocommerce", status=404)
        self.orders[order_id] = replace(order, status=status)
        return status

    async def add_note(self, order_id: int, note: str, *, customer_note: bool) -> int:
        self.calls["add_note"] += 1
        self.writes.check()
        notes = self.notes.setdefault(order_id, [])
        if (note, customer_note) not in notes:
            notes.append((note, customer_note))
        return notes.index((note, customer_note)) + 1


def _stock_status(listing: WebListing) -> str:
    """WooCommerce's status for a managed stock: in stock above zero, else backorderable or
    out of stock."""
    if (listing.stock_quantity or 0) > 0:
        return "instock"
    return "onbackorder" if listing.backorders != "no" else "outofstock"


@dataclass
class FakePos:
    location_list: list[BackendLocation] = field(default_factory=list)
    variations: dict[str, PosVariation] = field(default_factory=dict)
    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    adjustments: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    sold: list[Sale] = field(default_factory=list)  # the sales history (and record_sale's)
    writes: FailureSwitch = field(default_factory=FailureSwitch)
    changed_at: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (sku, store)

    async def locations(self) -> list[BackendLocation]:
        self.calls["locations"] += 1
        return list(self.location_list)

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        self.calls["variations_by_sku"] += 1
        return {s: self.variations[s] for s in skus if s in self.variations}

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]:
        self.calls["stock"] += 1
        return [
            StockReading(sku, SourceSystem.POS, loc, on_hand, reserved, AS_OF)
            for (sku, loc), (on_hand, reserved) in self.counts.items()
            if sku in skus and (location_refs is None or loc in location_refs)
        ]

    async def store_sums(
        self, skus: Sequence[str], safety_stock: Mapping[str, int]
    ) -> dict[str, StoreSum]:
        # Counted as a "stock" read too: it reads Square's counts, only returns them added up.
        self.calls["store_sums"] += 1
        readings = await self.stock(skus, list(safety_stock))
        return {sku: store_sum([r for r in readings if r.sku == sku], safety_stock) for sku in skus}

    async def skus_of_variations(self, variation_ids: Sequence[str]) -> dict[str, str]:
        self.calls["skus_of_variations"] += 1
        return {
            v.variation_id: sku
            for sku, v in self.variations.items()
            if v.variation_id in variation_ids
        }

    async def stock_changes(self, since: datetime, location_refs: Sequence[str]) -> StockChanges:
        self.calls["stock_changes"] += 1
        hits = {
            pair: at
            for pair, at in self.changed_at.items()
            if at > since and pair[1] in location_refs
        }
        return StockChanges(
            frozenset(
                (self.variations[sku].variation_id, location_ref, "IN_STOCK", at)
                for (sku, location_ref), at in hits.items()
                if sku in self.variations
            )
        )

    async def sales(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        self.calls["sales"] += 1
        return [
            sale
            for sale in self.sold
            if sale.sku in skus and sale.location_ref in location_refs and sale.occurred_at > since
        ]

    async def stock_movements(
        self, skus: Sequence[str], location_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        self.calls["stock_movements"] += 1
        return [
            StockMovement(sale.sku, sale.location_ref, sale.occurred_at, -sale.quantity)
            for sale in await self.sales(skus, location_refs, since)
        ]

    # --- PosStockWritesPort ----------------------------------------------------------------

    async def record_sale(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        new = reference not in self.adjustments
        self._adjust("record_sale", reference, sku, location_ref, -quantity, occurred_at)
        if new:
            self.sold.append(Sale(sku, location_ref, occurred_at, quantity))

    async def record_restock(
        self, reference: str, sku: str, location_ref: str, quantity: int, occurred_at: datetime
    ) -> None:
        self._adjust("record_restock", reference, sku, location_ref, quantity, occurred_at)

    async def record_count(
        self, reference: str, sku: str, location_ref: str, quantity: int, counted_at: datetime
    ) -> None:
        """As Square does: the count as of ``counted_at``, the sales after it on top."""
        later = await self.stock_movements([sku], [location_ref], counted_at)
        on_hand, reserved = self.counts.get((sku, location_ref), (0, 0))
        target = quantity + sum(m.units for m in later) + reserved
        self._adjust("record_count", reference, sku, location_ref, target - on_hand, counted_at)

    def _adjust(
        self,
        kind: str,
        reference: str,
        sku: str,
        location_ref: str,
        delta: int,
        occurred_at: datetime,
    ) -> None:
        """Square keeps an adjustment per idempotency_key: a repeat changes nothing."""
        self.calls[kind] += 1
        self.writes.check()
        if reference in self.adjustments:
            return
        self.adjustments[reference] = (kind, sku, location_ref, delta)
        on_hand, reserved = self.counts.get((sku, location_ref), (0, 0))
        self.counts[(sku, location_ref)] = (on_hand + delta, reserved)
        self.changed_at[(sku, location_ref)] = occurred_at


@dataclass
class FakeOms:
    """Shopify in memory: one fulfillment order per allocated location; returns."""

    orders: dict[str, OmsOrder] = field(default_factory=dict)
    returns: dict[str, tuple[str, str, OmsReturn, tuple[OmsReturnLine, ...]]] = field(
        default_factory=dict
    )  # return id -> (order id, reference, return, lines)
    calls: Counter[str] = field(default_factory=Counter)
    writes: FailureSwitch = field(default_factory=FailureSwitch)
    # Order edits: each order's line quantities by SKU (first taken from its fulfillment
    # orders), and each applied edit's changes by reference.
    line_quantities: dict[str, dict[str, int]] = field(default_factory=dict)
    edits: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    async def create_order(self, draft: OmsOrderDraft) -> OmsOrder:
        self.calls["create_order"] += 1
        self.writes.check()
        for order in self.orders.values():
            if order.reference == draft.reference:
                return order
        number = len(self.orders) + 1001
        by_location: dict[str, list[OmsFulfillmentLine]] = {}
        for i, a in enumerate(draft.allocations, start=1):
            by_location.setdefault(a.location_ref, []).append(
                OmsFulfillmentLine(
                    f"gid://shopify/FulfillmentOrderLineItem/{number}{i}",
                    a.sku,
                    a.quantity,
                    a.quantity,
                )
            )
        order = OmsOrder(
            id=f"gid://shopify/Order/{number}",
            name=f"#{number}",
            reference=draft.reference,
            fulfillment_orders=tuple(
                OmsFulfillmentOrder(
                    f"gid://shopify/FulfillmentOrder/{number}{i}", loc, "OPEN", tuple(lines)
                )
                for i, (loc, lines) in enumerate(by_location.items(), start=1)
            ),
        )
        self.orders[order.id] = order
        return order

    async def order(self, order_id: str) -> OmsOrder | None:
        self.calls["order"] += 1
        return self.orders.get(order_id)

    async def fulfill(
        self, fulfillment_order_id: str, tracking: Tracking | None
    ) -> OmsFulfillmentOrder:
        self.calls["fulfill"] += 1
        self.writes.check()
        for order in self.orders.values():
            for fo in order.fulfillment_orders:
                if fo.id != fulfillment_order_id:
                    continue
                if fo.status == "CLOSED":
                    return fo
                done = replace(
                    fo,
                    status="CLOSED",
                    lines=tuple(replace(x, remaining_quantity=0) for x in fo.lines),
                    tracking=fo.tracking + (() if tracking is None else (tracking,)),
                )
                self._replace_fulfillment_order(order, done)
                return done
        raise BackendRejected(f"no fulfillment order {fulfillment_order_id}", backend="oms")

    async def cancel_order(self, order_id: str) -> OmsOrder:
        self.calls["cancel_order"] += 1
        self.writes.check()
        order = self.orders.get(order_id)
        if order is None:
            raise BackendRejected(f"no order {order_id}", backend="oms")
        for fo in order.fulfillment_orders:
            if fo.status not in ("CLOSED", "CANCELLED"):
                order = self._replace_fulfillment_order(order, replace(fo, status="CANCELLED"))
        return order

    async def open_return(
        self, order_id: str, lines: Sequence[OmsReturnLine], reference: str
    ) -> OmsReturn:
        self.calls["open_return"] += 1
        self.writes.check()
        if order_id not in self.orders:
            raise BackendRejected(f"no order {order_id}", backend="oms")
        for owner, ref, ret, _ in self.returns.values():
            if owner == order_id and ref == reference:
                return ret
        number = len(self.returns) + 1
        ret = OmsReturn(f"gid://shopify/Return/{number}", f"#R{number}", "OPEN")
        self.returns[ret.id] = (order_id, reference, ret, tuple(lines))
        return ret

    async def close_return(self, return_id: str) -> OmsReturn:
        self.calls["close_return"] += 1
        self.writes.check()
        if return_id not in self.returns:
            raise BackendRejected(f"no return {return_id}", backend="oms")
        owner, ref, ret, lines = self.returns[return_id]
        ret = replace(ret, status="CLOSED")
        self.returns[return_id] = (owner, ref, ret, lines)
        return ret

    async def edit_lines(
        self, order_id: str, changes: Sequence[OmsLineChange], reference: str
    ) -> OmsOrder:
        """The edit recorded once per reference; a SKU may not fall below zero."""
        self.calls["edit_lines"] += 1
        self.writes.check()
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}", order_id=order_id)
        if reference in self.edits:
            return order
        if order_id not in self.line_quantities:
            held: dict[str, int] = {}
            for fo in order.fulfillment_orders:
                if fo.status != "CANCELLED":
                    for line in fo.lines:
                        held[line.sku] = held.get(line.sku, 0) + line.total_quantity
            self.line_quantities[order_id] = held
        quantities = dict(self.line_quantities[order_id])
        for change in changes:
            quantities[change.sku] = quantities.get(change.sku, 0) + change.delta
            if quantities[change.sku] < 0:
                raise BackendRejected(
                    f"{change.sku} cannot fall below 0 on order {order_id}", backend="oms"
                )
        self.line_quantities[order_id] = quantities
        self.edits[reference] = [(change.sku, change.delta) for change in changes]
        return order

    def _replace_fulfillment_order(self, order: OmsOrder, fo: OmsFulfillmentOrder) -> OmsOrder:
        updated = replace(
            order,
            fulfillment_orders=tuple(fo if x.id == fo.id else x for x in order.fulfillment_orders),
        )
        self.orders[order.id] = updated
        return updated


def small_retailer() -> tuple[FakeErp, FakeStorefront, FakePos]:
    """Two warehouses, three Berlin-area stores, a shoe, a sock and a kit of both."""
    erp = FakeErp(
        items={
            "SHOE-42": ItemMaster(
                "SHOE-42",
                "Trail Shoe 42",
                "Footwear",
                ("4006381333948",),
                cost=eur("52.40"),
                list_price=eur("129.00"),
                tax_category="Apparel",
            ),
            "SOCK-M": ItemMaster(
                "SOCK-M",
                "Merino Sock M",
                "Socks",
                ("4006381333931",),
                cost=eur("5.10"),
                list_price=eur("14.00"),
            ),
            "KIT-RUN": ItemMaster("KIT-RUN", "Run Kit", "Bundles", (), list_price=eur("139.00")),
        },
        warehouse_list=[
            BackendLocation(SourceSystem.ERP, "Central - NTR", "Central - NTR"),
            BackendLocation(SourceSystem.ERP, "North - NTR", "North - NTR"),
        ],
        bins={
            ("SHOE-42", "Central - NTR"): (10, 2),
            ("SOCK-M", "Central - NTR"): (40, 0),
            ("SHOE-42", "North - NTR"): (1, 1),
        },
        kit_defs={
            "KIT-RUN": Kit("KIT-RUN", (KitComponent("SHOE-42", 1), KitComponent("SOCK-M", 3)))
        },
    )
    web = FakeStorefront(
        listings={
            "SHOE-42": WebListing(
                "SHOE-42",
                4820,
                4821,
                "Trail Runner Shoe - 42",
                eur("119.00"),
                "publish",
                "https://shop.example/product/trail/",
                True,
                0,
                "outofstock",
                "no",
            )
        }
    )
    pos = FakePos(
        location_list=[
            BackendLocation(
                SourceSystem.POS, "LMITTE", "Mitte Store", point=GeoPoint(52.5200, 13.4050)
            ),
            BackendLocation(
                SourceSystem.POS, "LPOTS", "Potsdam Store", point=GeoPoint(52.3906, 13.0645)
            ),
            BackendLocation(
                SourceSystem.POS, "LHAM", "Hamburg Store", point=GeoPoint(53.5511, 9.9937)
            ),
            BackendLocation(SourceSystem.POS, "LOLD", "Closed Store", active=False),
        ],
        variations={
            "SHOE-42": PosVariation("SHOE-42", "VSHOE", "ISHOE", "42", eur("125.00")),
        },
        counts={
            ("SHOE-42", "LMITTE"): (3, 0),
            ("SHOE-42", "LPOTS"): (8, 1),
            ("SOCK-M", "LMITTE"): (7, 0),
            ("SOCK-M", "LHAM"): (30, 0),
        },
    )
    return erp, web, pos
