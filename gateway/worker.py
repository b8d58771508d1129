"""Running the gateway's services without the HTTP server: ``commerce-gateway worker`` (the
background loops until SIGTERM or SIGINT) and the one-off commands (``reconcile``).

It builds the same services as the app (composition root: gateway.app).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from gateway import background
from gateway.app import build_services, http_backends
from gateway.cache import cache_for
from gateway.config import Settings
from gateway.heap import startup_heap_frozen
from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from gateway.running import background_tasks, open_change_bus
from gateway.services.container import Services
from gateway.truth.policy import check as check_policy

log = logging.getLogger(__name__)

# Docker and Kubernetes wait 10 s by default between SIGTERM and SIGKILL; closing the pools
# and the backends' clients fits in what this leaves.
DEFAULT_STOP_GRACE_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# The loops that claim work under a lease: told to claim nothing more and left to finish the
# round in hand. Every other loop is a periodic job, safe to cut short and run again.
CLAIMING = frozenset({"outbox", "webhooks"})
# A container health check reads the heartbeat file's age (compose.yaml: worker).
HEARTBEAT_SECONDS = 5.0


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
        bus = await open_change_bus(stack, settings, db, cache)
        services = build_services(settings, backends, cache, db, changes=bus)
        stack.enter_context(startup_heap_frozen())
        yield services, db


async def run_worker(
    settings: Settings | None = None,
    *,
    stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
    heartbeat_file: Path | None = None,
) -> None:
    """The background loops until SIGTERM or SIGINT, then a clean stop: the periodic jobs are
    cancelled, the outbox and the webhook inbox claim nothing more and finish the round in
    hand within ``stop_grace_seconds``. A round still running then (a backend hanging) is
    cancelled: what it had claimed stays leased and is taken again when the lease runs out,
    as after a crash, and the backend recognises the repeated write by its reference. The
    database and the backends' clients are closed before the one line saying so."""
    settings = settings or Settings()
    with _stop_signals() as received:
        async with opened(settings) as (services, db):
            loops = background_tasks(settings, services, db)
            if heartbeat_file is not None:
                loops["heartbeat"] = background.every(
                    HEARTBEAT_SECONDS, partial(_beat, heartbeat_file), "heartbeat"
                )
            tasks = background.start(loops)
            log.info("worker running: %s", ", ".join(loops))
            try:
                running: list[asyncio.Future[Any]] = [received, *tasks]
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:
                    if task.done():  # a loop ended by itself: say why, exit non-zero
                        task.result()
                        raise RuntimeError(f"the {task.get_name()} loop ended by itself")
                await background.stop([t for t in tasks if t.get_name() not in CLAIMING])
                services.worker.stop()
                services.webhook_processor.stop()
                claiming = [t for t in tasks if t.get_name() in CLAIMING]
                _, late = await asyncio.wait(claiming, timeout=stop_grace_seconds)
            finally:
                await background.stop(tasks)
    name = received.result().name
    if late:
        log.warning(
            "worker stopped on %s; %s cut off after %.0f s: what it had claimed is taken "
            "again when its lease runs out",
            name,
            " and ".join(sorted(t.get_name() for t in late)),
            stop_grace_seconds,
        )
    else:
        log.info("worker stopped on %s; every claimed write and event was finished", name)


@contextmanager
def _stop_signals() -> Iterator[asyncio.Future[signal.Signals]]:
    """A future holding the first stop signal received while the block runs."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if not received.done():
            received.set_result(signum)

    # Windows has no loop signal handlers: there Ctrl-C raises KeyboardInterrupt, which the
    # command line takes as a stop (without the grace).
    with suppress(NotImplementedError):
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield received
    finally:
        with suppress(NotImplementedError):
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


async def _beat(path: Path) -> None:
    path.touch()
