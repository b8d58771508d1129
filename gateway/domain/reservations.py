"""Holds on stock (reservations) and the ledger entries the gateway overlays on the
sources' figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.catalog import Channel, Location, NodeAvailability


class ReservationStatus(StrEnum):
    ACTIVE = "ACTIVE"  # held until expires_at
    CONFIRMED = "CONFIRMED"  # turned into an order: held until the source records the sale
    RELEASED = "RELEASED"  # given back (cancelled, released by the client)
    EXPIRED = "EXPIRED"  # not confirmed in time; given back by the sweeper


@dataclass(frozen=True, slots=True)
class ReservationLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    status: ReservationStatus
    location_id: str
    channel: Channel
    customer_ref: str | None
    lines: tuple[ReservationLine, ...]
    created_at: datetime
    expires_at: datetime
    order_id: str | None = None
    requested_by: str | None = None  # the principal who took it (None: the gateway)


@dataclass(frozen=True, slots=True)
class HoldPlan:
    """What a reservation line holds: a kit holds its components."""

    line_sku: str
    line_quantity: int
    sku: str
    quantity: int


class LedgerKind(StrEnum):
    HOLD = "HOLD"  # promised to a customer: less to sell
    RESTOCK = "RESTOCK"  # a returned unit back on the shelf: more to sell
    INCOMING = "INCOMING"  # a returned unit expected or under inspection: not sellable


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A movement the gateway knows of and the source may not have recorded yet.

    ``applied_at`` is when the source recorded it; a reading taken at or after that
    moment already contains it and must not be adjusted again.
    """

    sku: str
    location_id: str
    kind: LedgerKind
    quantity: int
    applied_at: datetime | None = None


def needed_by_sku(plans: Iterable[HoldPlan]) -> dict[str, int]:
    """Units held per SKU (a kit and a loose component, or two kits, may share one)."""
    needed: dict[str, int] = {}
    for plan in plans:
        needed[plan.sku] = needed.get(plan.sku, 0) + plan.quantity
    return needed


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A reservation to write, the holds that back it, and the source's figures at its node
    the decision is taken on (the gateway's own ledger is read under the lock)."""

    reservation: Reservation
    plans: tuple[HoldPlan, ...]
    location: Location
    source: Mapping[str, NodeAvailability]


@dataclass(frozen=True, slots=True)
class OrderHold:
    """Units of one SKU held at one node for an order still to be handed over."""

    order_id: str
    reservation_id: str
    sku: str
    location_id: str
    quantity: int
    held_at: datetime  # when the order was committed (first come, first served)
    applied: bool  # the node's source already took them off its own figure
