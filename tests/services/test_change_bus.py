"""Changes between gateway processes on the real brokers: Redis pub/sub and PostgreSQL's
LISTEN/NOTIFY. Two buses stand for two processes: what one publishes reaches the other's
subscribers, and the other drops its own cached figures of the SKUs first."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import pytest

from gateway.domain.events import Change, OrderChanged, StockChanged
from gateway.events.bus import ChangeBus, Transport
from gateway.events.feed import ChangeFeed
from gateway.events.redis_transport import RedisTransport
from gateway.persistence.database import Database, create_engine
from gateway.persistence.notify import PostgresTransport
from tests.pg import temporary_database

REDIS = "redis://127.0.0.1:6379/0"


@asynccontextmanager
async def two_processes(
    make: Callable[[], Transport],
) -> AsyncIterator[tuple[ChangeBus, ChangeBus, list[list[str]]]]:
    dropped: list[list[str]] = []

    async def foreign_stock(skus: Sequence[str]) -> None:
        dropped.append(list(skus))

    one = ChangeBus(make(), ChangeFeed(), foreign_stock=foreign_stock)
    other = ChangeBus(make(), ChangeFeed(), foreign_stock=foreign_stock)
    await one.start()
    await other.start()
    try:
        yield one, other, dropped
    finally:
        await one.close()
        await other.close()


async def received(bus: ChangeBus, last_sku: str) -> list[Change]:
    """Every change up to the one naming ``last_sku`` (a long list arrives split)."""
    watching = bus.feed.subscribe(lambda c: True)
    got: list[Change] = []
    try:
        while not any(isinstance(c, StockChanged) and last_sku in c.skus for c in got):
            got.append((await asyncio.wait_for(watching.next(), 5)).change)
        return got
    finally:
        watching.close()


async def crosses(one: ChangeBus, other: ChangeBus, dropped: list[list[str]]) -> None:
    many = tuple(f"SKU-{n:05d}-{'X' * 40}" for n in range(400))  # more than one NOTIFY holds
    # A hold moved only the gateway's ledger: the sources' figures of the sock stand.
    held = StockChanged(("SOCK",), at_sources=False)
    sent = [StockChanged(("SHOE",)), held, OrderChanged("ord_1"), StockChanged(many)]
    at_other = asyncio.ensure_future(received(other, many[-1]))
    at_one = asyncio.ensure_future(received(one, many[-1]))
    await asyncio.sleep(0.05)  # both subscribed
    one.publish(sent)
    got_other, got_one = await asyncio.gather(at_other, at_one)

    for got in (got_other, got_one):
        skus = [s for c in got if isinstance(c, StockChanged) for s in c.skus]
        assert skus == ["SHOE", "SOCK", *many] and OrderChanged("ord_1") in got
    # The other process dropped its cached figures of the SKUs whose sources moved; the
    # publisher did not.
    assert sorted(s for batch in dropped for s in batch) == sorted(["SHOE", *many])


async def test_changes_cross_processes_over_redis():
    channel = f"cg:test:{secrets.token_hex(4)}"
    async with two_processes(lambda: RedisTransport(REDIS, channel)) as (one, other, dropped):
        await crosses(one, other, dropped)


@pytest.fixture
async def postgres() -> AsyncIterator[Database]:
    async with temporary_database() as url:
        db = Database(create_engine(url))
        yield db
        await db.close()


async def test_changes_cross_processes_over_postgres_notify(postgres: Database):
    async with two_processes(lambda: PostgresTransport(postgres)) as (one, other, dropped):
        await crosses(one, other, dropped)


async def test_two_deployments_on_one_redis_do_not_hear_each_other():
    # Pub/sub channels are server-wide: the channel is the deployment's (its database's).
    from gateway.events.redis_transport import changes_channel

    mine = RedisTransport(REDIS, changes_channel("postgresql://db-a/shop"))
    theirs = RedisTransport(REDIS, changes_channel("postgresql://db-b/shop"))
    one, other = ChangeBus(mine, ChangeFeed()), ChangeBus(theirs, ChangeFeed())
    await one.start()
    await other.start()
    try:
        watching = other.feed.subscribe(lambda c: True)
        one.publish([OrderChanged("ord_a")])
        await one.flush()
        await asyncio.sleep(0.3)
        assert watching.unread == 0
    finally:
        await one.close()
        await other.close()


async def test_a_commit_announced_reaches_the_other_process_once_with_the_changes_beside_it(
    postgres: Database,
):
    """Without Redis each process keeps its own cache generation: an announced commit must
    make the other process drop its cached answers, and rides on the changes sent with it
    (one NOTIFY, not two)."""
    told: list[str] = []

    async def answers_stale(name: str) -> None:
        told.append(name)

    one = ChangeBus(
        PostgresTransport(postgres), ChangeFeed(), foreign_answers=lambda: answers_stale("one")
    )
    other = ChangeBus(
        PostgresTransport(postgres), ChangeFeed(), foreign_answers=lambda: answers_stale("other")
    )
    await one.start()
    await other.start()
    try:
        watching = other.feed.subscribe(lambda c: True)
        # A commit with no change for subscribers (a discrepancy note, say) ...
        one.announce()
        await one.flush()
        await asyncio.wait_for(_until(lambda: told == ["other"]), 5)
        # ... and a hold's change with its announcement: one message.
        one.announce()
        one.publish([StockChanged(("SHOE",), at_sources=False)])
        await one.flush()
        assert (await asyncio.wait_for(watching.next(), 5)).change == StockChanged(
            ("SHOE",), at_sources=False
        )
        await asyncio.wait_for(_until(lambda: told == ["other", "other"]), 5)
        assert one.sent == 2
        assert watching.unread == 0  # the bare announcement is nothing to subscribers
    finally:
        await one.close()
        await other.close()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)
