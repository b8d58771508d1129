"""``plan_fulfillment``: one entry point for every strategy (pure).

- COST: the cheapest plan whose every shipment meets ``deliver_by`` (when given).
- SPEED: the earliest date any plan can meet, then the cheapest plan for that date.
- SINGLE_NODE: the cheapest one-node plan; a split only when no node can fill the order,
  and the explanation says so.
- PICKUP: collect at the chosen store, or by transfer, with nearby stores that have it all
  (``gateway.routing.pickup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gateway.routing.costing import assess_request, plan_by_cost, plan_from_terms
from gateway.routing.model import FulfillmentPlan, RouteLine, RoutingRequest, Strategy
from gateway.routing.pickup import plan_pickup
from gateway.routing.terms import NodeTerms, ServiceChoice, reachable_services


def merge_lines(lines: Sequence[RouteLine]) -> tuple[RouteLine, ...]:
    """One line per SKU, in first-seen order; a quantity below 1 is a caller's bug."""
    merged: dict[str, RouteLine] = {}
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"line quantity must be at least 1: {line}")
        seen = merged.get(line.sku)
        merged[line.sku] = (
            line if seen is None else replace(seen, quantity=seen.quantity + line.quantity)
        )
    return tuple(merged.values())


def plan_fulfillment(request: RoutingRequest) -> FulfillmentPlan:
    request = replace(request, lines=merge_lines(request.lines))
    if request.strategy is Strategy.PICKUP:
        return plan_pickup(request)
    if request.destination is None:
        raise ValueError(f"strategy {request.strategy} needs a destination")
    if request.strategy is Strategy.SPEED:
        return _fastest(request)
    return plan_by_cost(request, request.deliver_by)


def _fastest(request: RoutingRequest) -> FulfillmentPlan:
    """Try each arrival date any node can make, earliest first; the first date with a
    plan that ships everything shippable wins, costed as COST would for that date."""
    terms, refused = assess_request(request, request.deliver_by)
    fallback = plan_from_terms(request, terms, refused, notes=())
    if fallback.promised_date is None:
        return replace(fallback, strategy=Strategy.SPEED)
    fastest = {
        t.node.id: min(
            (c.arrival for c in _all_services(request, t)),
            default=t.arrival_date,
        )
        for t in terms
    }
    for day in sorted(set(fastest.values())):
        if day >= fallback.promised_date:
            break
        plan = plan_by_cost(request, day)
        if len(plan.unfulfillable) <= len(fallback.unfulfillable):
            return replace(
                plan,
                strategy=Strategy.SPEED,
                explanation=replace(
                    plan.explanation,
                    notes=(*plan.explanation.notes, f"earliest date any plan can meet: {day}"),
                ),
            )
    return replace(fallback, strategy=Strategy.SPEED)


def _all_services(request: RoutingRequest, terms: NodeTerms) -> list[ServiceChoice]:
    assert terms.distance_km is not None
    return reachable_services(
        request.shipping, terms.distance_km, terms.ship_date, request.service_level
    )
