"""One truth for stock as GraphQL: the policy, discrepancies, reconcile reports, the audit
trail."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import truth as domain
from gateway.truth.policy import SourceOfTruth as DomainSourceOfTruth
from gateway.truth.reconciler import ReconcileReport as DomainReconcileReport
from gateway.truth.service import QueueSummary
from resolvers.types.common import Money, NodeType, PageInfo, SourceSystem

DiscrepancyKind = domain.DiscrepancyKind
strawberry.enum(
    DiscrepancyKind, description="What kind of disagreement between a copy and its truth."
)
Severity = domain.Severity
strawberry.enum(Severity, description="From the money at stake (units x price), or the kind's own.")
DiscrepancyStatus = domain.DiscrepancyStatus
strawberry.enum(DiscrepancyStatus)
Enforcement = domain.Enforcement
strawberry.enum(
    Enforcement, description="ENFORCE: the gateway pushes the truth to the copy. FLAG: queued only."
)
Resolution = domain.Resolution
strawberry.enum(Resolution)
HistoryAction = domain.HistoryAction
strawberry.enum(HistoryAction, name="DiscrepancyAction")
AuditKind = domain.AuditKind
strawberry.enum(AuditKind, description="A stock or price change the gateway made or saw.")


@strawberry.type(description="Which system is right about a figure at a node type.")
class Authority:
    figure: str
    node_type: NodeType | None
    system: SourceSystem
    why: str


@strawberry.type
class KindEnforcement:
    kind: DiscrepancyKind
    enforcement: Enforcement


@strawberry.type(description="A copy a system keeps of a figure, and what it must follow.")
class ConsumerCopy:
    system: SourceSystem
    figure: str
    follows: str
    buffer: int
    enforcement: list[KindEnforcement]


@strawberry.type(description="Who is right about what: ask here before asking engineering.")
class SourceOfTruth:
    authorities: list[Authority]
    copies: list[ConsumerCopy]
    oversell_risk_promise_cap: int | None = strawberry.field(
        description="While a SKU has an open OVERSELL_RISK, each node promises at most this "
        "many units of it, holds outstanding included (0: none); null when not capped."
    )

    @classmethod
    def from_domain(cls, policy: DomainSourceOfTruth) -> SourceOfTruth:
        return cls(
            authorities=[
                Authority(figure=a.figure, node_type=a.node_type, system=a.system, why=a.why)
                for a in policy.authorities
            ],
            copies=[
                ConsumerCopy(
                    system=c.system,
                    figure=c.figure,
                    follows=c.follows,
                    buffer=c.buffer,
                    enforcement=[
                        KindEnforcement(kind=k, enforcement=c.enforcement[k]) for k in c.kinds
                    ],
                )
                for c in policy.copies
            ],
            oversell_risk_promise_cap=policy.oversell_risk_promise_cap,
        )


@strawberry.type(description="One side of a disagreement: what a system says, as of when.")
class Figure:
    system: SourceSystem
    value: str
    as_of: datetime | None

    @classmethod
    def of(cls, figure: domain.Figure) -> Figure:
        return cls(system=figure.system, value=figure.value, as_of=figure.as_of)


@strawberry.type
class DiscrepancyEvent:
    at: datetime
    action: HistoryAction
    actor: str
    status: DiscrepancyStatus
    note: str | None


@strawberry.type(description="A disagreement between a copy and its truth, owned until it ends.")
class Discrepancy:
    id: strawberry.ID
    kind: DiscrepancyKind
    severity: Severity
    sku: str = strawberry.field(description="Empty for an order's exception about no one SKU.")
    location_id: strawberry.ID | None
    order_id: strawberry.ID | None = strawberry.field(
        description="The order an order's exception is about."
    )
    system: SourceSystem = strawberry.field(description="The system whose copy disagrees.")
    systems: list[SourceSystem] = strawberry.field(description="The truth's and the copy's.")
    truth: Figure
    copy: Figure
    delta: int | None = strawberry.field(description="Units the copy is off by (copy - truth).")
    at_stake: Money | None = strawberry.field(description="The delta's worth at the SKU's price.")
    rule: str = strawberry.field(description="The rule that decided, in words.")
    owner: str
    due_at: datetime
    overdue: bool
    status: DiscrepancyStatus
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: Resolution | None
    history: list[DiscrepancyEvent]

    @classmethod
    def from_domain(cls, d: domain.Discrepancy, now: datetime) -> Discrepancy:
        return cls(
            id=strawberry.ID(d.id),
            kind=d.key.kind,
            severity=d.severity,
            sku=d.key.sku,
            location_id=strawberry.ID(d.key.location_id) if d.key.location_id else None,
            order_id=strawberry.ID(d.key.order_id) if d.key.order_id else None,
            system=d.key.system,
            systems=list(dict.fromkeys([d.truth.system, d.copy.system])),
            truth=Figure.of(d.truth),
            copy=Figure.of(d.copy),
            delta=d.delta,
            at_stake=Money.from_domain(d.at_stake),
            rule=d.rule,
            owner=d.owner,
            due_at=d.due_at,
            overdue=d.overdue(now),
            status=d.status,
            opened_at=d.opened_at,
            updated_at=d.updated_at,
            resolved_at=d.resolved_at,
            resolution=d.resolution,
            history=[
                DiscrepancyEvent(
                    at=h.at, action=h.action, actor=h.actor, status=h.status, note=h.note
                )
                for h in d.history
            ],
        )


@strawberry.type
class DiscrepancyEdge:
    cursor: str
    node: Discrepancy


@strawberry.type
class DiscrepancyConnection:
    edges: list[DiscrepancyEdge]
    page_info: PageInfo


@strawberry.input
class DiscrepancyFilter:
    status: list[DiscrepancyStatus] | None = strawberry.field(
        default=None, description="Default: OPEN and ACKNOWLEDGED."
    )
    kind: DiscrepancyKind | None = None
    owner: str | None = None
    severity: Severity | None = None
    sku: str | None = None
    order_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the exceptions about this order."
    )
    overdue: bool | None = strawberry.field(default=None, description="Only those past due.")


@strawberry.type
class KindCount:
    kind: DiscrepancyKind
    count: int


@strawberry.type
class OwnerCount:
    owner: str
    count: int


@strawberry.type
class SeverityCount:
    severity: Severity
    count: int


@strawberry.type(description="The open queue at a glance, and how fast it is worked off.")
class DiscrepancySummary:
    open: int
    by_kind: list[KindCount]
    by_owner: list[OwnerCount]
    by_severity: list[SeverityCount]
    overdue: int
    resolved_in_window: int
    mean_seconds_to_resolve: float | None = strawberry.field(
        description="Over the records resolved (by a person or by themselves) in the window."
    )
    window_hours: float

    @classmethod
    def from_domain(cls, summary: QueueSummary) -> DiscrepancySummary:
        counts = summary.counts
        return cls(
            open=sum(counts.by_kind.values()),
            by_kind=[KindCount(kind=k, count=n) for k, n in sorted(counts.by_kind.items())],
            by_owner=[OwnerCount(owner=o, count=n) for o, n in sorted(counts.by_owner.items())],
            by_severity=[
                SeverityCount(severity=s, count=n)
                for s, n in sorted(counts.by_severity.items(), key=lambda p: -p[0].rank)
            ],
            overdue=counts.overdue,
            resolved_in_window=counts.resolved,
            mean_seconds_to_resolve=summary.mean_seconds_to_resolve,
            window_hours=summary.window.total_seconds() / 3600,
        )


@strawberry.type(description="What one reconcile read and changed.")
class ReconcileReport:
    started_at: datetime
    pages: int
    skus: int
    findings: list[KindCount]
    opened: int
    changed: int
    auto_resolved: int
    pushed: int = strawberry.field(description="Storefront listings owed the truth.")
    changes_seen: int = strawberry.field(description="Changes seen since the last read.")
    seconds: float

    @classmethod
    def from_domain(cls, report: DomainReconcileReport) -> ReconcileReport:
        return cls(
            started_at=report.started,
            pages=report.pages,
            skus=report.skus,
            findings=[KindCount(kind=k, count=n) for k, n in sorted(report.findings.items())],
            opened=report.opened,
            changed=report.changed,
            auto_resolved=report.auto_resolved,
            pushed=report.pushed,
            changes_seen=report.changes_seen,
            seconds=round(report.seconds, 3),
        )


@strawberry.type(description="One stock or price change, made or seen. Never changed.")
class AuditEntry:
    id: strawberry.ID
    at: datetime
    kind: AuditKind
    system: SourceSystem = strawberry.field(description="Where the change happened.")
    actor: str = strawberry.field(description="gateway, the API caller, or the backend.")
    sku: str
    location_id: strawberry.ID | None
    field: str
    before: str | None
    after: str | None
    reference: str | None

    @classmethod
    def from_domain(cls, e: domain.AuditEntry) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(e.id)),
            at=e.at,
            kind=e.kind,
            system=e.system,
            actor=e.actor,
            sku=e.sku,
            location_id=strawberry.ID(e.location_id) if e.location_id else None,
            field=e.field,
            before=e.before,
            after=e.after,
            reference=e.reference,
        )


@strawberry.type
class AuditEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditConnection:
    edges: list[AuditEdge]
    page_info: PageInfo
