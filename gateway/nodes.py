"""Turn the backends' own locations into fulfillment nodes, with the operator's overrides.

Source-of-truth rule: a warehouse's stock comes from the ERP (Bins), a store's from the POS
(Square counts), because each is where the movement is first recorded. The node file adds
what no backend holds: stable ids, warehouse coordinates, store capabilities, safety stock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from gateway.domain import (
    BackendLocation,
    Capability,
    FulfillmentTerms,
    GeoPoint,
    Location,
    NodeType,
    SourceSystem,
)


@dataclass(frozen=True, slots=True)
class NodeOverride:
    id: str | None = None
    name: str | None = None
    point: GeoPoint | None = None
    capabilities: frozenset[Capability] | None = None
    safety_stock: int | None = None
    enabled: bool = True
    oms_location: str | None = None
    pickup_instructions: str | None = None
    terms: FulfillmentTerms = field(default_factory=FulfillmentTerms)


NodeOverrides = Mapping[tuple[SourceSystem, str], NodeOverride]


def load_node_file(path: Path | None) -> dict[tuple[SourceSystem, str], NodeOverride]:
    """Read ``{"nodes": [{"source", "ref", "id"?, "lat"?, "lng"?, "capabilities"?, ...}]}``.

    ``oms_location`` names the Shopify Location gid a node's orders are assigned to;
    ``pickup_instructions`` are what a click-and-collect customer is told;
    ``daily_capacity``, ``cutoff`` ("16:00", local), ``timezone``, ``handling_per_order``
    and ``handling_per_unit`` (minor units) are its fulfillment terms for the router.
    """
    if path is None:
        return {}
    raw: dict[str, Any] = json.loads(Path(path).read_text())
    overrides: dict[tuple[SourceSystem, str], NodeOverride] = {}
    for entry in raw.get("nodes", []):
        point = None
        if entry.get("lat") is not None and entry.get("lng") is not None:
            point = GeoPoint(float(entry["lat"]), float(entry["lng"]))
        caps = entry.get("capabilities")
        overrides[(SourceSystem(entry["source"]), str(entry["ref"]))] = NodeOverride(
            id=entry.get("id"),
            name=entry.get("name"),
            point=point,
            capabilities=None if caps is None else frozenset(Capability(c) for c in caps),
            safety_stock=entry.get("safety_stock"),
            enabled=entry.get("enabled", True),
            oms_location=entry.get("oms_location"),
            pickup_instructions=entry.get("pickup_instructions"),
            terms=FulfillmentTerms(
                daily_capacity=entry.get("daily_capacity"),
                cutoff=None if entry.get("cutoff") is None else time.fromisoformat(entry["cutoff"]),
                timezone=entry.get("timezone"),
                handling_per_order=entry.get("handling_per_order"),
                handling_per_unit=entry.get("handling_per_unit"),
            ),
        )
    return overrides


def default_node_id(prefix: str, name: str) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def build_locations(
    warehouses: Iterable[BackendLocation],
    stores: Iterable[BackendLocation],
    overrides: NodeOverrides,
    *,
    warehouse_safety_stock: int,
    store_safety_stock: int,
) -> list[Location]:
    """Warehouses from the ERP, stores from the POS; stores can be picked up from by default."""
    nodes: list[Location] = []
    for kind, backend_locations, safety, default_caps, prefix in (
        (NodeType.WAREHOUSE, warehouses, warehouse_safety_stock, frozenset(), "WH"),
        (NodeType.STORE, stores, store_safety_stock, frozenset({Capability.PICKUP}), "ST"),
    ):
        for loc in backend_locations:
            if not loc.active:
                continue
            o = overrides.get((loc.source, loc.ref), NodeOverride())
            if not o.enabled:
                continue
            display_name = o.name or _strip_company_suffix(loc.name)
            nodes.append(
                Location(
                    id=o.id or default_node_id(prefix, display_name),
                    name=display_name,
                    type=kind,
                    source=loc.source,
                    source_ref=loc.ref,
                    point=o.point or loc.point,
                    capabilities=default_caps if o.capabilities is None else o.capabilities,
                    safety_stock=safety if o.safety_stock is None else o.safety_stock,
                    address=loc.address,
                    oms_ref=o.oms_location,
                    pickup_instructions=o.pickup_instructions,
                    terms=o.terms,
                )
            )
    return nodes


def _strip_company_suffix(name: str) -> str:
    # ERPNext appends " - <company abbreviation>" to every warehouse name.
    return re.sub(r" - [A-Z0-9]{1,10}$", "", name)
