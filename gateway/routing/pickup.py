"""PICKUP: the customer collects at the store they chose (pure).

If the store holds everything, it is the plan: ready today, or tomorrow after its cut-off.
If it is short, the plan is a transfer: the store keeps what it has and the rest comes
from the cheapest other nodes (costed as a delivery to the store), ready when the last
transfer arrives. The plan also lists the nearest stores that hold everything, so the
customer can choose to collect there instead, today.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.geo import distance_km
from gateway.routing.costing import assess_request, plan_from_terms
from gateway.routing.explain import breakdown, describe
from gateway.routing.model import (
    AllocatedLine,
    CandidateNode,
    CandidateScore,
    Explanation,
    FulfillmentPlan,
    NearbyStore,
    Rejection,
    RouteLine,
    RoutingRequest,
    Shipment,
    Strategy,
    Unfulfillable,
    Verdict,
)
from gateway.routing.terms import ship_date, stale_for

NEARBY_STORES = 3


def plan_pickup(request: RoutingRequest) -> FulfillmentPlan:
    store = next((n for n in request.nodes if n.id == request.pickup_node_id), None)
    if store is None:
        raise ValueError(f"pickup store {request.pickup_node_id!r} is not among the nodes")
    lines = request.lines
    why_not = _cannot_serve(store, request)
    kept = [] if why_not else _what_store_keeps(store, lines)
    missing = tuple(
        RouteLine(line.sku, line.quantity - q, line.backorder_date)
        for line, q in zip(lines, [q for _, q in kept] or [0] * len(lines), strict=True)
        if line.quantity - q > 0
    )
    notes: list[str] = []
    if why_not:
        notes.append(f"{store.name} cannot take the order: {why_not[1]}")
    store_verdict = _store_score(store, request, kept, why_not)
    if not missing:
        return _plan(
            request, _collected(store, kept, request), (), (), tuple(notes), (store_verdict,)
        )

    nearby = _stores_with_everything(request, store)
    held = sum(q for _, q in kept)
    wanted = sum(line.quantity for line in lines)
    notes.append(f"{store.name} holds {held} of {wanted} units; the rest can come by transfer")
    if store.point is None:
        short = tuple(
            Unfulfillable(line.sku, line.quantity, "the store has no coordinates to transfer to")
            for line in missing
        )
        kept, short = _whole_lines(kept, short, lines)
        return _plan(
            request,
            _collected(store, kept, request),
            short,
            nearby,
            tuple(notes),
            (store_verdict,),
        )
    others = tuple(n for n in request.nodes if n.id != store.id)
    transfer_request = replace(
        request,
        lines=missing,
        nodes=others,
        destination=store.point,
        strategy=Strategy.COST,
    )
    terms, refused = assess_request(transfer_request, request.deliver_by)
    transfer = plan_from_terms(transfer_request, terms, refused, notes=())
    transfers = tuple(replace(s, transfer_to=store.id) for s in transfer.shipments)
    if transfers:
        ready = max(s.arrival_date for s in transfers)
        sources = ", ".join(s.node_id for s in transfers)
        notes.append(f"transfer from {sources}; ready for pickup {ready}")
    kept, short = _whole_lines(kept, transfer.unfulfillable, lines)
    shipments = _collected(store, kept, request) + transfers
    return _plan(
        request,
        shipments,
        short,
        nearby,
        tuple(notes),
        (store_verdict, *transfer.explanation.candidates),
    )


def _whole_lines(
    kept: list[tuple[str, int]],
    short: tuple[Unfulfillable, ...],
    lines: tuple[RouteLine, ...],
) -> tuple[list[tuple[str, int]], tuple[Unfulfillable, ...]]:
    """A line the transfer cannot complete is not part-held at the store: the whole line
    is reported, so the customer is never promised half of it."""
    wanted = {line.sku: line.quantity for line in lines}
    held = dict(kept)
    whole = tuple(
        replace(
            u,
            quantity=wanted[u.sku],
            reason=u.reason
            + (f"; the store itself holds {held[u.sku]}" if held.get(u.sku) else ""),
        )
        for u in short
    )
    skus = {u.sku for u in short}
    return [(sku, 0 if sku in skus else q) for sku, q in kept], whole


def _collected(
    store: CandidateNode, kept: list[tuple[str, int]], request: RoutingRequest
) -> tuple[Shipment, ...]:
    if not any(q for _, q in kept):
        return ()
    return (_collect_shipment(store, kept, request),)


def _store_score(
    store: CandidateNode,
    request: RoutingRequest,
    kept: list[tuple[str, int]],
    why_not: tuple[Rejection, str] | None,
) -> CandidateScore:
    units = sum(q for _, q in kept)
    wanted = sum(line.quantity for line in request.lines)
    if why_not is not None:
        rejection, detail = why_not
        return CandidateScore(
            store.id, store.name, Verdict.REJECTED, 0.0, 0, None, rejection, detail
        )
    if not units:
        return CandidateScore(
            store.id,
            store.name,
            Verdict.REJECTED,
            0.0,
            0,
            None,
            Rejection.NO_STOCK,
            "holds none of the order's SKUs",
        )
    handling = store.handling_per_order + store.handling_per_unit * units
    return CandidateScore(
        store.id,
        store.name,
        Verdict.CHOSEN,
        0.0,
        units,
        handling,
        None,
        f"the customer's store: holds {units} of {wanted} units",
    )


def _cannot_serve(store: CandidateNode, request: RoutingRequest) -> tuple[Rejection, str] | None:
    stale = stale_for(store, request.now, request.policy)
    if stale is not None:
        return Rejection.STALE_STOCK, stale
    if store.capacity is not None and store.capacity <= 0:
        return Rejection.OVER_CAPACITY, "no pick capacity left for its next ship day"
    return None


def _what_store_keeps(store: CandidateNode, lines: tuple[RouteLine, ...]) -> list[tuple[str, int]]:
    room = store.capacity if store.capacity is not None else sum(line.quantity for line in lines)
    kept = []
    for line in lines:
        take = min(line.quantity, max(0, store.atp.get(line.sku, 0)), room)
        room -= take
        kept.append((line.sku, take))
    return kept


def _collect_shipment(
    store: CandidateNode, kept: list[tuple[str, int]], request: RoutingRequest
) -> Shipment:
    units = sum(q for _, q in kept)
    ready = ship_date(store, request.now)
    return Shipment(
        node_id=store.id,
        node_name=store.name,
        lines=tuple(AllocatedLine(sku, q) for sku, q in kept if q),
        service=None,
        distance_km=0.0,
        parcels=0,
        ship_date=ready,
        arrival_date=ready,
        shipping=0,
        handling=store.handling_per_order + store.handling_per_unit * units,
        stock_health=0,
    )


def _stores_with_everything(
    request: RoutingRequest, store: CandidateNode
) -> tuple[NearbyStore, ...]:
    found = []
    for node in request.nodes:
        if node.id == store.id or not node.pickup or _cannot_serve(node, request):
            continue
        if node.capacity is not None and node.capacity < sum(q.quantity for q in request.lines):
            continue
        if all(node.atp.get(line.sku, 0) >= line.quantity for line in request.lines):
            km = (
                distance_km(store.point, node.point)
                if store.point is not None and node.point is not None
                else None
            )
            found.append(NearbyStore(node.id, node.name, km))
    found.sort(key=lambda s: (s.distance_km is None, s.distance_km or 0.0, s.node_id))
    return tuple(found[:NEARBY_STORES])


def _plan(
    request: RoutingRequest,
    shipments: tuple[Shipment, ...],
    unfulfillable: tuple[Unfulfillable, ...],
    nearby: tuple[NearbyStore, ...],
    notes: tuple[str, ...],
    candidates: tuple[CandidateScore, ...],
) -> FulfillmentPlan:
    cost = breakdown(request, shipments)
    if nearby:
        notes += (
            "or collect everything at "
            + ", ".join(
                s.node_name + ("" if s.distance_km is None else f" ({s.distance_km:.1f} km)")
                for s in nearby
            ),
        )
    summary = describe(shipments, cost) if shipments else "Nothing can be collected."
    return FulfillmentPlan(
        strategy=Strategy.PICKUP,
        shipments=shipments,
        unfulfillable=unfulfillable,
        cost=cost,
        promised_date=max((s.arrival_date for s in shipments), default=None),
        explanation=Explanation(
            summary=summary,
            tie_break="the customer's store first; transfers at the lowest cost",
            candidates=candidates,
            notes=notes,
        ),
        alternative_stores=nearby,
    )
