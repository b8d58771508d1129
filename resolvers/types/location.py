from __future__ import annotations

import strawberry

from gateway import domain
from resolvers.types.common import Capability, NodeType, SourceSystem


@strawberry.type(description="A fulfillment node: a warehouse or a store.")
class Location:
    id: strawberry.ID
    name: str
    type: NodeType
    capabilities: list[Capability]
    latitude: float | None
    longitude: float | None
    address: str | None
    safety_stock: int
    stock_source: SourceSystem = strawberry.field(
        description="The system whose counts are the truth for this node."
    )
    source_ref: str = strawberry.field(description="This node's id in its stock source.")
    distance_km: float | None = strawberry.field(
        description="Distance from the point asked about, when one was given."
    )

    @classmethod
    def from_domain(cls, loc: domain.Location, distance_km: float | None = None) -> Location:
        return cls(
            id=strawberry.ID(loc.id),
            name=loc.name,
            type=loc.type,
            capabilities=sorted(loc.capabilities),
            latitude=loc.point.lat if loc.point else None,
            longitude=loc.point.lng if loc.point else None,
            address=loc.address,
            safety_stock=loc.safety_stock,
            stock_source=loc.source,
            source_ref=loc.source_ref,
            distance_km=None if distance_km is None else round(distance_km, 2),
        )
