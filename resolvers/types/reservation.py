"""Holds on stock."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import reservations as domain
from resolvers.types.common import Channel
from resolvers.types.location import Location

ReservationStatus = domain.ReservationStatus
strawberry.enum(ReservationStatus)


@strawberry.input
class LineInput:
    sku: str
    quantity: int


@strawberry.input
class ReserveInput:
    lines: list[LineInput]
    location_id: strawberry.ID
    channel: Channel
    ttl_seconds: int | None = strawberry.field(
        default=None, description="How long to hold; default 15 minutes, at most 7 days."
    )
    customer_ref: str | None = None


@strawberry.type
class ReservationLine:
    sku: str
    quantity: int


@strawberry.type(description="Units held for a customer at one node.")
class Reservation:
    id: strawberry.ID
    status: ReservationStatus
    location_id: strawberry.ID
    channel: Channel
    customer_ref: str | None
    lines: list[ReservationLine]
    created_at: datetime
    expires_at: datetime
    order_id: strawberry.ID | None

    @strawberry.field(description="The node the units are held at.")
    async def location(self, info: strawberry.Info) -> Location:
        found = await info.context.services.availability.location(str(self.location_id))
        return Location.from_domain(found)

    @classmethod
    def from_domain(cls, r: domain.Reservation) -> Reservation:
        return cls(
            id=strawberry.ID(r.id),
            status=r.status,
            location_id=strawberry.ID(r.location_id),
            channel=r.channel,
            customer_ref=r.customer_ref,
            lines=[ReservationLine(sku=x.sku, quantity=x.quantity) for x in r.lines],
            created_at=r.created_at,
            expires_at=r.expires_at,
            order_id=None if r.order_id is None else strawberry.ID(r.order_id),
        )
