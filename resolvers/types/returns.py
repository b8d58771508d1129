"""Returns and the outbox's dead letters."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry

from gateway.domain import orders as domain
from gateway.domain.outbox import Delivery as DomainDelivery
from gateway.domain.outbox import DeliveryStatus as DomainDeliveryStatus
from resolvers.types.common import Money

ReturnReason = domain.ReturnReason
strawberry.enum(ReturnReason)
ItemCondition = domain.ItemCondition
strawberry.enum(ItemCondition)
Disposition = domain.Disposition
strawberry.enum(Disposition)
ReturnStatus = domain.ReturnStatus
strawberry.enum(ReturnStatus)
DeliveryStatus = DomainDeliveryStatus
strawberry.enum(DeliveryStatus, name="DeliveryStatus")


@strawberry.input
class ReturnLineInput:
    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition


@strawberry.type
class ReturnLine:
    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition
    disposition: Disposition
    location_id: strawberry.ID = strawberry.field(description="The node it goes back to.")
    refund: Money
    received_at: datetime | None
    awaiting_decision: bool = strawberry.field(
        description="Back at the node as INSPECT or REFURBISH: incoming there until "
        "restockReturnUnits or disposeReturnUnits."
    )
    decided_at: datetime | None


@strawberry.type
class ReturnRequest:
    id: strawberry.ID
    order_id: strawberry.ID
    status: ReturnStatus
    lines: list[ReturnLine]
    refund_total: Money
    oms_return_id: str | None
    web_refund_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, r: domain.ReturnRequest) -> ReturnRequest:
        return cls(
            id=strawberry.ID(r.id),
            order_id=strawberry.ID(r.order_id),
            status=r.status,
            lines=[
                ReturnLine(
                    sku=x.sku,
                    quantity=x.quantity,
                    reason=x.reason,
                    condition=x.condition,
                    disposition=x.disposition,
                    location_id=strawberry.ID(x.location_id),
                    refund=Money.of(x.refund),
                    received_at=x.received_at,
                    awaiting_decision=x.awaiting_decision,
                    decided_at=x.decided_at,
                )
                for x in r.lines
            ],
            refund_total=Money.of(r.refund_total),
            oms_return_id=r.oms_return_id,
            web_refund_id=r.web_refund_id,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


@strawberry.type(description="A write owed to a backend (the outbox).")
class Delivery:
    id: strawberry.ID
    target: str = strawberry.field(description="ERP, STOREFRONT, POS or OMS.")
    operation: str
    reference: str = strawberry.field(description="The backend's idempotency key.")
    ordering_key: str = strawberry.field(description="The order or reservation it belongs to.")
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    payload: str = strawberry.field(description="The request, as JSON.")
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    blocked_by: strawberry.ID | None = strawberry.field(
        description="BLOCKED: the dead write it waits behind (retry or skip that one)."
    )

    @classmethod
    def from_domain(cls, d: DomainDelivery) -> Delivery:
        return cls(
            id=strawberry.ID(str(d.id)),
            target=d.message.target.value,
            operation=d.message.kind,
            reference=d.message.reference,
            ordering_key=d.message.ordering_key,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            payload=json.dumps(d.message.payload(), sort_keys=True),
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            blocked_by=None if d.blocked_by is None else strawberry.ID(str(d.blocked_by)),
        )
