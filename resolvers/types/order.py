"""Orders as the support console sees them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import GeoPoint, documents
from gateway.domain import orders as domain
from gateway.domain.principal import PII_READ
from gateway.domain.privacy import MASK, masked_email, masked_name, masked_postal_code
from resolvers.permissions import STOREFRONT, SUPPORT, allow
from resolvers.types.common import Channel, Money, PageInfo, SourceSystem
from resolvers.types.reservation import LineInput
from resolvers.types.returns import ReturnRequest
from resolvers.types.routing import RoutingDecision, RoutingStrategy
from resolvers.types.truth import Discrepancy

if TYPE_CHECKING:
    from resolvers.types.picking import Substitution

OrderStatus = domain.OrderStatus
strawberry.enum(OrderStatus)
OrderOrigin = domain.OrderOrigin
strawberry.enum(OrderOrigin)


@strawberry.input
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country_code: str
    lat: float
    lng: float
    line2: str | None = None

    def to_domain(self) -> documents.PostalAddress:
        return documents.PostalAddress(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            country_code=self.country_code,
            point=GeoPoint(self.lat, self.lng),
        )


@strawberry.input
class CustomerInput:
    email: str
    name: str


@strawberry.input
class DeliveryInput:
    address: AddressInput


@strawberry.input
class PickupInput:
    location_id: strawberry.ID


@strawberry.input(description="Give exactly one of delivery or pickup.")
class PlaceOrderInput:
    lines: list[LineInput]
    channel: Channel
    customer: CustomerInput
    delivery: DeliveryInput | None = None
    pickup: PickupInput | None = None
    strategy: RoutingStrategy | None = strawberry.field(
        default=None, description="Default: PICKUP for a pickup, else the online default."
    )
    deliver_by: date | None = strawberry.field(
        default=None, description="Refuse plans that arrive after this date."
    )
    service_level: str | None = None
    allow_transfer: bool = strawberry.field(
        default=False,
        description="A pickup its store cannot fill today may wait for a transfer.",
    )


@strawberry.input
class TrackingInput:
    company: str | None = None
    number: str | None = None
    url: str | None = None


@strawberry.input
class OrderFilter:
    customer_email: str | None = None
    status: OrderStatus | None = None
    channel: Channel | None = None
    created_after: datetime | None = None


def sees_customer_data(info: strawberry.Info) -> bool:
    """Customer data in full only for a caller holding the pii:read scope."""
    principal = info.context.principal
    return principal is not None and PII_READ in principal.scopes


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country_code: str
    lat: float | None
    lng: float | None


@strawberry.type
class Tracking:
    company: str | None
    number: str | None
    url: str | None


@strawberry.type
class OrderLine:
    sku: str
    quantity: int
    unit_price: Money
    location_id: strawberry.ID | None = strawberry.field(description="The fulfillment node.")
    returned_quantity: int


@strawberry.type(description="One record of the order in one system: its own id and status there.")
class SystemStatus:
    system: SourceSystem
    id: str | None = strawberry.field(description="The record's id in that system.")
    status: str | None = strawberry.field(description="Its status there, as that system says.")
    location_id: str | None = strawberry.field(
        description="The node the record is for (a split order has one per node)."
    )
    synced_at: datetime | None = strawberry.field(
        description="When the gateway last heard of this record."
    )


@strawberry.type
class OrderEvent:
    at: datetime
    kind: str
    source: SourceSystem
    from_status: OrderStatus | None
    to_status: OrderStatus | None
    detail: str | None


@strawberry.type(description="One order, wherever it began, with every system's view of it.")
class Order:
    id: strawberry.ID
    origin: OrderOrigin
    channel: Channel
    status: OrderStatus
    email: strawberry.Private[str | None]
    name: strawberry.Private[str]
    total: Money
    lines: list[OrderLine]
    fulfillment_location_ids: list[strawberry.ID]
    address: strawberry.Private[Address | None]
    pickup_location_id: strawberry.ID | None
    pickup_deadline: datetime | None
    allow_transfer: bool = strawberry.field(
        description="The customer accepted collection after a transfer from another node."
    )
    systems: list[SystemStatus]
    tracking: list[Tracking]
    timeline: list[OrderEvent]
    created_at: datetime
    updated_at: datetime

    @strawberry.field(
        permission_classes=allow(STOREFRONT, SUPPORT),
        description="What the customer's browser sends to read this order back "
        "(order(id, accessToken)) without staff rights; for whoever places orders.",
    )
    def access_token(self, info: strawberry.Info) -> str | None:
        token: str = info.context.services.order_tokens.token(str(self.id))
        return token

    @strawberry.field(
        description="The customer's e-mail; masked (a***@example.org) for a caller without "
        "the pii:read scope."
    )
    def customer_email(self, info: strawberry.Info) -> str | None:
        if self.email is None or sees_customer_data(info):
            return self.email
        return masked_email(self.email)

    @strawberry.field(
        description="The customer's name; initials only for a caller without pii:read."
    )
    def customer_name(self, info: strawberry.Info) -> str:
        return self.name if sees_customer_data(info) else masked_name(self.name)

    @strawberry.field(
        description="Where it goes; for a caller without pii:read, the city, the country and "
        "the postal code's region only."
    )
    def delivery_address(self, info: strawberry.Info) -> Address | None:
        a = self.address
        if a is None or sees_customer_data(info):
            return a
        return Address(
            name=masked_name(a.name),
            line1=MASK,
            line2=None,
            city=a.city,
            postal_code=masked_postal_code(a.postal_code),
            country_code=a.country_code,
            lat=None,
            lng=None,
        )

    @strawberry.field(description="Returns opened for this order, oldest first.")
    async def returns(self, info: strawberry.Info) -> list[ReturnRequest]:
        found = await info.context.returns.load(str(self.id))
        return [ReturnRequest.from_domain(r) for r in found]

    @strawberry.field(
        description="Units a picker did not find, and the substitutes offered, oldest first."
    )
    async def substitutions(
        self, info: strawberry.Info
    ) -> list[Annotated[Substitution, strawberry.lazy("resolvers.types.picking")]]:
        from resolvers.types.picking import Substitution as Offered

        found = await info.context.services.picking.of_orders([str(self.id)])
        return [Offered.from_domain(offer) for offer in found[str(self.id)]]

    @strawberry.field(
        description="Exceptions about this order on the owned queue (it could not be "
        "allocated), open and closed, oldest first."
    )
    async def exceptions(self, info: strawberry.Info) -> list[Discrepancy]:
        found = await info.context.exceptions.load(str(self.id))
        now = info.context.services.truth.now()
        return [Discrepancy.from_domain(d, now) for d in found]

    @strawberry.field(
        description="The routing decision the order was placed on (gateway orders only)."
    )
    async def routing(self, info: strawberry.Info) -> RoutingDecision | None:
        stored = await info.context.routing.load(str(self.id))
        return None if stored is None else RoutingDecision.from_stored(stored)

    @classmethod
    def from_domain(cls, o: domain.Order) -> Order:
        a = o.delivery
        return cls(
            id=strawberry.ID(o.id),
            origin=o.origin,
            channel=o.channel,
            status=o.status,
            email=o.customer_email,
            name=o.customer_name,
            total=Money.of(o.total),
            lines=[
                OrderLine(
                    sku=x.sku,
                    quantity=x.quantity,
                    unit_price=Money.of(x.unit_price),
                    location_id=None if x.location_id is None else strawberry.ID(x.location_id),
                    returned_quantity=x.returned_quantity,
                )
                for x in o.lines
            ],
            fulfillment_location_ids=[strawberry.ID(x) for x in o.fulfillment_location_ids],
            address=None
            if a is None
            else Address(
                name=a.name,
                line1=a.line1,
                line2=a.line2,
                city=a.city,
                postal_code=a.postal_code,
                country_code=a.country_code,
                lat=a.point.lat if a.point else None,
                lng=a.point.lng if a.point else None,
            ),
            pickup_location_id=None
            if o.pickup_location_id is None
            else strawberry.ID(o.pickup_location_id),
            pickup_deadline=o.pickup_deadline,
            allow_transfer=o.allow_transfer,
            systems=[
                SystemStatus(
                    system=s.system,
                    id=s.id,
                    status=s.status,
                    location_id=s.location_id,
                    synced_at=s.synced_at,
                )
                for s in o.systems
            ],
            tracking=[Tracking(company=t.company, number=t.number, url=t.url) for t in o.tracking],
            timeline=[
                OrderEvent(
                    at=e.at,
                    kind=e.kind,
                    source=e.source,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    detail=e.detail,
                )
                for e in o.events
            ],
            created_at=o.created_at,
            updated_at=o.updated_at,
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
