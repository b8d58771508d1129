"""Composition root: the only place concrete adapters are wired into services.

``create_app(settings)`` builds the Starlette app; its lifespan opens one httpx client per
backend and the cache, and closes them on the way out. Tests pass ``backends`` to run the
same app over in-memory fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.cache import Cache, build_backend
from gateway.config import Settings
from gateway.nodes import load_node_file
from gateway.ports import ErpPort, PosPort, StorefrontPort
from gateway.services.availability import AvailabilityService
from gateway.services.cached_sources import CachedErp, CachedPos, CachedStorefront, Ttls
from gateway.services.catalog import CatalogService
from gateway.services.locations import LocationDirectory
from resolvers.context import GatewayContext, Services
from resolvers.response_cache import ResponseMicroCache
from resolvers.schema import build_schema


@dataclass
class Backends:
    erp: ErpPort
    storefront: StorefrontPort
    pos: PosPort
    clients: list[httpx.AsyncClient] = field(default_factory=list)


BackendsFactory = Callable[[Settings], Awaitable[Backends]]


async def http_backends(settings: Settings) -> Backends:
    """The real adapters, one AsyncClient each, pointed at the configured base URLs."""
    from adapters.erpnext import ErpNextAdapter, build_erpnext_client
    from adapters.square import SquareAdapter, build_square_client
    from adapters.woocommerce import WooCommerceAdapter, build_woocommerce_client

    erp_client = build_erpnext_client(settings)
    woo_client = build_woocommerce_client(settings)
    square_client = build_square_client(settings)
    retries = settings.http_max_retries
    return Backends(
        erp=ErpNextAdapter(erp_client, timezone=settings.erp_timezone, max_retries=retries),
        storefront=WooCommerceAdapter(
            woo_client, max_retries=retries, currency=settings.woo_currency
        ),
        pos=SquareAdapter(square_client, max_retries=retries),
        clients=[erp_client, woo_client, square_client],
    )


def build_services(settings: Settings, backends: Backends, cache: Cache) -> Services:
    ttls = Ttls(
        item=settings.cache_ttl_item_seconds,
        web_listing=settings.cache_ttl_web_listing_seconds,
        pos_catalog=settings.cache_ttl_pos_catalog_seconds,
        stock=settings.cache_ttl_stock_seconds,
        locations=settings.cache_ttl_locations_seconds,
        kits=settings.cache_ttl_kits_seconds,
    )
    erp = CachedErp(backends.erp, cache, ttls)
    storefront = CachedStorefront(backends.storefront, cache, ttls)
    pos = CachedPos(backends.pos, cache, ttls)
    directory = LocationDirectory(
        erp,
        pos,
        load_node_file(settings.nodes_file),
        warehouse_safety_stock=settings.warehouse_safety_stock,
        store_safety_stock=settings.store_safety_stock,
    )
    return Services(
        settings=settings,
        catalog=CatalogService(erp, storefront, pos, settings.field_policy),
        availability=AvailabilityService(
            erp, pos, directory, low_stock_threshold=settings.low_stock_threshold
        ),
        erp=erp,
    )


class GatewayGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any) -> GatewayContext:
        return GatewayContext(request.app.state.services)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings | None = None, *, backends: BackendsFactory | None = None
) -> Starlette:
    settings = settings or Settings()
    make_backends = backends or http_backends

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            opened = await make_backends(settings)
            for client in opened.clients:
                stack.push_async_callback(client.aclose)
            cache = Cache(build_backend(settings.redis_url))
            stack.push_async_callback(cache.close)
            app.state.services = build_services(settings, opened, cache)
            app.state.cache = cache
            yield

    graphql = GatewayGraphQL(build_schema(), graphql_ide="graphiql" if settings.graphiql else None)
    endpoint = ResponseMicroCache(
        graphql,
        ttl_seconds=settings.response_cache_seconds,
        # Requests arrive only after the lifespan has opened the cache.
        generation=lambda: app.state.cache.generation,
    )
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )
    return app
