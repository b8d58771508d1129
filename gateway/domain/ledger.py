"""The inventory ledger's arithmetic: what the gateway knows that a source reading may not.

A source reading (ERP Bin, Square count) is a snapshot ``as_of`` some moment. Each hold the
gateway takes lowers what can be promised until the source records the same movement
(the ERP reserves it when the Sales Order is submitted, the POS records the sale at
pickup); from then on the source's own figure carries it. So a hold is subtracted from a
reading exactly when the reading is older than the moment the source applied it, and never
twice: reserve -> confirm -> source decrement leaves availability where the hold put it.

    available_to_promise = max(0, on_hand + restocked - reserved - held - safety_stock)

This is the one Python copy of the rule; PostgreSQL's copy is ``gw_free_to_promise``
(migration 0003), written inline for a whole batch in ``gw_take_holds_batch`` (migration
0024). The service tests run on both databases and expect the same answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.catalog import Location, NodeAvailability, StockReading, StoreSum
from gateway.domain.reservations import LedgerEntry, LedgerKind


@dataclass(frozen=True, slots=True)
class Overlay:
    held: int = 0  # promised by the gateway, not yet in the source's figure
    restocked: int = 0  # returned to the shelf, not yet in the source's figure
    incoming: int = 0  # returned units expected or being inspected


NO_OVERLAY = Overlay()


def pending_against(entry: LedgerEntry, reading_as_of: datetime | None) -> bool:
    """Does a reading taken at ``reading_as_of`` still lack this movement?"""
    if entry.applied_at is None:
        return True
    return reading_as_of is None or reading_as_of < entry.applied_at


def overlay(entries: Iterable[LedgerEntry], reading_as_of: datetime | None) -> Overlay:
    held = restocked = incoming = 0
    for entry in entries:
        if entry.kind is LedgerKind.INCOMING:
            incoming += entry.quantity
        elif pending_against(entry, reading_as_of):
            if entry.kind is LedgerKind.HOLD:
                held += entry.quantity
            else:
                restocked += entry.quantity
    return Overlay(held=held, restocked=restocked, incoming=incoming)


def by_position(
    entries: Iterable[LedgerEntry],
) -> Mapping[tuple[str, str], list[LedgerEntry]]:
    grouped: dict[tuple[str, str], list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.sku, entry.location_id)].append(entry)
    return grouped


def free_to_promise(on_hand: int, reserved: int, safety_stock: int, gateway: Overlay) -> int:
    return max(0, on_hand + gateway.restocked - reserved - gateway.held - safety_stock)


def kept_back(on_hand: int, reserved: int, safety_stock: int, promise_cap: int | None) -> int:
    """Units a node keeps back from what it may promise: its safety stock, or, under a
    promise cap, whatever of the source's free figure lies above the cap. With it in place of
    the safety stock, ``free_to_promise`` gives at most ``promise_cap + restocked - held``:
    the cap bounds the holds outstanding, not each hold, and both databases' hold takers
    (which take the safety stock from the source figures) keep to it under their locks."""
    if promise_cap is None:
        return safety_stock
    return max(safety_stock, on_hand - reserved - promise_cap)


def store_sum(readings: Iterable[StockReading], safety_stock: Mapping[str, int]) -> StoreSum:
    """The readings at the stores in ``safety_stock`` (location ref -> units kept back),
    each made available as ``free_to_promise`` does with nothing in the ledger, added up.
    A channel total may take it instead of the readings while no ledger entry touches them."""
    return summed(
        ((r.location_ref, r.on_hand, r.reserved, r.as_of) for r in readings), safety_stock
    )


# A store's figures for one SKU: (location ref, on hand, reserved, as of).
StorePosition = tuple[str, int, int, datetime]


def summed(positions: Iterable[StorePosition], safety_stock: Mapping[str, int]) -> StoreSum:
    """``store_sum`` of figures not made into readings: a first full reconcile adds up 3.3
    million Square counts, and a reading apiece would cost more than the sum."""
    available = on_hand = 0
    stalest: datetime | None = None
    for location_ref, position_on_hand, reserved, as_of in positions:
        safety = safety_stock.get(location_ref)
        if safety is None:
            continue
        available += free_to_promise(position_on_hand, reserved, safety, NO_OVERLAY)
        on_hand += position_on_hand
        if stalest is None or as_of < stalest:
            stalest = as_of
    return StoreSum(available, on_hand, stalest)


def shortfalls(
    needed: Mapping[str, int],
    source: Mapping[str, NodeAvailability],
    entries: Iterable[LedgerEntry],
    location: Location,
) -> list[dict[str, object]]:
    """Positions at ``location`` that cannot give what is asked, with what they can still
    give: ``source`` are the source's figures (no ledger applied), ``entries`` the ledger."""
    by_sku: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.location_id == location.id:
            by_sku[entry.sku].append(entry)
    short: list[dict[str, object]] = []
    for sku, quantity in needed.items():
        row = source.get(sku)
        if row is None:
            available = 0
        else:
            available = free_to_promise(
                row.on_hand,
                row.reserved,
                row.safety_stock,
                overlay(by_sku[sku], row.fetched_at or row.as_of),
            )
        if available < quantity:
            short.append(
                {
                    "sku": sku,
                    "locationId": location.id,
                    "requested": quantity,
                    "available": available,
                }
            )
    return short
