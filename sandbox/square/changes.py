"""BatchChangeInventory: adjustments, physical counts and transfers, validated as a whole
before any is applied, idempotent on ``idempotency_key``.

Writable moves only (Inventory API): NONE/UNLINKED_RETURN/WASTE -> IN_STOCK and
IN_STOCK -> SOLD/WASTE/NONE. RESERVED_FOR_SALE and the vendor, return and transit states are
read-only, so a reservation cannot be written into Square: INVALID_ENUM_VALUE.

Not enough IN_STOCK is not an error: Square lets counts go negative (a store that rang up
more than its records said it had), so an adjustment is applied whatever the balance and the
negative count is returned, as the real API does; a reconciliation sees the oversell instead
of a refused sale. Re-sending a key with the same body returns the first answer; the same key
with a different body is refused with IDEMPOTENCY_KEY_REUSED, which is what Square documents
(developer.squareup.com/docs/working-with-apis/idempotency) and answers in practice ("The
idempotency key can only be retried with the same request data.").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.square.catalog import square_id
from sandbox.square.inventory import STATES, UNTRACKED, Event, Inventory, count_body
from sandbox.square.wire import (
    field_of,
    fingerprint,
    invalid,
    not_found,
    parse_quantity,
    parse_time,
    rfc3339,
)

READ_ONLY = frozenset(
    {
        "CUSTOM",
        "RETURNED_BY_CUSTOMER",
        "RESERVED_FOR_SALE",
        "SOLD_ONLINE",
        "ORDERED_FROM_VENDOR",
        "RECEIVED_FROM_VENDOR",
        "IN_TRANSIT_TO",
        "IN_TRANSIT",
        "COMPOSED",
        "DECOMPOSED",
        "SUPPORTED_BY_NEWER_VERSION",
    }
)
ADJUSTMENTS = frozenset(
    {
        ("NONE", "IN_STOCK"),
        ("UNLINKED_RETURN", "IN_STOCK"),
        ("WASTE", "IN_STOCK"),
        ("IN_STOCK", "SOLD"),
        ("IN_STOCK", "WASTE"),
        ("IN_STOCK", "NONE"),
    }
)
COUNTABLE = frozenset({"IN_STOCK", "WASTE"})
KINDS = {"ADJUSTMENT": "adjustment", "PHYSICAL_COUNT": "physical_count", "TRANSFER": "transfer"}
MAX_CHANGES = 100  # commonly cited, not in the OpenAPI spec
MAX_KEY_LENGTH = 128
# "occurred_at cannot be older than 24 hours or in the future relative to the request";
# a minute of client clock skew is let through.
MAX_AGE = timedelta(hours=24)
FUTURE_SKEW = timedelta(minutes=1)


@dataclass
class _Planned:
    kind: str
    wire: dict[str, Any]
    events: list[tuple[tuple[str, str], Event]]  # ((variation, location), event)


def batch_change(inventory: Inventory, body: dict[str, Any]) -> dict[str, Any]:
    key = field_of(body, "idempotency_key", str)
    if not key:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER", "Field `idempotency_key` is required.", "idempotency_key"
        )
    if len(key) > MAX_KEY_LENGTH:
        raise invalid(
            "VALUE_TOO_LONG", "`idempotency_key` must be at most 128 characters.", "idempotency_key"
        )
    request = fingerprint(body)
    seen = inventory.idempotency.get(key)
    if seen is not None:
        if seen[0] != request:
            raise invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key can only be retried with the same request data.",
                "idempotency_key",
            )
        return seen[1]

    changes = field_of(body, "changes", list) or []
    if len(changes) > MAX_CHANGES:
        raise invalid("VALUE_TOO_HIGH", "At most 100 changes per request.", "changes")
    ignore_unchanged = body.get("ignore_unchanged_counts", True) is not False
    now = inventory.clock()
    planned = [_plan(inventory, f"changes[{i}]", change, now) for i, change in enumerate(changes)]

    touched: dict[tuple[str, str, str], None] = {}
    created: list[dict[str, Any]] = []
    for plan in planned:
        applied = False
        for (vid, location), event in plan.events:
            if (
                ignore_unchanged
                and plan.kind == "PHYSICAL_COUNT"
                and inventory.unchanged(vid, location, event)
            ):
                continue
            # No balance check: Square lets IN_STOCK go negative (see the module docstring).
            inventory.apply(vid, location, event, now)
            for state in {*event.counts, *(s for move in event.moves for s in move[:2])}:
                touched[(vid, location, state)] = None
            applied = True
        if applied:
            record = {
                "id": square_id("change", next(inventory.sequence), now),
                **plan.wire,
                "catalog_object_type": "ITEM_VARIATION",
                "occurred_at": rfc3339(plan.events[0][1].occurred_at),
                "created_at": rfc3339(now),
            }
            created.append({"type": plan.kind, KINDS[plan.kind]: record})
            inventory.recorded.append(created[-1])

    counts = []
    for vid, location, state in touched:
        if state not in UNTRACKED:
            qty, at = inventory.counts(vid, location).get(state, (Decimal(0), now))
            counts.append(count_body(vid, location, state, qty, at))
    answer: dict[str, Any] = {}
    if counts:
        answer["counts"] = counts
        inventory.counts_changed(counts)
    if created:
        answer["changes"] = created
    inventory.idempotency[key] = (request, answer)
    return answer


def _plan(inventory: Inventory, where: str, change: Any, now: datetime) -> _Planned:
    if not isinstance(change, dict):
        raise invalid("EXPECTED_OBJECT", "Expected an object.", where)
    kind = field_of(change, "type", str, f"{where}.type")
    if kind is None:
        raise invalid("MISSING_REQUIRED_PARAMETER", "Field `type` is required.", f"{where}.type")
    if kind not in KINDS:
        raise invalid(
            "INVALID_ENUM_VALUE", f"`{kind}` is not a valid InventoryChangeType.", f"{where}.type"
        )
    where = f"{where}.{KINDS[kind]}"
    wire = field_of(change, KINDS[kind], dict, where)
    if wire is None:
        raise invalid("MISSING_REQUIRED_PARAMETER", f"`{where}` is required.", where)

    vid = _object(inventory, wire, where)
    qty = parse_quantity(wire.get("quantity"), f"{where}.quantity")
    occurred = _occurred_at(wire, where, now)
    event = Event(occurred, next(inventory.sequence))
    if kind == "PHYSICAL_COUNT":
        state = _state(wire, "state", where)
        if state not in COUNTABLE:
            raise invalid(
                "INVALID_VALUE",
                f"`{state}` is not a valid state for a physical count.",
                f"{where}.state",
            )
        if qty < 0:
            raise invalid("VALUE_TOO_LOW", "`quantity` must not be negative.", f"{where}.quantity")
        event.counts[state] = qty
        location = _location(inventory, wire, "location_id", where)
        return _Planned(kind, wire, [((vid, location), event)])

    if qty <= 0:
        raise invalid("VALUE_TOO_LOW", "`quantity` must be positive.", f"{where}.quantity")
    if kind == "ADJUSTMENT":
        source, target = _state(wire, "from_state", where), _state(wire, "to_state", where)
        if (source, target) not in ADJUSTMENTS:
            raise invalid(
                "INVALID_VALUE",
                f"An adjustment cannot move stock from `{source}` to `{target}`.",
                f"{where}.to_state",
            )
        event.moves.append((source, target, qty))
        location = _location(inventory, wire, "location_id", where)
        return _Planned(kind, wire, [((vid, location), event)])

    if _state(wire, "state", where) != "IN_STOCK":
        raise invalid(
            "INVALID_VALUE", "Only IN_STOCK quantities can be transferred.", f"{where}.state"
        )
    source_location = _location(inventory, wire, "from_location_id", where)
    target_location = _location(inventory, wire, "to_location_id", where)
    event.moves.append(("IN_STOCK", "NONE", qty))
    arrival = Event(occurred, next(inventory.sequence), moves=[("NONE", "IN_STOCK", qty)])
    return _Planned(
        kind, wire, [((vid, source_location), event), ((vid, target_location), arrival)]
    )


def _object(inventory: Inventory, wire: dict[str, Any], where: str) -> str:
    vid = field_of(wire, "catalog_object_id", str, f"{where}.catalog_object_id")
    if not vid:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER",
            "Field `catalog_object_id` is required.",
            f"{where}.catalog_object_id",
        )
    if vid not in inventory.catalog.variations:
        raise not_found(f"Object `{vid}` not found.")
    if wire.get("catalog_object_type", "ITEM_VARIATION") != "ITEM_VARIATION":
        raise invalid(
            "INVALID_VALUE", "Only ITEM_VARIATION is tracked.", f"{where}.catalog_object_type"
        )
    return vid


def _location(inventory: Inventory, wire: dict[str, Any], name: str, where: str) -> str:
    location = field_of(wire, name, str, f"{where}.{name}")
    if not location:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER", f"Field `{name}` is required.", f"{where}.{name}"
        )
    if location not in inventory.catalog.store_ids:
        raise not_found(f"Location `{location}` not found.")
    return location


def _occurred_at(wire: dict[str, Any], where: str, now: datetime) -> datetime:
    raw = wire.get("occurred_at")
    if raw is None:
        return now
    occurred = parse_time(raw, f"{where}.occurred_at")
    if occurred < now - MAX_AGE or occurred > now + FUTURE_SKEW:
        raise invalid(
            "INVALID_VALUE",
            "`occurred_at` cannot be older than 24 hours or in the future.",
            f"{where}.occurred_at",
        )
    return occurred


def _state(wire: dict[str, Any], name: str, where: str) -> str:
    state = field_of(wire, name, str, f"{where}.{name}")
    if state is None:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER", f"Field `{name}` is required.", f"{where}.{name}"
        )
    if state not in STATES or state in READ_ONLY:
        kind = where.rsplit(".", 1)[-1].replace("_", " ")
        raise invalid(
            "INVALID_ENUM_VALUE", f"`{state}` is not a valid state for a {kind}.", f"{where}.{name}"
        )
    return state
