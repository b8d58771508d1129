"""Square inventory counts per (variation, location, state): read lazily from the dataset,
rewritten by the changes in ``changes``.

A pair nobody has changed costs nothing: its counts are drawn from the dataset on demand.
The first change to a pair starts a history for it, seeded with the dataset's counts as of
the beginning of time; counts are recomputed by replaying that history in ``occurred_at``
order, so a physical count overrides earlier adjustments and out-of-order changes land
where they belong, as Square does. ``listeners`` hear the counts each accepted change set
moved (what inventory.count.updated carries; sandbox.square.webhooks).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.square.catalog import Catalog
from sandbox.square.wire import (
    decode_cursor,
    encode_cursor,
    field_of,
    fingerprint,
    format_quantity,
    invalid,
    not_found,
    page,
    parse_time,
    rfc3339,
    string_list,
)

STATES = frozenset(
    {
        "CUSTOM",
        "IN_STOCK",
        "SOLD",
        "RETURNED_BY_CUSTOMER",
        "RESERVED_FOR_SALE",
        "SOLD_ONLINE",
        "ORDERED_FROM_VENDOR",
        "RECEIVED_FROM_VENDOR",
        "IN_TRANSIT_TO",
        "NONE",
        "WASTE",
        "UNLINKED_RETURN",
        "COMPOSED",
        "DECOMPOSED",
        "SUPPORTED_BY_NEWER_VERSION",
        "IN_TRANSIT",
    }
)
UNTRACKED = frozenset({"NONE", "SOLD", "UNLINKED_RETURN"})  # never returned as counts
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
GET_PAGE_SIZE = 100
# Sorting by calculated_at needs every candidate count in hand; past this many
# (variation, location) pairs an unfiltered scan streams in catalogue order instead.
SORT_LIMIT = 200_000
# Sorted results kept for the cursors that page through them.
RECENT_QUERIES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Count = tuple[Decimal, datetime]  # quantity, calculated_at
Row = tuple[str, str, str, Decimal, datetime]  # object, location, state, quantity, at


@dataclass
class Event:
    occurred_at: datetime
    seq: int
    counts: dict[str, Decimal] = field(default_factory=dict)  # physical counts
    moves: list[tuple[str, str, Decimal]] = field(default_factory=list)  # from, to, qty


class Inventory:
    def __init__(self, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.catalog = catalog
        self.clock = clock
        self._history: dict[tuple[str, str], list[Event]] = {}
        self._current: dict[tuple[str, str], dict[str, Count]] = {}
        # idempotency key -> (request fingerprint, the first answer)
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self.sequence = itertools.count()
        self.version = 0  # bumped by every write
        self.listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        # Every change BatchChangeInventory recorded, as it answered it (sandbox.square.history).
        self.recorded: list[dict[str, Any]] = []
        self._sorted: OrderedDict[str, tuple[int, list[Row]]] = OrderedDict()

    # --- reading -----------------------------------------------------------------------------

    def counts(self, vid: str, location: str) -> dict[str, Count]:
        """Tracked and untracked counts of one variation at one location, by state."""
        return self.counts_at(vid, [location])[location]

    def counts_at(self, vid: str, locations: list[str]) -> dict[str, dict[str, Count]]:
        """``counts`` of one variation at each of ``locations``, drawn in one batch."""
        result: dict[str, dict[str, Count]] = {}
        drawn_at: list[str] = []
        for location in locations:
            current = self._current.get((vid, location))
            if current is None:
                drawn_at.append(location)
            else:
                result[location] = current
        if drawn_at:
            dataset = self.catalog.dataset
            sku = self.catalog.variations[vid].sku
            drawn = dataset.store_counts(sku, drawn_at)
            stocked = [location for location in drawn_at if drawn[location]]
            at = dataset.store_counts_calculated_at(sku, stocked)
            times = dict(zip(stocked, at, strict=True))
            for location in drawn_at:
                figures = drawn[location]
                result[location] = (
                    {state: (_decimal(qty), times[location]) for state, qty in figures.items()}
                    if figures
                    else {}
                )
        return result

    def _rows(
        self,
        objects: list[str],
        locations: list[str],
        states: set[str] | None,
        updated_after: datetime | None,
    ) -> Iterator[Row]:
        for vid in objects:
            by_location = self.counts_at(vid, locations)
            for location in locations:
                for state, (qty, at) in by_location[location].items():
                    if state in UNTRACKED or (states is not None and state not in states):
                        continue
                    if updated_after is not None and at <= updated_after:
                        continue
                    yield vid, location, state, qty, at

    def _written_rows(
        self,
        objects: list[str],
        locations: list[str],
        states: set[str] | None,
        updated_after: datetime,
    ) -> list[Row]:
        """``_rows`` over the counts written through the API only, in the same order."""
        object_at = {vid: i for i, vid in enumerate(objects)}
        location_at = {loc: i for i, loc in enumerate(locations)}
        pairs = sorted(
            (pair for pair in self._current if pair[0] in object_at and pair[1] in location_at),
            key=lambda pair: (object_at[pair[0]], location_at[pair[1]]),
        )
        return list(self._rows_of(pairs, states, updated_after))

    def _rows_of(
        self, pairs: list[tuple[str, str]], states: set[str] | None, updated_after: datetime
    ) -> Iterator[Row]:
        for vid, location in pairs:
            for state, (qty, at) in self._current[(vid, location)].items():
                if state in UNTRACKED or (states is not None and state not in states):
                    continue
                if at > updated_after:
                    yield vid, location, state, qty, at

    def batch_retrieve(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = string_list(body, "catalog_object_ids")
        location_ids = string_list(body, "location_ids")
        raw_states = string_list(body, "states")
        states = None
        if raw_states is not None:
            for i, state in enumerate(raw_states):
                if state not in STATES:
                    raise invalid(
                        "INVALID_ENUM_VALUE",
                        f"`{state}` is not a valid InventoryState.",
                        f"states[{i}]",
                    )
            states = set(raw_states)
        after_raw = body.get("updated_after")
        updated_after = None if after_raw is None else parse_time(after_raw, "updated_after")
        limit = page_limit(body)

        objects = self.known_objects(ids)
        locations = self.known_locations(location_ids)
        query = fingerprint("counts", ids, location_ids, raw_states, after_raw)
        offset = decode_cursor(body.get("cursor"), query)
        if updated_after is not None and updated_after >= self.catalog.dataset.base_time:
            # Every drawn count was calculated before the dataset's base time: only counts
            # written since can be newer (Square's index on calculated_at, in effect).
            written = self._written_rows(objects, locations, states, updated_after)
            chunk, cursor = page(_newest_first(written), offset, limit, query)
        elif len(objects) * len(locations) <= SORT_LIMIT:
            rows = self._rows(objects, locations, states, updated_after)
            # Newest first; the sort is stable, so ties stay in request order. The sorted
            # result is kept for the query's next pages until the next write.
            remembered = self._sorted.get(query)
            if remembered is None or remembered[0] != self.version or not offset:
                remembered = (self.version, _newest_first(rows))
                self._sorted[query] = remembered
                while len(self._sorted) > RECENT_QUERIES:
                    self._sorted.popitem(last=False)
            chunk, cursor = page(remembered[1], offset, limit, query)
        else:
            rows = self._rows(objects, locations, states, updated_after)
            chunk = list(itertools.islice(rows, offset, offset + limit + 1))
            cursor = None
            if len(chunk) > limit:
                chunk = chunk[:limit]
                cursor = encode_cursor(query, offset + limit)
        answer: dict[str, Any] = {}
        if chunk:
            answer["counts"] = [count_body(*row) for row in chunk]
        if cursor:
            answer["cursor"] = cursor
        return answer

    def retrieve_one(
        self, vid: str, location_ids: str | None, cursor: str | None
    ) -> dict[str, Any]:
        if vid not in self.catalog.variations:
            raise not_found(f"Object `{vid}` not found.")
        wanted = [x for x in location_ids.split(",") if x] if location_ids else None
        locations = self.known_locations(wanted)
        query = fingerprint("count", vid, location_ids)
        rows = list(self._rows([vid], locations, None, None))
        chunk, next_cursor = page(rows, decode_cursor(cursor, query), GET_PAGE_SIZE, query)
        answer: dict[str, Any] = {}
        if chunk:
            answer["counts"] = [count_body(*row) for row in chunk]
        if next_cursor:
            answer["cursor"] = next_cursor
        return answer

    def known_objects(self, ids: list[str] | None) -> list[str]:
        if ids is None:
            return list(self.catalog.variations)
        return [vid for vid in dict.fromkeys(ids) if vid in self.catalog.variations]

    def known_locations(self, ids: list[str] | None) -> list[str]:
        if ids is None:
            return list(self.catalog.store_ids)
        wanted = set(ids)
        return [loc for loc in self.catalog.store_ids if loc in wanted]

    # --- writing -----------------------------------------------------------------------------

    def counts_changed(self, counts: list[dict[str, Any]]) -> None:
        for listener in self.listeners:
            listener(counts)

    def unchanged(self, vid: str, location: str, event: Event) -> bool:
        current = self.counts(vid, location)
        return all(current.get(s, (Decimal(0),))[0] == q for s, q in event.counts.items())

    def apply(self, vid: str, location: str, event: Event, now: datetime) -> None:
        pair = (vid, location)
        if pair not in self._history:
            self._history[pair] = self._seeded_history(vid, location)
        self.version += 1
        history = self._history[pair]
        history.append(event)
        history.sort(key=lambda e: (e.occurred_at, e.seq))
        before = self.counts(vid, location)
        totals: dict[str, Decimal] = {}
        for past in history:
            totals.update(past.counts)
            for source, target, qty in past.moves:
                totals[source] = totals.get(source, Decimal(0)) - qty
                totals[target] = totals.get(target, Decimal(0)) + qty
        self._current[pair] = {
            state: (qty, before[state][1] if state in before and before[state][0] == qty else now)
            for state, qty in totals.items()
        }

    def _seeded_history(self, vid: str, location: str) -> list[Event]:
        """The pair's history before its first change: the dataset's counts, reached by the
        sample sales history (sandbox.square.history) from what was on the shelf before it.
        Replaying it gives the dataset's counts again, and a physical count dated between
        two of those sales keeps the later ones, as Square's own history would."""
        seed = {state: qty for state, (qty, _) in self.counts(vid, location).items()}
        if "IN_STOCK" not in seed:
            return [Event(_EPOCH, -1, counts=seed)]
        dataset = self.catalog.dataset
        sold = dataset.store_daily_sales(self.catalog.variations[vid].sku, location)
        before = {**seed, "IN_STOCK": seed["IN_STOCK"] + sum(sold)}
        sales = [
            Event(dataset.sale_day_closed_at(day), -1, moves=[("IN_STOCK", "SOLD", _decimal(n))])
            for day, n in enumerate(sold)
            if n
        ]
        return [Event(_EPOCH, -1, counts=before), *sales]


def page_limit(body: dict[str, Any]) -> int:
    """A batch-retrieve's ``limit``: 1 to 1,000, 100 when not given."""
    limit = field_of(body, "limit", int)
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise invalid("VALUE_TOO_LOW", "`limit` must be greater than or equal to 1.", "limit")
    if limit > MAX_LIMIT:
        raise invalid("VALUE_TOO_HIGH", "`limit` must be less than or equal to 1000.", "limit")
    return int(limit)


def _newest_first(rows: Iterable[Row]) -> list[Row]:
    # Stable: rows calculated at one moment stay in request order (reverse keeps ties so).
    return sorted(rows, key=_calculated_at, reverse=True)


def _calculated_at(row: Row) -> datetime:
    return row[4]


_DECIMALS = [Decimal(n) for n in range(64)]


def _decimal(quantity: int) -> Decimal:
    """Drawn counts are small whole numbers: one Decimal each, made once."""
    return _DECIMALS[quantity] if 0 <= quantity < len(_DECIMALS) else Decimal(quantity)


def count_body(vid: str, location: str, state: str, qty: Decimal, at: datetime) -> dict[str, Any]:
    return {
        "catalog_object_id": vid,
        "catalog_object_type": "ITEM_VARIATION",
        "state": state,
        "location_id": location,
        "quantity": format_quantity(qty),
        "calculated_at": rfc3339(at),
    }
