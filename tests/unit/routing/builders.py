"""Small routing worlds for tests: a rate table, a clock and nodes around Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, time

from gateway.domain import GeoPoint, NodeType
from gateway.routing import (
    CandidateNode,
    RateBand,
    RouteLine,
    RoutingPolicy,
    RoutingRequest,
    ServiceLevel,
    ShippingModel,
    Strategy,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, before every cut-off below
BERLIN = GeoPoint(52.520, 13.405)

STANDARD = ServiceLevel(
    "STANDARD",
    (RateBand(50, 490, 150, 1), RateBand(200, 590, 200, 2), RateBand(1000, 790, 250, 3)),
)
EXPRESS = ServiceLevel("EXPRESS", (RateBand(200, 1290, 300, 0), RateBand(1000, 1590, 400, 1)))
SHIPPING = ShippingModel("EUR", 5, (STANDARD, EXPRESS))


def node(
    node_id: str,
    atp: dict[str, int],
    *,
    at: GeoPoint = BERLIN,
    kind: NodeType = NodeType.STORE,
    capacity: int | None = None,
    cutoff: time | None = time(16, 0),
    per_order: int = 150,
    per_unit: int = 30,
    **more: object,
) -> CandidateNode:
    return CandidateNode(
        id=node_id,
        name=node_id.title(),
        kind=kind,
        point=at,
        atp=atp,
        capacity=capacity,
        cutoff=cutoff,
        handling_per_order=per_order,
        handling_per_unit=per_unit,
        **more,  # type: ignore[arg-type]
    )


def request(
    lines: dict[str, int] | list[RouteLine],
    nodes: list[CandidateNode],
    *,
    strategy: Strategy = Strategy.COST,
    policy: RoutingPolicy | None = None,
    **more: object,
) -> RoutingRequest:
    route_lines = (
        tuple(RouteLine(sku, qty) for sku, qty in lines.items())
        if isinstance(lines, dict)
        else tuple(lines)
    )
    return RoutingRequest(
        lines=route_lines,
        nodes=tuple(nodes),
        shipping=SHIPPING,
        policy=policy or RoutingPolicy(split_penalty=300),
        strategy=strategy,
        now=NOW,
        destination=more.pop("destination", BERLIN),  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )


# Places at known distances from Berlin's centre.
MITTE = GeoPoint(52.521, 13.410)  # < 1 km
POTSDAM = GeoPoint(52.391, 13.065)  # ~27 km
LEIPZIG = GeoPoint(51.340, 12.375)  # ~150 km
HAMBURG = GeoPoint(53.551, 9.994)  # ~255 km
MUNICH = GeoPoint(48.137, 11.575)  # ~505 km
