"""The cheapest set of nodes for an order: branch and bound over node sets (pure).

A plan's cost is dominated by what each shipment costs whatever it carries (handling per
order, the first parcel, the split penalty), so the search enumerates sets of nodes, few
at a time, and lets ``allocation`` share the units inside a set:

- every node that can fill the whole order alone is a candidate plan;
- then it grows sets one node at a time. The node added must supply the most constrained
  unfilled line (every plan contains one that does), and the most promising nodes are
  tried first: those covering the most unfilled lines per unit of fixed cost. A set stops
  growing as soon as it can ship everything, so every *minimal* feasible set is reachable;
- a set is abandoned when its lower bound reaches the best plan found. The bound: the
  fixed costs and split penalties so far, the cheapest possible unit costs, and the nodes
  still needed (no node supplies more unfilled lines than the widest one does);
- inside a set, units go to the cheapest offers, then a node's last parcel moves to
  another node of the set whenever that lowers the cost (parcel prices differ by node);
- last, a local search tries the best plan with each of its nodes dropped or swapped.

A budget on visited sets bounds the time; the answer says whether the search finished.
The bench (bench/routing.py) measures the plans against an exact MILP.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gateway.routing.allocation import Quantities, allocate
from gateway.routing.terms import NodeTerms, parcels

DEFAULT_BUDGET = 1500
SWAP_CANDIDATES = 24
# How many of the cheapest nodes that would complete a plan are costed in full.
COMPLETIONS = 3


@dataclass(frozen=True, slots=True)
class Solution:
    nodes: tuple[NodeTerms, ...]  # the nodes that ship something
    quantities: tuple[tuple[int, ...], ...]  # per node, units per line
    objective: int
    rank: tuple[object, ...]  # the tie-break order: lower wins


@dataclass(frozen=True, slots=True)
class SearchResult:
    best: Solution | None
    runner_up: Solution | None
    plans_compared: int
    complete: bool


def objective_of(
    nodes: Sequence[NodeTerms],
    shipped: Quantities,
    units_per_parcel: int,
    split_penalty: int,
) -> int:
    total = 0
    used = 0
    for terms, quantities in zip(nodes, shipped, strict=True):
        units = sum(quantities)
        if not units:
            continue
        used += 1
        total += terms.handling_per_order + terms.shipping(units, units_per_parcel)
        total += sum(o.cost_of(q) for o, q in zip(terms.offers, quantities, strict=True) if q)
    return total + split_penalty * max(0, used - 1)


def fewer_parcels(
    nodes: Sequence[NodeTerms], shipped: Quantities, units_per_parcel: int, split_penalty: int
) -> None:
    """Move the units of a node's last parcel to another shipping node when that costs
    less overall: the parcel saved against dearer units, or a parcel more where extra
    parcels are cheaper. A move that overfills the receiver's parcel may pass that
    overflow on to a third node (in place)."""
    current = objective_of(nodes, shipped, units_per_parcel, split_penalty)
    improved = True
    while improved:
        improved = False
        for trial in _parcel_moves(nodes, shipped, units_per_parcel):
            cost = objective_of(nodes, trial, units_per_parcel, split_penalty)
            if cost < current:
                shipped[:] = trial
                current, improved = cost, True
                break


def _parcel_moves(
    nodes: Sequence[NodeTerms], shipped: Quantities, units_per_parcel: int
) -> Iterator[Quantities]:
    """Every one-step move of a node's last parcel, then every two-step chain."""

    def last_parcel(units: int) -> int:
        return units - units_per_parcel * (parcels(units, units_per_parcel) - 1)

    shipping = [k for k, q in enumerate(shipped) if any(q)]
    chains = []
    for a in shipping:
        for b in shipping:
            if b == a:
                continue
            trial = _moved(nodes, shipped, a, b, last_parcel(sum(shipped[a])))
            if trial is None:
                continue
            yield trial
            chains.append((a, b, trial))
    for a, b, first in chains:
        overflow = sum(first[b])
        if overflow <= units_per_parcel * (parcels(sum(shipped[b]), units_per_parcel)):
            continue  # the receiver kept its parcels: nothing to pass on
        for c in shipping:
            if c in (a, b):
                continue
            trial = _moved(nodes, first, b, c, last_parcel(overflow))
            if trial is not None:
                yield trial


def _moved(
    nodes: Sequence[NodeTerms], shipped: Quantities, a: int, b: int, count: int
) -> Quantities | None:
    """``shipped`` with ``count`` units moved from node ``a`` to node ``b``, one at a time
    on the line where the move adds least unit cost; None if ``b`` cannot take them."""
    trial = [list(q) for q in shipped]
    room = nodes[b].capacity - sum(trial[b])
    if room < count:
        return None
    source, target = nodes[a].offers, nodes[b].offers
    for _ in range(count):
        best: tuple[int, int] | None = None
        for j, out in enumerate(trial[a]):
            have = trial[b][j]
            if not out or have >= target[j].units:
                continue
            delta = (target[j].cost_of(have + 1) - target[j].cost_of(have)) - (
                source[j].cost_of(out) - source[j].cost_of(out - 1)
            )
            if best is None or delta < best[0]:
                best = (delta, j)
        if best is None:
            return None
        trial[a][best[1]] -= 1
        trial[b][best[1]] += 1
    return trial


class _Search:
    def __init__(
        self,
        terms: Sequence[NodeTerms],
        quantities: Sequence[int],
        *,
        units_per_parcel: int,
        split_penalty: int,
        max_shipments: int,
        budget: int,
    ) -> None:
        self.quantities = list(quantities)
        self.total = sum(quantities)
        self.units_per_parcel = units_per_parcel
        self.split_penalty = split_penalty
        self.max_shipments = max_shipments
        self.budget = budget
        lines = range(len(quantities))
        coverage = [sum(t.offers[j].units for j in lines) for t in terms]
        # Canonical node order: cheapest shipment first, then more of the order, nearer, id.
        order = sorted(
            range(len(terms)),
            key=lambda i: (
                terms[i].fixed,
                -coverage[i],
                terms[i].distance_km or 0.0,
                terms[i].node.id,
            ),
        )
        self.terms = [terms[i] for i in order]
        self.fixed = [t.fixed for t in self.terms]
        self.capacity = [t.capacity for t in self.terms]
        self.avail = [[t.offers[j].units for j in lines] for t in self.terms]
        self.supplies = [sum(1 << j for j in lines if a[j]) for a in self.avail]
        self.fills = [sum(1 << j for j in lines if a[j] >= quantities[j]) for a in self.avail]
        self.helpers = [[i for i, a in enumerate(self.avail) if a[j]] for j in lines]
        self.cheapest_fixed = min(self.fixed, default=0)
        self.unit_floor = sum(
            q * min((self.terms[i].offers[j].unit_cost for i in self.helpers[j]), default=0)
            for j, q in enumerate(quantities)
        )
        self.best: Solution | None = None
        self.runner_up: Solution | None = None
        self.visited = 0
        self.seen: set[int] = set()
        self.stopped = False

    def run(self) -> SearchResult:
        if all(self.helpers[j] for j in range(len(self.quantities))):
            self._singles()
            everything = (1 << len(self.quantities)) - 1
            # Plans of k nodes for k = 2, 3, ...: fewer shipments usually cost less, so all
            # small plans are weighed before the budget is spent on larger ones.
            for limit in range(2, self.max_shipments + 1):
                least = (
                    limit * self.cheapest_fixed + (limit - 1) * self.split_penalty + self.unit_floor
                )
                if self.best is not None and least >= self.best.objective:
                    break
                self.seen = set()
                self._grow([], 0, 0, list(self.quantities), everything, 0, limit)
                if self.stopped:
                    break
            self._improve()
        return SearchResult(self.best, self.runner_up, self.visited, not self.stopped)

    def _singles(self) -> None:
        everything = (1 << len(self.quantities)) - 1
        for i, fills in enumerate(self.fills):
            if fills == everything and self.capacity[i] >= self.total:
                self.seen.add(1 << i)
                self._evaluate([i])

    def _evaluate(self, chosen: list[int]) -> bool:
        self.visited += 1
        nodes = [self.terms[i] for i in chosen]
        shipped = allocate(nodes, self.quantities)
        if shipped is None:
            return False
        fewer_parcels(nodes, shipped, self.units_per_parcel, self.split_penalty)
        used = [(t, tuple(q), i) for t, q, i in zip(nodes, shipped, chosen, strict=True) if any(q)]
        objective = objective_of(
            [u[0] for u in used],
            [list(u[1]) for u in used],
            self.units_per_parcel,
            self.split_penalty,
        )
        solution = Solution(
            nodes=tuple(u[0] for u in used),
            quantities=tuple(u[1] for u in used),
            objective=objective,
            rank=(
                objective,
                len(used),
                round(sum(u[0].distance_km or 0.0 for u in used), 3),
                tuple(sorted(u[2] for u in used)),
            ),
        )
        if self.best is None or solution.rank < self.best.rank:
            if self.best is not None and self.best.nodes != solution.nodes:
                self.runner_up = self.best
            self.best = solution
        elif solution.nodes != self.best.nodes and (
            self.runner_up is None or solution.rank < self.runner_up.rank
        ):
            self.runner_up = solution
        return True

    def _still_needed(self, unfilled: int, chosen_mask: int) -> int:
        """At least this many more nodes: none supplies more unfilled lines than the widest."""
        widest = max(
            (
                (s & unfilled).bit_count()
                for i, s in enumerate(self.supplies)
                if not chosen_mask >> i & 1
            ),
            default=0,
        )
        if not widest:
            return self.max_shipments + 1
        return -(-unfilled.bit_count() // widest)

    def _grow(
        self,
        chosen: list[int],
        mask: int,
        fixed_sum: int,
        deficit: list[int],
        unfilled: int,
        capacity: int,
        limit: int,
    ) -> None:
        if self.visited >= self.budget:
            self.stopped = True
            return
        self.visited += 1
        if chosen and not unfilled and capacity >= self.total and self._evaluate(chosen):
            return
        if len(chosen) >= limit:
            return
        if unfilled:
            line = min(
                (j for j in range(len(deficit)) if deficit[j] > 0),
                key=lambda j: (len(self.helpers[j]), j),
            )
            pool = self.helpers[line]
        else:
            pool = [i for i, s in enumerate(self.supplies) if s]  # capacity is short
        if len(chosen) == limit - 1:
            self._complete(chosen, mask, fixed_sum, deficit, capacity, pool)
            return
        needed = self._still_needed(unfilled, mask) if unfilled else 1
        if len(chosen) + needed > limit:
            return
        # Beyond the node added now, ``needed - 1`` more at no less than the cheapest.
        floor = (
            fixed_sum
            + self.split_penalty * len(chosen)
            + self.unit_floor
            + (needed - 1) * (self.split_penalty + self.cheapest_fixed)
        )
        candidates = [
            i
            for i in pool
            if not mask >> i & 1
            and (self.best is None or floor + self.fixed[i] < self.best.objective)
        ]
        # Most unfilled lines covered per unit of fixed cost first (canonical order on ties).
        candidates.sort(
            key=lambda i: (
                -(
                    2 * (self.fills[i] & unfilled).bit_count()
                    + (self.supplies[i] & unfilled).bit_count()
                )
                / (self.fixed[i] + self.split_penalty + 1),
                i,
            )
        )
        for i in candidates:
            if self.best is not None and floor + self.fixed[i] >= self.best.objective:
                continue
            grown = mask | 1 << i
            if grown in self.seen:
                continue
            self.seen.add(grown)
            avail = self.avail[i]
            left = [max(0, d - a) for d, a in zip(deficit, avail, strict=True)]
            self._grow(
                [*chosen, i],
                grown,
                fixed_sum + self.fixed[i],
                left,
                sum(1 << j for j, d in enumerate(left) if d),
                capacity + min(self.capacity[i], sum(avail)),
                limit,
            )
            if self.stopped:
                return

    def _complete(
        self,
        chosen: list[int],
        mask: int,
        fixed_sum: int,
        deficit: list[int],
        capacity: int,
        pool: list[int],
    ) -> None:
        """The last node of a plan: only nodes that fill every remaining deficit, the
        cheapest few of them by fixed cost plus the cheapest units for what is left."""
        floor = fixed_sum + self.split_penalty * len(chosen) + self.unit_floor
        short = [(j, d) for j, d in enumerate(deficit) if d]
        completions = []
        for i in pool:
            if mask >> i & 1:
                continue
            if self.best is not None and floor + self.fixed[i] >= self.best.objective:
                continue
            avail = self.avail[i]
            if any(avail[j] < d for j, d in short):
                continue
            if capacity + min(self.capacity[i], sum(avail)) < self.total:
                continue
            offers = self.terms[i].offers
            estimate = self.fixed[i] + sum(d * offers[j].unit_cost for j, d in short)
            completions.append((estimate, i))
        completions.sort()
        for _, i in completions[:COMPLETIONS]:
            grown = mask | 1 << i
            if grown in self.seen:
                continue
            self.seen.add(grown)
            if self.best is not None and floor + self.fixed[i] >= self.best.objective:
                continue
            self._evaluate([*chosen, i])

    def _improve(self) -> None:
        """Drop or swap each node of the best plan while that finds a cheaper one."""
        improved = True
        while improved and self.best is not None:
            improved = False
            index = {id(t): i for i, t in enumerate(self.terms)}
            current = [index[id(t)] for t in self.best.nodes]
            before = self.best.rank
            for out in current:
                rest = [i for i in current if i != out]
                if rest:
                    self._evaluate(rest)
                needed = self.supplies[out]
                swaps = [i for i, s in enumerate(self.supplies) if s & needed and i not in current]
                swaps.sort(key=lambda i: (-(self.supplies[i] & needed).bit_count(), i))
                for i in swaps[:SWAP_CANDIDATES]:
                    self._evaluate([*rest, i])
            improved = self.best.rank < before


def cheapest_plan(
    terms: Sequence[NodeTerms],
    quantities: Sequence[int],
    *,
    units_per_parcel: int,
    split_penalty: int,
    max_shipments: int,
    budget: int = DEFAULT_BUDGET,
) -> SearchResult:
    return _Search(
        terms,
        quantities,
        units_per_parcel=units_per_parcel,
        split_penalty=split_penalty,
        max_shipments=max_shipments,
        budget=budget,
    ).run()


def single_node_plans(
    terms: Sequence[NodeTerms],
    quantities: Sequence[int],
    *,
    units_per_parcel: int,
) -> SearchResult:
    """Only plans that ship everything from one node."""
    search = _Search(
        terms,
        quantities,
        units_per_parcel=units_per_parcel,
        split_penalty=0,
        max_shipments=1,
        budget=len(terms) + 1,
    )
    search._singles()
    return SearchResult(search.best, search.runner_up, search.visited, True)
