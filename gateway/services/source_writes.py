"""Which backend write records a commitment at a node, and which one undoes it.

Confirming a hold writes it to the node's source of truth, so every other channel reading
that source sees it too:

* an ERP warehouse gets a submitted Sales Order with ``reserve_stock`` (ERPNext raises the
  Bin's reserved quantity; cancelling the order gives it back);
* a Square store gets an IN_STOCK -> SOLD adjustment (Square's reserved state is read-only,
  so the unit is recorded as sold at once; a cancellation puts it back NONE -> IN_STOCK).

Each write becomes an outbox message (gateway.domain.outbox) whose ``reference`` is
also the backend's idempotency key. All functions here are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from gateway.domain import Location, Money, SourceSystem
from gateway.domain.documents import SalesOrderDraft, SalesOrderLine
from gateway.domain.outbox import OutboxMessage
from gateway.domain.reservations import HoldPlan
from gateway.services.holds import per_sku

SALES_ORDER = TypeAdapter(SalesOrderDraft)

SUBMIT_SALES_ORDER = "erp.submit_sales_order"
CANCEL_SALES_ORDER = "erp.cancel_sales_order"
RECORD_SALE = "pos.record_sale"
RECORD_RESTOCK = "pos.record_restock"


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
        payload: dict[str, Any] = {
            "draft": SALES_ORDER.dump_python(draft, mode="json"),
            "location_id": location.id,
            "hold_reference": ordering_key,
        }
        return [OutboxMessage(ordering_key, "ERP", SUBMIT_SALES_ORDER, reference, payload)]
    return [
        OutboxMessage(
            ordering_key,
            "POS",
            RECORD_SALE,
            f"{reference}:sale:{p.sku}",
            {
                "sku": p.sku,
                "location_ref": location.source_ref,
                "location_id": location.id,
                "quantity": p.quantity,
                "occurred_at": now.isoformat(),
                "hold_reference": ordering_key,
            },
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
    plans = per_sku(plans)
    if location.source is SourceSystem.ERP:
        return [
            OutboxMessage(
                ordering_key,
                "ERP",
                CANCEL_SALES_ORDER,
                f"{reference}:cancel",
                {"submit_reference": reference},
            )
        ]
    return [
        OutboxMessage(
            ordering_key,
            "POS",
            RECORD_RESTOCK,
            f"{reference}:restock:{p.sku}",
            {
                "sku": p.sku,
                "location_ref": location.source_ref,
                "location_id": location.id,
                "quantity": p.quantity,
                "occurred_at": now.isoformat(),
            },
        )
        for p in plans
    ]
