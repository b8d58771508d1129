"""The PostgreSQL hold functions (migrations 0003, 0004, 0006) serialise on the position: a
second caller waits for the first to commit and then sees its holds. Deterministic, with a
transaction held open, so it does not depend on two requests happening to overlap.

gw_take_holds_batch decides: reserves call it with a batch of keyed items, an order with one
item without a key inside its own transaction. gw_take_holds (the single call of the
previous version, kept for processes still running it during an upgrade) hands its item to
the batch function."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade

NOW = datetime.now(UTC)
BATCH = "SELECT gw_take_holds_batch($1::jsonb, $2, $3)"
SINGLE = "SELECT gw_take_holds($1, 'reserve', 'h', $2::jsonb, $3::jsonb, $4::jsonb, $5, $6)"


def item(n: int, quantity: int, on_hand: int = 5) -> dict:
    return {
        "key": f"key-{n}",
        "operation": "reserve",
        "request_hash": "h",
        "reservation": {
            "id": f"res-{n}",
            "status": "ACTIVE",
            "location_id": "ST-MITTE",
            "channel": "PICKUP",
            "customer_ref": None,
            "order_id": None,
            "created_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        },
        "positions": [
            {
                "sku": "SHOE-42",
                "needed": quantity,
                "on_hand": on_hand,
                "reserved": 0,
                "safety": 0,
                "observed_at": NOW.isoformat(),
            }
        ],
        "holds": [
            {
                "line_sku": "SHOE-42",
                "line_quantity": quantity,
                "sku": "SHOE-42",
                "quantity": quantity,
            }
        ],
    }


@pytest.fixture
async def connections(pg_url):
    db = Database(create_engine(pg_url))
    await upgrade(db)
    await db.close()
    raw = pg_url.replace("postgresql+asyncpg", "postgresql")
    first, second = await asyncpg.connect(raw), await asyncpg.connect(raw)
    # The guard row exists already, so only its lock can keep the callers apart.
    await first.execute("INSERT INTO stock_guard VALUES ('SHOE-42', 'ST-MITTE', 0)")
    yield first, second
    await first.close()
    await second.close()


async def call_single(conn, it: dict):
    return await conn.fetchval(
        SINGLE,
        it["key"],
        json.dumps(it["reservation"]),
        json.dumps(it["positions"]),
        json.dumps(it["holds"]),
        NOW,
        NOW - timedelta(minutes=5),
    )


async def call_for_an_order(conn, it: dict):
    """An order's holds: one item, its key claimed by the order's own transaction."""
    keyless = {**it, "key": None, "operation": None, "request_hash": None}
    async with conn.transaction():
        [answer] = json.loads(
            await conn.fetchval(BATCH, json.dumps([keyless]), NOW, NOW - timedelta(minutes=5))
        )
        if "short" in answer:
            raise Refused(answer["short"])  # the order's transaction rolls back
        return answer


class Refused(Exception):
    def __init__(self, short: list[dict]) -> None:
        super().__init__(short)
        self.short = short


@pytest.mark.parametrize("second_call", ["batch", "single", "order"])
async def test_a_second_caller_waits_for_the_first_and_then_sees_its_holds(
    connections, second_call
):
    first, second = connections
    # Given a caller that has taken 4 of 5 units and not committed yet,
    transaction = first.transaction()
    await transaction.start()
    answer = json.loads(
        await first.fetchval(BATCH, json.dumps([item(1, 4)]), NOW, NOW - timedelta(minutes=5))
    )
    assert answer == [{"held": True}]

    # when a second caller asks for 2 more,
    if second_call == "batch":
        pending = asyncio.ensure_future(
            second.fetchval(BATCH, json.dumps([item(2, 2)]), NOW, NOW - timedelta(minutes=5))
        )
    elif second_call == "single":
        pending = asyncio.ensure_future(call_single(second, item(2, 2)))
    else:
        pending = asyncio.ensure_future(call_for_an_order(second, item(2, 2)))
    await asyncio.sleep(0.3)
    # then it waits on the position rather than deciding on stale figures,
    assert not pending.done()
    await transaction.commit()
    # and, once the first committed, it is refused with the one unit left.
    if second_call == "batch":
        refused = json.loads(await pending)[0]
        assert refused == {
            "short": [{"sku": "SHOE-42", "locationId": "ST-MITTE", "requested": 2, "available": 1}]
        }
    elif second_call == "single":
        with pytest.raises(asyncpg.PostgresError) as raised:
            await pending
        assert raised.value.sqlstate == "GW001"
        assert json.loads(raised.value.detail)[0]["available"] == 1
    else:
        with pytest.raises(Refused) as raised:
            await pending
        assert raised.value.short[0]["available"] == 1
    # A refused request leaves nothing behind, not even its idempotency key.
    assert await second.fetchval("SELECT count(*) FROM idempotency_record WHERE key = 'key-2'") == 0
    assert await second.fetchval("SELECT coalesce(sum(quantity), 0) FROM hold") == 4


async def test_items_of_one_batch_see_the_holds_of_the_items_before_them(connections):
    first, _ = connections
    answers = json.loads(
        await first.fetchval(
            BATCH,
            json.dumps([item(1, 3), item(2, 3), item(3, 2)]),
            NOW,
            NOW - timedelta(minutes=5),
        )
    )
    assert answers[0] == {"held": True}
    assert answers[1]["short"][0]["available"] == 2
    assert answers[2] == {"held": True}
    assert await first.fetchval("SELECT coalesce(sum(quantity), 0) FROM hold") == 5


async def test_a_used_key_in_a_batch_answers_with_its_first_use(connections):
    first, _ = connections
    await first.fetchval(BATCH, json.dumps([item(1, 1)]), NOW, NOW - timedelta(minutes=5))
    again = item(9, 1)
    again["key"] = "key-1"
    answers = json.loads(
        await first.fetchval(BATCH, json.dumps([again]), NOW, NOW - timedelta(minutes=5))
    )
    assert answers == [{"replay": "res-1", "operation": "reserve", "request_hash": "h"}]
    assert await first.fetchval("SELECT count(*) FROM reservation") == 1


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
async def batched(pg_url):
    """A migrated database and a hold batcher on it; ``reserve(n)`` asks it to hold one
    SHOE-42 at a store with no stock figures given, so every request is refused with
    InsufficientStock: an answer all the same."""
    from gateway.domain import Channel, Location, NodeType, SourceSystem
    from gateway.domain.idempotency import Claim
    from gateway.domain.reservations import HoldPlan, HoldRequest, Reservation, ReservationStatus
    from gateway.persistence.hold_batcher import HoldBatcher

    db = Database(create_engine(pg_url))
    await upgrade(db)
    batcher = HoldBatcher(db.engine, _Clock(), timedelta(minutes=5), max_batch=64)
    store = Location("ST-MITTE", "Mitte", NodeType.STORE, SourceSystem.POS, "LMITTE")

    def reserve(n: int):
        reservation = Reservation(
            f"res-{n}", ReservationStatus.ACTIVE, store.id, Channel.PICKUP, None, (),
            NOW, NOW + timedelta(hours=1),
        )  # fmt: skip
        return batcher.reserve(
            Claim(f"key-{n}", "reserve", "h", reservation.id),
            HoldRequest(reservation, (HoldPlan("SHOE-42", 1, "SHOE-42", 1),), store, {}),
        )

    try:
        yield db, batcher, reserve
    finally:
        await db.close()


async def test_a_request_that_gives_up_waiting_does_not_strand_the_others_in_its_batch(
    batched,
):
    """A client that disconnects cancels its wait; the requests batched with it must still
    be answered."""
    db, batcher, reserve = batched
    db.adopt(batcher)  # its connection closes with the database
    first = asyncio.ensure_future(reserve(1))
    second = asyncio.ensure_future(reserve(2))
    third = asyncio.ensure_future(reserve(3))
    await asyncio.sleep(0)
    second.cancel()
    results = await asyncio.wait_for(asyncio.gather(first, third, return_exceptions=True), 10)
    assert [type(r).__name__ for r in results] == ["InsufficientStock", "InsufficientStock"]


async def test_reserves_are_answered_again_after_the_databases_connection_was_dropped(
    batched, pg_url
):
    """The batcher keeps one connection of its own: when PostgreSQL drops it (a restart, a
    failover, an idle timeout), the batch in flight hears why and the next one reconnects."""
    from gateway.errors import InsufficientStock

    db, batcher, reserve = batched
    db.adopt(batcher)
    admin = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        with pytest.raises(InsufficientStock):  # refused, but answered
            await reserve(1)
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        outcomes = []
        for n in (2, 3):
            try:
                await asyncio.wait_for(reserve(n), 10)
            except Exception as error:
                outcomes.append(type(error).__name__)
        # The call on the dropped connection may fail; the one after it is answered.
        assert outcomes[-1] == "InsufficientStock", outcomes
    finally:
        await admin.close()


async def test_reserves_arriving_within_the_linger_share_one_database_call(pg_url):
    """With HOLD_BATCH_LINGER_MS, a reserve that finds no call in flight waits for the ones
    right behind it; without it, the second goes in a call of its own."""
    from gateway.domain import Channel, Location, NodeType, SourceSystem
    from gateway.domain.idempotency import Claim
    from gateway.domain.reservations import HoldPlan, HoldRequest, Reservation, ReservationStatus
    from gateway.errors import InsufficientStock
    from gateway.persistence.hold_batcher import HoldBatcher

    db = Database(create_engine(pg_url))
    await upgrade(db)
    store = Location("ST-MITTE", "Mitte", NodeType.STORE, SourceSystem.POS, "LMITTE")

    async def calls_for_two_reserves(linger_seconds: float) -> list[int]:
        batcher = HoldBatcher(
            db.engine, _Clock(), timedelta(minutes=5), max_batch=64, linger_seconds=linger_seconds
        )
        db.adopt(batcher)
        sizes: list[int] = []
        call = batcher._call

        async def counted(batch: Any) -> None:
            sizes.append(len(batch))
            await call(batch)

        batcher._call = counted  # type: ignore[method-assign]

        def reserve(n: int) -> Any:
            reservation = Reservation(
                f"res-{linger_seconds}-{n}", ReservationStatus.ACTIVE, store.id, Channel.PICKUP,
                None, (), NOW, NOW + timedelta(hours=1),
            )  # fmt: skip
            return batcher.reserve(
                Claim(f"key-{linger_seconds}-{n}", "reserve", "h", reservation.id),
                HoldRequest(reservation, (HoldPlan("SHOE-42", 1, "SHOE-42", 1),), store, {}),
            )

        first = asyncio.ensure_future(reserve(1))
        await asyncio.sleep(0.01)  # the second comes 10 ms after the first
        second = asyncio.ensure_future(reserve(2))
        for answer in await asyncio.gather(first, second, return_exceptions=True):
            assert isinstance(answer, InsufficientStock)  # no stock given: both refused
        return sizes

    try:
        assert await calls_for_two_reserves(0.0) == [1, 1]
        assert await calls_for_two_reserves(0.2) == [2]
    finally:
        await db.close()


async def test_with_traces_on_each_batch_call_is_a_span_of_its_own(batched):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gateway.errors import InsufficientStock

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db, batcher, reserve = batched
    # Traced before it is adopted, the batcher's calls are spans all the same.
    db.trace_driver_calls(provider.get_tracer("test"))
    db.adopt(batcher)
    with pytest.raises(InsufficientStock):
        await reserve(1)
    (span,) = [s for s in exporter.get_finished_spans() if "gw_take_holds_batch" in s.name]
    assert span.attributes["db.system"] == "postgresql"
