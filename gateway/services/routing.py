"""Choosing the fulfillment node for an order (the interim rule; a cost-based router with
splits and explanations replaces it).

Rule: a pickup order is filled at its pickup store; a delivery is filled by the nearest
node serving online orders that can fill the whole order. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.domain import Location


@dataclass(frozen=True, slots=True)
class NodeChoice:
    location: Location
    distance_km: float | None
    reason: str


def can_fill(
    location_id: str, needed: Mapping[str, int], atp: Mapping[tuple[str, str], int]
) -> bool:
    return all(atp.get((sku, location_id), 0) >= qty for sku, qty in needed.items())


def nearest_complete_nodes(
    needed: Mapping[str, int],
    candidates: Sequence[tuple[Location, float | None]],
    atp: Mapping[tuple[str, str], int],
) -> list[NodeChoice]:
    """Every candidate that can fill the whole order, nearest first (``candidates`` come
    sorted by distance)."""
    total = sum(needed.values())
    return [
        NodeChoice(
            loc,
            distance,
            f"nearest node that can fill all {total} units"
            + ("" if distance is None else f" ({distance:.1f} km away)"),
        )
        for loc, distance in candidates
        if can_fill(loc.id, needed, atp)
    ]


def best_shortfalls(
    needed: Mapping[str, int],
    candidates: Sequence[tuple[Location, float | None]],
    atp: Mapping[tuple[str, str], int],
) -> list[dict[str, object]]:
    """For an order nobody can fill: per SKU, the most any single node could give."""
    short: list[dict[str, object]] = []
    for sku, qty in needed.items():
        best = max(
            ((atp.get((sku, loc.id), 0), loc.id) for loc, _ in candidates), default=(0, None)
        )
        short.append({"sku": sku, "requested": qty, "available": best[0], "locationId": best[1]})
    return short
