"""A routing decision as JSON and back, so a stored decision can be replayed (pure).

The request carries every input (stock, capacity, rates, policy, the clock), so replaying
it through today's engine shows whether the same decision would be taken again.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from gateway.routing.model import FulfillmentPlan, RoutingRequest

# Bump when the meaning of a stored request or plan changes.
SNAPSHOT_VERSION = 1

_REQUEST = TypeAdapter(RoutingRequest)
_PLAN = TypeAdapter(FulfillmentPlan)


def dump_request(request: RoutingRequest) -> dict[str, Any]:
    return _REQUEST.dump_python(request, mode="json")  # type: ignore[no-any-return]


def load_request(raw: dict[str, Any]) -> RoutingRequest:
    return _REQUEST.validate_python(raw)


def dump_plan(plan: FulfillmentPlan) -> dict[str, Any]:
    return _PLAN.dump_python(plan, mode="json")  # type: ignore[no-any-return]


def load_plan(raw: dict[str, Any]) -> FulfillmentPlan:
    return _PLAN.validate_python(raw)


def differences(decided: FulfillmentPlan, replayed: FulfillmentPlan) -> list[str]:
    """What a replay decided differently, in words (empty: the same decision)."""
    found = []
    before = {s.node_id: s.lines for s in decided.shipments}
    after = {s.node_id: s.lines for s in replayed.shipments}
    if before != after:
        found.append(f"shipments {_nodes(decided)} became {_nodes(replayed)}")
    if decided.cost != replayed.cost:
        found.append(
            f"objective {decided.cost.objective} became {replayed.cost.objective} "
            f"{decided.cost.currency} minor units"
        )
    if decided.promised_date != replayed.promised_date:
        found.append(f"promised date {decided.promised_date} became {replayed.promised_date}")
    if decided.unfulfillable != replayed.unfulfillable:
        found.append("unfulfillable lines changed")
    return found


def _nodes(plan: FulfillmentPlan) -> str:
    return " + ".join(s.node_id for s in plan.shipments) or "none"
