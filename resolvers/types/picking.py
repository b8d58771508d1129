"""A store's pick list, short picks and the substitutes offered (gateway.domain.picking)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import picking as domain
from gateway.domain.picking import ShortPickOutcome, SubstitutionStatus
from gateway.services.picking import ShortPick as DomainShortPick
from resolvers.types.common import Channel
from resolvers.types.order import Order

strawberry.enum(
    SubstitutionStatus,
    description="OFFERED: the customer has not answered; ACCEPTED: a substitute stands in "
    "for the missing units; DECLINED: they are dropped from the order.",
)
strawberry.enum(
    ShortPickOutcome,
    description="What became of units a picker did not find: REROUTED (another node fills "
    "them), SUBSTITUTES_OFFERED (the customer chooses), DROPPED (nothing could stand in).",
)


@strawberry.type(description="One SKU to pick for an order.")
class PickLine:
    sku: str
    name: str
    quantity: int
    shelf: str | None = strawberry.field(
        description="Where it is on the shop floor, when the source says (Square: the "
        "variation's PICKING__SHELF_ATTRIBUTE custom attribute)."
    )

    @classmethod
    def from_domain(cls, line: domain.PickLine) -> PickLine:
        return cls(sku=line.sku, name=line.name, quantity=line.quantity, shelf=line.shelf)


@strawberry.type(description="An order the store picks, due by `promisedBy`.")
class PickTask:
    order_id: strawberry.ID
    channel: Channel
    status: str
    customer_name: str
    placed_at: datetime
    promised_by: datetime = strawberry.field(
        description="Ready for pickup PICKING__PICKUP_READY_HOURS after it was placed, or "
        "shipped PICKING__SHIP_WITHIN_HOURS after."
    )
    lines: list[PickLine]

    @classmethod
    def from_domain(cls, task: domain.PickTask) -> PickTask:
        return cls(
            order_id=strawberry.ID(task.order_id),
            channel=task.channel,
            status=task.status,
            customer_name=task.customer_name,
            placed_at=task.placed_at,
            promised_by=task.promised_by,
            lines=[PickLine.from_domain(line) for line in task.lines],
        )


@strawberry.type(description="Units a picker did not find, and what the customer was offered.")
class Substitution:
    id: strawberry.ID
    order_id: strawberry.ID
    location_id: strawberry.ID
    sku: str
    missing: int
    offered: list[str] = strawberry.field(
        description="SKUs of the same category, priced within PICKING__SUBSTITUTE_PRICE_BAND, "
        "with every missing unit available at the store; best first."
    )
    status: SubstitutionStatus
    chosen: str | None
    offered_at: datetime
    answered_at: datetime | None
    answered_by: str | None

    @classmethod
    def from_domain(cls, offer: domain.Substitution) -> Substitution:
        return cls(
            id=strawberry.ID(offer.id),
            order_id=strawberry.ID(offer.order_id),
            location_id=strawberry.ID(offer.location_id),
            sku=offer.sku,
            missing=offer.missing,
            offered=list(offer.offered),
            status=offer.status,
            chosen=offer.chosen,
            offered_at=offer.offered_at,
            answered_at=offer.answered_at,
            answered_by=offer.answered_by,
        )


@strawberry.type(description="What a short pick did.")
class ShortPick:
    outcome: ShortPickOutcome
    detail: str
    order: Order
    substitution: Substitution | None

    @classmethod
    def from_domain(cls, short: DomainShortPick) -> ShortPick:
        return cls(
            outcome=short.outcome,
            detail=short.detail,
            order=Order.from_domain(short.order),
            substitution=(
                None if short.substitution is None else Substitution.from_domain(short.substitution)
            ),
        )
