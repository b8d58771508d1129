"""Running the gateway's services without the HTTP server: ``commerce-gateway worker`` (the
background loops until stopped) and the one-off commands (``reconcile``).

It builds the same services as the app (composition root: gateway.app).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from gateway import background
from gateway.app import build_services, http_backends
from gateway.cache import cache_for
from gateway.config import Settings
from gateway.heap import startup_heap_frozen
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.running import background_tasks, open_change_bus, share_generation
from gateway.services.container import Services
from gateway.truth.policy import check as check_policy


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Services, Database]]:
    """The services over the configured backends and database, closed on the way out."""
    check_policy(settings.truth, settings.field_policy)
    async with AsyncExitStack() as stack:
        backends = await http_backends(settings)
        for client in backends.clients:
            stack.push_async_callback(client.aclose)
        cache = cache_for(settings)
        stack.push_async_callback(cache.close)
        db = Database(create_engine(settings.database_url, pool_size=settings.database_pool_size))
        stack.push_async_callback(db.close)
        if settings.migrate_on_start:
            await upgrade(db)
        await share_generation(stack, settings, db, cache)
        bus = await open_change_bus(stack, settings, db, cache)
        services = build_services(settings, backends, cache, db, changes=bus)
        stack.enter_context(startup_heap_frozen())
        yield services, db


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    async with opened(settings) as (services, db):
        tasks = background.start(background_tasks(settings, services, db))
        try:
            await asyncio.gather(*tasks)
        finally:
            await background.stop(tasks)
