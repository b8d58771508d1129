"""BatchRetrieveInventoryChanges (POST /v2/inventory/changes/batch-retrieve): the inventory
changes recorded at Square, oldest first, a page at a time.

Two kinds of change are served: the sample retailer's sales history (one IN_STOCK -> SOLD
adjustment per SKU, store and day for the days that sold anything,
``Dataset.store_daily_sales``), and every adjustment and physical count written through
BatchChangeInventory since the simulator started. Filters as Square documents them:
``catalog_object_ids`` and ``location_ids`` when set; ``types`` (default PHYSICAL_COUNT and
ADJUSTMENT; TRANSFER cannot be a filter); ``states`` on adjustments, by either end, ignored
for the untracked NONE, SOLD and UNLINKED_RETURN; ``updated_after``/``updated_before`` on
``created_at``; ``limit`` 1 to 1,000 (100 by default) and a cursor.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sandbox.square.catalog import square_id
from sandbox.square.inventory import (
    SORT_LIMIT,
    STATES,
    UNTRACKED,
    Inventory,
    page_limit,
)
from sandbox.square.wire import (
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid,
    parse_time,
    rfc3339,
    string_list,
)

TYPES = ("PHYSICAL_COUNT", "ADJUSTMENT")
SOURCE = {"product": "SQUARE_POS", "name": "Square Point of Sale"}


def retrieve_changes(inventory: Inventory, body: dict[str, Any]) -> dict[str, Any]:
    ids = string_list(body, "catalog_object_ids")
    location_ids = string_list(body, "location_ids")
    types = _types(string_list(body, "types"))
    states = _states(string_list(body, "states"))
    after_raw, before_raw = body.get("updated_after"), body.get("updated_before")
    after = None if after_raw is None else parse_time(after_raw, "updated_after")
    before = None if before_raw is None else parse_time(before_raw, "updated_before")
    limit = page_limit(body)
    objects = inventory.known_objects(ids)
    locations = inventory.known_locations(location_ids)
    query = fingerprint("changes", ids, location_ids, sorted(types), states, after_raw, before_raw)
    offset = decode_cursor(body.get("cursor"), query)

    def wanted(change: dict[str, Any]) -> bool:
        record = change[change["type"].lower()]
        created = parse_time(record["created_at"], "created_at")
        if (after is not None and created <= after) or (before is not None and created >= before):
            return False
        if change["type"] not in types:
            return False
        if change["type"] == "ADJUSTMENT" and states is not None:
            ends = {record["from_state"], record["to_state"]} - UNTRACKED
            return bool(ends & states)
        return True

    rows: Iterator[dict[str, Any]] = filter(wanted, _changes(inventory, objects, locations))
    if len(objects) * len(locations) <= SORT_LIMIT:
        rows = iter(sorted(rows, key=_created_at))
    chunk = list(itertools.islice(rows, offset, offset + limit + 1))
    answer: dict[str, Any] = {}
    if len(chunk) > limit:
        chunk = chunk[:limit]
        answer["cursor"] = encode_cursor(query, offset + limit)
    if chunk:
        answer["changes"] = chunk
    return answer


def _changes(
    inventory: Inventory, objects: list[str], locations: list[str]
) -> Iterator[dict[str, Any]]:
    dataset = inventory.catalog.dataset
    location_set, object_set = set(locations), set(objects)
    for vid in objects:
        sku = inventory.catalog.variations[vid].sku
        for location in locations:
            for day, units in enumerate(dataset.store_daily_sales(sku, location)):
                if units:
                    yield _sale(vid, location, units, dataset.sale_day_closed_at(day), day)
    for change in inventory.recorded:
        record = change[change["type"].lower()]
        if record["catalog_object_id"] in object_set and record["location_id"] in location_set:
            yield change


def _sale(vid: str, location: str, units: int, at: datetime, day: int) -> dict[str, Any]:
    moment = rfc3339(at)
    return {
        "type": "ADJUSTMENT",
        "adjustment": {
            "id": square_id("sale", vid, location, day),
            "from_state": "IN_STOCK",
            "to_state": "SOLD",
            "location_id": location,
            "catalog_object_id": vid,
            "catalog_object_type": "ITEM_VARIATION",
            "quantity": str(units),
            "occurred_at": moment,
            "created_at": moment,
            "source": SOURCE,
        },
    }


def _created_at(change: dict[str, Any]) -> str:
    # RFC 3339 in UTC with a fixed number of fraction digits: text order is time order.
    return str(change[change["type"].lower()]["created_at"])


def _types(raw: list[str] | None) -> set[str]:
    if raw is None:
        return set(TYPES)
    for i, kind in enumerate(raw):
        if kind == "TRANSFER":
            raise invalid(
                "INVALID_VALUE", "`TRANSFER` is not supported as a filter.", f"types[{i}]"
            )
        if kind not in TYPES:
            raise invalid(
                "INVALID_ENUM_VALUE", f"`{kind}` is not a valid InventoryChangeType.", f"types[{i}]"
            )
    return set(raw)


def _states(raw: list[str] | None) -> set[str] | None:
    if raw is None:
        return None
    for i, state in enumerate(raw):
        if state not in STATES:
            raise invalid(
                "INVALID_ENUM_VALUE", f"`{state}` is not a valid InventoryState.", f"states[{i}]"
            )
    tracked = set(raw) - UNTRACKED
    return tracked or None  # only untracked states asked for: Square ignores the filter
