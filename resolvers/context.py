"""Per-request context: the services, and DataLoaders whose cache lives one request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from gateway.domain import ItemMaster, Location, NodeFigures, Product
from gateway.domain.orders import ReturnRequest, StoredDecision
from gateway.domain.principal import Principal
from gateway.domain.truth import Discrepancy
from gateway.services.container import Services

K = TypeVar("K")


@dataclass
class GatewayContext:
    """Each loader is made when a resolver first asks for it: most requests use one or two
    of them, and a request's context is made on every request."""

    services: Services
    # Who is asking (gateway.auth); a subscriber's is set once its connection_init is read.
    principal: Principal | None = None
    # A WebSocket's context lives as long as the socket: its loaders must not remember.
    connection: Any = None
    remember: bool = True
    connection_params: dict[str, Any] | None = None
    _locations: asyncio.Task[list[Location]] | None = field(default=None, init=False)

    def _loader(self, load: Callable[[list[K]], Awaitable[list[Any]]]) -> DataLoader[K, Any]:
        return DataLoader(load_fn=load, cache=self.remember)

    @cached_property
    def products(self) -> DataLoader[str, Product | None]:
        catalog = self.services.catalog

        async def load(skus: list[str]) -> list[Product | BaseException | None]:
            # A failure in the list is raised by the loader for that SKU alone.
            found = await catalog.products_as_known(skus)
            return [found.get(sku) for sku in skus]

        return self._loader(load)

    @cached_property
    def items(self) -> DataLoader[str, ItemMaster | None]:
        erp = self.services.erp

        async def load(skus: list[str]) -> list[ItemMaster | None]:
            found = await erp.items_by_sku(skus)
            return [found.get(sku) for sku in skus]

        return self._loader(load)

    @cached_property
    def stock(self) -> DataLoader[str, NodeFigures]:
        availability = self.services.availability

        async def load(skus: list[str]) -> list[NodeFigures]:
            found = await availability.figures(skus)
            return [found[sku] for sku in skus]

        return self._loader(load)

    @cached_property
    def returns(self) -> DataLoader[str, list[ReturnRequest]]:
        service = self.services.returns

        async def load(order_ids: list[str]) -> list[list[ReturnRequest]]:
            found = await service.of_orders(order_ids)
            return [found[order_id] for order_id in order_ids]

        return self._loader(load)

    @cached_property
    def routing(self) -> DataLoader[str, StoredDecision | None]:
        orders = self.services.orders

        async def load(order_ids: list[str]) -> list[StoredDecision | None]:
            found = await orders.routing_decisions(order_ids)
            return [found.get(order_id) for order_id in order_ids]

        return self._loader(load)

    @cached_property
    def oversell(self) -> DataLoader[str, str | None]:
        truth = self.services.truth

        async def load(skus: list[str]) -> list[str | None]:
            found = await truth.open_oversell_risks(skus)
            return [found.get(sku) for sku in skus]

        return self._loader(load)

    @cached_property
    def exceptions(self) -> DataLoader[str, list[Discrepancy]]:
        truth = self.services.truth

        async def load(order_ids: list[str]) -> list[list[Discrepancy]]:
            found = await truth.of_orders(order_ids)
            return [found.get(order_id, []) for order_id in order_ids]

        return self._loader(load)

    async def locations(self) -> list[Location]:
        # One lookup per request, shared by every resolver that asks concurrently.
        if self._locations is None or not self.remember:
            self._locations = asyncio.ensure_future(self.services.availability.all_locations())
        return await asyncio.shield(self._locations)
