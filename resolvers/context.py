"""Per-request context: the services, and DataLoaders whose cache lives one request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.domain import ItemMaster, Location, NodeFigures, Product
from gateway.domain.orders import ReturnRequest, StoredDecision
from gateway.domain.principal import Principal
from gateway.domain.truth import Discrepancy
from gateway.services.container import Services


@dataclass
class GatewayContext:
    services: Services
    # Who is asking (gateway.auth); a subscriber's is set once its connection_init is read.
    principal: Principal | None = None
    # A WebSocket's context lives as long as the socket: its loaders must not remember.
    connection: Any = None
    remember: bool = True
    connection_params: dict[str, Any] | None = None
    products: DataLoader[str, Product | None] = field(init=False)
    items: DataLoader[str, ItemMaster | None] = field(init=False)
    stock: DataLoader[str, NodeFigures] = field(init=False)
    returns: DataLoader[str, list[ReturnRequest]] = field(init=False)
    routing: DataLoader[str, StoredDecision | None] = field(init=False)
    oversell: DataLoader[str, str | None] = field(init=False)
    exceptions: DataLoader[str, list[Discrepancy]] = field(init=False)
    _locations: asyncio.Task[list[Location]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        s = self.services

        async def load_products(skus: list[str]) -> list[Product | BaseException | None]:
            # A failure in the list is raised by the loader for that SKU alone.
            found = await s.catalog.products_as_known(skus)
            return [found.get(sku) for sku in skus]

        async def load_items(skus: list[str]) -> list[ItemMaster | None]:
            found = await s.erp.items_by_sku(skus)
            return [found.get(sku) for sku in skus]

        async def load_stock(skus: list[str]) -> list[NodeFigures]:
            found = await s.availability.figures(skus)
            return [found[sku] for sku in skus]

        async def load_returns(order_ids: list[str]) -> list[list[ReturnRequest]]:
            found = await s.returns.of_orders(order_ids)
            return [found[order_id] for order_id in order_ids]

        async def load_routing(order_ids: list[str]) -> list[StoredDecision | None]:
            found = await s.orders.routing_decisions(order_ids)
            return [found.get(order_id) for order_id in order_ids]

        async def load_oversell(skus: list[str]) -> list[str | None]:
            found = await s.truth.open_oversell_risks(skus)
            return [found.get(sku) for sku in skus]

        async def load_exceptions(order_ids: list[str]) -> list[list[Discrepancy]]:
            found = await s.truth.of_orders(order_ids)
            return [found.get(order_id, []) for order_id in order_ids]

        self.oversell = DataLoader(load_fn=load_oversell, cache=self.remember)
        self.exceptions = DataLoader(load_fn=load_exceptions, cache=self.remember)
        self.returns = DataLoader(load_fn=load_returns, cache=self.remember)
        self.routing = DataLoader(load_fn=load_routing, cache=self.remember)
        self.products = DataLoader(load_fn=load_products, cache=self.remember)
        self.items = DataLoader(load_fn=load_items, cache=self.remember)
        self.stock = DataLoader(load_fn=load_stock, cache=self.remember)

    async def locations(self) -> list[Location]:
        # One lookup per request, shared by every resolver that asks concurrently.
        if self._locations is None or not self.remember:
            self._locations = asyncio.ensure_future(self.services.availability.all_locations())
        return await asyncio.shield(self._locations)
