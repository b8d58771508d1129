"""The routing objective as a mixed-integer program, solved to optimality by HiGHS.

Variables, for every eligible node ``n`` and line ``j`` whose SKU it holds:

    xb[n,j]  units from the node's spare stock      0 .. min(q_j, max(0, atp - reserve))
    xr[n,j]  units from a store's walk-in reserve    0 .. min(q_j, atp) - ub(xb)
    y[n]     the node ships (binary)
    p[n]     its parcels (integer)

subject to ``sum_n xb + xr = q_j`` per line, ``sum_j x <= cap_n * y_n``,
``units_per_parcel * p_n >= sum_j x``, ``p_n >= y_n`` and ``sum_n y_n <= max_shipments``, and
minimising

    sum_n (handling_per_order + first_parcel - additional_parcel) y_n + additional_parcel p_n
        + sum x * unit cost  + split_penalty * (sum_n y_n - 1)

which is the docstring's objective: for a used node ``p_n`` settles at
``ceil(units / units_per_parcel)`` (parcels only cost), so its shipping is
``first_parcel + additional_parcel * (parcels - 1)``. The reserve tier costs more than the
spare tier, so the solver takes spare units first, as "units that take ATP below the
reserve" means.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import ceil

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from bench.routing_rules import Lane, unit_cost
from gateway.routing.model import RoutingRequest

OPTIMAL, INFEASIBLE, NOT_PROVEN = "optimal", "infeasible", "not proven optimal"


@dataclass(frozen=True, slots=True)
class MilpResult:
    status: str
    objective: int | None  # set only when proven optimal
    allocation: dict[str, dict[str, int]] = field(default_factory=dict)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    variables: int = 0
    constraints: int = 0


@contextmanager
def _native_output_silenced() -> Iterator[None]:
    """HiGHS 1.12 writes a stray debug line ("transformNewIntegerFeasibleSolution
    tmpSolver.run();") from C++ even with ``disp`` off; it would garble the report."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


@dataclass(slots=True)
class _Program:
    """The program under construction, as COO triplets and per-variable data."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)

    def variable(self, cost: float, upper: float) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        return len(self.cost) - 1

    def row(self, terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        index = len(self.row_lower)
        for column, value in terms:
            self.rows.append(index)
            self.cols.append(column)
            self.values.append(value)
        self.row_lower.append(lower)
        self.row_upper.append(upper)


def solve_routing_milp(
    request: RoutingRequest,
    lanes: Mapping[str, Lane],
    lines: Mapping[str, int],
    time_limit: float | None = None,
) -> MilpResult:
    """The optimum over ``lines`` (SKU -> units) from ``lanes``; every line in full."""
    if not lines:
        return MilpResult(OPTIMAL, 0)
    started = time.perf_counter()
    program = _Program()
    policy, upp = request.policy, request.shipping.units_per_parcel
    # (node id, sku, column) for every unit variable, to read the allocation back.
    unit_columns: list[tuple[str, str, int]] = []
    line_terms: dict[str, list[tuple[int, float]]] = {sku: [] for sku in lines}
    node_columns: list[int] = []
    for node_id, lane in lanes.items():
        node = lane.node
        columns: list[int] = []
        for sku, quantity in lines.items():
            available = min(quantity, max(0, node.atp.get(sku, 0)))
            if available == 0:
                continue
            cost = unit_cost(request, node, sku)
            spare = min(available, cost.base_units)
            for tier_cost, tier_units in ((cost.base, spare), (cost.reserve, available - spare)):
                if tier_units > 0:
                    column = program.variable(tier_cost, tier_units)
                    columns.append(column)
                    unit_columns.append((node_id, sku, column))
                    line_terms[sku].append((column, 1.0))
        if not columns:
            continue
        most = sum(program.upper[column] for column in columns)
        if node.capacity is not None:
            most = min(most, node.capacity)
        band = lane.band
        ships = program.variable(
            node.handling_per_order
            + band.first_parcel
            - band.additional_parcel
            + policy.split_penalty,
            1,
        )
        parcels = program.variable(band.additional_parcel, ceil(most / upp))
        node_columns.append(ships)
        units = [(column, 1.0) for column in columns]
        program.row([*units, (ships, -float(most))], -np.inf, 0.0)
        program.row([*units, (parcels, -float(upp))], -np.inf, 0.0)
        program.row([(ships, 1.0), (parcels, -1.0)], -np.inf, 0.0)
        # Implied by the capacity row; stated per variable it gives the fixed charge its
        # tight relaxation, so the solver is not timed on a needlessly weak formulation.
        for column in columns:
            program.row([(column, 1.0), (ships, -program.upper[column])], -np.inf, 0.0)
    for sku, quantity in lines.items():
        if not line_terms[sku]:
            return MilpResult(INFEASIBLE, None, build_seconds=time.perf_counter() - started)
        program.row(line_terms[sku], quantity, quantity)
    program.row([(column, 1.0) for column in node_columns], -np.inf, policy.max_shipments)

    size = len(program.cost)
    matrix = coo_array(
        (program.values, (program.rows, program.cols)), shape=(len(program.row_lower), size)
    ).tocsr()
    constraint = LinearConstraint(matrix, program.row_lower, program.row_upper)
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = time_limit
    cost, upper = np.array(program.cost), np.array(program.upper)
    with _native_output_silenced():
        built = time.perf_counter()
        result = milp(
            cost,
            integrality=np.ones(size),
            bounds=Bounds(np.zeros(size), upper),
            constraints=constraint,
            options=options,
        )
        solved = time.perf_counter()

    def answer(
        status: str,
        objective: int | None = None,
        allocation: dict[str, dict[str, int]] | None = None,
    ) -> MilpResult:
        return MilpResult(
            status,
            objective,
            allocation or {},
            build_seconds=built - started,
            solve_seconds=solved - built,
            variables=size,
            constraints=len(program.row_lower),
        )

    if result.status == 2:
        return answer(INFEASIBLE)
    if result.status != 0 or result.x is None:
        return answer(NOT_PROVEN)
    allocation: dict[str, dict[str, int]] = {}
    for node_id, sku, column in unit_columns:
        taken = round(result.x[column])
        if taken:
            node_units = allocation.setdefault(node_id, {})
            node_units[sku] = node_units.get(sku, 0) + taken
    # The split penalty sits on every used node's y; one of them is free.
    return answer(OPTIMAL, round(result.fun) - policy.split_penalty, allocation)
