"""WooCommerce's writes: a web order's status and customer notes as the order moves, the
refund of a returned web order line by line, in exact decimals, and the storefront's stock
copy set to the truth.

A stock push compares before it sets, as Shopify's ``inventorySetQuantities`` does with
``changeFromQuantity``: it re-reads the listings, sets only those that still show what the
gateway saw when it decided, and re-reads what it set. A listing that changed meanwhile is
left alone (the next reconcile looks at it again), so a correction never overwrites a newer
change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem, WebListing, WebStockUpdate
from gateway.domain.acting import actor
from gateway.domain.orders import OrderChanges, ReturnStatus, SystemRecord
from gateway.domain.outbox import (
    RefundWebOrder,
    RefundWritten,
    SetWebStock,
    StorefrontWrite,
    UpdateWebOrder,
    WebOrderUpdated,
    WebStockItem,
    WebStockOutcome,
    WebStockPushed,
)
from gateway.domain.truth import AuditEntry, AuditKind, Observation
from gateway.ports import StorefrontPort, UnitOfWork, WebOrdersPort
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order
from gateway.truth.pushes import settle_pushed

STOREFRONT = SourceSystem.STOREFRONT


class StorefrontWrites:
    target: ClassVar[SourceSystem] = STOREFRONT

    def __init__(self, web: WebOrdersPort, listings: StorefrontPort) -> None:
        self._web = web
        self._listings = listings

    async def deliver(self, message: StorefrontWrite, earlier: EarlierResults) -> Delivered:
        match message:
            case RefundWebOrder():
                refund = await self._web.refund(message.web_order_id, message.draft)
                # A refund of everything left moves the order to refunded there.
                after = await self._web.web_order(message.web_order_id)
                refunded = RefundWritten(
                    id=refund.id,
                    amount=refund.amount.amount,
                    order_status=None if after is None else after.status,
                    order_modified_at=None if after is None else after.modified_at,
                )
                return Delivered(refunded, _refunded(message, refunded))
            case UpdateWebOrder():
                status = None
                if message.status is not None:
                    status = await self._web.set_status(message.web_order_id, message.status)
                note_id = None
                if message.note:
                    note_id = await self._web.add_note(
                        message.web_order_id, message.note, customer_note=message.customer_note
                    )
                updated = WebOrderUpdated(status=status, note_id=note_id)
                return Delivered(updated, _order_updated(message, updated))
            case SetWebStock():
                pushed = await self._push(message.items)
                return Delivered(pushed, _stock_set(message, pushed))

    async def _push(self, items: Sequence[WebStockItem]) -> WebStockPushed:
        current = await self._listings.listings_by_sku([i.sku for i in items])
        still = [i for i in items if i.sku in current and _shows(current[i.sku], i)]
        written = await self._listings.set_stock_levels(
            [
                WebStockUpdate(
                    i.sku, i.product_id, i.variation_id, i.quantity, i.stock_status, i.backorders
                )
                for i in still
            ]
        )
        refused = {w.sku: w.error for w in written if w.error is not None}
        pushed = [i.sku for i in still if i.sku not in refused]
        after = await self._listings.listings_by_sku(pushed) if pushed else {}
        return WebStockPushed(items=tuple(_outcome(i, current, after, refused) for i in items))


def _outcome(
    item: WebStockItem,
    before: dict[str, WebListing],
    after: dict[str, WebListing],
    refused: Mapping[str, str],
) -> WebStockOutcome:
    shown = _shown(before[item.sku]) if item.sku in before else "no listing"
    if item.sku in refused:
        return WebStockOutcome(
            sku=item.sku, outcome="REFUSED", before=shown, error=refused[item.sku]
        )
    read = after.get(item.sku)
    if read is None:
        return WebStockOutcome(sku=item.sku, outcome="SKIPPED", before=shown)
    if _shows_target(read, item):
        return WebStockOutcome(sku=item.sku, outcome="SET", before=shown, after=_shown(read))
    return WebStockOutcome(sku=item.sku, outcome="UNCONFIRMED", before=shown, after=_shown(read))


def _shows(listing: WebListing, item: WebStockItem) -> bool:
    """The listing still shows what the gateway saw when it decided."""
    return (listing.stock_quantity, listing.stock_status, listing.backorders) == (
        item.seen_quantity,
        item.seen_status,
        item.seen_backorders,
    )


def _shows_target(listing: WebListing, item: WebStockItem) -> bool:
    return (
        (item.quantity is None or listing.stock_quantity == item.quantity)
        and (item.stock_status is None or listing.stock_status == item.stock_status)
        and (item.backorders is None or listing.backorders == item.backorders)
    )


def _shown(listing: WebListing) -> str:
    quantity = "-" if listing.stock_quantity is None else str(listing.stock_quantity)
    return f"{quantity} {listing.stock_status}, backorders {listing.backorders}"


def _stock_set(message: SetWebStock, pushed: WebStockPushed) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        items = {i.sku: i for i in message.items}
        entries, seen = [], []
        for outcome in pushed.items:
            if outcome.outcome not in ("SET", "UNCONFIRMED"):
                continue
            item = items[outcome.sku]
            entries.append(
                AuditEntry(
                    now,
                    AuditKind.STOREFRONT_STOCK_SET,
                    STOREFRONT,
                    actor(),
                    outcome.sku,
                    "stock",
                    outcome.before,
                    outcome.after,
                    reference=f"{message.reference} ({message.reason})",
                )
            )
            if item.quantity is not None:
                # The next reconcile sees this value as known, not as a change by someone.
                seen.append(
                    Observation(STOREFRONT, outcome.sku, "stock_quantity", str(item.quantity), now)
                )
        await uow.audit.add(entries)
        await uow.observations.record(seen)
        await settle_pushed(uow, message, pushed, now)
        return [o.sku for o in pushed.items]

    return record


def _order_updated(message: UpdateWebOrder, updated: WebOrderUpdated) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        said = []
        if updated.status:
            said.append(f"status {updated.status}")
        if updated.note_id is not None:
            said.append("a note to the customer" if message.customer_note else "a note")
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            STOREFRONT,
            "WEB_ORDER_UPDATED",
            f"WooCommerce order {message.web_order_id}: {' and '.join(said)}",
            OrderChanges(systems=(SystemRecord(STOREFRONT, None, updated.status),)),
        )
        return []

    return record


def _refunded(message: RefundWebOrder, refund: RefundWritten) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await uow.returns.update(
            message.return_id, now, status=ReturnStatus.CLOSED, web_refund_id=refund.id
        )
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            STOREFRONT,
            "WEB_REFUND",
            f"WooCommerce refund {refund.id} of {refund.amount}",
            OrderChanges(
                systems=(
                    SystemRecord(
                        STOREFRONT,
                        None,
                        refund.order_status,
                        modified_at=refund.order_modified_at,
                    ),
                )
            ),
        )
        return []

    return record
