"""The router's rules restated for the benchmark, from ``gateway/routing/model.py``'s docstring.

Deliberately written apart from the engine: the MILP (bench/routing_milp.py) and the check
of the engine's own figures both stand on this module, so a disagreement between it and the
engine points at a bug in one of the two, never at shared code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil

from gateway.domain import NodeType
from gateway.geo import distance_km
from gateway.routing.model import CandidateNode, RateBand, RoutingRequest

# node id -> SKU -> units: what a plan takes from where.
Allocation = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Lane:
    """An eligible node and the service it would ship with."""

    node: CandidateNode
    distance_km: float
    service: str
    band: RateBand
    ship_date: date
    arrival_date: date


@dataclass(frozen=True, slots=True)
class UnitCost:
    """What one unit of a SKU costs from one node, in two tiers: the units a store can
    spare above its walk-in reserve, then the reserve itself (dearer by the penalty)."""

    base: int
    reserve: int
    base_units: int  # how many units the cheaper tier holds


def requested_lines(request: RoutingRequest) -> dict[str, int]:
    """SKU -> units, duplicate lines of one SKU merged."""
    merged: dict[str, int] = defaultdict(int)
    for line in request.lines:
        merged[line.sku] += line.quantity
    return dict(merged)


def ship_date(node: CandidateNode, request: RoutingRequest) -> date:
    today = request.now.date()
    if node.cutoff is None or request.now.time() < node.cutoff:
        return today
    return today + timedelta(days=1)


def band_for(bands: tuple[RateBand, ...], distance: float) -> RateBand | None:
    for band in bands:
        if distance <= band.up_to_km:
            return band
    return None


def lane_for(request: RoutingRequest, node: CandidateNode) -> Lane | None:
    """The node's lane, or None when a rule rules it out."""
    policy = request.policy
    if node.point is None or request.destination is None:
        return None
    distance = distance_km(node.point, request.destination)
    if policy.max_radius_km is not None and distance > policy.max_radius_km:
        return None
    if (
        policy.stale_after_seconds is not None
        and node.stock_as_of is not None
        and (request.now - node.stock_as_of).total_seconds() > policy.stale_after_seconds
    ):
        return None
    if node.capacity == 0:
        return None
    shipped = ship_date(node, request)
    reachable: list[tuple[int, int, int, str, RateBand]] = []
    for service in request.shipping.services:
        if request.service_level is not None and service.name != request.service_level:
            continue
        band = band_for(service.bands, distance)
        if band is None:
            continue
        arrival = shipped + timedelta(days=band.transit_days)
        if request.deliver_by is not None and arrival > request.deliver_by:
            continue
        reachable.append(
            (band.first_parcel, band.additional_parcel, band.transit_days, service.name, band)
        )
    if not reachable:
        return None
    *_, service_name, band = min(reachable, key=lambda choice: choice[:4])
    return Lane(
        node, distance, service_name, band, shipped, shipped + timedelta(days=band.transit_days)
    )


def eligible_lanes(request: RoutingRequest) -> dict[str, Lane]:
    lanes = {}
    for node in request.nodes:
        lane = lane_for(request, node)
        if lane is not None:
            lanes[node.id] = lane
    return lanes


def split_by_rule(
    request: RoutingRequest, lanes: Mapping[str, Lane]
) -> tuple[dict[str, int], dict[str, int]]:
    """(lines the eligible nodes hold enough of, lines they do not): the second set is
    unfulfillable whatever the plan, so the MILP covers only the first."""
    fillable, short = {}, {}
    for sku, quantity in requested_lines(request).items():
        held = sum(max(0, lane.node.atp.get(sku, 0)) for lane in lanes.values())
        (fillable if held >= quantity else short)[sku] = quantity
    return fillable, short


def unit_cost(request: RoutingRequest, node: CandidateNode, sku: str) -> UnitCost:
    policy = request.policy
    per_unit = node.handling_per_unit
    if policy.excess_days is not None and node.days_of_supply.get(sku, 0) >= policy.excess_days:
        per_unit -= policy.excess_bonus
    atp = max(0, node.atp.get(sku, 0))
    if node.kind is NodeType.STORE and policy.store_reserve > 0:
        return UnitCost(
            per_unit, per_unit + policy.store_reserve_penalty, max(0, atp - policy.store_reserve)
        )
    return UnitCost(per_unit, per_unit, atp)


@dataclass(frozen=True, slots=True)
class ShipmentCost:
    parcels: int
    shipping: int
    handling: int
    stock_health: int


def shipment_cost(
    request: RoutingRequest, lane: Lane, units_by_sku: Mapping[str, int]
) -> ShipmentCost:
    node = lane.node
    units = sum(units_by_sku.values())
    parcels = ceil(units / request.shipping.units_per_parcel)
    shipping = lane.band.first_parcel + lane.band.additional_parcel * (parcels - 1)
    handling = node.handling_per_order + node.handling_per_unit * units
    health = 0
    for sku, taken in units_by_sku.items():
        cost = unit_cost(request, node, sku)
        # unit_cost folds handling in; the health part is what it adds on top.
        health += (cost.base - node.handling_per_unit) * taken
        health += (cost.reserve - cost.base) * max(0, taken - cost.base_units)
    return ShipmentCost(parcels, shipping, handling, health)


def plan_objective(
    request: RoutingRequest, lanes: Mapping[str, Lane], allocation: Allocation
) -> int:
    """The docstring's objective for a plan, from what it takes from where."""
    used = {node_id: units for node_id, units in allocation.items() if sum(units.values()) > 0}
    total = request.policy.split_penalty * max(0, len(used) - 1)
    for node_id, units in used.items():
        cost = shipment_cost(request, lanes[node_id], units)
        total += cost.shipping + cost.handling + cost.stock_health
    return total
