"""The gateway's own tables. Migrations (``migrations/``) are generated from these.

What the gateway stores is what no backend holds: holds on stock (the reservation ledger),
the canonical order with each system's id and status, returns with their dispositions,
idempotency records, and the outbox of writes still owed to the backends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.persistence.columns import UtcDateTime


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model (SQLModel declares ``__table__`` only at run time)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _utc(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class ReservationRow(SQLModel, table=True):
    __tablename__ = "reservation"

    id: str = Field(primary_key=True, max_length=40)
    status: str = Field(max_length=16, index=True)  # ACTIVE, CONFIRMED, RELEASED, EXPIRED
    location_id: str = Field(max_length=80)
    channel: str = Field(max_length=16)
    customer_ref: str | None = Field(default=None, max_length=200)
    order_id: str | None = Field(default=None, max_length=40, index=True)
    requested_by: str | None = Field(default=None, max_length=200)  # the principal who took it
    created_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc(index=True))
    updated_at: datetime = Field(sa_column=_utc())


class HoldRow(SQLModel, table=True):
    """One SKU held at one node. ``applied_at`` is when the source of truth took the unit
    off its own figure (ERP reserved it, the POS sold it): readings taken after that
    already include it, so the hold stops being subtracted from them."""

    __tablename__ = "hold"
    __table_args__ = (Index("ix_hold_sku_location", "sku", "location_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(foreign_key="reservation.id", max_length=40, index=True)
    line_sku: str = Field(max_length=120)  # the SKU asked for (a kit, or the SKU itself)
    line_quantity: int  # how many of line_sku were asked for
    sku: str = Field(max_length=120)  # the SKU whose stock is held (a kit's component)
    location_id: str = Field(max_length=80)
    quantity: int
    applied_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class StockGuardRow(SQLModel, table=True):
    """One row per SKU and node, locked by every transaction that takes a hold there, so two
    gateway processes cannot both promise the last unit."""

    __tablename__ = "stock_guard"

    sku: str = Field(primary_key=True, max_length=120)
    location_id: str = Field(primary_key=True, max_length=80)
    version: int = 0


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    key: str = Field(primary_key=True, max_length=200)
    operation: str = Field(max_length=60)
    request_hash: str = Field(max_length=64)
    resource_id: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=_utc())


class OrderRow(SQLModel, table=True):
    __tablename__ = "customer_order"
    __table_args__ = (
        Index("ix_order_created", "created_at", "id"),
        Index("ix_order_oms_order_id", "oms_order_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    origin: str = Field(max_length=16)  # GATEWAY or STOREFRONT (imported web order)
    channel: str = Field(max_length=16)
    status: str = Field(max_length=24, index=True)
    customer_email: str | None = Field(default=None, max_length=254, index=True)
    customer_name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    total_minor: int
    delivery: dict[str, object] | None = Field(default=None, sa_column=Column(JSON))
    pickup_location_id: str | None = Field(default=None, max_length=80)
    pickup_deadline: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    allow_transfer: bool = Field(default=False)
    web_order_id: int | None = Field(default=None, unique=True)
    oms_order_id: str | None = Field(default=None, max_length=80)
    erp_sales_order: str | None = Field(default=None, max_length=80)
    web_status: str | None = Field(default=None, max_length=32)
    oms_status: str | None = Field(default=None, max_length=32)
    erp_status: str | None = Field(default=None, max_length=32)
    tracking: list[dict[str, object]] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class OrderLineRow(SQLModel, table=True):
    """A canonical order line. For a web order line, ``unit_price_minor`` is what was paid
    per unit including tax (rounded); the ``web_*`` columns keep WooCommerce's exact line
    figures (total before tax, total tax, tax per rate id) so refunds are exact."""

    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="customer_order.id", max_length=40, index=True)
    position: int
    sku: str = Field(max_length=120)
    quantity: int
    unit_price_minor: int
    location_id: str | None = Field(default=None, max_length=80)
    web_line_id: int | None = None
    web_total_minor: int | None = None
    web_tax_minor: int | None = None
    # [{"id": <tax rate id>, "total": "<decimal string>"}], as WooCommerce's taxes[]
    web_taxes: list[dict[str, object]] | None = Field(default=None, sa_column=Column(JSON))


class OrderSystemRow(SQLModel, table=True):
    """Every record of an order in every backend (gateway.persistence.order_systems)."""

    __tablename__ = "order_system_record"
    __table_args__ = (
        UniqueConstraint("order_id", "system", "record_id", name="uq_order_system_record"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="customer_order.id", max_length=40, index=True)
    system: str = Field(max_length=16)
    record_id: str = Field(max_length=80)
    location_id: str | None = Field(default=None, max_length=80)
    status: str | None = Field(default=None, max_length=32)
    synced_at: datetime = Field(sa_column=_utc())
    # The backend's own time of the state recorded (WooCommerce's date_modified), when known.
    source_modified_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class ApiKeyRow(SQLModel, table=True):
    """An API key as kept: its id and the digest of its secret, never the secret
    (gateway.auth.keys)."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=80, unique=True)
    role: str = Field(max_length=24)
    location_id: str | None = Field(default=None, max_length=80)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc())
    revoked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class AssignedBarcodeRow(SQLModel, table=True):
    """An internal barcode the gateway gave an item (gateway.services.item_barcodes): the
    primary key keeps two processes from giving one code to two items."""

    __tablename__ = "assigned_barcode"

    code: str = Field(primary_key=True, max_length=48)
    sku: str = Field(max_length=140, index=True)
    assigned_at: datetime = Field(sa_column=_utc())


class CycleCountRow(SQLModel, table=True):
    """A cycle count as recorded (gateway.truth.recorded_counts): KPIs read a node's counts
    over a period, so (location, counted_at) is indexed."""

    __tablename__ = "cycle_count"
    __table_args__ = (Index("ix_cycle_count_location_time", "location_id", "counted_at"),)

    id: str = Field(primary_key=True, max_length=40)
    location_id: str = Field(max_length=80)
    counted_at: datetime = Field(sa_column=_utc())
    counted_by: str = Field(max_length=120)
    recorded_at: datetime = Field(sa_column=_utc())


class CycleCountLineRow(SQLModel, table=True):
    """One SKU of a count: what was counted, the book at the count's time, what it meant."""

    __tablename__ = "cycle_count_line"

    count_id: str = Field(foreign_key="cycle_count.id", primary_key=True, max_length=40)
    sku: str = Field(primary_key=True, max_length=140)
    counted: int
    book_at_count: int | None = None  # None: a later count at the source stands
    variance: int | None = None
    outcome: str = Field(max_length=16)
    corrected_to: int | None = None
    unit_cost_minor: int | None = None
    cost_currency: str | None = Field(default=None, max_length=3)
    discrepancy_id: str | None = Field(default=None, max_length=40)


class SubstitutionRow(SQLModel, table=True):
    """Units a picker did not find, what the customer was offered, and the answer
    (gateway.services.picking)."""

    __tablename__ = "substitution"

    id: str = Field(primary_key=True, max_length=40)
    order_id: str = Field(foreign_key="customer_order.id", max_length=40, index=True)
    location_id: str = Field(max_length=80)
    sku: str = Field(max_length=140)
    missing: int
    offered: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)
    offered_at: datetime = Field(sa_column=_utc())
    chosen: str | None = Field(default=None, max_length=140)
    answered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    answered_by: str | None = Field(default=None, max_length=120)


class WebhookEventRow(SQLModel, table=True):
    """A webhook delivery as received; the unique key makes a replay (even after a restart)
    a duplicate."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("system", "event_key", name="uq_webhook_event"),)

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=16)
    event_key: str = Field(max_length=200)
    topic: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=_utc())
    processed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True, index=True))
    outcome: str | None = Field(default=None, max_length=500)
    # Claimed by one process until then (several processes work one inbox).
    lease_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class OrderEventRow(SQLModel, table=True):
    __tablename__ = "order_event"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="customer_order.id", max_length=40, index=True)
    at: datetime = Field(sa_column=_utc())
    kind: str = Field(max_length=40)
    source: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class ReturnRow(SQLModel, table=True):
    __tablename__ = "return_request"

    id: str = Field(primary_key=True, max_length=40)
    order_id: str = Field(foreign_key="customer_order.id", max_length=40, index=True)
    status: str = Field(max_length=16)  # OPEN, RECEIVED, CLOSED
    oms_return_id: str | None = Field(default=None, max_length=80)
    web_refund_id: int | None = None
    refund_minor: int = 0
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class ReturnLineRow(SQLModel, table=True):
    """A returned SKU. Every line counts as incoming at its node until received, INSPECT
    and REFURBISH lines until someone decides (``decided_at``); a RESTOCK line counts as on
    hand there until the source of truth records the unit back (``applied_at``)."""

    __tablename__ = "return_line"
    __table_args__ = (Index("ix_return_line_sku_location", "sku", "location_id"),)

    id: int | None = Field(default=None, primary_key=True)
    return_id: str = Field(foreign_key="return_request.id", max_length=40, index=True)
    sku: str = Field(max_length=120)
    quantity: int
    reason: str = Field(max_length=24)
    condition: str = Field(max_length=16)
    disposition: str = Field(max_length=16)
    location_id: str = Field(max_length=80)
    refund_minor: int = 0
    received_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    applied_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # INSPECT / REFURBISH units stay incoming at the node until restocked or disposed of.
    decided_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class OutboxRow(SQLModel, table=True):
    """A write owed to a backend, committed with the change that made it necessary."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_ordering", "ordering_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ordering_key: str = Field(max_length=80)  # messages with one key are delivered in order
    target: str = Field(max_length=16)  # ERP, STOREFRONT, POS, OMS
    operation: str = Field(max_length=60)
    reference: str = Field(max_length=200, unique=True)  # the backend's idempotency key
    payload: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # PENDING, IN_FLIGHT, DELIVERED, DEAD, SKIPPED
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc())
    lease_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    result: dict[str, object] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_column=_utc())
    delivered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    requested_by: str | None = Field(default=None, max_length=200)  # the principal who asked


metadata = SQLModel.metadata


class RoutingDecisionRow(SQLModel, table=True):
    """The router's decision for a gateway order with everything it was given, so it can
    be shown, replayed through the engine and compared later."""

    __tablename__ = "routing_decision"

    order_id: str = Field(foreign_key="customer_order.id", primary_key=True, max_length=40)
    decided_at: datetime = Field(sa_column=_utc())
    strategy: str = Field(max_length=16)
    snapshot_version: int
    request: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    plan: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))


class DiscrepancyRow(SQLModel, table=True):
    """One disagreement between a copy and its truth, and its place in the owned queue. One
    row per key, ever: a disagreement seen again reopens its row."""

    __tablename__ = "discrepancy"
    __table_args__ = (
        UniqueConstraint(
            "kind", "sku", "location_id", "system", "order_id", name="uq_discrepancy_key"
        ),
        Index("ix_discrepancy_queue", "status", "due_at", "id"),
        Index("ix_discrepancy_order", "order_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=32)
    sku: str = Field(max_length=120, index=True)
    location_id: str = Field(max_length=80)  # "" when no node
    system: str = Field(max_length=16)  # the copy's system
    # The order an order's exception is about; "" for a stock figure's disagreement.
    order_id: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    severity: str = Field(max_length=16)
    truth_system: str = Field(max_length=16)
    truth_value: str = Field(sa_column=Column(Text, nullable=False))
    truth_as_of: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    copy_system: str = Field(max_length=16)
    copy_value: str = Field(sa_column=Column(Text, nullable=False))
    copy_as_of: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    rule: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=80, index=True)
    due_at: datetime = Field(sa_column=_utc())
    status: str = Field(max_length=16)
    opened_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    delta: int | None = None
    at_stake_minor: int | None = None
    at_stake_currency: str | None = Field(default=None, max_length=3)
    resolved_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolution: str | None = Field(default=None, max_length=16)
    # The compensating writes a ledger check proposes: [{kind, ordering_key, reference,
    # payload}], as the outbox stores them.
    proposal: list[dict[str, object]] | None = Field(default=None, sa_column=Column(JSON))


class DiscrepancyEventRow(SQLModel, table=True):
    """A discrepancy's history, append-only: ``seq`` is the entry's place in it."""

    __tablename__ = "discrepancy_event"

    discrepancy_id: str = Field(foreign_key="discrepancy.id", primary_key=True, max_length=40)
    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=_utc())
    action: str = Field(max_length=16)
    actor: str = Field(max_length=120)
    status: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))


class DiscrepancySuspectRow(SQLModel, table=True):
    """A difference seen once and no larger than what was in flight: a discrepancy if the
    next read still sees it."""

    __tablename__ = "discrepancy_suspect"

    kind: str = Field(primary_key=True, max_length=32)
    sku: str = Field(primary_key=True, max_length=120)
    location_id: str = Field(primary_key=True, max_length=80)
    system: str = Field(primary_key=True, max_length=16)
    seen_at: datetime = Field(sa_column=_utc())


class AuditEntryRow(SQLModel, table=True):
    """Every stock adjustment and price change the gateway makes or observes. Rows are only
    ever inserted."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_sku_at", "sku", "at", "id"), Index("ix_audit_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    kind: str = Field(max_length=32)
    system: str = Field(max_length=16)
    actor: str = Field(max_length=120)
    sku: str = Field(max_length=120)
    location_id: str = Field(max_length=80)
    field: str = Field(max_length=60)
    before: str | None = Field(default=None, sa_column=Column(Text))
    after: str | None = Field(default=None, sa_column=Column(Text))
    reference: str | None = Field(default=None, max_length=200)


class ObservationRow(SQLModel, table=True):
    """The last value read for one field of one SKU at one system and node."""

    __tablename__ = "observation"

    # The SKU leads the key: a reconcile page looks its SKUs up with every system at once.
    sku: str = Field(primary_key=True, max_length=120)
    system: str = Field(primary_key=True, max_length=16)
    location_id: str = Field(primary_key=True, max_length=80)
    field: str = Field(primary_key=True, max_length=60)
    value: str = Field(sa_column=Column(Text, nullable=False))
    seen_at: datetime = Field(sa_column=_utc())


class StoreCountRow(SQLModel, table=True):
    """The last Square counts the reconciler read for one SKU at one store: its copy of the
    store stock the ONLINE truth adds up, kept current by reading only what changed."""

    __tablename__ = "store_count"

    sku: str = Field(primary_key=True, max_length=120)
    location_ref: str = Field(primary_key=True, max_length=80)
    on_hand: int
    reserved: int
    incoming: int
    # calculated_at in microseconds since the epoch, UTC: a full reconcile reads millions of
    # these, and an integer costs nothing to read back where a datetime column costs a parse.
    as_of_us: int = Field(sa_type=BigInteger)


class StoreCountSkuRow(SQLModel, table=True):
    """When a SKU's store counts were last read in full, the POS item they belong to (what
    a change Square reports names), and the counts added up (gateway.domain.StoreSum): a
    page of a reconcile reads these 100 rows, not the 6,500 counts under them."""

    __tablename__ = "store_count_sku"

    sku: str = Field(primary_key=True, max_length=120)
    variation_id: str | None = Field(default=None, max_length=80, index=True)
    read_at: datetime = Field(sa_column=_utc())
    available: int
    on_hand: int
    as_of_us: int | None = Field(default=None, sa_type=BigInteger)  # None: no counts
    # Whether its counts are kept row by row (store_count) as well: only for SKUs a page
    # needs one by one (kit components, SKUs held at a store); the rest are kept as sums,
    # since writing 3.3 million rows nobody reads back cost the first reconcile a minute.
    counts_kept: bool = False


class SyncMarkRow(SQLModel, table=True):
    """How far a delta read of a source has got, and over what (a fingerprint of the
    locations read: another set of stores means another copy)."""

    __tablename__ = "sync_mark"

    name: str = Field(primary_key=True, max_length=60)
    at: datetime = Field(sa_column=_utc())
    fingerprint: str = Field(max_length=64)
