"""The simulators' own deliveries, end to end: the gateway registered with all four through
their APIs (as the demo does), served on a real port with its workers and no poll running.
A WooCommerce checkout is imported by its webhook alone; a till sale Square delivers twice
(the simulator's duplicate knob) is recorded and handled once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from gateway.app import create_app
from gateway.domain import SourceSystem
from sandbox.demo_webhooks import register_gateway_webhooks
from tests.e2e.support import SHOE, Stack, quiet, simulators
from tests.e2e.test_notifications import ring_up_at_the_till
from tests.e2e.test_subscriptions import ask, at_store
from tests.e2e.test_web_orders import checkout
from tests.live_server import free_port, serve

ORDER = "query ($id: ID!) { order(id: $id) { status fulfillmentLocationIds } }"


@asynccontextmanager
async def hooked(dataset, tmp_path) -> AsyncIterator[tuple[str, Stack, Any]]:
    """(the gateway's URL, the simulators, the gateway app) with every webhook registered."""
    with simulators(dataset, tmp_path) as (apps, settings):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # No poll of any kind: whatever arrives, arrives by webhook.
        config = settings(
            **quiet({"run_workers": True, "web_order_sync_seconds": 0, "delta_poll_seconds": 0})
        )
        secrets = await register_gateway_webhooks(config, base)
        config = config.model_copy(update={**secrets.settings(), "webhook_base_url": base})
        app = create_app(config)
        with serve(app, port) as url:
            yield url, Stack(None, apps, settings), app  # type: ignore[arg-type]


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := await check()):
        if loop.time() > deadline:
            raise TimeoutError("not within the time")
        await asyncio.sleep(0.05)
    return found


async def test_a_checkout_is_imported_and_allocated_by_its_webhook_alone(dataset, tmp_path):
    async with hooked(dataset, tmp_path) as (url, stack, _):
        web = await checkout(stack, [(SHOE, 1)])

        async def allocated() -> dict[str, Any] | None:
            answer = await ask_maybe(url, ORDER, id=f"web_{web['id']}")
            order = answer.get("order") if answer else None
            return order if order and order["status"] == "ALLOCATED" else None

        order = await until(allocated)
    assert order["fulfillmentLocationIds"]


async def test_a_delivery_square_sends_twice_is_handled_once(dataset, tmp_path):
    async with hooked(dataset, tmp_path) as (url, stack, app):
        before = await at_store(url)
        stack.apps["square"].state.webhooks.faults.configure({"duplicate": True})
        await ring_up_at_the_till(stack, SHOE, before["location"]["sourceRef"], 1)
        await stack.apps["square"].state.webhooks.settle()
        inbox = app.state.services.webhooks
        await until(lambda: _true(inbox.replays[SourceSystem.POS] >= 1))
        after = await until(lambda: _row_if(url, lambda row: row["onHand"] == before["onHand"] - 1))
    assert after["onHand"] == before["onHand"] - 1
    assert inbox.replays[SourceSystem.POS] >= 1 and inbox.refused[SourceSystem.POS] == 0


async def _true(value: bool) -> bool:
    return value


async def _row_if(url: str, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    row = await at_store(url)
    return row if wanted(row) else None


async def ask_maybe(url: str, query: str, **variables: Any) -> dict[str, Any] | None:
    try:
        return await ask(url, query, **variables)
    except AssertionError:  # NOT_FOUND until the webhook has been handled
        return None
