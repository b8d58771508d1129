"""One order through the engine and the MILP, and every way the two can disagree.

The engine's plan is held to the rules (bench/routing_rules.py), never to its own figures:
what it takes must be within ATP and capacity, from eligible nodes, with every line shipped
or listed unfulfillable; its reported objective must equal the objective recomputed from
its shipments; and it is compared with the MILP's proven optimum over the same lines.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.routing_milp import OPTIMAL, MilpResult, solve_routing_milp
from bench.routing_rules import (
    Lane,
    eligible_lanes,
    plan_objective,
    requested_lines,
    shipment_cost,
    split_by_rule,
)
from gateway.routing.model import FulfillmentPlan, RoutingRequest


@dataclass(slots=True)
class OrderCheck:
    index: int
    nodes: int
    eligible_nodes: int
    lines: int
    short_lines: int  # unfulfillable by rule: the eligible nodes hold too few units
    engine_seconds: float
    engine_objective: int | None  # None when the engine raised
    milp: MilpResult
    # The objective recomputed from the plan's shipments; None when it ships from a node
    # the rules make ineligible (there is no lane to cost that node by).
    recomputed: int | None = None
    # Findings, each one line a person can act on; the kind before the colon is counted.
    problems: list[str] = field(default_factory=list)
    infeasible_when_feasible: bool = False
    # For an order the engine does worse on: the optimum over the nodes the engine used.
    own_nodes_optimum: int | None = None

    @property
    def objective_mismatch(self) -> bool:
        return self.recomputed is not None and self.recomputed != self.engine_objective

    @property
    def comparable(self) -> bool:
        """The engine shipped exactly the lines the MILP covered, and the MILP proved them."""
        if self.engine_objective is None or self.milp.status != OPTIMAL:
            return False
        if self.infeasible_when_feasible:
            return False
        # An order with nothing to ship is trivially optimal; it would only dilute the mean.
        if self.short_lines == self.lines:
            return False
        breaches = ("ships ", "over ", "lines ")
        return not any(problem.startswith(breaches) for problem in self.problems)

    @property
    def excess_percent(self) -> float | None:
        if not self.comparable or self.milp.objective is None or self.engine_objective is None:
            return None
        gap = self.engine_objective - self.milp.objective
        return 100.0 * gap / max(1, abs(self.milp.objective))


def check_order(
    index: int,
    request: RoutingRequest,
    plan_fulfillment: Callable[[RoutingRequest], FulfillmentPlan],
    milp_time_limit: float | None,
) -> OrderCheck:
    plan: FulfillmentPlan | None = None
    crash = ""
    started = time.perf_counter()
    try:
        plan = plan_fulfillment(request)
    except Exception as error:  # a crash is a finding like any other; the run goes on
        crash = f"engine error: {type(error).__name__}: {error}"
    engine_seconds = time.perf_counter() - started

    lanes = eligible_lanes(request)
    fillable, short = split_by_rule(request, lanes)
    milp = solve_routing_milp(request, lanes, fillable, milp_time_limit)
    check = OrderCheck(
        index=index,
        nodes=len(request.nodes),
        eligible_nodes=len(lanes),
        lines=len(fillable) + len(short),
        short_lines=len(short),
        engine_seconds=engine_seconds,
        engine_objective=plan.cost.objective if plan is not None else None,
        milp=milp,
    )
    if milp.status == OPTIMAL and milp.objective is not None:
        self_check = plan_objective(request, lanes, milp.allocation)
        if self_check != milp.objective:
            check.problems.append(
                f"milp self-check: {milp.objective} solved, {self_check} recomputed"
            )

    if plan is None:
        check.problems.append(crash)
        return check
    taken = _allocation(plan)
    check.problems += _rule_breaches(request, plan, lanes, taken)
    check.problems += _line_accounting(request, plan, taken, short)
    # Lines the rule says can be filled that the engine lists unfulfillable (a line it
    # loses without listing is a line-accounting finding instead).
    listed = {line.sku for line in plan.unfulfillable}
    dropped = [sku for sku in fillable if sku in listed]
    # When the MILP is infeasible no plan ships every line, so leaving some out is right.
    if dropped and milp.status == OPTIMAL:
        check.infeasible_when_feasible = True
        check.problems.append(
            f"infeasible-when-feasible: engine left {dropped} unfulfilled, the MILP ships all"
        )
    if all(node_id in lanes for node_id in taken):
        check.recomputed = plan_objective(request, lanes, taken)
        check.problems += _figures(request, plan, lanes)
    excess = check.excess_percent
    if excess is not None and excess > 0:
        # Where the excess comes from: the nodes the engine chose, or how it split the
        # units among them. The optimum over its own nodes tells the two apart.
        own = {node_id: lanes[node_id] for node_id in taken}
        check.own_nodes_optimum = solve_routing_milp(request, own, fillable).objective
    return check


def _allocation(plan: FulfillmentPlan) -> dict[str, dict[str, int]]:
    taken: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for shipment in plan.shipments:
        for line in shipment.lines:
            taken[shipment.node_id][line.sku] += line.quantity
    return {node_id: dict(units) for node_id, units in taken.items()}


def _rule_breaches(
    request: RoutingRequest,
    plan: FulfillmentPlan,
    lanes: dict[str, Lane],
    taken: dict[str, dict[str, int]],
) -> list[str]:
    problems = []
    nodes = {node.id: node for node in request.nodes}
    for node_id, units in taken.items():
        node = nodes.get(node_id)
        if node is None:
            problems.append(f"ships from {node_id}, which is not a candidate")
            continue
        if node_id not in lanes:
            problems.append(f"ships from {node_id}, which the rules make ineligible")
        for sku, quantity in units.items():
            if quantity > node.atp.get(sku, 0):
                problems.append(
                    f"over ATP: {quantity} x {sku} from {node_id} (ATP {node.atp.get(sku, 0)})"
                )
        total = sum(units.values())
        if node.capacity is not None and total > node.capacity:
            problems.append(
                f"over capacity: {total} units from {node_id} (capacity {node.capacity})"
            )
    if len(plan.shipments) > request.policy.max_shipments:
        problems.append(f"over max_shipments: {len(plan.shipments)} shipments")
    return problems


def _line_accounting(
    request: RoutingRequest,
    plan: FulfillmentPlan,
    taken: dict[str, dict[str, int]],
    short: dict[str, int],
) -> list[str]:
    problems = []
    listed: dict[str, int] = defaultdict(int)
    for line in plan.unfulfillable:
        listed[line.sku] += line.quantity
    wanted = requested_lines(request)
    for sku in set(wanted) | set(listed) | {s for units in taken.values() for s in units}:
        shipped = sum(units.get(sku, 0) for units in taken.values())
        if shipped + listed.get(sku, 0) != wanted.get(sku, 0):
            problems.append(
                f"lines do not add up: {sku} ordered {wanted.get(sku, 0)}, shipped {shipped}, "
                f"listed unfulfillable {listed.get(sku, 0)}"
            )
        elif sku in short and shipped:
            problems.append(f"ships {shipped} x {sku}, which the eligible nodes cannot fill")
    return problems


def _figures(request: RoutingRequest, plan: FulfillmentPlan, lanes: dict[str, Lane]) -> list[str]:
    """The plan's own per-shipment figures against the rules' (service, dates, money)."""
    problems = []
    sums = {"shipping": 0, "handling": 0, "stock_health": 0}
    for shipment in plan.shipments:
        lane = lanes[shipment.node_id]
        units: dict[str, int] = defaultdict(int)
        for line in shipment.lines:
            units[line.sku] += line.quantity
        cost = shipment_cost(request, lane, units)
        expected = {
            "service": lane.service,
            "parcels": cost.parcels,
            "shipping": cost.shipping,
            "handling": cost.handling,
            "stock_health": cost.stock_health,
            "ship_date": lane.ship_date,
            "arrival_date": lane.arrival_date,
        }
        for name, value in expected.items():
            if getattr(shipment, name) != value:
                problems.append(
                    f"shipment figure: {shipment.node_id}.{name} is {getattr(shipment, name)}, "
                    f"the rules say {value}"
                )
        for name in sums:
            sums[name] += getattr(shipment, name)
    split = request.policy.split_penalty * max(0, len(plan.shipments) - 1)
    for name, value in (*sums.items(), ("split_penalty", split)):
        if getattr(plan.cost, name) != value:
            problems.append(
                f"cost figure: cost.{name} is {getattr(plan.cost, name)}, shipments add to {value}"
            )
    return problems
