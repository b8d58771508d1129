"""One truth for stock: disagreements between a system's copy and the truth, as an owned
queue, and the audit trail of every stock and price change.

A *discrepancy* is one disagreement, keyed by (kind, SKU, location, the copy's system,
order). Stock figures' disagreements name no order; an order's exceptions (it could not be
allocated) name it, and sit in the same owned queue:

    OPEN ──acknowledge──> ACKNOWLEDGED ──resolve──> RESOLVED
      │                        │
      └─── the sides agree again ──> AUTO_RESOLVED
    RESOLVED / AUTO_RESOLVED ──the same disagreement seen again──> OPEN (reopened)

There is never more than one record per key: a disagreement seen again reopens its record,
and every change is kept in the record's history with who made it, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.catalog import Money, SourceSystem
from gateway.domain.outbox import OutboxMessage


class DiscrepancyKind(StrEnum):
    OVERSELL_RISK = "OVERSELL_RISK"  # the copy shows more than can be promised
    LOST_SALES = "LOST_SALES"  # it shows less (or sold out) while stock can be promised
    STATUS_MISMATCH = "STATUS_MISMATCH"  # its stock status or backorder flag contradicts it
    MAPPING_MISSING = "MAPPING_MISSING"  # a SKU one system has and another lacks
    BARCODE_CONFLICT = "BARCODE_CONFLICT"  # one barcode on two items, or barcodes that differ
    ITEM_MASTER_MISMATCH = "ITEM_MASTER_MISMATCH"  # a field the ERP owns, copied differently
    PRICE_CHANGED = "PRICE_CHANGED"  # a channel's price jumped more than policy allows
    LEDGER_INCONSISTENCY = "LEDGER_INCONSISTENCY"  # the gateway's ledger and a source disagree
    COUNT_VARIANCE = "COUNT_VARIANCE"  # a cycle count found the shelf far from the book
    # An order's exceptions (their key names the order):
    UNALLOCATABLE_ORDER = "UNALLOCATABLE_ORDER"  # an order no node can fill was not accepted
    WRITE_FAILED = "WRITE_FAILED"  # a write the order owes a system was dead-lettered
    ORDER_STATE_MISMATCH = "ORDER_STATE_MISMATCH"  # a system contradicts the order's status
    SHORT_HOLD = "SHORT_HOLD"  # units held for an order were sold at the till

    @property
    def of_order(self) -> bool:
        return self in ORDER_KINDS


ORDER_KINDS = frozenset(
    {
        DiscrepancyKind.UNALLOCATABLE_ORDER,
        DiscrepancyKind.WRITE_FAILED,
        DiscrepancyKind.ORDER_STATE_MISMATCH,
        DiscrepancyKind.SHORT_HOLD,
    }
)


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class DiscrepancyStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    AUTO_RESOLVED = "AUTO_RESOLVED"

    @property
    def is_open(self) -> bool:
        return self in (DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED)


class Enforcement(StrEnum):
    ENFORCE = "ENFORCE"  # push the truth to the copy (through the outbox)
    FLAG = "FLAG"  # queue it for its owner only


class Resolution(StrEnum):
    FIXED = "FIXED"  # someone corrected a system
    ACCEPTED = "ACCEPTED"  # not a problem (a deliberate price change, a known gap)
    COMPENSATE = "COMPENSATE"  # apply the compensating write a ledger check proposed


@dataclass(frozen=True, slots=True)
class Figure:
    """One side of a disagreement: what a system says, as of when."""

    system: SourceSystem
    value: str
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class DiscrepancyKey:
    kind: DiscrepancyKind
    sku: str
    location_id: str  # "" for a figure of no one node (the web shop's stock)
    system: SourceSystem  # the system whose copy disagrees
    order_id: str = ""  # the order an order exception is about ("" for stock figures)


@dataclass(frozen=True, slots=True)
class Finding:
    """A disagreement a rule found in one read: what the queue opens or updates."""

    key: DiscrepancyKey
    truth: Figure
    copy: Figure
    severity: Severity
    rule: str  # which rule decided, in words a support agent can read
    delta: int | None = None  # units the copy is off by (copy - truth), where units apply
    at_stake: Money | None = None  # delta's worth at the SKU's price
    category: str | None = None  # the item's category, for owner rules
    location_type: str | None = None  # WAREHOUSE or STORE, for owner rules
    # The compensating writes a ledger check proposes (applied by resolving COMPENSATE).
    proposal: tuple[OutboxMessage, ...] = ()


class HistoryAction(StrEnum):
    OPENED = "OPENED"
    UPDATED = "UPDATED"  # seen again with other figures
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ASSIGNED = "ASSIGNED"
    ENFORCED = "ENFORCED"  # the truth was pushed to the copy
    RESOLVED = "RESOLVED"
    AUTO_RESOLVED = "AUTO_RESOLVED"
    REOPENED = "REOPENED"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    action: HistoryAction
    actor: str  # "gateway", "reconciler", a person or an API caller
    status: DiscrepancyStatus  # after the change
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Discrepancy:
    id: str
    key: DiscrepancyKey
    severity: Severity
    truth: Figure
    copy: Figure
    rule: str
    owner: str
    due_at: datetime
    status: DiscrepancyStatus
    opened_at: datetime
    updated_at: datetime
    delta: int | None = None
    at_stake: Money | None = None
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    history: tuple[HistoryEntry, ...] = ()
    proposal: tuple[OutboxMessage, ...] = ()

    def overdue(self, now: datetime) -> bool:
        return self.status.is_open and self.due_at <= now


class AuditKind(StrEnum):
    # Made by the gateway (recorded in the same transaction as the change):
    STOCK_COMMITTED = "STOCK_COMMITTED"  # a hold written to its source (sale, Sales Order)
    STOCK_RELEASED = "STOCK_RELEASED"  # a committed hold given back at its source
    RESTOCKED = "RESTOCKED"  # a returned unit back on the shelf at its source
    STOREFRONT_STOCK_SET = "STOREFRONT_STOCK_SET"  # the web copy set to the truth
    BARCODE_ASSIGNED = "BARCODE_ASSIGNED"  # an internal barcode written to the ERP item
    SHRINK = "SHRINK"  # a cycle count found fewer units than the book (with their value)
    GAIN = "GAIN"  # a cycle count found more
    # Seen between two reads of a backend:
    STOCK_CHANGED = "STOCK_CHANGED"
    PRICE_CHANGED = "PRICE_CHANGED"
    ITEM_CHANGED = "ITEM_CHANGED"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stock or price change, made or observed. Never updated, never deleted."""

    at: datetime
    kind: AuditKind
    system: SourceSystem  # where the change happened
    actor: str  # "gateway", an API caller, or the backend ("erpnext", "woocommerce", ...)
    sku: str
    field: str  # "stock_quantity", "price", "available_to_promise", "name", ...
    before: str | None
    after: str | None
    location_id: str = ""
    reference: str | None = None  # the order, reservation, delivery or reconcile run
    id: int | None = None  # assigned when stored


@dataclass(frozen=True, slots=True)
class Observation:
    """The last value the gateway read for one field of one SKU at one system, and when it
    first read it: the next read that sees another value is a change worth recording. A
    read that sees the same value writes nothing (a full reconcile reads 400,000 of them)."""

    system: SourceSystem
    sku: str
    field: str
    value: str
    seen_at: datetime
    location_id: str = ""
