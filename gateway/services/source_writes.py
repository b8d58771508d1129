"""Which backend write records a commitment at a node, and which one undoes it.

Confirming a hold writes it to the node's source of truth, so every other channel reading
that source sees it too:

* an ERP warehouse gets a submitted Sales Order with ``reserve_stock`` (ERPNext raises the
  Bin's reserved quantity; cancelling the order gives it back);
* a Square store gets an IN_STOCK -> SOLD adjustment (Square's reserved state is read-only,
  so the unit is recorded as sold at once; a cancellation puts it back NONE -> IN_STOCK).

Each write is a typed outbox message (gateway.domain.outbox) whose ``reference`` is also
the backend's idempotency key. All functions here are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from gateway.domain import Location, Money, SourceSystem
from gateway.domain.documents import SalesOrderDraft, SalesOrderLine
from gateway.domain.outbox import (
    CancelSalesOrder,
    OutboxMessage,
    ReconcileStock,
    RecordCount,
    RecordRestock,
    RecordSale,
    SubmitSalesOrder,
)
from gateway.domain.reservations import HoldPlan
from gateway.services.holds import per_sku


def commit_messages(
    *,
    ordering_key: str,
    reference: str,
    location: Location,
    plans: Sequence[HoldPlan],
    customer: str,
    prices: dict[str, Money] | None = None,
    now: datetime,
    delivery_days: int = 3,
) -> list[OutboxMessage]:
    """The writes that record holds ``plans`` at ``location`` in its source of truth."""
    plans = per_sku(plans)  # one write per SKU: its reference names the SKU
    if location.source is SourceSystem.ERP:
        draft = SalesOrderDraft(
            reference=reference,
            customer=customer,
            transaction_date=now.date(),
            delivery_date=(now + timedelta(days=delivery_days)).date(),
            lines=tuple(
                SalesOrderLine(
                    sku=p.sku,
                    quantity=p.quantity,
                    warehouse=location.source_ref,
                    rate=(prices or {}).get(p.sku),
                )
                for p in plans
            ),
        )
        return [
            SubmitSalesOrder(
                ordering_key=ordering_key,
                reference=reference,
                draft=draft,
                location_id=location.id,
                hold_reference=ordering_key,
            )
        ]
    return [
        RecordSale(
            ordering_key=ordering_key,
            reference=f"{reference}:sale:{p.sku}",
            sku=p.sku,
            location_ref=location.source_ref,
            location_id=location.id,
            quantity=p.quantity,
            occurred_at=now,
            hold_reference=ordering_key,
        )
        for p in plans
    ]


def undo_messages(
    *,
    ordering_key: str,
    reference: str,
    location: Location,
    plans: Sequence[HoldPlan],
    now: datetime,
) -> list[OutboxMessage]:
    """The compensating writes for ``commit_messages`` with the same ``reference``."""
    if location.source is SourceSystem.ERP:
        return [
            CancelSalesOrder(
                ordering_key=ordering_key,
                reference=f"{reference}:cancel",
                submit_reference=reference,
            )
        ]
    return [
        restock_at_store(
            ordering_key, f"{reference}:restock:{p.sku}", location, p.sku, p.quantity, now
        )
        for p in per_sku(plans)
    ]


def restock_at_store(
    ordering_key: str,
    reference: str,
    store: Location,
    sku: str,
    quantity: int,
    now: datetime,
    return_line_id: int | None = None,
) -> RecordRestock:
    """Units back on a store's shelf (a sale undone, or a return) as Square records them."""
    return RecordRestock(
        ordering_key=ordering_key,
        reference=reference,
        sku=sku,
        location_ref=store.source_ref,
        location_id=store.id,
        quantity=quantity,
        occurred_at=now,
        return_line_id=return_line_id,
    )


def count_at_source(
    count_id: str, node: Location, sku: str, counted: int, variance: int, counted_at: datetime
) -> OutboxMessage:
    """A cycle count written to the node's source as a count at its own time (Square
    PHYSICAL_COUNT, ERPNext Stock Reconciliation or, of reserved stock, a Stock Entry of the
    variance): each source keeps the movements recorded after it, so the figure moves by
    the variance. One ordering key per SKU and node: two
    counts of it land in the order they were recorded."""
    ordering_key = f"count:{node.id}:{sku}"
    reference = f"{count_id}:{sku}"
    if node.source is SourceSystem.POS:
        return RecordCount(
            ordering_key=ordering_key,
            reference=reference,
            count_id=count_id,
            sku=sku,
            location_ref=node.source_ref,
            location_id=node.id,
            quantity=counted,
            counted_at=counted_at,
        )
    if node.source is SourceSystem.ERP:
        return ReconcileStock(
            ordering_key=ordering_key,
            reference=reference,
            count_id=count_id,
            sku=sku,
            warehouse=node.source_ref,
            location_id=node.id,
            quantity=counted,
            variance=variance,
            counted_at=counted_at,
        )
    raise ValueError(f"{node.id}'s stock is kept by {node.source}, which takes no counts")
