"""A worker killed between the backend's write and recording it: the restarted worker
delivers again, and the backend still holds exactly one write (PostgreSQL, real processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg

from adapters.square import SquareAdapter, build_square_client
from gateway.app import create_app
from gateway.config import Settings
from sandbox.servers import simulator_apps
from tests.asgi import GraphQLClient
from tests.live_server import serve

ROOT = Path(__file__).resolve().parents[2]

PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { id lines { sku quantity locationId } } }"""
PICKUP_STORE = "ST-BERLIN-STORE"


class StallFirstResponse:
    """Lets the first request to ``path`` reach the backend, then holds its answer back:
    the write is done, the caller has not heard so. The test kills the caller meanwhile."""

    def __init__(self, app, path: str) -> None:
        self.app = app
        self.path = path
        self.written = threading.Event()
        self.released = threading.Event()
        self.requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        self.requests += 1
        if self.requests > 1:
            return await self.app(scope, receive, send)

        async def stall(message):
            if message["type"] == "http.response.start":
                self.written.set()
                while not self.released.is_set():  # until the caller is gone
                    await asyncio.sleep(0.05)
            await send(message)

        with contextlib.suppress(asyncio.CancelledError, OSError):
            await self.app(scope, receive, stall)


def worker_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def outbox_rows(url: str) -> list[tuple[str, str, int]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch("SELECT operation, status, attempts FROM outbox ORDER BY id")
        return [(r["operation"], r["status"], r["attempts"]) for r in rows]
    finally:
        await conn.close()


async def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_a_worker_killed_after_the_backend_wrote_leaves_exactly_one_write(
    dataset,
    tmp_path,
    pg_url,
):
    apps = simulator_apps(dataset)
    square = StallFirstResponse(apps["square"], "/v2/inventory/changes/batch-create")
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    with (
        serve(apps["erp"]) as erp,
        serve(apps["woocommerce"]) as woo,
        serve(square) as sq,
        serve(apps["oms"]) as oms,
    ):
        env = {
            "DATABASE_URL": pg_url,
            "ERP_BASE_URL": erp,
            "WOO_BASE_URL": woo,
            "SQUARE_BASE_URL": sq,
            "OMS_BASE_URL": oms,
            "NODES_FILE": str(nodes),
            "REDIS_URL": "",
            "WEB_ORDER_SYNC_SECONDS": "0",
            # A dead worker's lease runs out quickly, so the test does not wait a minute.
            "OUTBOX_LEASE_SECONDS": "2",
            "HTTP_READ_TIMEOUT_SECONDS": "60",
        }
        settings = Settings(
            _env_file=None,
            **{k.lower(): v for k, v in env.items() if k != "REDIS_URL"},
            redis_url=None,
            run_workers=False,  # this process only commits; the worker processes deliver
        )
        store_ref = next(
            n["ref"] for n in dataset.nodes_config()["nodes"] if n["id"] == PICKUP_STORE
        )
        sku = "SHOE-TRAIL-42"
        square_reader = SquareAdapter(build_square_client(Settings(square_base_url=sq)))
        before = sum(r.on_hand for r in await square_reader.stock([sku], [store_ref]))

        # Given an order committed with the writes it owes (a Square sale, an OMS order),
        async with GraphQLClient(create_app(settings)) as gql:
            body = await gql(
                PLACE,
                input={
                    "lines": [{"sku": sku, "quantity": 2}],
                    "channel": "PICKUP",
                    "customer": {"email": "kim@example.com", "name": "Kim"},
                    "pickup": {"locationId": PICKUP_STORE},
                },
                key="crash-1",
            )
        assert "errors" not in body, body
        assert [op for op, *_ in await outbox_rows(pg_url)] == [
            "pos.record_sale",
            "oms.create_order",
        ]

        # when a worker sends the sale, Square records it, and the worker dies unanswered,
        first = worker_process(env)
        try:
            assert await asyncio.to_thread(square.written.wait, 60), "the worker never sent"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            square.released.set()
        finally:
            if first.poll() is None:
                first.kill()
        after_crash = sum(r.on_hand for r in await square_reader.stock([sku], [store_ref]))
        assert after_crash == before - 2  # the write happened...
        assert [s for _, s, _ in await outbox_rows(pg_url)] == ["IN_FLIGHT", "PENDING"]

        # then a restarted worker delivers it again and Square applies it once,
        second = worker_process(env)
        try:

            async def all_delivered() -> bool:
                return all(s == "DELIVERED" for _, s, _ in await outbox_rows(pg_url))

            await wait_until(all_delivered)
        finally:
            second.terminate()
            second.wait(timeout=20)

        rows = await outbox_rows(pg_url)
        assert rows[0] == ("pos.record_sale", "DELIVERED", 2)  # sent twice
        assert square.requests == 2
        final = sum(r.on_hand for r in await square_reader.stock([sku], [store_ref]))
        assert final == before - 2  # ...and counted once
        # and the OMS, which came after it in order, holds the order exactly once.
        assert len(apps["oms"].state.shop.orders) == 1
