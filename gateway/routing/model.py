"""What the router is given and what it answers: plain, typed, serialisable values.

Money is integer minor units of ``ShippingModel.currency``; quantities are ints; times are
aware UTC. A request holds everything the decision depends on (stock, capacity, cut-offs,
rates, policy and the clock), so a stored request replays to the same plan.

The objective the router minimises, for a plan shipping ``u_n`` units from each node ``n``
it uses (``k`` nodes in all)::

    sum over used n of  handling_per_order(n)
                      + first_parcel(n) + additional_parcel(n) * (ceil(u_n / units_per_parcel) - 1)
                      + sum over its units of handling_per_unit(n) + health(n, sku, unit)
    + split_penalty * (k - 1)

``first_parcel``/``additional_parcel`` come from the rate band the node's distance to the
destination falls in, for the service level used. ``health`` is the stock-health
preference: ``-excess_bonus`` per unit from a node with at least ``excess_days`` of supply
of that SKU, ``+store_reserve_penalty`` per unit that takes a store's ATP of that SKU below
``store_reserve`` (the units it keeps for walk-in customers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from gateway.domain import GeoPoint, NodeType


class Strategy(StrEnum):
    COST = "COST"  # the cheapest plan that keeps the promise (deliver_by, when given)
    SPEED = "SPEED"  # the earliest delivery date, then the cheapest plan for that date
    SINGLE_NODE = "SINGLE_NODE"  # one shipment unless no node can fill the order
    PICKUP = "PICKUP"  # collect at the chosen store; transfer or nearby stores if short


class Rejection(StrEnum):
    NO_STOCK = "NO_STOCK"  # holds none of the order's SKUs
    OVER_CAPACITY = "OVER_CAPACITY"  # no pick capacity left for its next ship day
    PAST_CUTOFF = "PAST_CUTOFF"  # past today's cut-off, and shipping tomorrow misses the promise
    MISSES_PROMISE = "MISSES_PROMISE"  # even its fastest service arrives after deliver_by
    STALE_STOCK = "STALE_STOCK"  # its stock figures are too old to promise from
    OUTSIDE_RADIUS = "OUTSIDE_RADIUS"  # farther than the policy's radius, or no coordinates


class Verdict(StrEnum):
    CHOSEN = "CHOSEN"
    CONSIDERED = "CONSIDERED"  # eligible, not in the plan
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class RouteLine:
    sku: str
    quantity: int
    # When the SKU can be had again if nobody holds it now (a backorderable line).
    backorder_date: date | None = None


@dataclass(frozen=True, slots=True)
class CandidateNode:
    id: str
    name: str
    kind: NodeType
    point: GeoPoint | None
    # Available to promise per SKU: safety stock and every hold already deducted.
    atp: Mapping[str, int]
    # Units it can still pick for its next ship day; None when it has no limit.
    capacity: int | None = None
    # Today's cut-off as a UTC time of day: ordered later, it ships the next day.
    cutoff: time | None = None
    handling_per_order: int = 0
    handling_per_unit: int = 0
    days_of_supply: Mapping[str, int] = field(default_factory=dict)
    # The oldest stock reading behind ``atp`` (None: not known, treated as fresh).
    stock_as_of: datetime | None = None  # when the gateway read the stalest figure
    source_as_of: datetime | None = None  # the stalest figure's own stamp at its source
    pickup: bool = False  # customers can collect orders here


@dataclass(frozen=True, slots=True)
class RateBand:
    up_to_km: int
    first_parcel: int
    additional_parcel: int
    transit_days: int


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    name: str
    bands: tuple[RateBand, ...]  # ascending ``up_to_km``; beyond the last it does not go


@dataclass(frozen=True, slots=True)
class ShippingModel:
    currency: str
    units_per_parcel: int
    services: tuple[ServiceLevel, ...]


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    split_penalty: int = 0
    max_radius_km: int | None = None
    stale_after_seconds: int | None = None
    source_stale_after_seconds: int | None = None
    max_shipments: int = 4
    excess_days: int | None = None
    excess_bonus: int = 0
    store_reserve: int = 0
    store_reserve_penalty: int = 0


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    lines: tuple[RouteLine, ...]
    nodes: tuple[CandidateNode, ...]
    shipping: ShippingModel
    policy: RoutingPolicy
    strategy: Strategy
    now: datetime
    destination: GeoPoint | None = None  # where a delivery goes
    pickup_node_id: str | None = None  # the store a pickup order is collected from
    deliver_by: date | None = None  # the promise the plan must keep, when the caller has one
    service_level: str | None = None  # only this service; None: whichever fits the strategy


# --- the answer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllocatedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment:
    node_id: str
    node_name: str
    lines: tuple[AllocatedLine, ...]
    service: str | None  # None for units collected at the store that holds them
    distance_km: float | None
    parcels: int
    ship_date: date
    arrival_date: date  # delivered, or ready for pickup at the store
    shipping: int
    handling: int
    stock_health: int
    transfer_to: str | None = None  # a store-to-store transfer for a pickup order


@dataclass(frozen=True, slots=True)
class Unfulfillable:
    sku: str
    quantity: int
    reason: str
    backorder_date: date | None = None
    available: int = 0  # units the nodes that can serve the order hold between them


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    currency: str
    shipping: int
    handling: int
    split_penalty: int
    stock_health: int  # the preference's adjustment: steers the choice, is not charged

    @property
    def total(self) -> int:
        """What the plan costs the business."""
        return self.shipping + self.handling + self.split_penalty

    @property
    def objective(self) -> int:
        """What the router minimised: the cost plus the stock-health preference."""
        return self.total + self.stock_health


@dataclass(frozen=True, slots=True)
class CandidateScore:
    node_id: str
    node_name: str
    verdict: Verdict
    distance_km: float | None
    # Of the order's units, how many it could ship, and its cost to ship those alone.
    units_available: int
    score: int | None
    rejection: Rejection | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    summary: str
    tie_break: str
    candidates: tuple[CandidateScore, ...]
    notes: tuple[str, ...] = ()
    # Node sets the search weighed, and whether it finished or stopped at its budget.
    plans_compared: int = 0
    search_complete: bool = True


@dataclass(frozen=True, slots=True)
class NearbyStore:
    node_id: str
    node_name: str
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class FulfillmentPlan:
    strategy: Strategy
    shipments: tuple[Shipment, ...]
    unfulfillable: tuple[Unfulfillable, ...]
    cost: CostBreakdown
    promised_date: date | None
    explanation: Explanation
    # A pickup order its store cannot fill alone: stores that can, nearest first.
    alternative_stores: tuple[NearbyStore, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unfulfillable
