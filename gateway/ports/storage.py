"""The gateway's own records behind small ports: a unit of work and one repository per
aggregate. ``gateway/persistence/`` implements them over SQLAlchemy (PostgreSQL, SQLite);
services speak only these.

A unit of work is one transaction. Everything a change writes (the change itself, the
idempotency claim, the outbox messages it owes) goes through the repositories of one unit of
work and is committed together by ``commit()``; leaving the block without committing rolls
it all back, so a request that fails half-way records nothing.

    async with uow_factory() as uow:
        order = await uow.orders.get(order_id, for_update=True)
        ...
        await uow.outbox.add(messages, now)
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from gateway.domain import Money, SourceSystem, StockReading, StoreSum
from gateway.domain.cycle_counts import RecordedCount
from gateway.domain.documents import WebOrderLine
from gateway.domain.events import WebhookEvent
from gateway.domain.idempotency import Claim, FirstUse
from gateway.domain.orders import (
    Disposition,
    Order,
    OrderChanges,
    OrderEvent,
    OrderFilter,
    OrderStatus,
    ReturnRequest,
    ReturnStatus,
    StoredDecision,
    SystemRecord,
)
from gateway.domain.outbox import Delivery, DeliveryStatus, OutboxMessage, WriteResult
from gateway.domain.picking import Substitution
from gateway.domain.principal import StoredKey
from gateway.domain.reservations import HoldRequest, OrderHold, Reservation, ReservationStatus
from gateway.domain.truth import (
    AuditEntry,
    AuditKind,
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    DiscrepancyStatus,
    Observation,
    Severity,
)

# (created_at, id) of the last order a page ended on.
OrderCursor = tuple[datetime, str]


class IdempotencyStore(Protocol):
    async def claim(self, claim: Claim, now: datetime) -> FirstUse | None:
        """Record the claim, or return the key's first use when it was claimed before. Two
        concurrent claims of one key: the second waits for the first to commit or roll
        back, so exactly one of them goes on."""
        ...

    async def first_use(self, key: str) -> FirstUse | None:
        """A read-only look, before expensive work: a retried request returns at once."""
        ...


class HoldTaker(Protocol):
    """Takes holds without ever promising a unit twice (PostgreSQL and SQLite each have
    their own; ``gateway/app.py`` chooses)."""

    async def take(self, hold: HoldRequest, *, now: datetime) -> None:
        """Lock the (SKU, node) positions, read the ledger under the lock, refuse what is
        not there (InsufficientStock), and write the reservation and its holds."""
        ...


class Reservations(Protocol):
    async def get(self, reservation_id: str, *, for_update: bool = False) -> Reservation | None: ...

    async def confirmed_of_order(self, order_id: str) -> list[Reservation]: ...

    async def shrink_hold(self, reservation_id: str, sku: str, location_id: str, by: int) -> None:
        """``by`` fewer units of ``sku`` held at ``location_id`` by that reservation."""
        ...

    async def order_holds(self, order_statuses: Sequence[str]) -> list[OrderHold]:
        """Every held unit of the orders in these statuses (confirmed holds)."""
        ...

    async def update(
        self,
        reservation_id: str,
        now: datetime,
        *,
        status: ReservationStatus | None = None,
        expires_at: datetime | None = None,
    ) -> None: ...

    async def release_order(self, order_id: str, now: datetime) -> None:
        """Every hold of the order given back."""
        ...

    async def expire_due(self, now: datetime, limit: int) -> tuple[int, list[str]]:
        """ACTIVE holds past their time become EXPIRED: how many, and the SKUs they held.
        Rows another process is expiring meanwhile are skipped, not waited for."""
        ...

    async def settle_holds(
        self, owner: str, location_id: str, now: datetime, sku: str | None = None
    ) -> list[str]:
        """The source now carries the holds of ``owner`` (a reservation or an order) at
        ``location_id`` (of ``sku`` alone if given): stamp them applied; their SKUs."""
        ...

    async def held_skus(self, owner: str) -> list[str]: ...

    async def live_owners(self, owners: Sequence[str]) -> set[str]:
        """The owners (reservation or order ids) that still hold confirmed units."""
        ...

    async def units_changed_since(self, skus: Sequence[str], since: datetime) -> dict[str, int]:
        """Per SKU, units of holds taken, confirmed, released or expired since ``since``, plus
        units of holds their source recorded since then: what a copy of the stock figures
        may not show yet, or a reading may count twice for a moment."""
        ...


class OrderAlreadyRecorded(Exception):
    """``Orders.add`` of an order whose id or web order another writer recorded first."""


class Orders(Protocol):
    async def add(self, order: Order, *, web_lines: Sequence[WebOrderLine] = ()) -> None:
        """``web_lines``: the WooCommerce lines of an imported web order, kept beside the
        canonical lines that point at them, for exact refunds. Raises
        ``OrderAlreadyRecorded`` when the order (or its web order) is there already."""
        ...

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...

    async def exists(self, order_id: str) -> bool: ...

    async def find_by_web_order(self, web_order_id: int) -> Order | None: ...

    async def find_by_oms_order(self, oms_order_id: str) -> str | None:
        """The gateway order the OMS holds as this order (its gid)."""
        ...

    async def page(
        self, where: OrderFilter, *, first: int, after: OrderCursor | None
    ) -> tuple[list[Order], bool]:
        """Newest first; whether more follow."""
        ...

    async def due_no_shows(self, now: datetime, limit: int) -> list[str]: ...

    async def change_units(
        self, order_id: str, location_id: str, changes: Sequence[tuple[str, int]], unit_price: Money
    ) -> None:
        """Each SKU's units at the node moved by its delta (a fall off its line, a rise a new
        line at ``unit_price``); the order's total follows."""
        ...

    async def open_at_node(self, location_id: str, statuses: Sequence[OrderStatus]) -> list[Order]:
        """Orders in these statuses for pickup at the node or with a line it fills."""
        ...

    async def of_node(self, location_id: str, start: datetime, end: datetime) -> list[Order]:
        """Orders placed in [start, end) for pickup at the node or with a line it fills,
        with their events, oldest first."""
        ...

    async def to_watch(self, since: datetime, after_id: str, limit: int) -> list[str]:
        """Ids of orders not yet RETURNED and placed since ``since``, by id after
        ``after_id`` (the order-state check pages through them; placed, not changed: the
        check itself records each system's status, which would keep every order in)."""
        ...

    async def move_status(self, order_id: str, event: OrderEvent, changes: OrderChanges) -> None:
        """The order becomes ``event.to_status`` with ``changes``; the event joins its
        timeline."""
        ...

    async def update(self, order_id: str, at: datetime, changes: OrderChanges) -> None: ...

    async def add_event(self, order_id: str, event: OrderEvent) -> None: ...

    async def heard_from(
        self, order_id: str, systems: Sequence[SystemRecord], at: datetime
    ) -> None:
        """The records' last sync time moved to ``at`` (nothing about the order changed)."""
        ...

    async def move_units(
        self, order_id: str, sku: str, from_location: str, to_location: str, quantity: int
    ) -> None:
        """``quantity`` of the order's ``sku`` now ships from ``to_location``."""
        ...

    async def web_lines(self, order_id: str) -> dict[int, WebOrderLine]:
        """The WooCommerce figures of an order's web lines, by line item id."""
        ...


class Returns(Protocol):
    async def add(self, request: ReturnRequest) -> None: ...

    async def units_returned(self, location_id: str, start: datetime, end: datetime) -> int:
        """Units of the returns requested in [start, end) that come back to the node."""
        ...

    async def incoming_not_restocked(self, location_id: str, skus: Sequence[str]) -> dict[str, int]:
        """Per SKU, units of returns counted as incoming at the node whose disposition is
        not RESTOCK: expected back, but not for its shelf."""
        ...

    async def get(
        self, return_id: str, *, currency: str | None = None, for_update: bool = False
    ) -> ReturnRequest | None: ...

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[ReturnRequest]]:
        """Every return of each order, oldest first, in a fixed number of queries."""
        ...

    async def line_ids(self, return_id: str) -> list[int]:
        """The ids of a return's lines, in the order of its lines."""
        ...

    async def mark_received(self, return_id: str, at: datetime) -> None: ...

    async def received_by_sku(self, order_id: str) -> dict[str, int]:
        """Units of an order already back at a node, per SKU."""
        ...

    async def mark_lines_applied(self, line_ids: Sequence[int], at: datetime) -> None: ...

    async def decide(self, line_id: int, disposition: Disposition, at: datetime) -> None:
        """A line awaiting a decision restocked (RESTOCK) or written off (DISPOSE)."""
        ...

    async def update(
        self,
        return_id: str,
        at: datetime,
        *,
        status: ReturnStatus | None = None,
        oms_return_id: str | None = None,
        web_refund_id: int | None = None,
    ) -> None: ...


class RoutingDecisions(Protocol):
    async def add(self, decision: StoredDecision) -> None: ...

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, StoredDecision]: ...

    async def units_routed_since(self, since: Mapping[str, datetime]) -> dict[str, int]:
        """Per node, units of live orders routed to it since ``since[node]``."""
        ...

    async def units_sold_since(
        self, skus: Sequence[str], since: datetime
    ) -> dict[tuple[str, str], int]:
        """Per (SKU, node), units of live orders since ``since``."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """The writes owed to one backend in one unsettled state: how many, and when the oldest
    of them was made."""

    target: SourceSystem
    status: DeliveryStatus
    messages: int
    oldest_created_at: datetime


class Outbox(Protocol):
    """Writes owed to backends (gateway.domain.outbox), committed with the change that owes
    them and delivered by the outbox worker."""

    async def add(self, messages: Sequence[OutboxMessage], now: datetime) -> None: ...

    @property
    def owed(self) -> int:
        """How many messages this unit of work made due (added or revived): once it
        commits, the outbox worker has work."""
        ...

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due messages whose predecessors (same ordering key) are done."""
        ...

    async def mark_delivered(
        self, delivery_id: int, result: WriteResult, now: datetime
    ) -> None: ...

    async def mark_failed(self, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Back to PENDING until ``retry_at``, or DEAD without one; only while in flight."""
        ...

    async def revive(self, delivery_id: int, now: datetime) -> Delivery | None:
        """A DEAD message back to PENDING with a fresh retry budget; None if not dead."""
        ...

    async def skip(self, delivery_id: int, reason: str, now: datetime) -> Delivery | None:
        """A DEAD message SKIPPED (never to be sent; those behind it go); None if not dead."""
        ...

    async def get(self, delivery_id: int) -> Delivery | None: ...

    async def result_of(self, reference: str) -> dict[str, Any] | None:
        """What the backend answered to the delivered message with this reference, as
        stored (a WriteResult's JSON)."""
        ...

    async def dead(self, *, limit: int, ordering_key: str | None = None) -> list[Delivery]: ...

    async def for_key(self, ordering_key: str) -> list[Delivery]: ...

    async def for_keys(self, ordering_keys: Sequence[str]) -> list[Delivery]: ...

    async def delivered(self, kind: str) -> list[tuple[Delivery, dict[str, Any]]]:
        """Messages of one kind the backend confirmed, with what it answered."""
        ...

    async def undelivered(self, kind: str, *, ids: Sequence[int] | None = None) -> list[Delivery]:
        """Messages of one kind still to be delivered (pending or in flight); only those of
        ``ids`` when given."""
        ...

    async def undelivered_ids(self, kind: str) -> list[int]:
        """The ids of ``undelivered(kind)``, without reading the messages."""
        ...

    async def backlog(self) -> list[OutboxBacklog]:
        """Pending, in-flight and dead messages by target and state, counted in the
        database; pairs with none are left out."""
        ...


@dataclass(frozen=True, slots=True)
class DiscrepancyFilter:
    status: Sequence[DiscrepancyStatus] | None = None  # None: any
    kind: DiscrepancyKind | None = None
    owner: str | None = None
    severity: Severity | None = None
    sku: str | None = None
    order_id: str | None = None
    overdue_at: datetime | None = None  # only records still open and due by then


# (due_at, id) of the last discrepancy a page ended on; (at, id) of the last audit entry.
QueueCursor = tuple[datetime, str]
AuditCursor = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Open discrepancies by kind, owner and severity, those overdue, and the records
    resolved within the window with how long each was open."""

    by_kind: Mapping[DiscrepancyKind, int]
    by_owner: Mapping[str, int]
    by_severity: Mapping[Severity, int]
    overdue: int
    resolved: int
    resolution_seconds: float  # the sum over ``resolved``


@dataclass(frozen=True, slots=True)
class OpenTally:
    """The open discrepancies of one kind, and how many of them are past their due time."""

    open: int
    overdue: int


class Discrepancies(Protocol):
    async def of_skus(self, skus: Sequence[str]) -> dict[DiscrepancyKey, Discrepancy]:
        """Every record of these SKUs, in any status, by key (one per key)."""
        ...

    async def of_orders(self, order_ids: Sequence[str]) -> dict[DiscrepancyKey, Discrepancy]:
        """Every exception about these orders, in any status, by key (oldest first)."""
        ...

    async def get(self, discrepancy_id: str, *, for_update: bool = False) -> Discrepancy | None: ...

    async def by_ids(self, ids: Sequence[str]) -> list[Discrepancy]: ...

    async def add(self, records: Sequence[Discrepancy]) -> None: ...

    async def save(self, records: Sequence[Discrepancy]) -> None:
        """Store each record's fields and the history entries it has that are not stored
        yet (history is only ever appended)."""
        ...

    async def page(
        self, where: DiscrepancyFilter, *, first: int, after: QueueCursor | None
    ) -> tuple[list[Discrepancy], bool]:
        """The worklist: soonest due first; whether more follow."""
        ...

    async def counts(self, now: datetime, resolved_since: datetime) -> QueueCounts: ...

    async def open_by_kind(self, now: datetime) -> dict[DiscrepancyKind, OpenTally]:
        """Open (and acknowledged) records by kind, counted in the database; kinds with
        none are left out."""
        ...

    async def open_oversell_risks(self, skus: Sequence[str]) -> dict[str, str]:
        """SKU -> id of its open OVERSELL_RISK, for SKUs that have one."""
        ...

    async def suspects(
        self, skus: Sequence[str], *, seen_by: datetime | None = None
    ) -> set[DiscrepancyKey]:
        """Differences seen before and not yet owned; with ``seen_by``, only those first seen
        by then."""
        ...

    async def replace_suspects(
        self, checked: Iterable[DiscrepancyKey], suspects: Iterable[DiscrepancyKey], now: datetime
    ) -> None:
        """The suspects among ``checked`` are exactly ``suspects`` from now on."""
        ...


class AuditLog(Protocol):
    async def add(self, entries: Sequence[AuditEntry]) -> None:
        """Append; entries are never changed or removed."""
        ...

    async def page(
        self,
        *,
        sku: str | None,
        location_id: str | None,
        start: datetime | None,
        end: datetime | None,
        kinds: Sequence[AuditKind] | None,
        first: int,
        after: AuditCursor | None,
    ) -> tuple[list[AuditEntry], bool]:
        """Newest first; whether more follow."""
        ...


class Observations(Protocol):
    async def last_values(
        self, skus: Sequence[str], fields: Mapping[SourceSystem, Collection[str]]
    ) -> dict[tuple[SourceSystem, str, str, str], str]:
        """The last value seen of these fields (per system) of these SKUs, by (system, sku,
        location_id, field)."""
        ...

    async def record(self, observations: Sequence[Observation]) -> None:
        """Replace the last seen value of each (system, sku, location, field)."""
        ...


@dataclass(frozen=True, slots=True)
class SyncMark:
    """How far a delta read has got (the source's own time) and over what."""

    at: datetime
    fingerprint: str


class StoreCounts(Protocol):
    """The reconciler's copy of the stores' counts (gateway.truth.store_counts): per SKU
    and store, the last figures read; per SKU, when it was last read in full and its counts
    added up."""

    async def of(
        self, skus: Sequence[str], *, read_since: datetime, one_by_one: Collection[str]
    ) -> tuple[dict[str, list[StockReading]], dict[str, StoreSum]]:
        """The SKUs read in full at or after ``read_since``: those in ``one_by_one`` as their
        readings (an empty list: no store holds any), the others added up. SKUs absent
        from both were never read, or too long ago, or are wanted one by one and were kept
        as a sum only."""
        ...

    async def replace(
        self,
        readings: Mapping[str, Sequence[StockReading]],
        sums: Mapping[str, StoreSum],
        variation_ids: Mapping[str, str | None],
        read_at: datetime,
    ) -> None:
        """The SKUs of ``sums`` as just read in full, instead of what was kept: their sums,
        and the counts of those in ``readings`` (the ones wanted one by one) row by row."""
        ...

    async def skus_of(self, variation_ids: Collection[str]) -> set[str]:
        """The SKUs whose POS item is one of these."""
        ...

    async def forget(self, skus: Collection[str] | None = None) -> None:
        """Not known any more: read in full next time (all SKUs when None)."""
        ...

    async def mark(self, name: str) -> SyncMark | None: ...

    async def set_mark(self, name: str, mark: SyncMark) -> None: ...


class WebhookEvents(Protocol):
    """Webhook deliveries as received, until processed."""

    async def record(self, event: WebhookEvent) -> bool:
        """False when an event with that key was recorded before (a replay)."""
        ...

    async def record_many(self, batch: Sequence[WebhookEvent]) -> set[tuple[SourceSystem, str]]:
        """Record these at once; the (system, key) of those recorded now."""
        ...

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[WebhookEvent]:
        """Not yet processed nor claimed by another process (or its claim ran out), oldest
        first; claimed until ``now + lease``."""
        ...

    async def mark_processed(self, event_id: int, at: datetime, outcome: str) -> None: ...


class ApiKeys(Protocol):
    """API keys as kept: the digest of each secret, never the secret."""

    async def add(self, key: StoredKey) -> None:
        """Raises ValueError when the name is taken."""
        ...

    async def get(self, key_id: str) -> StoredKey | None: ...

    async def listed(self) -> list[StoredKey]: ...

    async def revoke(self, name_or_id: str, at: datetime) -> StoredKey | None:
        """The key revoked now (or before); None when no key has that name or id."""
        ...


class AssignedBarcodes(Protocol):
    """Internal barcodes the gateway gave items: one item per code."""

    async def claim(self, code: str, sku: str, now: datetime) -> str:
        """Give ``code`` to ``sku`` unless it was given before; the item it belongs to now
        (another SKU: it was taken)."""
        ...

    async def holder(self, code: str) -> str | None: ...

    async def of_sku(self, sku: str) -> list[str]: ...


class CycleCounts(Protocol):
    """Recorded cycle counts (gateway.truth.recorded_counts)."""

    async def add(self, count: RecordedCount) -> None: ...

    async def get(self, count_id: str) -> RecordedCount | None: ...

    async def between(
        self, location_id: str, start: datetime, end: datetime
    ) -> list[RecordedCount]:
        """The node's counts taken in [start, end), oldest first."""
        ...


class Substitutions(Protocol):
    """Short picks' substitutions (gateway.services.picking)."""

    async def add(self, offer: Substitution) -> None: ...

    async def get(
        self, substitution_id: str, *, for_update: bool = False
    ) -> Substitution | None: ...

    async def of_orders(self, order_ids: Sequence[str]) -> dict[str, list[Substitution]]:
        """Each order's substitutions, oldest first (every order asked has an entry)."""
        ...

    async def save(self, offer: Substitution) -> None:
        """Its status and answer."""
        ...


class UnitOfWork(Protocol):
    @property
    def api_keys(self) -> ApiKeys: ...

    @property
    def barcodes(self) -> AssignedBarcodes: ...

    @property
    def counts(self) -> CycleCounts: ...

    @property
    def substitutions(self) -> Substitutions: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def holds(self) -> HoldTaker: ...

    @property
    def reservations(self) -> Reservations: ...

    @property
    def orders(self) -> Orders: ...

    @property
    def returns(self) -> Returns: ...

    @property
    def routing(self) -> RoutingDecisions: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def discrepancies(self) -> Discrepancies: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def observations(self) -> Observations: ...

    @property
    def store_counts(self) -> StoreCounts: ...

    @property
    def webhooks(self) -> WebhookEvents: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work. ``read_only``: one that only reads and may not commit; on SQLite
        it reads a snapshot without waiting for the write lock (a full reconcile's reads
        otherwise queued behind every page's writes)."""
        ...


class Reserver(Protocol):
    """Reserves taken alone, outside any other change: claim the key, take the holds and
    write the reservation, committed together (PostgreSQL decides many in one call)."""

    async def reserve(self, claim: Claim, hold: HoldRequest) -> FirstUse | None:
        """None once held; the key's first use if it was claimed before. InsufficientStock
        when a position is short (nothing is recorded, not even the claim)."""
        ...
