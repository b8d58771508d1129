"""Replaying a stored decision through today's engine (pure): the same inputs should give
the same plan; if the engine changed since, the differences say how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.routing.engine import plan_fulfillment
from gateway.routing.model import FulfillmentPlan
from gateway.routing.snapshot import differences, load_plan, load_request


@dataclass(frozen=True, slots=True)
class Replay:
    plan: FulfillmentPlan
    differences: tuple[str, ...]

    @property
    def same_plan(self) -> bool:
        return not self.differences


def replay(stored_request: dict[str, Any], stored_plan: dict[str, Any]) -> Replay:
    replayed = plan_fulfillment(load_request(stored_request))
    return Replay(replayed, tuple(differences(load_plan(stored_plan), replayed)))
