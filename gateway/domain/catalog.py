"""Plain, typed domain objects shared by services, adapters and resolvers.

Quantities are ints, money is Decimal with its currency, times are aware UTC datetimes.
Adapters build these from wire payloads; nothing here knows a wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum


class SourceSystem(StrEnum):
    ERP = "ERP"
    STOREFRONT = "STOREFRONT"
    POS = "POS"
    OMS = "OMS"
    GATEWAY = "GATEWAY"
    MAIL = "MAIL"  # the customer's mailbox: notifications sent through the mail port


class NodeType(StrEnum):
    WAREHOUSE = "WAREHOUSE"
    STORE = "STORE"


class Capability(StrEnum):
    PICKUP = "PICKUP"
    SHIP_FROM_STORE = "SHIP_FROM_STORE"


class Channel(StrEnum):
    ONLINE = "ONLINE"
    PICKUP = "PICKUP"


class StockStatus(StrEnum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    BACKORDER = "BACKORDER"


class Via(StrEnum):
    """How the gateway came to hold a figure."""

    WEBHOOK = "WEBHOOK"  # read again because its source sent an event about it
    POLL = "POLL"  # read again because a delta poll found it changed
    READ = "READ"  # read when it was asked for (nothing cached, or the cache ran out)


class Confidence(StrEnum):
    """How far a figure can be trusted (gateway.domain.freshness)."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def from_minor(cls, minor_units: int, currency: str, exponent: int = 2) -> Money:
        return cls(Decimal(minor_units).scaleb(-exponent), currency)

    def to_minor(self, exponent: int = 2) -> int:
        return int(self.amount.scaleb(exponent).to_integral_value())


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class ItemMaster:
    """The ERP's item record: the system of record for what a SKU is."""

    sku: str
    name: str
    category: str | None = None
    barcodes: tuple[str, ...] = ()
    cost: Money | None = None
    list_price: Money | None = None
    tax_category: str | None = None
    variant_of: str | None = None
    is_stock_item: bool = True
    disabled: bool = False
    description: str | None = None
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemSupply:
    """What the ERP says of buying a SKU (ERPNext Item: lead_time_days, min_order_qty, the
    purchase UOM's conversion factor, the first Item Supplier); None where it says nothing."""

    lead_time_days: int | None = None
    min_order_qty: int | None = None
    case_size: int | None = None
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class WebListing:
    """The storefront's listing of a SKU (a simple product or a variation)."""

    sku: str
    product_id: int
    variation_id: int | None
    name: str
    price: Money | None
    status: str
    permalink: str | None
    manage_stock: bool
    stock_quantity: int | None
    stock_status: str
    backorders: str
    low_stock_amount: int | None = None
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebStockUpdate:
    """What one listing's stock fields should become. ``quantity`` sets a managed stock
    quantity (and turns stock management on); ``stock_status`` sets the status of a listing
    whose stock is not managed (a kit); ``backorders`` sets whether it may be oversold."""

    sku: str
    product_id: int
    variation_id: int | None
    quantity: int | None = None
    stock_status: str | None = None
    backorders: str | None = None


@dataclass(frozen=True, slots=True)
class WebStockWritten:
    """The storefront's answer for one update: the listing as saved, or why it was not."""

    sku: str
    listing: WebListing | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PosVariation:
    """The POS catalog's sellable variation of a SKU, with its store price(s)."""

    sku: str
    variation_id: str
    item_id: str
    name: str
    price: Money | None
    location_prices: Mapping[str, Money] = field(default_factory=dict)
    low_stock_thresholds: Mapping[str, int] = field(default_factory=dict)
    shelf: str | None = None  # where on the shop floor, when the POS records it

    def price_at(self, location_ref: str) -> Money | None:
        """What the store sells it for: its own price there, else the variation's."""
        return self.location_prices.get(location_ref) or self.price


@dataclass(frozen=True, slots=True)
class KitComponent:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Kit:
    """A bundle sold as one SKU and built from components at the node that ships it."""

    sku: str
    components: tuple[KitComponent, ...]


@dataclass(frozen=True, slots=True)
class BackendLocation:
    """A stock-holding place as one backend knows it (an ERP warehouse, a POS location)."""

    source: SourceSystem
    ref: str
    name: str
    active: bool = True
    point: GeoPoint | None = None
    address: str | None = None
    timezone: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentTerms:
    """A node's own fulfillment terms from the node file; None: its type's default."""

    daily_capacity: int | None = None  # units it can pick per ship day
    cutoff: time | None = None  # local time after which an order ships the next day
    timezone: str | None = None  # IANA name the cut-off is in
    handling_per_order: int | None = None  # minor units
    handling_per_unit: int | None = None  # minor units


@dataclass(frozen=True, slots=True)
class Location:
    """A fulfillment node: a warehouse or a store, with what it can do."""

    id: str
    name: str
    type: NodeType
    source: SourceSystem
    source_ref: str
    point: GeoPoint | None = None
    capabilities: frozenset[Capability] = frozenset()
    safety_stock: int = 0
    address: str | None = None
    oms_ref: str | None = None  # the OMS (Shopify) Location gid orders are assigned to
    pickup_instructions: str | None = None  # what a click-and-collect customer is told
    terms: FulfillmentTerms = field(default_factory=FulfillmentTerms)


@dataclass(frozen=True, slots=True)
class StockReading:
    """One backend's figure for one SKU at one of its locations, as of a moment."""

    sku: str
    source: SourceSystem
    location_ref: str
    on_hand: int
    reserved: int
    as_of: datetime
    incoming: int = 0
    backorder_date: date | None = None
    # When the gateway asked for it (its own clock); None when read straight from an adapter.
    fetched_at: datetime | None = None
    via: Via = Via.READ
    # Served from the last good copy because its source could not be asked (gateway.cache).
    stale: bool = False


class StockReadings(list[StockReading]):
    """Readings, and the SKUs among them served from their last good copy, each with when
    that copy was kept: every node of such a SKU's source is stale, one with no reading (a
    real zero, when fresh) too."""

    def __init__(self, readings: list[StockReading], stale_skus: Mapping[str, datetime]) -> None:
        super().__init__(readings)
        self.stale_skus = stale_skus


@dataclass(frozen=True, slots=True)
class StoreSum:
    """One SKU's stock over a set of stores, added up with no ledger applied: what its
    readings there add to a channel's total (gateway.domain.ledger.store_sum)."""

    available: int  # the stores' available_to_promise, summed
    on_hand: int
    as_of: datetime | None  # the stalest reading's


@dataclass(frozen=True, slots=True)
class Sale:
    """Units of a SKU a source recorded as sold at one of its locations (a Square
    IN_STOCK -> SOLD adjustment), and when."""

    sku: str
    location_ref: str
    occurred_at: datetime
    quantity: int


@dataclass(frozen=True, slots=True)
class StockChanges:
    """The POS counts calculated after a moment (Square's ``updated_after``), each as
    (item, location ref, state, calculated_at): what identifies one change, so a look that
    overlaps the last one can tell the changes it has already seen."""

    counts: frozenset[tuple[str, str, str, datetime]]

    @property
    def item_ids(self) -> frozenset[str]:
        return frozenset(count[0] for count in self.counts)

    @property
    def newest(self) -> datetime | None:
        """The newest change, in the POS's own time: where the next look may start."""
        return max((count[3] for count in self.counts), default=None)


@dataclass(frozen=True, slots=True)
class NodeAvailability:
    sku: str
    location: Location
    on_hand: int
    reserved: int
    safety_stock: int
    available_to_promise: int
    status: StockStatus
    source: SourceSystem
    as_of: datetime | None
    backorder_date: date | None = None
    distance_km: float | None = None
    fetched_at: datetime | None = None
    held: int = 0  # promised by the gateway and not yet in the source's figure
    incoming: int = 0  # on order from vendors, or returned units not yet sellable
    via: Via = Via.READ
    stale: bool = False  # from the last good copy: its source could not be asked

    def at_distance(self, km: float | None) -> NodeAvailability:
        """This row as seen from ``km`` away. (dataclasses.replace does the same for any
        field, about five times slower: a pickup search makes a row per store near by.)"""
        return NodeAvailability(
            self.sku, self.location, self.on_hand, self.reserved, self.safety_stock,
            self.available_to_promise, self.status, self.source, self.as_of,
            self.backorder_date, km, self.fetched_at, self.held, self.incoming, self.via,
            self.stale,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NodeUnavailable:
    """A node whose figures could not be had: its source failed, and no copy was kept."""

    location: Location
    backend: str
    reason: str
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class NodeFigures:
    """One SKU's figures at every node whose source answered, and the sources that did not
    (source -> (backend, what it met))."""

    rows: Mapping[str, NodeAvailability]  # location id -> its row
    failed: Mapping[SourceSystem, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Availability:
    """Where a SKU can be had, for a channel, sorted as the caller asked; a node whose
    source failed keeps its place as a NodeUnavailable."""

    sku: str
    channel: Channel | None
    entries: tuple[NodeAvailability | NodeUnavailable, ...]

    @property
    def rows(self) -> tuple[NodeAvailability, ...]:
        return tuple(e for e in self.entries if isinstance(e, NodeAvailability))

    @property
    def unavailable(self) -> tuple[NodeUnavailable, ...]:
        return tuple(e for e in self.entries if isinstance(e, NodeUnavailable))

    @property
    def total_available(self) -> int:
        return sum(row.available_to_promise for row in self.rows)


@dataclass(frozen=True, slots=True)
class Product:
    """The unified product: item master plus the fields each channel owns."""

    sku: str
    name: str
    category: str | None
    barcodes: tuple[str, ...]
    cost: Money | None
    tax_category: str | None
    description: str | None
    variant_of: str | None
    list_price: Money | None
    web_price: Money | None
    store_price: Money | None
    web_status: str | None
    permalink: str | None
    kit: Kit | None
    field_sources: Mapping[str, SourceSystem]
    web_listing: WebListing | None = None
    # Fields not known because a system they come from could not be asked, each with that
    # backend and what it met (gateway.services.catalog.merge_product).
    unavailable: Mapping[str, tuple[str, str]] = field(default_factory=dict)
