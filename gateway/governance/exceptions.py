"""An order's exceptions as queue findings (pure).

Each exception names its order in its key (gateway.domain.truth), so an order has at most
one record per kind, system and node: the same trouble seen again updates or reopens it.
Owners and deadlines come from the truth policy's owner rules and SLA per severity, as for
every discrepancy (by default, fulfilment owns an order that cannot be allocated).
"""

from __future__ import annotations

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.truth import (
    DiscrepancyKey,
    DiscrepancyKind,
    Figure,
    Finding,
)
from gateway.truth.rules import kind_severity


def order_exception(
    kind: DiscrepancyKind,
    order_id: str,
    *,
    system: SourceSystem,
    expected: Figure,
    found: Figure,
    rule: str,
    policy: TruthSettings,
    sku: str = "",
    location_id: str = "",
    delta: int | None = None,
) -> Finding:
    """A finding about one order: ``expected`` is what the gateway holds true, ``found``
    what ``system`` says or did."""
    if not kind.of_order:
        raise ValueError(f"{kind} is not an order's exception")
    return Finding(
        key=DiscrepancyKey(kind, sku, location_id, system, order_id),
        truth=expected,
        copy=found,
        severity=kind_severity(kind, policy),
        rule=rule,
        delta=delta,
    )
