"""Square inventory reads: counts per variation, location and state, turned into the
gateway's stock readings.

Stock figures. Square's sellable quantity is IN_STOCK. RESERVED_FOR_SALE units are on the
shelf but promised (read-only through the API, set by Square's own order flows), so a reading
says ``on_hand = IN_STOCK + RESERVED_FOR_SALE`` and ``reserved = RESERVED_FOR_SALE``: on hand
less reserved is Square's sellable figure again. ORDERED_FROM_VENDOR is ``incoming``. Square
quantities are decimal strings; they are rounded down, as Square's own POS app does, and a
negative IN_STOCK (an oversold store) is passed on as it is. ``as_of`` is the newest
``calculated_at`` of the states read for that SKU and store.

All counts are read in one batch-retrieve per 1,000 variations, following cursors to the end.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from adapters.square.api import SquareApi, dicts
from adapters.square.writes import rfc3339_utc
from gateway.domain import Sale, SourceSystem, StockChanges, StockReading, StoreSum
from gateway.domain.cycle_counts import StockMovement
from gateway.domain.ledger import StorePosition, summed

IDS_PER_COUNTS_CALL = 1000
COUNTS_PAGE_LIMIT = 1000
STOCK_STATES = ("IN_STOCK", "RESERVED_FOR_SALE", "ORDERED_FROM_VENDOR")
_SLOT = {state: i for i, state in enumerate(STOCK_STATES)}
_FRACTION = re.compile(r"(\.\d{6})\d+")
_UNKNOWN_TIME = datetime.fromtimestamp(0, UTC)


async def read_stock(
    api: SquareApi,
    sku_of: dict[str, str],
    wanted: list[str],
    location_refs: Sequence[str] | None,
) -> list[StockReading]:
    """Readings for the variations in ``sku_of`` (variation id -> SKU), ordered as
    ``wanted`` then by location."""
    return _readings(_figures(await _all_counts(api, sku_of, location_refs), sku_of), wanted)


async def read_sums(
    api: SquareApi, sku_of: dict[str, str], wanted: list[str], safety_stock: Mapping[str, int]
) -> dict[str, StoreSum]:
    """The counts of the variations in ``sku_of`` at the stores in ``safety_stock``, added
    up per SKU of ``wanted`` (``gateway.domain.ledger.summed``), without a reading apiece."""
    figures = _figures(await _all_counts(api, sku_of, list(safety_stock)), sku_of)
    nothing = StoreSum(0, 0, None)
    return {
        sku: summed(_positions(figures[sku]), safety_stock) if sku in figures else nothing
        for sku in wanted
    }


async def _all_counts(
    api: SquareApi, sku_of: dict[str, str], location_refs: Sequence[str] | None
) -> list[dict[str, Any]]:
    ids = list(sku_of)
    counts: list[dict[str, Any]] = []
    for start in range(0, len(ids), IDS_PER_COUNTS_CALL):
        counts += await _counts(api, ids[start : start + IDS_PER_COUNTS_CALL], location_refs)
    return counts


async def _counts(
    api: SquareApi, ids: list[str], location_refs: Sequence[str] | None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {
        "catalog_object_ids": ids,
        "states": list(STOCK_STATES),
        "limit": COUNTS_PAGE_LIMIT,
    }
    if location_refs is not None:
        body["location_ids"] = list(dict.fromkeys(location_refs))
    counts: list[dict[str, Any]] = []
    while True:
        answer = await api.call("POST", "/v2/inventory/counts/batch-retrieve", json=body)
        counts += dicts(answer.get("counts"))
        cursor = answer.get("cursor")
        if not cursor:
            return counts
        body = {**body, "cursor": cursor}


async def read_changes(
    api: SquareApi, since: datetime, location_refs: Sequence[str]
) -> StockChanges:
    """The variations whose counts at these locations Square calculated after ``since``:
    one batch-retrieve with ``updated_after`` and no object filter, every page of it."""
    body: dict[str, Any] = {
        "location_ids": list(dict.fromkeys(location_refs)),
        "states": list(STOCK_STATES),
        "updated_after": rfc3339_utc(since),
        "limit": COUNTS_PAGE_LIMIT,
    }
    changed: set[tuple[str, str, str, datetime]] = set()
    while True:
        answer = await api.call("POST", "/v2/inventory/counts/batch-retrieve", json=body)
        for count in dicts(answer.get("counts")):
            vid, location, state = (
                count.get("catalog_object_id"), count.get("location_id"), count.get("state")
            )  # fmt: skip
            moment = _time(count.get("calculated_at"))
            if isinstance(vid, str) and isinstance(location, str) and moment is not None:
                changed.add((vid, location, str(state), moment))
        cursor = answer.get("cursor")
        if not cursor:
            return StockChanges(frozenset(changed))
        body = {**body, "cursor": cursor}


async def read_sales(
    api: SquareApi, sku_of: Mapping[str, str], location_refs: Sequence[str], since: datetime
) -> list[Sale]:
    """The IN_STOCK -> SOLD adjustments of these variations at these locations created after
    ``since``. Square's ``states`` filter ignores SOLD (an untracked state), so the
    adjustments are asked for whole and the sales kept here. A fractional quantity (a
    weighed good) counts as the whole units nearest to it."""
    sales: list[Sale] = []
    async for change in _changes(api, sku_of, location_refs, since, ["ADJUSTMENT"]):
        sale = _sale(change.get("adjustment"), sku_of)
        if sale is not None:
            sales.append(sale)
    return sales


async def read_movements(
    api: SquareApi, sku_of: Mapping[str, str], location_refs: Sequence[str], since: datetime
) -> list[StockMovement]:
    """What moved IN_STOCK of these variations at these locations after ``since``, by the
    changes' ``occurred_at`` (Square replays its history in that order): adjustments into
    or out of IN_STOCK, and physical counts of it. Square filters on ``created_at``, which
    is never before ``occurred_at``, so asking from ``since`` misses nothing."""
    moved: list[StockMovement] = []
    async for change in _changes(
        api, sku_of, location_refs, since, ["ADJUSTMENT", "PHYSICAL_COUNT"]
    ):
        movement = _movement(change, sku_of)
        if movement is not None and movement.at > since:
            moved.append(movement)
    return sorted(moved, key=lambda movement: movement.at)


async def _changes(
    api: SquareApi,
    sku_of: Mapping[str, str],
    location_refs: Sequence[str],
    since: datetime,
    types: list[str],
) -> AsyncIterator[dict[str, Any]]:
    """Every page of BatchRetrieveInventoryChanges (1,000 variations a request)."""
    ids = list(sku_of)
    for start in range(0, len(ids), COUNTS_PAGE_LIMIT):
        body: dict[str, Any] = {
            "catalog_object_ids": ids[start : start + COUNTS_PAGE_LIMIT],
            "location_ids": list(dict.fromkeys(location_refs)),
            "types": types,
            "updated_after": rfc3339_utc(since),
            "limit": COUNTS_PAGE_LIMIT,
        }
        while True:
            answer = await api.call("POST", "/v2/inventory/changes/batch-retrieve", json=body)
            for change in dicts(answer.get("changes")):
                yield change
            cursor = answer.get("cursor")
            if not cursor:
                break
            body = {**body, "cursor": cursor}


def _movement(change: dict[str, Any], sku_of: Mapping[str, str]) -> StockMovement | None:
    kind = change.get("type")
    record = change.get("physical_count" if kind == "PHYSICAL_COUNT" else "adjustment")
    if not isinstance(record, dict):
        return None
    sku = sku_of.get(str(record.get("catalog_object_id")))
    location = record.get("location_id")
    moment = _time(record.get("occurred_at"))
    quantity = _nearest_units(record.get("quantity"))
    if sku is None or not isinstance(location, str) or moment is None or quantity is None:
        return None
    if kind == "PHYSICAL_COUNT":
        if record.get("state") != "IN_STOCK":
            return None
        return StockMovement(sku, location, moment, 0, counted=quantity)
    sign = (record.get("to_state") == "IN_STOCK") - (record.get("from_state") == "IN_STOCK")
    if sign == 0:
        return None
    return StockMovement(sku, location, moment, sign * quantity)


def _nearest_units(raw: Any) -> int | None:
    """A change's quantity (a decimal string) as the whole units nearest to it."""
    try:
        quantity = Decimal(str(raw))
    except InvalidOperation:
        return None
    return int(quantity.quantize(Decimal(1), ROUND_HALF_UP)) if quantity.is_finite() else None


def _sale(adjustment: Any, sku_of: Mapping[str, str]) -> Sale | None:
    if not isinstance(adjustment, dict):
        return None
    if (adjustment.get("from_state"), adjustment.get("to_state")) != ("IN_STOCK", "SOLD"):
        return None
    sku = sku_of.get(str(adjustment.get("catalog_object_id")))
    location = adjustment.get("location_id")
    moment = _time(adjustment.get("occurred_at"))
    quantity = _nearest_units(adjustment.get("quantity"))
    if sku is None or not isinstance(location, str) or moment is None or quantity is None:
        return None
    return Sale(sku, location, moment, quantity)


# Per SKU, per location: [IN_STOCK, RESERVED_FOR_SALE, ORDERED_FROM_VENDOR, newest
# calculated_at or None].
Figures = dict[str, dict[str, list[Any]]]


def _figures(counts: list[dict[str, Any]], sku_of: dict[str, str]) -> Figures:
    # A first full reconcile reads millions of counts, so this loop is lean: quantities kept
    # as ints while they are whole (nearly always), each distinct calculated_at parsed once,
    # a count that is not as documented skipped.
    per_sku: Figures = {}
    times: dict[str, datetime | None] = {}
    for count in counts:
        try:
            slot = _SLOT[count["state"]]
            sku = sku_of[count["catalog_object_id"]]
            location = count["location_id"]
        except (KeyError, TypeError):  # a state not read, an item not asked, no location
            continue
        if location.__class__ is not str:
            continue
        locations = per_sku.get(sku)
        if locations is None:
            locations = per_sku[sku] = {}
        figures = locations.get(location)
        if figures is None:
            figures = locations[location] = [0, 0, 0, None]
        raw_quantity = count.get("quantity")
        if raw_quantity.__class__ is str and raw_quantity.isdigit():
            figures[slot] += int(raw_quantity)
        else:
            figures[slot] += _quantity(raw_quantity)
        raw = count.get("calculated_at")
        if raw.__class__ is not str:
            continue
        moment = times.get(raw)
        if moment is None:
            if raw in times:
                continue
            moment = times[raw] = _time(raw)
            if moment is None:
                continue
        if figures[3] is None or moment > figures[3]:
            figures[3] = moment
    return per_sku


def _positions(locations: dict[str, list[Any]]) -> Iterator[StorePosition]:
    for location, (in_stock, reserved, _, as_of) in locations.items():
        reserved = _whole(reserved)
        # Square always sends calculated_at; without one the figure's age is unknown.
        yield (
            location,
            _whole(in_stock) + reserved,
            reserved,
            _UNKNOWN_TIME if as_of is None else as_of,
        )


def _readings(per_sku: Figures, wanted: list[str]) -> list[StockReading]:
    readings: list[StockReading] = []
    pos = SourceSystem.POS
    for sku in dict.fromkeys(wanted):
        locations = per_sku.get(sku)
        if not locations:
            continue
        for location in sorted(locations):
            in_stock, reserved, incoming, as_of = locations[location]
            reserved = _whole(reserved)
            # Square always sends calculated_at; without one the figure's age is unknown.
            as_of = _UNKNOWN_TIME if as_of is None else as_of
            # Positional: a million of these are made in a first reconcile.
            readings.append(
                StockReading(
                    sku, pos, location, _whole(in_stock) + reserved, reserved, as_of,
                    _whole(incoming),
                )
            )  # fmt: skip
    return readings


def _quantity(raw: Any) -> Decimal:
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return Decimal(0)


def _whole(quantity: int | Decimal) -> int:
    """Rounded down, as Square's POS shows decimal quantities (2.5 -> 2, -2.5 -> -3)."""
    if isinstance(quantity, int):
        return quantity
    return int(quantity.to_integral_value(rounding=ROUND_FLOOR))


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)  # Z, and any number of fraction digits
    except ValueError:
        text = _FRACTION.sub(r"\1", raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
