from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from gateway import domain
from resolvers.types.common import Channel, SourceSystem, StockStatus
from resolvers.types.location import Location

if TYPE_CHECKING:
    from resolvers.context import GatewayContext


@strawberry.type(description="One SKU at one node.")
class LocationAvailability:
    location: Location
    on_hand: int
    reserved: int
    safety_stock: int = strawberry.field(
        description="Units kept back at this node: its safety stock, or more while an open "
        "OVERSELL_RISK caps what is promised (sourceOfTruth.oversellRiskPromiseCap)."
    )
    available_to_promise: int = strawberry.field(
        description="onHand - reserved - held - safetyStock, never negative."
    )
    held: int = strawberry.field(
        description="Units promised through this gateway that the source has not recorded yet."
    )
    incoming: int = strawberry.field(
        description="On order from vendors, or returned units on their way or in inspection: "
        "coming, not sellable."
    )
    status: StockStatus
    backorder_date: date | None
    source: SourceSystem = strawberry.field(description="The system this figure came from.")
    as_of: datetime | None = strawberry.field(description="When it was true at the source.")
    distance_km: float | None

    @classmethod
    def from_domain(cls, row: domain.NodeAvailability) -> LocationAvailability:
        return cls(
            location=Location.from_domain(row.location, row.distance_km),
            on_hand=row.on_hand,
            reserved=row.reserved,
            safety_stock=row.safety_stock,
            available_to_promise=row.available_to_promise,
            held=row.held,
            incoming=row.incoming,
            status=row.status,
            backorder_date=row.backorder_date,
            source=row.source,
            as_of=row.as_of,
            distance_km=row.distance_km,
        )


@strawberry.enum(description="How far these figures can be trusted.")
class Confidence(Enum):
    HIGH = "HIGH"
    LOW = "LOW"  # a channel shows more than can be promised (an open OVERSELL_RISK)


@strawberry.type(description="Where a SKU can be had, and how many in total.")
class ProductAvailability:
    sku: str
    channel: Channel | None
    total_available: int
    locations: list[LocationAvailability]

    @strawberry.field(
        description="LOW while an OVERSELL_RISK is open for this SKU: some channel shows more "
        "than can be promised, so a promise made elsewhere may already be sold."
    )
    async def confidence(self, info: strawberry.Info[GatewayContext, None]) -> Confidence:
        return Confidence.LOW if await info.context.oversell.load(self.sku) else Confidence.HIGH

    @strawberry.field(description="The open OVERSELL_RISK that makes confidence LOW.")
    async def open_discrepancy_id(
        self, info: strawberry.Info[GatewayContext, None]
    ) -> strawberry.ID | None:
        found = await info.context.oversell.load(self.sku)
        return None if found is None else strawberry.ID(found)

    @classmethod
    def from_domain(cls, availability: domain.Availability) -> ProductAvailability:
        return cls(
            sku=availability.sku,
            channel=availability.channel,
            total_available=availability.total_available,
            locations=[LocationAvailability.from_domain(r) for r in availability.rows],
        )
