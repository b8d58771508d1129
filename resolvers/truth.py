"""Queries and mutations of one truth for stock: the policy, the discrepancy queue, a
reconcile on demand, and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from gateway.domain.truth import DiscrepancyStatus as DomainStatus
from gateway.errors import BadUserInput
from gateway.ports.storage import DiscrepancyFilter as DomainFilter
from resolvers.context import GatewayContext
from resolvers.cost import costs, sliced_by
from resolvers.cursors import cursor, parse_cursor
from resolvers.permissions import ADMIN, OPS, allow
from resolvers.types.common import PageInfo
from resolvers.types.truth import (
    AuditConnection,
    AuditEdge,
    AuditEntry,
    AuditKind,
    Discrepancy,
    DiscrepancyConnection,
    DiscrepancyEdge,
    DiscrepancyFilter,
    DiscrepancySummary,
    ReconcileReport,
    Resolution,
    SourceOfTruth,
)

Info = strawberry.Info[GatewayContext, None]
IdempotencyKey = Annotated[
    str, strawberry.argument(description="Unique per intended change; retries reuse it.")
]
MAX_WINDOW_HOURS = 24 * 366


def _first(info: Info, first: int) -> int:
    limit = info.context.services.settings.max_page_size
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be 1 to {limit}", field="first")
    return first


def _page_info(cursors: list[str], more: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=more,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


@strawberry.type
class TruthQuery:
    @strawberry.field(
        permission_classes=allow(OPS, ADMIN),
        description="Which system is right about which figure, and which copies follow.",
    )
    def source_of_truth(self, info: Info) -> SourceOfTruth | None:
        return SourceOfTruth.from_domain(info.context.services.truth.source_of_truth())

    @strawberry.field(
        permission_classes=allow(OPS),
        description="The discrepancy queue, soonest due first (Relay connection).",
        directives=[sliced_by("first", edges=True)],
    )
    async def discrepancies(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: DiscrepancyFilter | None = None,
    ) -> DiscrepancyConnection | None:
        services = info.context.services
        now = services.truth.now()
        where = DomainFilter(
            status=[DomainStatus(s) for s in filter.status]
            if filter and filter.status
            else [DomainStatus.OPEN, DomainStatus.ACKNOWLEDGED],
            kind=filter.kind if filter else None,
            owner=filter.owner if filter else None,
            severity=filter.severity if filter else None,
            sku=filter.sku if filter else None,
            order_id=filter.order_id if filter else None,
            overdue_at=now if filter and filter.overdue else None,
        )
        page, more = await services.truth.page(
            where, _first(info, first), None if after is None else parse_cursor(after)
        )
        edges = [
            DiscrepancyEdge(cursor=cursor(d.due_at, d.id), node=Discrepancy.from_domain(d, now))
            for d in page
        ]
        return DiscrepancyConnection(
            edges=edges, page_info=_page_info([e.cursor for e in edges], more, after)
        )

    @strawberry.field(
        permission_classes=allow(OPS), description="One discrepancy by id, with its history."
    )
    async def discrepancy(self, info: Info, id: strawberry.ID) -> Discrepancy | None:
        services = info.context.services
        found = await services.truth.get(str(id))
        return Discrepancy.from_domain(found, services.truth.now())

    @strawberry.field(
        permission_classes=allow(OPS),
        description="Open discrepancies by kind, owner and severity; overdue; speed.",
    )
    async def discrepancy_summary(
        self, info: Info, window_hours: float = 168.0
    ) -> DiscrepancySummary | None:
        if not 0 < window_hours <= MAX_WINDOW_HOURS:
            raise BadUserInput(
                f"windowHours must be above 0 and at most {MAX_WINDOW_HOURS}", field="windowHours"
            )
        summary = await info.context.services.truth.summary(timedelta(hours=window_hours))
        return DiscrepancySummary.from_domain(summary)

    @strawberry.field(
        permission_classes=allow(OPS),
        description="Every stock and price change made or seen, newest first.",
        directives=[sliced_by("first", edges=True)],
    )
    async def audit_trail(
        self,
        info: Info,
        sku: str | None = None,
        location_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        kinds: list[AuditKind] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditConnection | None:
        last = None
        if after is not None:
            at, last_id = parse_cursor(after)
            if not last_id.isdigit():
                raise BadUserInput(f"{after!r} is not a cursor from this API", field="after")
            last = (at, int(last_id))
        page, more = await info.context.services.truth.audit_trail(
            sku=sku,
            location_id=None if location_id is None else str(location_id),
            start=from_,
            end=to,
            kinds=kinds,
            first=_first(info, first),
            after=last,
        )
        edges = [
            AuditEdge(cursor=cursor(e.at, e.id or 0), node=AuditEntry.from_domain(e)) for e in page
        ]
        return AuditConnection(
            edges=edges, page_info=_page_info([e.cursor for e in edges], more, after)
        )


@strawberry.type
class TruthMutation:
    @strawberry.mutation(permission_classes=allow(OPS), description="Someone is on it.")
    async def acknowledge_discrepancy(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        note: str | None = None,
    ) -> Discrepancy:
        services = info.context.services
        record = await services.truth.acknowledge(str(id), note, idempotency_key)
        return Discrepancy.from_domain(record, services.truth.now())

    @strawberry.mutation(
        permission_classes=allow(OPS), description="Hand a discrepancy to another owner."
    )
    async def assign_discrepancy(
        self,
        info: Info,
        id: strawberry.ID,
        owner: str,
        idempotency_key: IdempotencyKey,
        note: str | None = None,
    ) -> Discrepancy:
        services = info.context.services
        record = await services.truth.assign(str(id), owner, note, idempotency_key)
        return Discrepancy.from_domain(record, services.truth.now())

    @strawberry.mutation(
        permission_classes=allow(OPS),
        description="Close a discrepancy: FIXED, ACCEPTED, or COMPENSATE.",
    )
    async def resolve_discrepancy(
        self,
        info: Info,
        id: strawberry.ID,
        resolution: Resolution,
        idempotency_key: IdempotencyKey,
        note: str | None = None,
    ) -> Discrepancy:
        services = info.context.services
        record = await services.truth.resolve(str(id), resolution, note, idempotency_key)
        return Discrepancy.from_domain(record, services.truth.now())

    @strawberry.mutation(
        permission_classes=allow(OPS),
        description="Compare these SKUs' copies with the truth now (at most 500). Safe to "
        "repeat: it changes only what disagrees, so it takes no idempotency key.",
        directives=[costs(50)],
    )
    async def reconcile_now(self, info: Info, skus: list[str]) -> ReconcileReport:
        report = await info.context.services.truth.reconcile(skus)
        return ReconcileReport.from_domain(report)
