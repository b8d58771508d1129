"""How a chosen set of nodes shares an order's units at the least unit cost (pure).

Lines are independent unless a node's pick capacity binds, so the common case is a greedy
fill per line from the cheapest offer up, which is exact for these convex (two-tier) unit
costs. When capacity binds, a small min-cost flow decides (lines -> nodes -> capacity).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from gateway.routing.terms import NodeTerms

# Per chosen node (in the order given), the units of each line it ships.
Quantities = list[list[int]]
UNREACHED = 1 << 62


def allocate(chosen: Sequence[NodeTerms], quantities: Sequence[int]) -> Quantities | None:
    """None when the chosen nodes cannot ship every unit."""
    if all(sum(o.units for o in t.offers) <= t.capacity for t in chosen):
        return _fill_lines(chosen, quantities)
    return _min_cost_flow(chosen, quantities)


def _fill_lines(chosen: Sequence[NodeTerms], quantities: Sequence[int]) -> Quantities | None:
    shipped = [[0] * len(quantities) for _ in chosen]
    for j, wanted in enumerate(quantities):
        tiers = []
        for k, terms in enumerate(chosen):
            offer = terms.offers[j]
            if offer.base:
                tiers.append((offer.unit_cost, k, offer.base))
            if offer.reserve:
                tiers.append((offer.unit_cost + offer.reserve_penalty, k, offer.reserve))
        tiers.sort()
        left = wanted
        for _, k, units in tiers:
            take = min(left, units)
            shipped[k][j] += take
            left -= take
            if not left:
                break
        if left:
            return None
    return shipped


def _min_cost_flow(chosen: Sequence[NodeTerms], quantities: Sequence[int]) -> Quantities | None:
    lines = len(quantities)
    source, sink = 0, lines + len(chosen) + 1
    graph: list[list[int]] = [[] for _ in range(sink + 1)]
    # Edges as parallel lists: head, residual capacity, cost; edge e ^ 1 is its reverse.
    head: list[int] = []
    room: list[int] = []
    cost: list[int] = []

    def edge(a: int, b: int, capacity: int, unit_cost: int) -> int:
        graph[a].append(len(head))
        head.append(b)
        room.append(capacity)
        cost.append(unit_cost)
        graph[b].append(len(head))
        head.append(a)
        room.append(0)
        cost.append(-unit_cost)
        return len(head) - 2

    for j, wanted in enumerate(quantities):
        edge(source, 1 + j, wanted, 0)
    tier_edges: list[tuple[int, int, int]] = []  # (edge, node, line)
    for k, terms in enumerate(chosen):
        node = 1 + lines + k
        for j, offer in enumerate(terms.offers):
            if offer.base:
                tier_edges.append((edge(1 + j, node, offer.base, offer.unit_cost), k, j))
            if offer.reserve:
                penalty = offer.unit_cost + offer.reserve_penalty
                tier_edges.append((edge(1 + j, node, offer.reserve, penalty), k, j))
        edge(node, sink, terms.capacity, 0)

    flow = 0
    total = sum(quantities)
    while flow < total:
        # Bellman-Ford (queue-based): unit costs can be negative (the excess-stock bonus).
        distance = [UNREACHED] * (sink + 1)
        via = [-1] * (sink + 1)
        distance[source] = 0
        queue, queued = deque([source]), [False] * (sink + 1)
        while queue:
            a = queue.popleft()
            queued[a] = False
            for e in graph[a]:
                b = head[e]
                if room[e] > 0 and distance[a] + cost[e] < distance[b]:
                    distance[b] = distance[a] + cost[e]
                    via[b] = e
                    if not queued[b]:
                        queued[b] = True
                        queue.append(b)
        if distance[sink] == UNREACHED:
            return None
        push, b = total - flow, sink
        while b != source:
            e = via[b]
            push = min(push, room[e])
            b = head[e ^ 1]
        b = sink
        while b != source:
            e = via[b]
            room[e] -= push
            room[e ^ 1] += push
            b = head[e ^ 1]
        flow += push
    shipped = [[0] * lines for _ in chosen]
    for e, k, j in tier_edges:
        shipped[k][j] += room[e ^ 1]
    return shipped
