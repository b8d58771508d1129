"""Reading orders: one, a page for the support console, and the routing decisions behind
them."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.orders import Order, OrderFilter, StoredDecision
from gateway.errors import NotFound
from gateway.ports import UnitOfWork, UnitOfWorkFactory
from gateway.ports.storage import OrderCursor


async def load_order(uow: UnitOfWork, order_id: str) -> Order:
    found = await uow.orders.get(order_id)
    if found is None:
        raise NotFound(f"No order {order_id!r}", field="id")
    return found


def order_skus(order: Order) -> list[str]:
    """The SKUs whose figures a change to ``order`` touches."""
    return sorted({line.sku for line in order.lines})


class OrderBook:
    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self._uow = unit_of_work

    async def get(self, order_id: str) -> Order:
        async with self._uow(read_only=True) as uow:
            return await load_order(uow, order_id)

    async def page(
        self, where: OrderFilter, first: int, after: OrderCursor | None
    ) -> tuple[list[Order], bool]:
        """Newest first; whether more follow."""
        async with self._uow(read_only=True) as uow:
            return await uow.orders.page(where, first=first, after=after)

    async def routing_decisions(self, order_ids: Sequence[str]) -> dict[str, StoredDecision]:
        async with self._uow(read_only=True) as uow:
            return await uow.routing.of_orders(order_ids)
