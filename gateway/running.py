"""What runs beside the requests, and what several gateway processes share.

``background_tasks``: the loops every process (or ``commerce-gateway worker``) runs, those that
must run in one process at a time under a PostgreSQL advisory lock. ``open_change_bus``: how
a change made in one process reaches the cached answers and the subscribers of the others
(Redis when configured, else PostgreSQL's NOTIFY, else SQLite's one process).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from typing import Any

from gateway import background
from gateway.cache import Cache
from gateway.config import Settings
from gateway.events.bus import ChangeBus, InProcess, Transport
from gateway.events.feed import ChangeFeed
from gateway.events.redis_transport import RedisTransport, changes_channel
from gateway.persistence.database import Database
from gateway.persistence.locks import exclusively
from gateway.persistence.notify import PostgresTransport
from gateway.services.container import Services

log = logging.getLogger(__name__)

# The storefront follows the gateway's own changes within about this long.
STOREFRONT_SYNC_SECONDS = 1.0


def background_tasks(
    settings: Settings, services: Services, db: Database
) -> dict[str, Coroutine[Any, Any, None]]:
    async def sweep() -> None:
        await services.reservations.expire_due()
        await services.order_sync.cancel_no_shows()

    async def reconcile() -> None:
        # Every process schedules it; the one that takes the lock runs it.
        async with exclusively(db, "reconcile") as mine:
            if mine:
                report = await services.reconciler.run()
                log.info(
                    "reconciled %d SKUs in %.1f s: %d findings, %d opened, %d closed, "
                    "%d storefront pushes",
                    report.skus,
                    report.seconds,
                    sum(report.findings.values()),
                    report.opened,
                    report.auto_resolved,
                    report.pushed,
                )

    tasks: dict[str, Coroutine[Any, Any, None]] = {
        "outbox": services.worker.run_forever(),
        "webhooks": services.webhook_processor.run_forever(),
        "sweeper": background.every(settings.sweep_interval_seconds, sweep, "sweeper"),
        "storefront-sync": background.every(
            STOREFRONT_SYNC_SECONDS, services.storefront_sync.flush, "storefront sync"
        ),
    }
    if settings.truth.reconcile_seconds > 0:
        # Not at start: a process that just started has better things to do, and several
        # starting together would all ask for the lock at once.
        period = settings.truth.reconcile_seconds
        tasks["reconcile"] = background.every(period, reconcile, "reconcile", first_after=period)

    async def watch_orders() -> None:
        async with exclusively(db, "order-watch") as mine:
            if mine:
                report = await services.order_watch.run()
                short = await services.short_holds.check()
                if short.opened:
                    log.warning("%d orders lost held units to till sales", short.opened)
                log.info(
                    "order-state check: %d orders, %d moved, %d mismatches opened, %d closed",
                    report.checked,
                    report.moved,
                    report.opened,
                    report.closed,
                )

    if settings.order_watch_seconds > 0:
        period = settings.order_watch_seconds
        tasks["order-watch"] = background.every(
            period, watch_orders, "order-state check", first_after=period
        )

    async def delta_poll() -> None:
        async with exclusively(db, "delta-poll") as mine:
            if mine:
                report = await services.delta_poll.run()
                if report.skus:
                    log.info(
                        "delta poll: %d SKUs changed (%s); each read again and reconciled",
                        report.skus,
                        ", ".join(f"{s.value} {n}" for s, n in report.changed.items()),
                    )

    if settings.delta_poll_seconds > 0:
        period = settings.delta_poll_seconds
        tasks["delta-poll"] = background.every(period, delta_poll, "delta poll", first_after=period)
    if settings.web_order_sync_seconds > 0:
        tasks["web-orders"] = background.every(
            settings.web_order_sync_seconds, services.web_orders.sync, "web order import"
        )
    return tasks


async def open_change_bus(
    stack: AsyncExitStack, settings: Settings, db: Database, cache: Cache
) -> ChangeBus:
    """Changes to every process's subscribers: over Redis when configured, else over
    PostgreSQL's NOTIFY, else (SQLite: one process) within this process
    (gateway.events.bus)."""
    transport: Transport
    if settings.redis_url:
        # Pub/sub channels are server-wide, whatever database number the URL names: one
        # channel per deployment (per shared database), so two on one Redis do not cross.
        transport = RedisTransport(settings.redis_url, changes_channel(settings.database_url))
    elif db.dialect == "postgresql":
        transport = PostgresTransport(db)
    else:
        transport = InProcess()

    async def foreign_stock(skus: Sequence[str]) -> None:
        # Another process changed these figures; without Redis this one caches on its own.
        for namespace in ("erp:stock", "pos:stock", "web:listing"):
            await cache.invalidate(namespace, skus)

    # With Redis the cache generation lives there, shared. Without it each process has its
    # own, and the bus tells the others when one changes (SQLite serves one process).
    shares_generation = transport.__class__ is PostgresTransport
    bus = ChangeBus(
        transport,
        ChangeFeed(settings.subscription_queue_limit),
        foreign_stock=None if settings.redis_url else foreign_stock,
        foreign_answers=cache.set_generation_fresh if shares_generation else None,
    )
    await bus.start()
    stack.push_async_callback(bus.close)
    if shares_generation:
        cache.announce = bus.announce
    return bus
