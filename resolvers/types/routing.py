"""Fulfillment plans as GraphQL: the dry run at checkout, and an order's routing decision
with the inputs it was taken on and a replay through today's engine."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from gateway import routing as domain
from gateway.domain import Money as DomainMoney
from gateway.domain.orders import StoredDecision
from gateway.routing.replay import replay
from gateway.routing.snapshot import load_plan
from resolvers.cost import sliced_by
from resolvers.types.common import Money
from resolvers.types.reservation import LineInput

RoutingStrategy = domain.Strategy
strawberry.enum(
    RoutingStrategy,
    name="RoutingStrategy",
    description="COST: cheapest plan keeping the promise. SPEED: earliest delivery, then "
    "cost. SINGLE_NODE: one shipment unless impossible. PICKUP: collect at the chosen store.",
)
RoutingRejection = domain.Rejection
strawberry.enum(RoutingRejection, name="RoutingRejection", description="Why a node was not used.")
CandidateVerdict = domain.Verdict
strawberry.enum(CandidateVerdict, name="CandidateVerdict")


def _money(minor: int, currency: str) -> Money:
    return Money.of(DomainMoney.from_minor(minor, currency))


@strawberry.input(description="A point to deliver to.")
class DestinationInput:
    lat: float
    lng: float


@strawberry.input(description="Give exactly one of destination or pickupLocationId.")
class FulfillmentPlanInput:
    lines: list[LineInput]
    destination: DestinationInput | None = None
    pickup_location_id: strawberry.ID | None = None
    strategy: RoutingStrategy | None = strawberry.field(
        default=None, description="Default: PICKUP for a pickup, else the online default."
    )
    deliver_by: date | None = strawberry.field(
        default=None, description="The promise to keep: every shipment arrives by this date."
    )
    service_level: str | None = strawberry.field(
        default=None, description="Only this carrier service (STANDARD, EXPRESS, ...)."
    )


@strawberry.type
class PlannedLine:
    sku: str
    quantity: int


@strawberry.type(description="What one node ships (or, for a pickup, hands over).")
class PlannedShipment:
    location_id: strawberry.ID
    location_name: str
    lines: list[PlannedLine]
    service: str | None = strawberry.field(description="Null: collected at the store.")
    distance_km: float | None
    parcels: int
    ship_date: date
    arrival_date: date = strawberry.field(description="Delivered, or ready for pickup.")
    shipping_cost: Money
    handling_cost: Money
    transfer_to: strawberry.ID | None = strawberry.field(
        description="Sent to this store for the customer to collect there."
    )

    @classmethod
    def from_domain(cls, s: domain.Shipment, currency: str) -> PlannedShipment:
        return cls(
            location_id=strawberry.ID(s.node_id),
            location_name=s.node_name,
            lines=[PlannedLine(sku=x.sku, quantity=x.quantity) for x in s.lines],
            service=s.service,
            distance_km=None if s.distance_km is None else round(s.distance_km, 2),
            parcels=s.parcels,
            ship_date=s.ship_date,
            arrival_date=s.arrival_date,
            shipping_cost=_money(s.shipping, currency),
            handling_cost=_money(s.handling, currency),
            transfer_to=None if s.transfer_to is None else strawberry.ID(s.transfer_to),
        )


@strawberry.type
class UnfulfillableLine:
    sku: str
    quantity: int
    available: int = strawberry.field(description="Units the nodes able to serve it hold.")
    reason: str
    backorder_date: date | None


@strawberry.type
class PlanCost:
    shipping: Money
    handling: Money
    split_penalty: Money
    total: Money = strawberry.field(description="Shipping + handling + split penalty.")
    stock_health_adjustment: Money = strawberry.field(
        description="The stock-health preference the router added to the cost it "
        "minimised (negative: stock it wanted to move); not charged."
    )


@strawberry.type
class CandidateScore:
    location_id: strawberry.ID
    location_name: str
    verdict: CandidateVerdict
    distance_km: float | None
    units_available: int = strawberry.field(description="Of the order's units, how many.")
    score: Money | None = strawberry.field(
        description="What it would cost to ship those units alone (eligible nodes)."
    )
    rejection: RoutingRejection | None
    detail: str


@strawberry.type
class NearbyStore:
    location_id: strawberry.ID
    location_name: str
    distance_km: float | None


@strawberry.type
class RoutingExplanation:
    summary: str
    tie_break: str
    notes: list[str]
    plans_compared: int
    search_complete: bool
    _candidates: strawberry.Private[tuple[domain.CandidateScore, ...]]
    _currency: strawberry.Private[str]

    @strawberry.field(
        description="Every node looked at: chosen first, then by score.",
        directives=[sliced_by("first")],
    )
    def candidates(
        self,
        verdict: CandidateVerdict | None = None,
        first: int = 50,
    ) -> list[CandidateScore]:
        chosen = [c for c in self._candidates if verdict is None or c.verdict == verdict]
        return [
            CandidateScore(
                location_id=strawberry.ID(c.node_id),
                location_name=c.node_name,
                verdict=c.verdict,
                distance_km=None if c.distance_km is None else round(c.distance_km, 2),
                units_available=c.units_available,
                score=None if c.score is None else _money(c.score, self._currency),
                rejection=c.rejection,
                detail=c.detail,
            )
            for c in chosen[: max(0, first)]
        ]


@strawberry.type(description="Where an order's units come from, what it costs, and why.")
class FulfillmentPlan:
    strategy: RoutingStrategy
    complete: bool = strawberry.field(description="Every line can be filled.")
    promised_date: date | None = strawberry.field(
        description="When the last shipment arrives (or the pickup is ready)."
    )
    shipments: list[PlannedShipment]
    unfulfillable: list[UnfulfillableLine]
    cost: PlanCost
    explanation: RoutingExplanation
    alternative_stores: list[NearbyStore] = strawberry.field(
        description="A pickup its store cannot fill today: stores that have everything."
    )

    @classmethod
    def from_domain(cls, plan: domain.FulfillmentPlan) -> FulfillmentPlan:
        currency = plan.cost.currency
        cost = plan.cost
        return cls(
            strategy=plan.strategy,
            complete=plan.complete,
            promised_date=plan.promised_date,
            shipments=[PlannedShipment.from_domain(s, currency) for s in plan.shipments],
            unfulfillable=[
                UnfulfillableLine(
                    sku=u.sku,
                    quantity=u.quantity,
                    available=u.available,
                    reason=u.reason,
                    backorder_date=u.backorder_date,
                )
                for u in plan.unfulfillable
            ],
            cost=PlanCost(
                shipping=_money(cost.shipping, currency),
                handling=_money(cost.handling, currency),
                split_penalty=_money(cost.split_penalty, currency),
                total=_money(cost.total, currency),
                stock_health_adjustment=_money(cost.stock_health, currency),
            ),
            explanation=RoutingExplanation(
                summary=plan.explanation.summary,
                tie_break=plan.explanation.tie_break,
                notes=list(plan.explanation.notes),
                plans_compared=plan.explanation.plans_compared,
                search_complete=plan.explanation.search_complete,
                _candidates=plan.explanation.candidates,
                _currency=currency,
            ),
            alternative_stores=[
                NearbyStore(
                    location_id=strawberry.ID(s.node_id),
                    location_name=s.node_name,
                    distance_km=None if s.distance_km is None else round(s.distance_km, 2),
                )
                for s in plan.alternative_stores
            ],
        )


@strawberry.type
class RoutingReplay:
    plan: FulfillmentPlan
    same_plan: bool
    differences: list[str]


@strawberry.type(description="The routing decision an order was placed on.")
class RoutingDecision:
    decided_at: datetime
    strategy: RoutingStrategy
    snapshot_version: int
    _stored: strawberry.Private[StoredDecision]

    @strawberry.field
    def plan(self) -> FulfillmentPlan:
        return FulfillmentPlan.from_domain(load_plan(self._stored.plan))

    @strawberry.field(
        description="Everything the router was given: nodes with ATP, capacity, cut-offs, "
        "rates, policy and the clock."
    )
    def inputs(self) -> JSON:
        return JSON(self._stored.request)

    @strawberry.field(description="The same inputs through today's engine, compared.")
    def replay(self) -> RoutingReplay:
        again = replay(self._stored.request, self._stored.plan)
        return RoutingReplay(
            plan=FulfillmentPlan.from_domain(again.plan),
            same_plan=again.same_plan,
            differences=list(again.differences),
        )

    @classmethod
    def from_stored(cls, stored: StoredDecision) -> RoutingDecision:
        return cls(
            decided_at=stored.decided_at,
            strategy=domain.Strategy(stored.strategy),
            snapshot_version=stored.snapshot_version,
            _stored=stored,
        )
