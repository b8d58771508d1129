"""The cheapest set of nodes for an order: branch and bound over node sets (pure).

A plan's cost is dominated by what each shipment costs whatever it carries (handling per
order, the first parcel, the split penalty), so the search enumerates sets of nodes, few
at a time, and lets ``allocation`` share the units inside a set. It visits sets in a
canonical way that finds every *minimal* feasible set (each node needed):

- every node that can fill the whole order alone is a candidate plan;
- otherwise it grows a set by one node that supplies the most constrained unfilled line,
  cheapest nodes first, and stops growing a set as soon as it can ship everything;
- a set is abandoned once its fixed costs, the split penalty and the cheapest possible
  unit costs reach the best plan found (nodes are tried in ascending fixed cost, so the
  rest of that branch is abandoned too).

Supersets of a feasible set are not explored: adding a node adds its fixed cost and a
split penalty, which cheaper units elsewhere rarely repay. The bench measures what that
costs against an exact MILP. A budget on visited sets bounds the time; the answer says
when it was reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.routing.allocation import Quantities, allocate
from gateway.routing.terms import NodeTerms

DEFAULT_BUDGET = 4000


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
        self.helpers = [[i for i, a in enumerate(self.avail) if a[j]] for j in lines]
        self.any_helper = [i for i, a in enumerate(self.avail) if any(a)]
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
            self._grow([], 0, 0, list(self.quantities), 0)
        return SearchResult(self.best, self.runner_up, self.visited, not self.stopped)

    def _singles(self) -> None:
        for i, avail in enumerate(self.avail):
            if self.capacity[i] >= self.total and all(
                a >= q for a, q in zip(avail, self.quantities, strict=True)
            ):
                self.seen.add(1 << i)
                self._evaluate([i])

    def _evaluate(self, chosen: list[int]) -> bool:
        self.visited += 1
        nodes = [self.terms[i] for i in chosen]
        shipped = allocate(nodes, self.quantities)
        if shipped is None:
            return False
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

    def _grow(
        self, chosen: list[int], mask: int, fixed_sum: int, deficit: list[int], capacity: int
    ) -> None:
        if self.visited >= self.budget:
            self.stopped = True
            return
        short = [j for j, d in enumerate(deficit) if d > 0]
        if chosen and not short and capacity >= self.total and self._evaluate(chosen):
            return
        if len(chosen) >= self.max_shipments:
            return
        if short:
            line = min(short, key=lambda j: (len(self.helpers[j]), j))
            candidates = self.helpers[line]
        else:
            candidates = self.any_helper  # every line is covered but capacity is short
        floor = fixed_sum + self.split_penalty * len(chosen) + self.unit_floor
        for i in candidates:
            if mask >> i & 1:
                continue
            if self.best is not None and floor + self.fixed[i] >= self.best.objective:
                break
            grown = mask | 1 << i
            if grown in self.seen:
                continue
            self.seen.add(grown)
            avail = self.avail[i]
            self._grow(
                [*chosen, i],
                grown,
                fixed_sum + self.fixed[i],
                [max(0, d - a) for d, a in zip(deficit, avail, strict=True)],
                capacity + min(self.capacity[i], sum(avail)),
            )
            if self.stopped:
                return


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
