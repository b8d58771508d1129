"""A subscription's memory does not grow with its events (resolvers.schema.PerEventMemo):
graphql-core 3.3 shares one memo between all of a subscription's events, and each event
added to it for the subscription's whole life."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncGenerator

import strawberry

from resolvers.schema import PerEventMemo


@strawberry.type
class Location:
    id: str
    on_hand: int


@strawberry.type
class Row:
    sku: str
    locations: list[Location]


def schema_with(events: int) -> strawberry.Schema:
    @strawberry.type
    class Query:
        ready: bool = True

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def changed(self) -> AsyncGenerator[Row, None]:
            for n in range(events):
                yield Row(
                    sku="SHOE",
                    locations=[Location(id="ST-1", on_hand=n), Location(id="ST-2", on_hand=n + 1)],
                )

    return strawberry.Schema(Query, subscription=Subscription, execution_context_class=PerEventMemo)


async def retained_per_event(events: int) -> float:
    schema = schema_with(events)
    stream = await schema.subscribe("subscription { changed { sku locations { id onHand } } }")
    gc.collect()
    tracemalloc.start()
    try:
        first = grown = 0
        count = 0
        async for result in stream:  # type: ignore[union-attr]
            assert not result.errors, result.errors
            count += 1
            if count == 50:  # warmed up: caches that fill once are full
                gc.collect()
                first = tracemalloc.get_traced_memory()[0]
            if count == events:  # measured while the subscription still lives
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    return grown / (events - 50)


async def test_a_subscriptions_memory_does_not_grow_with_its_events():
    # graphql-core 3.3.2's own executor keeps about 1.9 KB per event of this shape.
    assert await retained_per_event(3000) < 100


def test_the_gateways_schema_runs_subscriptions_with_a_memo_per_event():
    from resolvers.schema import build_schema

    assert build_schema().execution_context_class is PerEventMemo
