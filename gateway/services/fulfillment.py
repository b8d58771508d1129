"""Planning fulfillment: gather what the router needs, ask it, keep what it was given.

The router (``gateway.routing``) is pure; this shell builds its request from live figures:

- candidates: every node that can ship online orders, plus pickup stores for a pickup
  order (the store itself, stores the customer could collect at instead);
- ATP per node for the order's SKUs with every hold already deducted (availability);
- pick capacity left: the node's daily capacity less the units of live orders routed to it
  since its pick day began (its last cut-off), read from the gateway's own orders;
- today's cut-off in UTC from the node's local cut-off and time zone;
- days of supply: ATP over the recent daily demand at that node, where there was demand;
- stock age: when the gateway last read the node's figures (``fetched_at``).

Each node type has default terms (settings.routing); the node file overrides them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.config import NodeTermsSettings, RoutingSettings
from gateway.domain import (
    Capability,
    Channel,
    GeoPoint,
    Location,
    NodeAvailability,
    NodeType,
)
from gateway.domain.reservations import ReservationLine
from gateway.errors import BadUserInput, NotFound
from gateway.ports import Clock, UnitOfWorkFactory
from gateway.routing import (
    CandidateNode,
    FulfillmentPlan,
    RateBand,
    RouteLine,
    RoutingPolicy,
    RoutingRequest,
    ServiceLevel,
    ShippingModel,
    Strategy,
    plan_fulfillment,
)
from gateway.services.availability import AvailabilityService, serves_channel, validate_near
from gateway.services.catalog import CatalogService
from gateway.services.holds import normalise_lines


@dataclass(frozen=True, slots=True)
class PlanQuery:
    lines: tuple[ReservationLine, ...]
    destination: GeoPoint | None = None
    pickup_location_id: str | None = None
    strategy: Strategy | None = None  # None: the channel's default
    deliver_by: date | None = None
    service_level: str | None = None
    exclude: frozenset[str] = frozenset()  # node ids not to plan from (a store found short)


@dataclass(frozen=True, slots=True)
class PickDay:
    cutoff_utc: time  # today's cut-off as a UTC time of day
    began: datetime  # the last cut-off: orders since then are picked for the next ship day


def shipping_model(settings: RoutingSettings) -> ShippingModel:
    return ShippingModel(
        currency=settings.currency,
        units_per_parcel=settings.units_per_parcel,
        services=tuple(
            ServiceLevel(
                s.name,
                tuple(
                    RateBand(b.up_to_km, b.first_parcel, b.additional_parcel, b.transit_days)
                    for b in sorted(s.bands, key=lambda b: b.up_to_km)
                ),
            )
            for s in settings.services
        ),
    )


def routing_policy(settings: RoutingSettings) -> RoutingPolicy:
    return RoutingPolicy(
        split_penalty=settings.split_penalty,
        max_radius_km=settings.max_radius_km,
        stale_after_seconds=settings.stale_after_seconds,
        source_stale_after_seconds=settings.source_stale_after_seconds,
        max_shipments=settings.max_shipments,
        excess_days=settings.excess_days,
        excess_bonus=settings.excess_bonus,
        store_reserve=settings.store_reserve,
        store_reserve_penalty=settings.store_reserve_penalty,
    )


def validate_query(query: PlanQuery, settings: RoutingSettings, today: date) -> Strategy:
    """The strategy to use; BadUserInput for a question that cannot be answered."""
    if (query.destination is None) == (query.pickup_location_id is None):
        raise BadUserInput("give exactly one of a delivery address or a pickup store")
    if query.destination is not None:
        validate_near(query.destination.lat, query.destination.lng, None, 20_000.0)
    strategy = query.strategy or (
        Strategy.PICKUP if query.pickup_location_id is not None else settings.online_strategy
    )
    if (strategy is Strategy.PICKUP) != (query.pickup_location_id is not None):
        raise BadUserInput(
            "strategy PICKUP goes with a pickup store, and only with one", field="strategy"
        )
    if query.deliver_by is not None and query.deliver_by < today:
        raise BadUserInput(f"deliverBy {query.deliver_by} is in the past", field="deliverBy")
    known = [s.name for s in settings.services]
    if query.service_level is not None and query.service_level not in known:
        raise BadUserInput(
            f"unknown service level {query.service_level!r}; known: {', '.join(known)}",
            field="serviceLevel",
        )
    return strategy


def pick_day(cutoff_local: time, zone: str, now: datetime) -> PickDay:
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    today_cutoff = datetime.combine(local.date(), cutoff_local, tz)
    if local < today_cutoff:
        began = datetime.combine(local.date() - timedelta(days=1), cutoff_local, tz)
    else:
        began = today_cutoff
    return PickDay(
        cutoff_utc=today_cutoff.astimezone(UTC).time(),
        began=began.astimezone(UTC),
    )


def node_defaults(location: Location, settings: RoutingSettings) -> NodeTermsSettings:
    return settings.warehouse if location.type is NodeType.WAREHOUSE else settings.store


def candidate_node(
    location: Location,
    rows: Mapping[str, NodeAvailability],
    *,
    defaults: NodeTermsSettings,
    day: PickDay,
    routed: int,
    sold: Mapping[str, int],
    window_days: int,
) -> CandidateNode:
    terms = location.terms
    capacity = terms.daily_capacity if terms.daily_capacity is not None else defaults.daily_capacity
    supply = {
        sku: row.available_to_promise * window_days // sold[sku]
        for sku, row in rows.items()
        if sold.get(sku)
    }
    fetched = [row.fetched_at for row in rows.values() if row.fetched_at is not None]
    stamped = [row.as_of for row in rows.values() if row.as_of is not None]
    return CandidateNode(
        id=location.id,
        name=location.name,
        kind=location.type,
        point=location.point,
        atp={sku: row.available_to_promise for sku, row in rows.items()},
        capacity=None if capacity is None else max(0, capacity - routed),
        cutoff=day.cutoff_utc,
        handling_per_order=(
            terms.handling_per_order
            if terms.handling_per_order is not None
            else defaults.handling_per_order
        ),
        handling_per_unit=(
            terms.handling_per_unit
            if terms.handling_per_unit is not None
            else defaults.handling_per_unit
        ),
        days_of_supply=supply,
        stock_as_of=min(fetched) if fetched else None,
        source_as_of=min(stamped) if stamped else None,
        pickup=Capability.PICKUP in location.capabilities,
    )


class FulfillmentPlanner:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        availability: AvailabilityService,
        catalog: CatalogService,
        clock: Clock,
        settings: RoutingSettings,
    ) -> None:
        self._uow = unit_of_work
        self._availability = availability
        self._catalog = catalog
        self._clock = clock
        self._settings = settings
        self._shipping = shipping_model(settings)
        self._policy = routing_policy(settings)

    async def plan(self, query: PlanQuery) -> tuple[RoutingRequest, FulfillmentPlan]:
        request = await self.request_for(query)
        return request, plan_fulfillment(request)

    async def request_for(self, query: PlanQuery) -> RoutingRequest:
        now = self._clock.now()
        strategy = validate_query(query, self._settings, now.date())
        lines = normalise_lines(query.lines)
        skus = [line.sku for line in lines]
        products = await self._catalog.products(skus)
        for sku in skus:
            if products.get(sku) is None:
                raise NotFound(f"No product with SKU {sku!r}", field="sku", sku=sku)
        locations = await self._candidates(query)
        by_node = await self._availability.by_node(skus, location_ids=[x.id for x in locations])
        days = {loc.id: self._pick_day(loc, now) for loc in locations}
        window = self._settings.demand_window_days
        async with self._uow(read_only=True) as uow:
            routed = await uow.routing.units_routed_since({i: d.began for i, d in days.items()})
            sold = await uow.routing.units_sold_since(skus, now - timedelta(days=window))
        nodes = tuple(
            candidate_node(
                loc,
                {sku: by_node[sku][loc.id] for sku in skus if loc.id in by_node.get(sku, {})},
                defaults=node_defaults(loc, self._settings),
                day=days[loc.id],
                routed=routed.get(loc.id, 0),
                sold={sku: sold.get((sku, loc.id), 0) for sku in skus},
                window_days=window,
            )
            for loc in locations
        )
        return RoutingRequest(
            lines=tuple(
                RouteLine(line.sku, line.quantity, _backorder_date(by_node.get(line.sku, {})))
                for line in lines
            ),
            nodes=nodes,
            shipping=self._shipping,
            policy=self._policy,
            strategy=strategy,
            now=now,
            destination=query.destination,
            pickup_node_id=query.pickup_location_id,
            deliver_by=query.deliver_by,
            service_level=query.service_level,
        )

    async def _candidates(self, query: PlanQuery) -> list[Location]:
        locations = [
            loc for loc in await self._availability.all_locations() if loc.id not in query.exclude
        ]
        shipping = [loc for loc in locations if serves_channel(loc, Channel.ONLINE)]
        if query.pickup_location_id is None:
            return shipping
        store = await self._availability.location(query.pickup_location_id)
        if Capability.PICKUP not in store.capabilities:
            raise BadUserInput(f"{store.name} does not offer pickup", field="pickup")
        pickup_stores = [loc for loc in locations if Capability.PICKUP in loc.capabilities]
        chosen = {loc.id: loc for loc in [store, *shipping, *pickup_stores]}
        return list(chosen.values())

    def _pick_day(self, location: Location, now: datetime) -> PickDay:
        defaults = node_defaults(location, self._settings)
        cutoff = location.terms.cutoff or time.fromisoformat(defaults.cutoff)
        return pick_day(cutoff, location.terms.timezone or defaults.timezone, now)


def _backorder_date(rows: Mapping[str, NodeAvailability]) -> date | None:
    dates = [row.backorder_date for row in rows.values() if row.backorder_date is not None]
    return min(dates) if dates else None
