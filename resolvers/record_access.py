"""The data-level rules (gateway.domain.access) applied before a resolver reads or changes
an order, a hold or a return: a record that is not the caller's is a FORBIDDEN error on
that field, as a refused field is, and nothing is changed."""

from __future__ import annotations

from typing import Any

from gateway.domain import access
from gateway.domain.orders import Order
from gateway.domain.principal import Principal
from gateway.domain.reservations import Reservation
from gateway.errors import Forbidden, Unauthenticated


def _principal(info: Any) -> Principal:
    principal: Principal | None = info.context.principal
    if principal is None:  # the edge refuses such a request before it gets here
        raise Unauthenticated("who is asking?")
    return principal


async def readable_order(info: Any, order_id: str, access_token: str | None) -> Order:
    principal = _principal(info)
    services = info.context.services
    order: Order = await services.orders.get(order_id)
    if not access.may_read_order(
        principal,
        customer_email=order.customer_email,
        location_ids=_locations(order),
        holds_access_token=services.order_tokens.matches(order.id, access_token),
    ):
        raise Forbidden(
            f"order {order_id} is read with its access token, the customer's own token, "
            "or by staff",
            roles=sorted(r.value for r in access.EVERY_RECORD),
        )
    return order


async def order_at_callers_store(info: Any, order_id: str) -> None:
    principal = _principal(info)
    if access.sees_every_record(principal):
        return  # staff: no need to read the order first
    order: Order = await info.context.services.orders.get(order_id)
    if not access.works_at(principal, _locations(order)):
        raise Forbidden(
            f"order {order_id} is not picked up, shipped or fulfilled at "
            f"{principal.location_id or 'a store of yours'}",
            roles=sorted(r.value for r in access.EVERY_RECORD),
        )


async def return_at_callers_store(info: Any, return_id: str) -> None:
    principal = _principal(info)
    if access.sees_every_record(principal):
        return
    opened = await info.context.services.returns.get(return_id)
    await order_at_callers_store(info, opened.order_id)


async def own_hold(info: Any, reservation_id: str) -> Reservation | None:
    """The hold, read to decide (None for staff, who need no reading to be let through)."""
    principal = _principal(info)
    if access.sees_every_record(principal):
        return None
    held: Reservation = await info.context.services.reservations.get(reservation_id)
    if access.may_change_hold(principal, held.requested_by) or access.works_at(
        principal, [held.location_id]
    ):
        return held
    raise Forbidden(
        f"reservation {reservation_id} was taken by another caller",
        roles=sorted(r.value for r in access.EVERY_RECORD),
    )


def _locations(order: Order) -> list[str]:
    pickup = [order.pickup_location_id] if order.pickup_location_id else []
    return [*pickup, *order.fulfillment_location_ids]


async def callers_node(info: Any, location_id: str) -> None:
    """Staff anywhere; a store associate at its own store only. A node that does not exist
    is NOT_FOUND for everyone."""
    await info.context.services.availability.location(location_id)
    principal = _principal(info)
    if not access.works_at(principal, [location_id]):
        raise Forbidden(
            f"{location_id} is not {principal.location_id or 'a store of yours'}",
            roles=sorted(r.value for r in access.EVERY_RECORD),
        )
