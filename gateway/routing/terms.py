"""Which candidate nodes may serve an order, and what each would cost (pure).

A node is rejected with the first reason that applies, in the order of ``assess``. An
eligible node becomes ``NodeTerms``: its fixed cost for a shipment (handling per order and
its service's first parcel), what each extra parcel costs, and per order line how many
units it can give at which unit cost (handling per unit plus the stock-health preference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.domain import GeoPoint, NodeType
from gateway.geo import distance_km
from gateway.routing.model import (
    CandidateNode,
    RateBand,
    Rejection,
    RouteLine,
    RoutingPolicy,
    ServiceLevel,
    ShippingModel,
)

UNLIMITED = 1 << 60


@dataclass(frozen=True, slots=True)
class Offer:
    """What a node can give towards one line: ``base`` units at ``unit_cost``, then
    ``reserve`` more (a store's walk-in reserve) at ``unit_cost + reserve_penalty``."""

    base: int
    reserve: int
    unit_cost: int
    reserve_penalty: int

    @property
    def units(self) -> int:
        return self.base + self.reserve

    def cost_of(self, quantity: int) -> int:
        extra = max(0, quantity - self.base)
        return quantity * self.unit_cost + extra * self.reserve_penalty


NO_OFFER = Offer(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class NodeTerms:
    node: CandidateNode
    distance_km: float | None
    service: str | None
    ship_date: date
    arrival_date: date
    handling_per_order: int
    first_parcel: int
    additional_parcel: int
    capacity: int  # UNLIMITED when the node has no limit
    offers: tuple[Offer, ...]  # per order line

    @property
    def fixed(self) -> int:
        return self.handling_per_order + self.first_parcel

    def shipping(self, units: int, units_per_parcel: int) -> int:
        return self.first_parcel + self.additional_parcel * (parcels(units, units_per_parcel) - 1)


@dataclass(frozen=True, slots=True)
class Refusal:
    node: CandidateNode
    distance_km: float | None
    rejection: Rejection
    detail: str


def parcels(units: int, units_per_parcel: int) -> int:
    return max(1, -(-units // units_per_parcel))


def ship_date(node: CandidateNode, now: datetime) -> date:
    today = now.date()
    if node.cutoff is None or now.timetz().replace(tzinfo=None) < node.cutoff:
        return today
    return today + timedelta(days=1)


def band_for(service: ServiceLevel, km: float) -> RateBand | None:
    for band in service.bands:
        if km <= band.up_to_km:
            return band
    return None


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    service: ServiceLevel
    band: RateBand
    arrival: date


def reachable_services(
    shipping: ShippingModel, km: float, ships: date, only: str | None
) -> list[ServiceChoice]:
    choices = []
    for service in shipping.services:
        if only is not None and service.name != only:
            continue
        band = band_for(service, km)
        if band is not None:
            choices.append(ServiceChoice(service, band, ships + timedelta(days=band.transit_days)))
    return choices


def cheapest(choices: Sequence[ServiceChoice]) -> ServiceChoice:
    return min(
        choices,
        key=lambda c: (
            c.band.first_parcel,
            c.band.additional_parcel,
            c.band.transit_days,
            c.service.name,
        ),
    )


def offers_for(
    node: CandidateNode, lines: Sequence[RouteLine], policy: RoutingPolicy
) -> tuple[Offer, ...]:
    offers = []
    for line in lines:
        atp = max(0, node.atp.get(line.sku, 0))
        if atp == 0:
            offers.append(NO_OFFER)
            continue
        unit = node.handling_per_unit
        supply = node.days_of_supply.get(line.sku)
        if policy.excess_days is not None and supply is not None and supply >= policy.excess_days:
            unit -= policy.excess_bonus
        units = min(atp, line.quantity)
        protected = policy.store_reserve if node.kind is NodeType.STORE else 0
        base = min(units, max(0, atp - protected))
        offers.append(Offer(base, units - base, unit, policy.store_reserve_penalty))
    return tuple(offers)


def distance_to(node: CandidateNode, destination: GeoPoint | None) -> float | None:
    if destination is None or node.point is None:
        return None
    return distance_km(node.point, destination)


def assess(
    nodes: Sequence[CandidateNode],
    lines: Sequence[RouteLine],
    *,
    destination: GeoPoint,
    shipping: ShippingModel,
    policy: RoutingPolicy,
    now: datetime,
    deliver_by: date | None,
    service_level: str | None,
) -> tuple[list[NodeTerms], list[Refusal]]:
    """Each node either eligible, with its terms, or refused with the first reason."""
    eligible: list[NodeTerms] = []
    refused: list[Refusal] = []
    for node in nodes:
        judged = _judge(node, lines, destination, shipping, policy, now, deliver_by, service_level)
        if isinstance(judged, Refusal):
            refused.append(judged)
        else:
            eligible.append(judged)
    return eligible, refused


def _judge(
    node: CandidateNode,
    lines: Sequence[RouteLine],
    destination: GeoPoint,
    shipping: ShippingModel,
    policy: RoutingPolicy,
    now: datetime,
    deliver_by: date | None,
    service_level: str | None,
) -> NodeTerms | Refusal:
    km = distance_to(node, destination)
    offers = offers_for(node, lines, policy)
    if not any(offer.units for offer in offers):
        return Refusal(node, km, Rejection.NO_STOCK, "holds none of the order's SKUs")
    if km is None:
        return Refusal(node, km, Rejection.OUTSIDE_RADIUS, "no coordinates to measure distance")
    if policy.max_radius_km is not None and km > policy.max_radius_km:
        return Refusal(
            node,
            km,
            Rejection.OUTSIDE_RADIUS,
            f"{km:.0f} km away, beyond the {policy.max_radius_km} km radius",
        )
    stale = stale_for(node, now, policy)
    if stale is not None:
        return Refusal(node, km, Rejection.STALE_STOCK, stale)
    if node.capacity is not None and node.capacity <= 0:
        return Refusal(
            node, km, Rejection.OVER_CAPACITY, "no pick capacity left for its next ship day"
        )
    ships = ship_date(node, now)
    choices = reachable_services(shipping, km, ships, service_level)
    if not choices:
        return Refusal(
            node, km, Rejection.OUTSIDE_RADIUS, f"{km:.0f} km away, beyond every rate band"
        )
    if deliver_by is not None:
        in_time = [c for c in choices if c.arrival <= deliver_by]
        if not in_time:
            fastest = min(c.arrival for c in choices)
            if ships > now.date() and fastest - timedelta(days=1) <= deliver_by:
                return Refusal(
                    node,
                    km,
                    Rejection.PAST_CUTOFF,
                    f"past its {_clock(node.cutoff)} UTC cut-off: ships {ships}, "
                    f"arrives {fastest}, after {deliver_by}",
                )
            return Refusal(
                node,
                km,
                Rejection.MISSES_PROMISE,
                f"arrives {fastest} at the earliest, after {deliver_by}",
            )
        choices = in_time
    choice = cheapest(choices)
    return NodeTerms(
        node=node,
        distance_km=km,
        service=choice.service.name,
        ship_date=ships,
        arrival_date=choice.arrival,
        handling_per_order=node.handling_per_order,
        first_parcel=choice.band.first_parcel,
        additional_parcel=choice.band.additional_parcel,
        capacity=UNLIMITED if node.capacity is None else node.capacity,
        offers=offers,
    )


def stale_for(node: CandidateNode, now: datetime, policy: RoutingPolicy) -> str | None:
    """Why a node's figures are too old to promise from: read too long ago by the gateway,
    or stamped too long ago by their source (where the source stamps them)."""
    limit, source_limit = policy.stale_after_seconds, policy.source_stale_after_seconds
    if limit is not None and node.stock_as_of is not None:
        age = now - node.stock_as_of
        if age > timedelta(seconds=limit):
            return f"stock figures are {int(age.total_seconds())} s old (limit {limit} s)"
    if source_limit is not None and node.source_as_of is not None:
        age = now - node.source_as_of
        if age > timedelta(seconds=source_limit):
            return (
                f"stock figures were last stated by their source {_days(age)} ago "
                f"(limit {_days(timedelta(seconds=source_limit))})"
            )
    return None


def _days(age: timedelta) -> str:
    days = age.total_seconds() / 86_400
    return f"{days:.1f} days" if days >= 1 else f"{int(age.total_seconds())} s"


def _clock(cutoff: time | None) -> str:
    return "--:--" if cutoff is None else cutoff.strftime("%H:%M")
