"""Availability to promise per node, per kit and per channel.

Pure functions decide; ``AvailabilityService`` only fetches what they need. Arithmetic:

    available_to_promise = max(0, on_hand + restocked - reserved - held - safety_stock)
    kit ATP at a node    = min over components of floor(component ATP / quantity per kit)

``held`` and ``restocked`` are the gateway's own ledger (gateway.domain.ledger): holds it
has promised and returned units it has put back, for as long as the source's reading does
not contain them yet.
"""

from __future__ import annotations

from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from gateway import gathering
from gateway.domain import (
    Availability,
    Capability,
    Channel,
    GeoPoint,
    Kit,
    Location,
    NodeAvailability,
    NodeFigures,
    NodeType,
    NodeUnavailable,
    PosVariation,
    SourceSystem,
    StockReading,
    StockReadings,
    StockStatus,
    StoreSum,
    Via,
)
from gateway.domain.freshness import DEFAULT_STALE_SAFETY, StaleSafety, kept_back_when_stale
from gateway.domain.ledger import (
    NO_OVERLAY,
    Overlay,
    by_position,
    free_to_promise,
    kept_back,
    overlay,
)
from gateway.domain.reservations import LedgerEntry
from gateway.errors import BackendError, BadUserInput, NotFound
from gateway.geo import distance_km
from gateway.ports import ErpPort, LedgerSource, LocationsProvider, PosPort


@dataclass(frozen=True, slots=True)
class Near:
    point: GeoPoint
    radius_km: float | None = None


def validate_near(lat: float, lng: float, radius_km: float | None, max_radius_km: float) -> Near:
    if not -90.0 <= lat <= 90.0:
        raise BadUserInput(f"lat {lat} is outside -90..90", field="lat")
    if not -180.0 <= lng <= 180.0:
        raise BadUserInput(f"lng {lng} is outside -180..180", field="lng")
    if radius_km is not None and not 0 < radius_km <= max_radius_km:
        raise BadUserInput(
            f"radiusKm must be greater than 0 and at most {max_radius_km:g}, got {radius_km:g}",
            field="radiusKm",
        )
    return Near(GeoPoint(lat, lng), radius_km)


def stock_status(
    atp: int, low_threshold: int, *, incoming: int, backorderable: bool
) -> StockStatus:
    if atp <= 0:
        return StockStatus.BACKORDER if incoming > 0 or backorderable else StockStatus.OUT_OF_STOCK
    if atp <= low_threshold:
        return StockStatus.LOW_STOCK
    return StockStatus.IN_STOCK


def observed_at(reading: StockReading | None) -> datetime | None:
    """The moment a reading is known to include every write confirmed before it."""
    if reading is None:
        return None
    return reading.fetched_at or reading.as_of


def asked_at(readings: Iterable[StockReading], moment: datetime | None) -> list[StockReading]:
    """Readings straight from an adapter, asked for at ``moment`` (the gateway's clock).
    Without it their ``as_of`` is the source's own clock of its last change, often long
    before a write the gateway saw confirmed since: the hold behind that write would be
    taken off a figure that already carries it. A reading that knows when it was fetched
    (from the cache) keeps that."""
    if moment is None:
        return list(readings)
    return [r if r.fetched_at is not None else replace(r, fetched_at=moment) for r in readings]


def node_availability(
    sku: str,
    location: Location,
    reading: StockReading | None,
    *,
    low_threshold: int,
    gateway: Overlay = NO_OVERLAY,
    promise_cap: int | None = None,
    stale_safety: StaleSafety = DEFAULT_STALE_SAFETY,
    from_copy: datetime | None = None,
) -> NodeAvailability:
    """One node's figures. No reading means the source holds none there (a missing Bin).
    Under a ``promise_cap`` the node keeps back what lies above it (``kept_back``); a stale
    figure (``from_copy``: when its source's last good copy was kept) keeps back more
    (``kept_back_when_stale``)."""
    on_hand = reading.on_hand if reading else 0
    reserved = reading.reserved if reading else 0
    stale = from_copy is not None or (reading is not None and reading.stale)
    safety = kept_back(on_hand, reserved, location.safety_stock, promise_cap)
    atp = free_to_promise(on_hand, reserved, safety, gateway)
    if stale:
        extra = kept_back_when_stale(atp, stale_safety)
        safety, atp = safety + extra, atp - extra
    incoming = (reading.incoming if reading else 0) + gateway.incoming
    backorder_date = reading.backorder_date if reading else None
    return NodeAvailability(
        sku=sku,
        location=location,
        on_hand=on_hand + gateway.restocked,
        reserved=reserved,
        safety_stock=safety,
        available_to_promise=atp,
        status=stock_status(
            atp, low_threshold, incoming=incoming, backorderable=backorder_date is not None
        ),
        source=location.source,
        as_of=reading.as_of if reading else None,
        backorder_date=backorder_date,
        fetched_at=reading.fetched_at if reading else from_copy,
        held=gateway.held,
        incoming=incoming,
        via=reading.via if reading else Via.READ,
        stale=stale,
    )


def kit_node_availability(
    kit: Kit, components: Mapping[str, NodeAvailability], location: Location, low_threshold: int
) -> NodeAvailability:
    """A kit is as available as its scarcest component allows at that node."""
    per_component = [(components[c.sku], c.quantity) for c in kit.components if c.sku in components]
    if len(per_component) < len(kit.components):
        atp = on_hand = 0
    else:
        atp = min(row.available_to_promise // qty for row, qty in per_component)
        on_hand = min(row.on_hand // qty for row, qty in per_component)
    times = [row.as_of for row, _ in per_component if row.as_of is not None]
    observed = [row.fetched_at for row, _ in per_component if row.fetched_at is not None]
    ways = {row.via for row, _ in per_component}
    return NodeAvailability(
        sku=kit.sku,
        location=location,
        on_hand=on_hand,
        reserved=0,
        safety_stock=0,
        available_to_promise=atp,
        status=stock_status(atp, low_threshold, incoming=0, backorderable=False),
        source=location.source,
        # The kit figure is only as fresh as its stalest component.
        as_of=min(times) if times else None,
        fetched_at=min(observed) if observed else None,
        via=ways.pop() if len(ways) == 1 else Via.READ,
        stale=any(row.stale for row, _ in per_component),
    )


@dataclass(frozen=True, slots=True)
class ChannelTotal:
    """One SKU over a channel's nodes: what ``by_node`` gives summed, without building a row
    per node (a full reconcile sums 50,000 SKUs over 150 nodes)."""

    available: int  # the sum of the nodes' available_to_promise
    as_of: datetime | None  # the stalest figure it rests on
    on_hand: Mapping[SourceSystem, int]  # per source system, restocks included (not for kits)


def channel_totals(
    skus: Sequence[str],
    kits: Mapping[str, Kit],
    locations: Sequence[Location],
    readings: Iterable[StockReading],
    ledger: Mapping[tuple[str, str], Sequence[LedgerEntry]],
    store_sums: Mapping[str, StoreSum] | None = None,
) -> dict[str, ChannelTotal]:
    """Per SKU, ``sum(row.available_to_promise for row in by_node(...)[sku].values())`` over
    ``locations`` with the same arithmetic (``free_to_promise`` after the ledger's overlay).
    A node with neither a reading nor a ledger entry adds nothing, so only those are visited.

    ``store_sums``: SKUs whose readings at the channel's stores come already added up
    (``gateway.domain.ledger.store_sum``), in place of those readings. Only for SKUs with no
    ledger entry at a channel store and in no kit: those need the stores one by one."""
    sums = store_sums or {}
    if sums:
        _check_summable(sums, kits, locations, ledger)
    node_of = {(loc.source, loc.source_ref): loc for loc in locations}
    by_id = {loc.id: loc for loc in locations}
    atp: dict[str, dict[str, int]] = {}
    on_hand: dict[str, dict[SourceSystem, int]] = {}
    stalest: dict[str, datetime] = {}
    # (reading or None, node) per position: every reading at a channel node, then the ledger's
    # positions no reading covers. One loop over millions of Square counts: kept plain.
    positions: list[tuple[str, Location, StockReading | None]] = []
    covered: set[tuple[str, str]] = set()
    for reading in readings:
        loc = node_of.get((reading.source, reading.location_ref))
        if loc is not None:
            positions.append((reading.sku, loc, reading))
            if ledger:
                covered.add((reading.sku, loc.id))
    for sku, location_id in ledger:
        loc = by_id.get(location_id)
        if loc is not None and (sku, location_id) not in covered:
            positions.append((sku, loc, None))
    for sku, loc, position in positions:
        entries = ledger.get((sku, loc.id)) if ledger else None
        gateway = overlay(entries, observed_at(position)) if entries else NO_OVERLAY
        source_on_hand = position.on_hand if position else 0
        reserved = position.reserved if position else 0
        by_node = atp.get(sku)
        if by_node is None:
            by_node = atp[sku] = {}
            on_hand[sku] = {}
        by_node[loc.id] = free_to_promise(source_on_hand, reserved, loc.safety_stock, gateway)
        systems = on_hand[sku]
        systems[loc.source] = systems.get(loc.source, 0) + source_on_hand + gateway.restocked
        if position is not None and (sku not in stalest or position.as_of < stalest[sku]):
            stalest[sku] = position.as_of

    totals: dict[str, ChannelTotal] = {}
    for sku in skus:
        kit = kits.get(sku)
        if kit is None:
            total = ChannelTotal(
                sum(atp.get(sku, {}).values()), stalest.get(sku), on_hand.get(sku, {})
            )
            totals[sku] = _with_stores(total, sums[sku]) if sku in sums else total
            continue
        first = atp.get(kit.components[0].sku, {}) if kit.components else {}
        available = sum(
            min(atp.get(c.sku, {}).get(node, 0) // c.quantity for c in kit.components)
            for node in first
        )
        times = [stalest[c.sku] for c in kit.components if c.sku in stalest]
        totals[sku] = ChannelTotal(available, min(times) if times else None, {})
    return totals


def _with_stores(total: ChannelTotal, stores: StoreSum) -> ChannelTotal:
    if stores.as_of is None:
        return total  # no store holds a reading: nothing to add
    on_hand = dict(total.on_hand)
    on_hand[SourceSystem.POS] = on_hand.get(SourceSystem.POS, 0) + stores.on_hand
    times = [t for t in (total.as_of, stores.as_of) if t is not None]
    return ChannelTotal(total.available + stores.available, min(times, default=None), on_hand)


def _check_summable(
    sums: Mapping[str, StoreSum],
    kits: Mapping[str, Kit],
    locations: Sequence[Location],
    ledger: Mapping[tuple[str, str], Sequence[LedgerEntry]],
) -> None:
    stores = {loc.id for loc in locations if loc.source is SourceSystem.POS}
    components = {c.sku for kit in kits.values() for c in kit.components}
    held = {sku for sku, location_id in ledger if location_id in stores}
    if wrong := sums.keys() & (components | held):
        raise ValueError(f"store counts of {sorted(wrong)} are needed one by one, not summed")


def serves_channel(location: Location, channel: Channel | None) -> bool:
    if channel is None:
        return True
    if channel is Channel.PICKUP:
        return Capability.PICKUP in location.capabilities
    return (
        location.type is NodeType.WAREHOUSE or Capability.SHIP_FROM_STORE in location.capabilities
    )


def select_locations(
    locations: Iterable[Location],
    *,
    near: Near | None = None,
    location_ids: Sequence[str] | None = None,
    channel: Channel | None = None,
    node_type: NodeType | None = None,
    capability: Capability | None = None,
) -> list[tuple[Location, float | None]]:
    """Filter nodes and, when ``near`` is given, sort them nearest first with distances."""
    wanted = set(location_ids) if location_ids is not None else None
    chosen: list[tuple[Location, float | None]] = []
    # Nodes further north or south than the radius are out whatever their longitude (a
    # degree of latitude is at least 110.5 km): no distance worked out for them.
    band = None if near is None or near.radius_km is None else near.radius_km / 110.5
    for loc in locations:
        if wanted is not None and loc.id not in wanted:
            continue
        if node_type is not None and loc.type is not node_type:
            continue
        if capability is not None and capability not in loc.capabilities:
            continue
        if not serves_channel(loc, channel):
            continue
        distance = None
        if near is not None:
            if loc.point is None:
                continue  # a node with no known position cannot be "near" anything
            if band is not None and abs(loc.point.lat - near.point.lat) > band:
                continue
            distance = distance_km(near.point, loc.point)
            if near.radius_km is not None and distance > near.radius_km:
                continue
        chosen.append((loc, distance))
    if near is not None:
        chosen.sort(key=lambda pair: (pair[1], pair[0].id))
    else:
        chosen.sort(key=lambda pair: (pair[0].type.value, pair[0].name))
    return chosen


class LocationChoices:
    """``select_locations``' answers for the node list in use, remembered: a product page
    near one point asks the same question of the same 200 nodes on every request. The
    answers are shared: callers read them and never change them."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._nodes: Sequence[Location] | None = None
        self._answers: dict[tuple[object, ...], list[tuple[Location, float | None]]] = {}
        self._max = max_entries

    def select(
        self,
        locations: Sequence[Location],
        *,
        near: Near | None = None,
        location_ids: Sequence[str] | None = None,
        channel: Channel | None = None,
    ) -> list[tuple[Location, float | None]]:
        if locations is not self._nodes:  # the directory rebuilt its list: forget
            self._nodes = locations
            self._answers = {}
        key = (near, None if location_ids is None else tuple(location_ids), channel)
        found = self._answers.get(key)
        if found is None:
            found = select_locations(
                locations, near=near, location_ids=location_ids, channel=channel
            )
            if len(self._answers) >= self._max:
                self._answers.clear()
            self._answers[key] = found
        return found


def availability_rows(
    sku: str,
    chosen: Sequence[tuple[Location, float | None]],
    figures: NodeFigures,
    channel: Channel | None,
) -> Availability:
    """The chosen nodes in order: each one's row, or, where its source failed, the node
    named as unavailable in its place."""
    entries: list[NodeAvailability | NodeUnavailable] = []
    for loc, d in chosen:
        distance = None if d is None else round(d, 2)
        if loc.id in figures.rows:
            entries.append(figures.rows[loc.id].at_distance(distance))
        elif loc.source in figures.failed:
            backend, reason = figures.failed[loc.source]
            entries.append(NodeUnavailable(loc, backend, reason, distance))
    return Availability(sku=sku, channel=channel, entries=tuple(entries))


class NodeRows(Mapping[str, NodeAvailability]):
    """One SKU's rows by location id, each worked out by ``row`` when first read."""

    __slots__ = ("_known", "_nodes", "_row")

    def __init__(
        self, nodes: Mapping[str, Location], row: Callable[[Location], NodeAvailability]
    ) -> None:
        self._nodes = nodes
        self._row = row
        self._known: dict[str, NodeAvailability] = {}

    def __getitem__(self, location_id: str) -> NodeAvailability:
        known = self._known.get(location_id)
        if known is None:
            known = self._known[location_id] = self._row(self._nodes[location_id])
        return known

    def __contains__(self, location_id: object) -> bool:
        return location_id in self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


@dataclass(frozen=True, slots=True)
class PromiseCap:
    """Policy: while a SKU has an open OVERSELL_RISK (some channel shows more than can be
    promised, so the figures behind a promise are in doubt), each node promises at most
    ``units`` of it, the holds outstanding there included; 0 stops promising it.
    ``at_risk`` names the SKUs, among those asked, that have one open.

    The cap applies to the SKUs stock is held as: a kit is capped through its components
    (the reconciler opens no OVERSELL_RISK on a kit's own listing, whose stock WooCommerce
    does not manage), and its figure follows theirs."""

    units: int
    at_risk: Callable[[Sequence[str]], Awaitable[Collection[str]]]


# Reads the stores' counts of SKUs at the given stores (location ref -> safety stock): the
# readings of the SKUs asked for one by one, and the others' readings summed or read.
StoreStock = Callable[
    [Sequence[str], Mapping[str, int], Collection[str]],
    Awaitable[tuple[list[StockReading], dict[str, StoreSum]]],
]


class AvailabilityService:
    """Fetches stock from the sources of truth and applies the arithmetic above."""

    def __init__(
        self,
        erp: ErpPort,
        pos: PosPort,
        locations: LocationsProvider,
        *,
        low_stock_threshold: int,
        ledger: LedgerSource | None = None,
        promise_cap: PromiseCap | None = None,
        stale_safety: StaleSafety = DEFAULT_STALE_SAFETY,
    ) -> None:
        self._erp = erp
        self._stale_safety = stale_safety
        self._pos = pos
        self._locations = locations
        self._low = low_stock_threshold
        self._ledger = ledger
        # Caps what ``by_node`` offers (answers, routing, holds); never the channel totals a
        # reconcile compares with the copies, or a cap would feed back into the truth.
        self._promise_cap = promise_cap
        self.choices = LocationChoices()
        # The directory's node list and its index by id, while the directory keeps the list.
        self._nodes_by_id: tuple[list[Location], dict[str, Location]] = ([], {})

    async def all_locations(self) -> list[Location]:
        return await self._locations.locations()

    async def location(self, location_id: str) -> Location:
        for loc in await self._locations.locations():
            if loc.id == location_id:
                return loc
        raise NotFound(f"No location {location_id!r}", field="locationId")

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]:
        return await self._erp.kits(skus)

    async def _ledger_entries(self, skus: Sequence[str]) -> list[LedgerEntry]:
        return [] if self._ledger is None else await self._ledger.entries(skus)

    async def _readings(
        self,
        skus: Sequence[str],
        sources: Collection[SourceSystem],
        store_refs: Sequence[str] | None,
    ) -> tuple[
        dict[SourceSystem, list[StockReading]],
        Mapping[str, PosVariation],
        dict[SourceSystem, BackendError],
        dict[tuple[SourceSystem, str], datetime],
    ]:
        """The readings of the ``sources`` asked about (a page of store stock does not ask
        the ERP), the sources that failed, and the (source, SKU) pairs served from a last
        good copy. Without the POS's low-stock thresholds the default threshold serves:
        they shade a status, they hold no figure."""

        async def erp() -> list[StockReading]:
            return await self._erp.stock(skus) if SourceSystem.ERP in sources else []

        async def pos() -> list[StockReading]:
            return await self._pos.stock(skus, store_refs) if SourceSystem.POS in sources else []

        async def thresholds() -> Mapping[str, PosVariation]:
            if SourceSystem.POS not in sources:
                return {}
            try:
                return await self._pos.variations_by_sku(skus)
            except BackendError:
                return {}

        erp_read, pos_read, variations = await gathering.gather(
            erp(), pos(), thresholds(), return_exceptions=True
        )
        failed: dict[SourceSystem, BackendError] = {}
        readings: dict[SourceSystem, list[StockReading]] = {}
        from_copy: dict[tuple[SourceSystem, str], datetime] = {}
        for source, read in ((SourceSystem.ERP, erp_read), (SourceSystem.POS, pos_read)):
            if isinstance(read, BackendError):
                failed[source] = read
            elif isinstance(read, BaseException):
                raise read
            else:
                readings[source] = read
                if isinstance(read, StockReadings):
                    from_copy.update(((source, sku), at) for sku, at in read.stale_skus.items())
        if isinstance(variations, BaseException):
            raise variations
        return readings, variations, failed, from_copy

    async def by_node(
        self,
        skus: Sequence[str],
        *,
        with_ledger: bool = True,
        location_ids: Sequence[str] | None = None,
        at: Sequence[Location] | None = None,
        kits: Mapping[str, Kit] | None = None,
    ) -> dict[str, Mapping[str, NodeAvailability]]:
        """For each SKU, its figures at every node (location id -> row), or only at
        ``location_ids``, or only at the nodes ``at`` (a caller that has just read them from
        the directory: it is not read again); kits expanded. A source that fails fails the
        call (``figures`` answers without it).

        ``with_ledger=False`` gives the sources' figures alone, for a caller that applies
        the ledger itself under a lock (taking a hold). ``kits``: the kits among ``skus``,
        when the caller has just read them (with ``at``)."""
        rows, failed = await self._by_node(skus, with_ledger, location_ids, at=at, known_kits=kits)
        if failed:
            raise next(iter(failed.values()))
        return rows

    async def figures(self, skus: Sequence[str]) -> dict[str, NodeFigures]:
        """``by_node`` for answers: the nodes of a source that failed (with no copy kept)
        are named as failed rather than failing every node. Each node's row is worked out
        when first read: a page of the stores near a customer reads a handful of 200."""
        rows, failed = await self._by_node(skus, True, None, lazy=True)
        lost = {
            source: (error.backend or source.value, error.message)
            for source, error in failed.items()
        }
        return {sku: NodeFigures(rows[sku], lost) for sku in skus}

    async def _by_node(
        self,
        skus: Sequence[str],
        with_ledger: bool,
        location_ids: Sequence[str] | None,
        *,
        lazy: bool = False,
        at: Sequence[Location] | None = None,
        known_kits: Mapping[str, Kit] | None = None,
    ) -> tuple[dict[str, Mapping[str, NodeAvailability]], dict[SourceSystem, BackendError]]:
        # Kits and nodes in one round (both reference data, usually cached); then one batched
        # stock round that already includes every kit's components, so a page costs one call
        # per backend endpoint whatever it holds.
        store_refs = None
        directory: list[Location] | None = None
        kits: Mapping[str, Kit]
        if at is not None:
            kits = await self._erp.kits(skus) if known_kits is None else known_kits
            locations: Sequence[Location] = at
        else:
            kits, listed = await gathering.gather(self._erp.kits(skus), self._locations.locations())
            locations = directory = listed
        if location_ids is not None:
            wanted = set(location_ids)
            locations = [loc for loc in locations if loc.id in wanted]
        if at is not None or location_ids is not None:
            # Only the stores asked about: a source that filters by location reads less.
            store_refs = [loc.source_ref for loc in locations if loc.source is SourceSystem.POS]
        stock_skus = sorted(
            (set(skus) - kits.keys()) | {c.sku for k in kits.values() for c in k.components}
        )
        (read, thresholds, failed, from_copy), entries, caps = await gathering.gather(
            self._readings(stock_skus, {loc.source for loc in locations}, store_refs),
            self._ledger_entries(stock_skus if with_ledger else []),
            self._caps(stock_skus),
        )
        if failed:
            locations = [loc for loc in locations if loc.source not in failed]
        ledger = by_position(entries)
        # Each source's readings by (location, SKU), made when a row of that source is first
        # read: a page of the stores near a customer reads no warehouse. Keyed without the
        # source, whose hash (an Enum's) is a Python call per reading.
        indexes: dict[SourceSystem, dict[tuple[str, str], StockReading]] = {}

        def reading_at(loc: Location, sku: str) -> StockReading | None:
            index = indexes.get(loc.source)
            if index is None:
                index = indexes[loc.source] = {
                    (r.location_ref, r.sku): r for r in read.get(loc.source, ())
                }
            return index.get((loc.source_ref, sku))

        def threshold(sku: str, loc: Location) -> int:
            variation = thresholds.get(sku)
            if variation is not None and loc.source is SourceSystem.POS:
                return variation.low_stock_thresholds.get(loc.source_ref, self._low)
            return self._low

        def row(sku: str, loc: Location) -> NodeAvailability:
            reading = reading_at(loc, sku)
            return node_availability(
                sku,
                loc,
                reading,
                low_threshold=threshold(sku, loc),
                gateway=overlay(ledger.get((sku, loc.id), ()), observed_at(reading)),
                promise_cap=caps.get(sku),
                stale_safety=self._stale_safety,
                from_copy=from_copy.get((loc.source, sku)),
            )

        nodes = (
            self._directory_index(directory)
            if directory is not None and locations is directory
            else {loc.id: loc for loc in locations}
        )
        plain = {sku: NodeRows(nodes, partial(row, sku)) for sku in stock_skus}

        def kit_row(kit: Kit, loc: Location) -> NodeAvailability:
            components = {c.sku: plain[c.sku][loc.id] for c in kit.components}
            return kit_node_availability(kit, components, loc, self._low)

        result: dict[str, Mapping[str, NodeAvailability]] = {}
        for sku in skus:
            kit = kits.get(sku)
            rows = plain[sku] if kit is None else NodeRows(nodes, partial(kit_row, kit))
            result[sku] = rows if lazy else dict(rows)
        return result, failed

    def _directory_index(self, directory: list[Location]) -> dict[str, Location]:
        """The directory's nodes by id, made once per list the directory hands out (it makes
        a new one when it rebuilds), not once per answer."""
        known, index = self._nodes_by_id
        if directory is not known:
            index = {loc.id: loc for loc in directory}
            self._nodes_by_id = (directory, index)
        return index

    async def _caps(self, stock_skus: Sequence[str]) -> dict[str, int]:
        if self._promise_cap is None:
            return {}
        return dict.fromkeys(await self._promise_cap.at_risk(stock_skus), self._promise_cap.units)

    async def channel_totals(
        self,
        skus: Sequence[str],
        channel: Channel,
        *,
        kits: Mapping[str, Kit] | None = None,
        store_stock: StoreStock | None = None,
        asked: datetime | None = None,
    ) -> dict[str, ChannelTotal]:
        """``by_node`` over the channel's nodes, summed per SKU (see ``channel_totals``);
        ``kits`` when the caller has read them already; ``store_stock`` reads the stores'
        counts instead of the POS (the reconciler's kept copy), summed where it can, its
        readings dated by it. ``asked``: when the caller started reading, for the readings
        this service takes straight from the ERP and POS adapters (``asked_at``)."""
        if kits is None:
            kits = await self._erp.kits(skus)
        locations = await self._locations.locations()
        nodes = [loc for loc in locations if serves_channel(loc, channel)]
        stores = [loc for loc in nodes if loc.source is SourceSystem.POS]
        stock_skus = sorted(
            (set(skus) - kits.keys()) | {c.sku for k in kits.values() for c in k.components}
        )

        async def ledger_then_stores() -> tuple[
            Mapping[tuple[str, str], Sequence[LedgerEntry]],
            list[StockReading],
            dict[str, StoreSum],
        ]:
            ledger = by_position(await self._ledger_entries(stock_skus))
            if store_stock is None:
                counts = await self._pos.stock(stock_skus, [s.source_ref for s in stores])
                return ledger, asked_at(counts, asked), {}
            store_ids = {s.id for s in stores}
            one_by_one = {c.sku for k in kits.values() for c in k.components} | {
                sku for sku, location_id in ledger if location_id in store_ids
            }
            safety = {s.source_ref: s.safety_stock for s in stores}
            readings, sums = await store_stock(stock_skus, safety, one_by_one)
            return ledger, readings, sums

        erp_readings, (ledger, pos_readings, sums) = await gathering.gather(
            self._erp.stock(stock_skus), ledger_then_stores()
        )
        readings = [*asked_at(erp_readings, asked), *pos_readings]
        return channel_totals(skus, kits, nodes, readings, ledger, sums)
