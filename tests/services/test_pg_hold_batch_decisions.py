"""gw_take_holds_batch (migration 0024) decides a batch in a few set-based statements; it
must answer and write exactly what the item-by-item function it replaced (0006 as amended
by 0020) did. Both run the same seeded batches against their own database, with the ledger
moved between batches (holds applied by the source, reservations released, returns
restocked), and every answer and every row written must be the same. The named cases pin
the rules a set-based rewrite could most easily get wrong."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from importlib import import_module

import asyncpg
import pytest

from gateway.persistence.database import Database, create_engine
from gateway.persistence.migrate import upgrade
from tests.pg import temporary_database

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HORIZON = timedelta(minutes=5)
PREVIOUS = "gw_take_holds_batch_previous"
SKUS = ("SHOE-41", "SHOE-42", "SOCK-1")
NODES = ("ST-MITTE", "WH-1")


async def migrated(url: str) -> asyncpg.Connection:
    db = Database(create_engine(url))
    await upgrade(db)
    await db.close()
    return await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))


def previous_function() -> str:
    amended = import_module("gateway.persistence.migrations.versions.0020_requested_by")
    source: str = amended._function_with_requested_by()
    return source.replace("FUNCTION gw_take_holds_batch(", f"FUNCTION {PREVIOUS}(", 1)


async def take(conn: asyncpg.Connection, items: list[dict], *, function: str) -> list:
    answer = await conn.fetchval(
        f"SELECT {function}($1::jsonb, $2, $3)", json.dumps(items), NOW, NOW - HORIZON
    )
    return json.loads(answer)


def reserve(
    n: int,
    location: str,
    needs: dict[str, int],
    *,
    on_hand: int = 5,
    key: str | None = "",
    status: str = "ACTIVE",
    expires_in: timedelta = timedelta(hours=1),
    observed_at: datetime | None = NOW,
    split: bool = False,
) -> dict:
    """One item as pg_holds.hold_item builds it; ``split`` holds each SKU in two rows, as a
    kit and a loose unit of one SKU would."""
    holds = []
    for sku, quantity in needs.items():
        parts = [1, quantity - 1] if split and quantity > 1 else [quantity]
        holds += [{"line_sku": sku, "line_quantity": q, "sku": sku, "quantity": q} for q in parts]
    return {
        "key": f"key-{n}" if key == "" else key,
        "operation": "reserve",
        "request_hash": f"hash-{n}",
        "reservation": {
            "id": f"res-{n}",
            "status": status,
            "location_id": location,
            "channel": "PICKUP",
            "customer_ref": None,
            "requested_by": "staff-1",
            "order_id": None,
            "created_at": NOW.isoformat(),
            "expires_at": (NOW + expires_in).isoformat(),
        },
        "positions": [
            {
                "sku": sku,
                "needed": needed,
                "on_hand": on_hand,
                "reserved": 0,
                "safety": 0,
                "observed_at": None if observed_at is None else observed_at.isoformat(),
            }
            for sku, needed in sorted(needs.items())
        ],
        "holds": holds,
    }


@pytest.fixture
async def conn(pg_url):
    connection = await migrated(pg_url)
    yield connection
    await connection.close()


async def test_an_item_refused_on_one_position_does_not_take_its_other_position(conn):
    # Given 5 units of each SKU, an item wanting 3 SHOE-41 and 9 SHOE-42 is refused,
    answers = await take(
        conn,
        [
            reserve(1, "ST-MITTE", {"SHOE-41": 3, "SHOE-42": 9}),
            reserve(2, "ST-MITTE", {"SHOE-41": 5}),
        ],
        function="gw_take_holds_batch",
    )
    assert answers[0] == {
        "short": [{"sku": "SHOE-42", "locationId": "ST-MITTE", "requested": 9, "available": 5}]
    }
    # so the next item still finds all 5 SHOE-41 free.
    assert answers[1] == {"held": True}
    assert await conn.fetchval("SELECT sum(quantity) FROM hold WHERE sku = 'SHOE-41'") == 5


async def test_an_earlier_item_of_the_batch_counts_only_while_its_reservation_does(conn):
    # An already expired reservation holds nothing (the ledger rule), even one just written.
    answers = await take(
        conn,
        [
            reserve(1, "ST-MITTE", {"SHOE-42": 4}, expires_in=timedelta(minutes=-1)),
            reserve(2, "ST-MITTE", {"SHOE-42": 4}, status="CONFIRMED"),
            reserve(3, "ST-MITTE", {"SHOE-42": 2}),
        ],
        function="gw_take_holds_batch",
    )
    assert answers[:2] == [{"held": True}, {"held": True}]
    assert answers[2]["short"][0]["available"] == 1


async def test_a_key_given_twice_in_one_batch_is_claimed_by_its_first_item(conn):
    again = reserve(2, "ST-MITTE", {"SHOE-42": 1}, key="key-1")
    answers = await take(
        conn, [reserve(1, "ST-MITTE", {"SHOE-42": 1}), again], function="gw_take_holds_batch"
    )
    assert answers == [
        {"held": True},
        {"replay": "res-1", "operation": "reserve", "request_hash": "hash-1"},
    ]
    assert await conn.fetchval("SELECT count(*) FROM reservation") == 1


def random_batches(rng: random.Random, count: int) -> list[list[dict]]:
    batches, used_keys, n = [], [], 0
    for _ in range(count):
        batch: list[dict] = []
        for _ in range(rng.randint(1, 8)):
            n += 1
            skus = rng.sample(SKUS, rng.randint(1, 3))
            key: str | None = f"key-{n}"
            roll = rng.random()
            if roll < 0.1:
                key = None  # an order's holds: its transaction claimed the key
            elif roll < 0.2 and used_keys:
                key = rng.choice(used_keys)  # a retry of an earlier request
            elif roll < 0.23 and batch and batch[0]["key"]:
                key = batch[0]["key"]  # the same key twice in one batch
            batch.append(
                reserve(
                    n,
                    rng.choice(NODES),
                    {sku: rng.randint(1, 3) for sku in skus},
                    on_hand=rng.randint(0, 9),
                    key=key,
                    status=rng.choice(["ACTIVE"] * 4 + ["CONFIRMED"]),
                    expires_in=rng.choice([timedelta(hours=1)] * 4 + [-timedelta(minutes=1)]),
                    observed_at=rng.choice(
                        [None, NOW, NOW - timedelta(minutes=2), NOW - timedelta(minutes=30)]
                    ),
                    split=rng.random() < 0.3,
                )
            )
            if key:
                used_keys.append(key)
        batches.append(batch)
    return batches


async def move_the_ledger(conn: asyncpg.Connection, rng: random.Random, upto: int) -> None:
    """What happens between two batches: the source applies some holds (before or after
    the readings were taken), a reservation is released, a return is restocked."""
    reservation = f"res-{rng.randint(1, upto)}"
    applied = rng.choice(
        # Long applied, applied exactly at the horizon, at a reading's moment, after it.
        [NOW - timedelta(minutes=30), NOW - HORIZON, NOW - timedelta(minutes=2), NOW]
    )
    await conn.execute(
        "UPDATE hold SET applied_at = $1 WHERE reservation_id = $2", applied, reservation
    )
    await conn.execute(
        "UPDATE reservation SET status = 'RELEASED' WHERE id = $1", f"res-{rng.randint(1, upto)}"
    )
    await conn.execute("SET session_replication_role = replica")  # no return_request rows
    await conn.execute(
        """INSERT INTO return_line (return_id, sku, quantity, reason, condition, disposition,
                                    location_id, refund_minor, received_at, applied_at)
           VALUES ('RET-1', $1, $2, 'SIZE', 'NEW', $3, $4, 0, $5, $6)""",
        rng.choice(SKUS),
        rng.randint(1, 3),
        rng.choice(["RESTOCK", "RESTOCK", "DISCARD"]),
        rng.choice(NODES),
        rng.choice([None, NOW - timedelta(hours=1)]),
        rng.choice([None, NOW - timedelta(minutes=2), NOW - timedelta(minutes=30)]),
    )
    await conn.execute("SET session_replication_role = DEFAULT")


async def written(conn: asyncpg.Connection) -> dict[str, list]:
    return {
        "reservation": [
            tuple(r) for r in await conn.fetch("SELECT * FROM reservation ORDER BY id")
        ],
        "hold": [tuple(r) for r in await conn.fetch("SELECT * FROM hold ORDER BY id")],
        "idempotency_record": [
            tuple(r) for r in await conn.fetch("SELECT * FROM idempotency_record ORDER BY key")
        ],
        "stock_guard": [
            tuple(r)
            for r in await conn.fetch("SELECT * FROM stock_guard ORDER BY sku, location_id")
        ],
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_batch_function_answers_and_writes_what_the_item_by_item_one_did(pg_url, seed):
    current = await migrated(pg_url)
    async with temporary_database() as other_url:
        previous = await migrated(other_url)
        await previous.execute(previous_function())
        try:
            rng = random.Random(seed)
            batches = random_batches(rng, 40)
            items, kinds = 0, set()
            for number, batch in enumerate(batches):
                answers = await take(current, batch, function="gw_take_holds_batch")
                assert answers == await take(previous, batch, function=PREVIOUS), (
                    f"batch {number}: {json.dumps(batch)}"
                )
                kinds |= {next(iter(answer)) for answer in answers}
                items += len(batch)
                state = rng.getstate()
                await move_the_ledger(current, rng, items)
                rng.setstate(state)
                await move_the_ledger(previous, rng, items)
            assert await written(current) == await written(previous)
            assert kinds == {"held", "short", "replay"}  # every kind of answer was compared
        finally:
            await previous.close()
            await current.close()
