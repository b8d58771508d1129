"""Turning a search result into the plan a person can read: shipments, the cost breakdown,
every candidate's score or rejection, and the tie-break that decided (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.routing.model import (
    AllocatedLine,
    CandidateScore,
    CostBreakdown,
    Explanation,
    FulfillmentPlan,
    RouteLine,
    RoutingRequest,
    Shipment,
    Unfulfillable,
    Verdict,
)
from gateway.routing.search import SearchResult, Solution, objective_of
from gateway.routing.terms import NodeTerms, Refusal, parcels

TIE_BREAK_RULE = "lowest cost, then fewer shipments, then shorter total distance, then node order"


def money(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f} {currency}"


def shipments_of(
    request: RoutingRequest, lines: Sequence[RouteLine], solution: Solution
) -> tuple[Shipment, ...]:
    upp = request.shipping.units_per_parcel
    shipments = []
    for terms, quantities in zip(solution.nodes, solution.quantities, strict=True):
        units = sum(quantities)
        unit_costs = sum(o.cost_of(q) for o, q in zip(terms.offers, quantities, strict=True) if q)
        handling = terms.handling_per_order + terms.node.handling_per_unit * units
        shipments.append(
            Shipment(
                node_id=terms.node.id,
                node_name=terms.node.name,
                lines=tuple(
                    AllocatedLine(line.sku, q)
                    for line, q in zip(lines, quantities, strict=True)
                    if q
                ),
                service=terms.service,
                distance_km=terms.distance_km,
                parcels=parcels(units, upp) if terms.service is not None else 0,
                ship_date=terms.ship_date,
                arrival_date=terms.arrival_date,
                shipping=terms.shipping(units, upp) if terms.service is not None else 0,
                handling=handling,
                stock_health=unit_costs - terms.node.handling_per_unit * units,
            )
        )
    return tuple(shipments)


def breakdown(
    request: RoutingRequest, shipments: Sequence[Shipment], split_shipments: int | None = None
) -> CostBreakdown:
    count = len(shipments) if split_shipments is None else split_shipments
    return CostBreakdown(
        currency=request.shipping.currency,
        shipping=sum(s.shipping for s in shipments),
        handling=sum(s.handling for s in shipments),
        split_penalty=request.policy.split_penalty * max(0, count - 1),
        stock_health=sum(s.stock_health for s in shipments),
    )


def candidate_scores(
    request: RoutingRequest,
    terms: Sequence[NodeTerms],
    refused: Sequence[Refusal],
    chosen: Sequence[str],
    plan_objective: int | None,
) -> tuple[CandidateScore, ...]:
    """Every node the router looked at. An eligible node's score is what it would cost to
    ship, alone, the units of the order it can supply (within its pick capacity)."""
    currency = request.shipping.currency
    wanted = sum(line.quantity for line in request.lines)
    upp = request.shipping.units_per_parcel
    scored = []
    for t in terms:
        units = _within_capacity([o.units for o in t.offers], t.capacity)
        available = sum(units)
        alone = objective_of([t], [units], upp, 0)
        if t.node.id in chosen:
            verdict, detail = Verdict.CHOSEN, f"can ship {available} of the order's {wanted} units"
        elif available >= wanted and plan_objective is not None:
            verdict = Verdict.CONSIDERED
            detail = (
                f"could ship all {wanted} units for {money(alone, currency)}; "
                f"the plan costs {money(plan_objective, currency)}"
            )
        else:
            verdict = Verdict.CONSIDERED
            detail = f"could ship {available} of {wanted} units"
        scored.append(
            CandidateScore(
                t.node.id, t.node.name, verdict, t.distance_km, available, alone, None, detail
            )
        )
    order = {node_id: i for i, node_id in enumerate(chosen)}
    scored.sort(
        key=lambda c: (
            c.verdict is not Verdict.CHOSEN,
            order.get(c.node_id, 0),
            c.score if c.score is not None else 0,
            c.node_id,
        )
    )
    rejected = sorted(
        (
            CandidateScore(
                r.node.id,
                r.node.name,
                Verdict.REJECTED,
                r.distance_km,
                sum(min(r.node.atp.get(line.sku, 0), line.quantity) for line in request.lines),
                None,
                r.rejection,
                r.detail,
            )
            for r in refused
        ),
        key=lambda c: (c.distance_km is None, c.distance_km or 0.0, c.node_id),
    )
    return (*scored, *rejected)


def _within_capacity(units: list[int], capacity: int) -> list[int]:
    kept = []
    for wanted in units:
        take = min(wanted, capacity)
        capacity -= take
        kept.append(take)
    return kept


def tie_break(result: SearchResult, currency: str) -> str:
    best, other = result.best, result.runner_up
    if best is None:
        return "no plan to choose"
    if other is None:
        return f"{TIE_BREAK_RULE}; no other plan was possible"
    names = " + ".join(t.node.id for t in other.nodes)
    if other.objective > best.objective:
        extra = money(other.objective - best.objective, currency)
        return f"{TIE_BREAK_RULE}; no tie: the next best plan ({names}) costs {extra} more"
    decided_by = ("fewer shipments", "shorter total distance", "node order")
    for label, mine, theirs in zip(decided_by, best.rank[1:], other.rank[1:], strict=True):
        if mine != theirs:
            return f"{TIE_BREAK_RULE}; tied on cost with {names}, decided by {label}"
    return f"{TIE_BREAK_RULE}; tied with {names}"


def describe(shipments: Sequence[Shipment], cost: CostBreakdown) -> str:
    parts = []
    for s in shipments:
        units = sum(line.quantity for line in s.lines)
        where = "" if s.distance_km is None else f", {s.distance_km:.0f} km"
        how = "collect" if s.service is None else s.service
        parts.append(
            f"{s.node_name} ({s.node_id}{where}, {how}): {units} units by {s.arrival_date}"
        )
    count = len(shipments)
    head = f"{count} shipment{'s' if count != 1 else ''}: " + "; ".join(parts)
    return (
        f"{head}. Cost {money(cost.total, cost.currency)} (shipping "
        f"{money(cost.shipping, cost.currency)}, handling {money(cost.handling, cost.currency)}"
        f", split penalty {money(cost.split_penalty, cost.currency)})."
    )


def assemble(
    request: RoutingRequest,
    lines: Sequence[RouteLine],
    result: SearchResult,
    unfulfillable: tuple[Unfulfillable, ...],
    terms: Sequence[NodeTerms],
    refused: Sequence[Refusal],
    notes: tuple[str, ...],
) -> FulfillmentPlan:
    if result.best is None:
        return plan_without_shipments(request, unfulfillable, terms, refused, notes)
    shipments = shipments_of(request, lines, result.best)
    cost = breakdown(request, shipments)
    assert cost.objective == result.best.objective, (cost, result.best.objective)
    summary = describe(shipments, cost)
    summary += f" Cheapest of {result.plans_compared} node sets weighed."
    if unfulfillable:
        summary += f" {len(unfulfillable)} line(s) cannot be filled."
    if not result.complete:
        notes += (
            f"search stopped at its budget of {result.plans_compared} node sets; this is "
            "the best plan found",
        )
    return FulfillmentPlan(
        strategy=request.strategy,
        shipments=shipments,
        unfulfillable=unfulfillable,
        cost=cost,
        promised_date=max(s.arrival_date for s in shipments),
        explanation=Explanation(
            summary=summary,
            tie_break=tie_break(result, request.shipping.currency),
            candidates=candidate_scores(
                request, terms, refused, [s.node_id for s in shipments], cost.objective
            ),
            notes=notes,
            plans_compared=result.plans_compared,
            search_complete=result.complete,
        ),
    )


def plan_without_shipments(
    request: RoutingRequest,
    unfulfillable: tuple[Unfulfillable, ...],
    terms: Sequence[NodeTerms],
    refused: Sequence[Refusal],
    notes: tuple[str, ...],
) -> FulfillmentPlan:
    return FulfillmentPlan(
        strategy=request.strategy,
        shipments=(),
        unfulfillable=unfulfillable,
        cost=CostBreakdown(request.shipping.currency, 0, 0, 0, 0),
        promised_date=None,
        explanation=Explanation(
            summary=f"Nothing can be shipped: none of the {len(unfulfillable)} line(s) can be "
            "filled by the nodes that can serve this order.",
            tie_break="no plan to choose",
            candidates=candidate_scores(request, terms, refused, [], None),
            notes=notes,
        ),
    )
