from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import strawberry

from gateway import domain
from gateway.domain.freshness import FreshnessRules, confidence
from gateway.errors import BackendUnavailable
from resolvers.cost import NODES, assumed
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
    stale: bool = strawberry.field(
        description="Served from the last good copy because its source could not be asked "
        "(down, failing or too slow): asOf and observedAt say how old it is, confidence is "
        "LOW, and availableToPromise keeps back RESILIENCE__STALE_SAFETY_PERCENT more "
        "(at least RESILIENCE__STALE_SAFETY_UNITS), counted in safetyStock."
    )
    distance_km: float | None
    sku: strawberry.Private[str]

    @strawberry.field(
        description="HIGH: confirmed by an event or a poll, or read within the fresh window "
        "(FRESH_SECONDS); MEDIUM: read within the cache's time to live; LOW: stale (served "
        "from the last good copy, kept past the time to live, or not stated by its source "
        "for longer than the router accepts), or an OVERSELL_RISK is open for the SKU."
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
            stale=self.stale,
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
            stale=row.stale,
            distance_km=row.distance_km,
        )


@strawberry.type(description="Where a SKU can be had, and how many in total.")
class ProductAvailability:
    sku: str
    channel: Channel | None
    availability: strawberry.Private[domain.Availability]

    @strawberry.field(
        description="The sum of availableToPromise over the locations; null, with a "
        "BACKEND_UNAVAILABLE error naming the backend, while one of them cannot be had."
    )
    def total_available(self) -> int | None:
        missing = self.availability.unavailable
        if missing:
            raise _unavailable(missing[0], "the total is not known")
        return self.availability.total_available

    @strawberry.field(
        description="One entry per location, in the order asked. A location whose backend "
        "failed, with no copy of its figures kept, is null with a BACKEND_UNAVAILABLE error "
        "naming the backend; the others are answered.",
        directives=[assumed(NODES)],
    )
    def locations(self) -> list[LocationAvailability | None]:
        # An exception in a list is raised by graphql-core at that item: null there, an
        # error with its path, and the rest of the list answered.
        return [
            LocationAvailability.from_domain(entry)
            if isinstance(entry, domain.NodeAvailability)
            else _unavailable(entry, f"no figures for {entry.location.id}")  # type: ignore[misc]
            for entry in self.availability.entries
        ]

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
        return cls(sku=availability.sku, channel=availability.channel, availability=availability)


def _unavailable(node: domain.NodeUnavailable, what: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"{what}: {node.reason}", backend=node.backend, location_id=node.location.id
    )
