"""The cheapest plan for a delivery (COST, and SINGLE_NODE), with unfillable lines (pure).

A line is unfulfillable when the eligible nodes together hold less than it asks for, or
when no plan within capacity and ``max_shipments`` can ship it with the rest; it is
reported with its reason (and backorder date), never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from gateway.domain import GeoPoint
from gateway.routing.explain import assemble, plan_without_shipments
from gateway.routing.model import (
    FulfillmentPlan,
    RouteLine,
    RoutingRequest,
    Strategy,
    Unfulfillable,
)
from gateway.routing.search import SearchResult, cheapest_plan, single_node_plans
from gateway.routing.terms import NodeTerms, Refusal, assess


def assess_request(
    request: RoutingRequest, deliver_by: date | None, destination: GeoPoint | None = None
) -> tuple[list[NodeTerms], list[Refusal]]:
    target = destination or request.destination
    assert target is not None
    return assess(
        request.nodes,
        request.lines,
        destination=target,
        shipping=request.shipping,
        policy=request.policy,
        now=request.now,
        deliver_by=deliver_by,
        service_level=request.service_level,
    )


def plan_by_cost(request: RoutingRequest, deliver_by: date | None) -> FulfillmentPlan:
    terms, refused = assess_request(request, deliver_by)
    return plan_from_terms(request, terms, refused, notes=())


def plan_from_terms(
    request: RoutingRequest,
    terms: list[NodeTerms],
    refused: list[Refusal],
    notes: tuple[str, ...],
) -> FulfillmentPlan:
    lines = list(request.lines)
    unfulfillable: list[Unfulfillable] = []
    for line in list(lines):
        held = sum(min(max(0, t.node.atp.get(line.sku, 0)), line.quantity) for t in terms)
        if held < line.quantity:
            lines.remove(line)
            unfulfillable.append(_short(line, held, refused))
    if not lines:
        return plan_without_shipments(request, tuple(unfulfillable), terms, refused, notes)

    result, lines, dropped = _search_shippable(request, terms, lines)
    unfulfillable += dropped
    notes = tuple(notes)
    single = request.strategy is Strategy.SINGLE_NODE
    if single and result.best is not None and len(result.best.nodes) > 1:
        notes += (
            f"no single node can fill the order, so it ships in {len(result.best.nodes)} shipments",
        )
    return assemble(request, lines, result, tuple(unfulfillable), terms, refused, notes)


def _search_shippable(
    request: RoutingRequest, terms: list[NodeTerms], lines: list[RouteLine]
) -> tuple[SearchResult, list[RouteLine], list[Unfulfillable]]:
    """Search for every line; if no plan ships them all (capacity, max_shipments), leave
    out the line fewest nodes can supply (of those, the fewest units), and try again."""
    dropped: list[Unfulfillable] = []
    while True:
        narrowed = [_narrow(t, request.lines, lines) for t in terms]
        quantities = [line.quantity for line in lines]
        if request.strategy is Strategy.SINGLE_NODE:
            result = single_node_plans(
                narrowed, quantities, units_per_parcel=request.shipping.units_per_parcel
            )
            if result.best is not None:
                return result, lines, dropped
        result = cheapest_plan(
            narrowed,
            quantities,
            units_per_parcel=request.shipping.units_per_parcel,
            split_penalty=request.policy.split_penalty,
            max_shipments=request.policy.max_shipments,
        )
        if result.best is not None:
            return result, lines, dropped
        suppliers = [sum(1 for t in narrowed if t.offers[j].units) for j in range(len(lines))]
        hardest = min(
            range(len(lines)), key=lambda j: (suppliers[j], lines[j].quantity, lines[j].sku)
        )
        held = sum(t.offers[hardest].units for t in narrowed)
        dropped.append(_unshippable(lines[hardest], request.policy.max_shipments, held))
        lines = lines[:hardest] + lines[hardest + 1 :]
        if not lines:
            return result, lines, dropped


def _narrow(terms: NodeTerms, all_lines: Sequence[RouteLine], kept: list[RouteLine]) -> NodeTerms:
    if len(kept) == len(all_lines):
        return terms
    index = {line.sku: j for j, line in enumerate(all_lines)}
    return replace(terms, offers=tuple(terms.offers[index[line.sku]] for line in kept))


def _short(line: RouteLine, held: int, refused: list[Refusal]) -> Unfulfillable:
    elsewhere = sum(r.node.atp.get(line.sku, 0) for r in refused if r.node.atp.get(line.sku, 0))
    reason = (
        f"{held} of {line.quantity} available at nodes that can serve this order"
        if held
        else "no stock at any node that can serve this order"
    )
    if elsewhere:
        reason += f" ({elsewhere} more at rejected nodes)"
    if line.backorder_date is not None:
        reason += f"; backorderable, expected {line.backorder_date.isoformat()}"
    return Unfulfillable(line.sku, line.quantity, reason, line.backorder_date, held)


def _unshippable(line: RouteLine, max_shipments: int, available: int) -> Unfulfillable:
    reason = (
        "the nodes that hold it have no pick capacity left for it together with the rest "
        f"of the order within {max_shipments} shipments"
    )
    if line.backorder_date is not None:
        reason += f"; backorderable, expected {line.backorder_date.isoformat()}"
    return Unfulfillable(line.sku, line.quantity, reason, line.backorder_date, available)
