"""Subscriptions over graphql-transport-ws on a real socket, as GraphiQL speaks it: a hold,
a sale at a till (through Square's webhook), an order's moves and a discrepancy opened reach
the subscribed client; a subscriber that stops reading is dropped with code 4008; with two
gateway processes on one PostgreSQL a change made through one reaches a subscriber of the
other."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from strawberry.types import ExecutionResult

from gateway.app import create_app
from gateway.domain import SourceSystem
from gateway.domain.events import OrderChanged
from gateway.events.signatures import signature_of
from resolvers.context import GatewayContext
from resolvers.schema import build_schema
from tests.e2e.support import (
    BERLIN_STORE,
    CANCEL,
    PLACE,
    SHOE,
    Stack,
    gateway,
    order_input,
    place,
    quiet,
    simulators,
    square_in_stock,
)
from tests.e2e.test_notifications import ring_up_at_the_till
from tests.e2e.test_webhooks import square_count_event
from tests.identity import STAFF, bearer, token
from tests.live_server import serve
from tests.pg import temporary_database
from tests.ws import refused_connection, subscribe

AVAILABILITY = """subscription ($skus: [String!]!, $at: [ID!]) {
  availabilityChanged(skus: $skus, locationIds: $at) {
    sku totalAvailable locations { location { id } onHand availableToPromise } } }"""
ORDERS_OF = """subscription ($email: String!) {
  orderChanged(customerEmail: $email) { id status customerEmail } }"""
OPENED = """subscription ($owner: String) {
  discrepancyOpened(owner: $owner) { id kind owner sku status } }"""
ROWS = """query ($sku: String!, $at: [ID!]) { product(sku: $sku) {
  availability(locationIds: $at) { locations { location { id sourceRef } onHand
  availableToPromise } } } }"""
RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) { id } }"""
SQUARE_KEY = "sq-live-key"


@contextmanager
def served(dataset, tmp_path, **overrides: Any) -> Iterator[tuple[str, Stack]]:
    """The gateway on a real port over the simulators; the Stack gives the simulators."""
    with simulators(dataset, tmp_path) as (apps, settings):  # noqa: SIM117 (needs settings)
        with serve(create_app(settings(**quiet(overrides)))) as url:
            yield url, Stack(None, apps, settings)  # type: ignore[arg-type]


async def ask(url: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, headers=STAFF) as http:
        answer = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


async def at_store(url: str) -> dict[str, Any]:
    rows = (await ask(url, ROWS, sku=SHOE, at=[BERLIN_STORE]))["product"]["availability"]
    (row,) = rows["locations"]
    return row


async def test_a_subscriber_without_accepted_credentials_is_refused(dataset, tmp_path):
    with served(dataset, tmp_path) as (url, _):
        assert await refused_connection(url, {}) == (4403, "Forbidden")
        expired = bearer(token(["STOREFRONT"], expires_in=-300))
        assert await refused_connection(url, expired) == (4403, "Forbidden")


async def test_a_hold_reaches_the_subscribed_client(dataset, tmp_path):
    with served(dataset, tmp_path) as (url, _):
        before = await at_store(url)
        async with subscribe(url, AVAILABILITY, skus=[SHOE], at=[BERLIN_STORE]) as feed:
            await asyncio.sleep(0.2)  # subscribed
            hold = {
                "locationId": BERLIN_STORE,
                "channel": "PICKUP",
                "lines": [{"sku": SHOE, "quantity": 1}],
            }
            await ask(url, RESERVE, input=hold, key="sub-hold-1")
            seen = (await feed.next())["availabilityChanged"]
    (row,) = seen["locations"]
    assert seen["sku"] == SHOE and row["location"]["id"] == BERLIN_STORE
    assert row["availableToPromise"] == before["availableToPromise"] - 1


async def test_a_till_sale_reaches_the_subscribed_client_through_squares_webhook(dataset, tmp_path):
    overrides = {"run_workers": True, "square_webhook_signature_keys": [SQUARE_KEY]}
    with served(dataset, tmp_path, **overrides) as (url, stack):
        before = await at_store(url)
        ref = before["location"]["sourceRef"]
        on_shelf = square_in_stock(stack.apps, SHOE, ref)
        async with subscribe(url, AVAILABILITY, skus=[SHOE], at=[BERLIN_STORE]) as feed:
            await asyncio.sleep(0.2)
            await ring_up_at_the_till(stack, SHOE, ref, 1)
            body = square_count_event(
                stack, SHOE, ref, on_shelf - 1, at=datetime.now(UTC), event_id="evt-live-sale"
            )
            hook = f"{url}/webhooks/square"
            signed = signature_of(SourceSystem.POS, SQUARE_KEY, body, hook)
            async with httpx.AsyncClient() as http:
                answer = await http.post(
                    hook, content=body, headers={"x-square-hmacsha256-signature": signed}
                )
            assert answer.json() == {"status": "ACCEPTED"}
            seen = (await feed.next())["availabilityChanged"]
        (row,) = seen["locations"]
        assert row["onHand"] == before["onHand"] - 1
        # and the next product-page answer shows it too.
        assert (await at_store(url))["onHand"] == before["onHand"] - 1


async def test_an_order_reaches_its_customers_subscription_as_it_moves(dataset, tmp_path):
    email = "sub-ana@example.org"
    with served(dataset, tmp_path) as (url, _):
        async with subscribe(url, ORDERS_OF, email=email.upper()) as feed:
            await asyncio.sleep(0.2)
            # Someone else's order is not sent.
            await ask(url, PLACE, input=order_input("other@example.org", [(SHOE, 1)]), key="o-0")
            placed = await ask(url, PLACE, input=order_input(email, [(SHOE, 1)]), key="o-1")
            order_id = placed["placeOrder"]["id"]
            first = (await feed.next())["orderChanged"]
            await ask(url, CANCEL, id=order_id, key="o-1-cancel")
            statuses = [first["status"]]
            while statuses[-1] != "CANCELLED":
                seen = (await feed.next())["orderChanged"]
                assert seen["id"] == order_id
                statuses.append(seen["status"])
    assert first["id"] == order_id and first["customerEmail"] == email
    assert statuses[-1] == "CANCELLED"


async def test_a_discrepancy_opened_reaches_its_owners_subscription(dataset, tmp_path):
    drifting = sorted(dataset.drift_skus)[:3]
    with served(dataset, tmp_path) as (url, _):
        async with (
            subscribe(url, OPENED) as everything,
            subscribe(url, OPENED, owner="nobody-owns-this") as nobody,
        ):
            await asyncio.sleep(0.2)
            await ask(
                url, "mutation ($s: [String!]!) { reconcileNow(skus: $s) { skus } }", s=drifting
            )
            opened = (await everything.next())["discrepancyOpened"]
            with pytest.raises(TimeoutError):
                await nobody.next(timeout=0.5)
    assert opened["sku"] in drifting and opened["status"] == "OPEN"


ORDER_BY_ID = "subscription ($id: ID!) { orderChanged(id: $id) { id status } }"


class StuckSocket:
    """A client's socket whose reader stopped: only its closing is seen."""

    def __init__(self) -> None:
        self.closed: int | None = None
        self.reason = ""

    async def close(self, code: int, reason: str) -> None:
        self.closed, self.reason = code, reason


async def test_a_subscriber_that_stops_reading_is_dropped_with_code_4008(dataset, tmp_path):
    async with gateway(dataset, tmp_path, subscription_queue_limit=5) as stack:
        services = stack.services
        order_id = (await place(stack, "slow-1", email="slow@example.org", lines=[(SHOE, 1)]))["id"]
        socket = StuckSocket()
        staff = await services.authenticator.principal(STAFF["Authorization"], None)
        context = GatewayContext(services, principal=staff, connection=socket, remember=False)
        results = await build_schema().subscribe(
            ORDER_BY_ID, variable_values={"id": order_id}, context_value=context
        )
        assert not isinstance(results, ExecutionResult), results
        first = asyncio.ensure_future(anext(results))  # read once, then never again
        await asyncio.sleep(0.1)
        feed = services.changes.feed
        assert feed.subscribers == 1
        for _ in range(20):
            services.changes.publish([OrderChanged(order_id)])
            await services.changes.flush()
        await asyncio.sleep(0.1)
        assert first.done() and first.result().data["orderChanged"]["id"] == order_id
        await results.aclose()
    assert socket.closed == 4008 and "more than 5 changes left unread" in socket.reason
    assert (feed.subscribers, feed.dropped) == (0, 1)


@pytest.mark.parametrize("broker", ["postgresql", "redis"])
async def test_a_hold_through_one_process_reaches_a_subscriber_of_another(
    dataset, tmp_path, broker
):
    async with temporary_database() as database_url:
        shared: dict[str, Any] = {"database_url": database_url}
        if broker == "redis":
            shared["redis_url"] = "redis://127.0.0.1:6379/7"  # a database of its own
            await flush_redis(shared["redis_url"])
        with simulators(dataset, tmp_path) as (_, settings):  # noqa: SIM117 (needs settings)
            with (
                serve(create_app(settings(**quiet(shared)))) as one,
                serve(create_app(settings(**quiet(shared)))) as other,
            ):
                before = await at_store(other)
                async with subscribe(other, AVAILABILITY, skus=[SHOE], at=[BERLIN_STORE]) as feed:
                    await asyncio.sleep(0.3)
                    hold = {
                        "locationId": BERLIN_STORE,
                        "channel": "PICKUP",
                        "lines": [{"sku": SHOE, "quantity": 2}],
                    }
                    await ask(one, RESERVE, input=hold, key=f"two-{broker}")
                    seen = (await feed.next())["availabilityChanged"]
    (row,) = seen["locations"]
    assert row["availableToPromise"] == before["availableToPromise"] - 2


async def flush_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url)
    await client.flushdb()
    await client.aclose()


async def test_a_till_sale_no_webhook_told_of_reaches_the_subscriber_with_the_next_poll(
    dataset, tmp_path
):
    overrides = {"run_workers": True, "delta_poll_seconds": 1.0}
    with served(dataset, tmp_path, **overrides) as (url, stack):
        before = await at_store(url)
        async with subscribe(url, AVAILABILITY, skus=[SHOE], at=[BERLIN_STORE]) as feed:
            await asyncio.sleep(1.5)  # the first poll has set its marks
            await ring_up_at_the_till(stack, SHOE, before["location"]["sourceRef"], 1)
            seen = (await feed.next(timeout=10))["availabilityChanged"]
    (row,) = seen["locations"]
    assert row["onHand"] == before["onHand"] - 1
