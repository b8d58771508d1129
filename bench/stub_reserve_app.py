"""The real gateway app with ``reserve`` answering a fixed reservation: the ceiling of the
HTTP + GraphQL path for this mutation with no service or database work at all. Served by
bench/reserve_ceiling.py; never imported by the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.app import create_app
from gateway.domain import Channel
from gateway.domain.reservations import Reservation, ReservationLine, ReservationStatus
from gateway.services.reservations import ReservationService

FIXED = Reservation(
    "res_x",
    ReservationStatus.ACTIVE,
    "WH",
    Channel.ONLINE,
    None,
    (ReservationLine("A", 1),),
    datetime.now(UTC),
    datetime.now(UTC) + timedelta(hours=1),
)


async def _fixed(self: ReservationService, request: object, key: str) -> Reservation:
    return FIXED


ReservationService.reserve = _fixed  # type: ignore[method-assign]


def app():  # type: ignore[no-untyped-def]
    return create_app()
