"""No unit is promised twice: two gateway processes on one PostgreSQL, hundreds of
concurrent holds for the last units of one SKU at one store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from sandbox.sample_data import generate
from sandbox.servers import simulator_apps
from tests.identity import STAFF
from tests.live_server import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
CONTENDERS = 240

AVAILABILITY = """query($sku: String!, $loc: ID!) { product(sku: $sku) {
  availability(locationIds: [$loc]) { locations { availableToPromise held } } } }"""
RELEASE = """mutation($id: ID!, $key: String!) {
  releaseReservation(id: $id, idempotencyKey: $key) { status } }"""
RESERVE = """mutation($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id status } }"""


def gateway_process(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--sandbox"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_healthy(client: httpx.AsyncClient, url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            if (await client.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy")


async def gql(client: httpx.AsyncClient, url: str, query: str, **variables: object) -> dict:
    response = await client.post(f"{url}/graphql", json={"query": query, "variables": variables})
    return response.json()


@pytest.fixture
def dataset():
    return generate(seed=7, skus=60, stores=4)


async def test_two_gateways_and_240_concurrent_holds_promise_exactly_the_units_that_exist(
    dataset,
    tmp_path,
    pg_url,
):
    apps = simulator_apps(dataset)
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    with serve(apps["erp"]) as erp, serve(apps["woocommerce"]) as woo, serve(apps["square"]) as sq:
        env = {
            "DATABASE_URL": pg_url,
            "ERP_BASE_URL": erp,
            "WOO_BASE_URL": woo,
            "SQUARE_BASE_URL": sq,
            "OMS_BASE_URL": "http://127.0.0.1:9",  # never called: no order is placed
            "NODES_FILE": str(nodes),
            "REDIS_URL": "",
            "RUN_WORKERS": "false",
            "WEB_ORDER_SYNC_SECONDS": "0",
        }
        ports = [free_port(), free_port()]
        procs = [gateway_process(p, env) for p in ports]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        limits = httpx.Limits(max_connections=CONTENDERS + 10)
        try:
            async with httpx.AsyncClient(timeout=60, limits=limits, headers=STAFF) as client:
                for url, proc in zip(urls, procs, strict=True):
                    await wait_healthy(client, url, proc)

                # Given a store position with a handful of units left,
                sku, location, units = await scarce_position(client, urls[0], dataset)

                # (held once and given back, so the position's guard row exists and only its
                # row lock, not the race to create it, can keep the contenders apart)
                warm = await gql(
                    client,
                    urls[0],
                    RESERVE,
                    input={
                        "lines": [{"sku": sku, "quantity": 1}],
                        "locationId": location,
                        "channel": "PICKUP",
                    },
                    key="warm-up",
                )
                released = await gql(
                    client,
                    urls[0],
                    RELEASE,
                    id=warm["data"]["reserve"]["id"],
                    key="warm-up-release",
                )
                assert released["data"]["releaseReservation"]["status"] == "RELEASED", released

                # when 240 customers try to hold one unit each, through both gateways at once,
                async def contender(i: int) -> dict:
                    return await gql(
                        client,
                        urls[i % 2],
                        RESERVE,
                        input={
                            "lines": [{"sku": sku, "quantity": 1}],
                            "locationId": location,
                            "channel": "PICKUP",
                        },
                        key=f"contender-{i}",
                    )

                answers = await asyncio.gather(*(contender(i) for i in range(CONTENDERS)))

                # then exactly the units that exist were promised, to exactly that many,
                held = [a for a in answers if a.get("data") and a["data"]["reserve"]]
                refused = [a for a in answers if a.get("errors")]
                assert len(held) == units, Counter(json.dumps(a)[:120] for a in refused)
                assert len(held) + len(refused) == CONTENDERS
                # and every other customer was told why, with what is left (nothing).
                for answer in refused:
                    error = answer["errors"][0]
                    assert error["extensions"]["code"] == "INSUFFICIENT_STOCK", error
                    assert error["extensions"]["shortfalls"] == [
                        {"sku": sku, "locationId": location, "requested": 1, "available": 0}
                    ]
                # Both gateways now say the position is gone, and the ledger agrees.
                for url in urls:
                    row = await availability_row(client, url, sku, location)
                    assert row == {"availableToPromise": 0, "held": units}
                assert await held_in_database(pg_url, sku, location) == units
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)


async def availability_row(client, url, sku, location) -> dict:
    body = await gql(client, url, AVAILABILITY, sku=sku, loc=location)
    assert "errors" not in body, body
    return body["data"]["product"]["availability"]["locations"][0]


async def scarce_position(client, url, dataset) -> tuple[str, str, int]:
    """A pickup store and a SKU with a few units (3..40) available to promise there."""
    store_ids = [n["id"] for n in dataset.nodes_config()["nodes"] if "PICKUP" in n["capabilities"]]
    for sku in dataset.sellable_skus:
        for location in store_ids:
            row = await availability_row(client, url, sku, location)
            if 3 <= row["availableToPromise"] <= 40:
                return sku, location, row["availableToPromise"]
    raise AssertionError("the sample data has no store with a few units of anything")


async def held_in_database(url: str, sku: str, location: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await conn.fetchval(
            "SELECT coalesce(sum(h.quantity), 0) FROM hold h JOIN reservation r "
            "ON r.id = h.reservation_id WHERE h.sku = $1 AND h.location_id = $2 "
            "AND r.status = 'ACTIVE'",
            sku,
            location,
        )
    finally:
        await conn.close()


async def test_a_hold_taken_through_one_gateway_is_seen_at_once_by_the_other(
    dataset,
    tmp_path,
    pg_url,
):
    """Each process keeps a one-second cache of whole answers; a hold taken through the
    other process must still show in the very next answer (no Redis configured)."""
    apps = simulator_apps(dataset)
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(dataset.nodes_config()))
    with serve(apps["erp"]) as erp, serve(apps["woocommerce"]) as woo, serve(apps["square"]) as sq:
        env = {
            "DATABASE_URL": pg_url,
            "ERP_BASE_URL": erp,
            "WOO_BASE_URL": woo,
            "SQUARE_BASE_URL": sq,
            "OMS_BASE_URL": "http://127.0.0.1:9",
            "NODES_FILE": str(nodes),
            "REDIS_URL": "",
            "RUN_WORKERS": "false",
            "WEB_ORDER_SYNC_SECONDS": "0",
            "RESPONSE_CACHE_SECONDS": "30",  # long, so only an invalidation can explain a change
        }
        ports = [free_port(), free_port()]
        procs = [gateway_process(p, env) for p in ports]
        first, second = (f"http://127.0.0.1:{p}" for p in ports)
        try:
            async with httpx.AsyncClient(timeout=60, headers=STAFF) as client:
                for url, proc in zip((first, second), procs, strict=True):
                    await wait_healthy(client, url, proc)
                sku, location, units = await scarce_position(client, second, dataset)
                # Given the second gateway has the answer cached,
                assert (await availability_row(client, second, sku, location))["held"] == 0
                # when a customer holds 2 units through the first one,
                body = await gql(
                    client,
                    first,
                    RESERVE,
                    input={
                        "lines": [{"sku": sku, "quantity": 2}],
                        "locationId": location,
                        "channel": "PICKUP",
                    },
                    key="seen-at-once",
                )
                assert body["data"]["reserve"]["status"] == "ACTIVE", body
                # then the second gateway's next answer already counts them.
                deadline = time.monotonic() + 0.5
                row = await availability_row(client, second, sku, location)
                while row["held"] != 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                    row = await availability_row(client, second, sku, location)
                assert row == {"availableToPromise": units - 2, "held": 2}
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
