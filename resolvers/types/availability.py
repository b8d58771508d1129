from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import strawberry

from gateway import domain
from gateway.domain.freshness import FreshnessRules, confidence
from resolvers.types.common import Channel, SourceSystem, StockStatus
from resolvers.types.location import Location

if TYPE_CHECKING:
    from resolvers.context import GatewayContext

Confidence = domain.Confidence
strawberry.enum(Confidence, description="How far figures can be trusted.")
Via = domain.Via
strawberry.enum(
    Via,
    description="How the gateway learnt a figure: WEBHOOK (read again because its source "
    "sent an event about it), POLL (a delta poll found it changed), READ (read when asked).",
)


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
    as_of: datetime | None = strawberry.field(
        description="When it was true at the source: the source's own stamp on it (a Bin's "
        "modified, a Square count's calculated_at)."
    )
    observed_at: datetime | None = strawberry.field(
        description="When the gateway learnt it (read it from its source)."
    )
    via: Via = strawberry.field(description="How the gateway learnt it.")
    distance_km: float | None
    sku: strawberry.Private[str]

    @strawberry.field(
        description="HIGH: confirmed by an event or a poll, or read within the fresh window "
        "(FRESH_SECONDS); MEDIUM: read within the cache's time to live; LOW: stale (kept past "
        "it, or not stated by its source for longer than the router accepts), or an "
        "OVERSELL_RISK is open for the SKU."
    )
    async def confidence(self, info: strawberry.Info[GatewayContext, None]) -> Confidence:
        services = info.context.services
        settings = services.settings
        rules = FreshnessRules(
            fresh=timedelta(seconds=settings.fresh_seconds),
            keep=timedelta(seconds=settings.cache_ttl_stock_seconds),
            source_stale=(
                None
                if settings.routing.source_stale_after_seconds is None
                else timedelta(seconds=settings.routing.source_stale_after_seconds)
            ),
        )
        risk = await info.context.oversell.load(self.sku)
        return confidence(
            self.via,
            self.observed_at,
            self.as_of,
            services.truth.now(),
            rules,
            oversell_risk=risk is not None,
        )

    @classmethod
    def from_domain(cls, row: domain.NodeAvailability) -> LocationAvailability:
        return cls(
            sku=row.sku,
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
            observed_at=row.fetched_at,
            via=row.via,
            distance_km=row.distance_km,
        )


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
