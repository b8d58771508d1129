"""``commerce-gateway worker``: the background loops without the HTTP server.

It builds the same services as the app (composition root: gateway.app) and runs the
outbox worker, the sweeper and the web-order import until stopped.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from gateway import background
from gateway.app import background_tasks, build_services, http_backends, share_generation
from gateway.cache import Cache, build_backend
from gateway.config import Settings
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade


async def run_worker(settings: Settings | None = None) -> None:
    import asyncio

    settings = settings or Settings()
    async with AsyncExitStack() as stack:
        backends = await http_backends(settings)
        for client in backends.clients:
            stack.push_async_callback(client.aclose)
        cache = Cache(build_backend(settings.redis_url))
        stack.push_async_callback(cache.close)
        db = Database(create_engine(settings.database_url, pool_size=settings.database_pool_size))
        stack.push_async_callback(db.close)
        if settings.migrate_on_start:
            await upgrade(db)
        await share_generation(stack, settings, db, cache)
        services = build_services(settings, backends, cache, db)
        tasks = background.start(background_tasks(settings, services))
        stack.push_async_callback(background.stop, tasks)
        await asyncio.gather(*tasks)
