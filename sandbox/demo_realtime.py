"""The demo's real-time flow (``--check``): a sale rung up at a Square till reaches a client
subscribed over graphql-transport-ws (as GraphiQL's is) through Square's webhook, and the
next product-page answer shows it; a forged, a replayed and a stale delivery are refused and
counted; a webhook Square drops is caught by the next delta poll."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from gateway.config import Settings
from gateway.domain import SourceSystem
from gateway.events.signatures import signature_of
from sandbox.demo import FlowFailed, Summary, _data
from sandbox.demo_identity import CALLER

SKU = "SHOE-TRAIL-42"
STORE = "ST-BERLIN-STORE"
WATCH = """subscription ($skus: [String!]!, $at: [ID!]) {
  availabilityChanged(skus: $skus, locationIds: $at) {
    locations { onHand availableToPromise via confidence } } }"""
ROW = """query ($sku: String!, $at: [ID!]) { product(sku: $sku) { availability(locationIds: $at) {
  locations { location { sourceRef } onHand via confidence observedAt } } } }"""
WITHIN = 1.0  # seconds a sale may take to reach a subscriber (the bound)


@dataclass(frozen=True)
class Counters:
    refused: int
    replays: int
    stale: int


async def real_time_flow(url: str, gateway: Any, square_app: Any, settings: Settings) -> Summary:
    """``gateway``: the running gateway app (its inbox's counters are read); ``square_app``:
    the Square simulator (the deliveries it sent, to replay one)."""
    summary = Summary()
    try:
        row = await _row(url)
        square = _Square(settings, row["location"]["sourceRef"], square_app)
        async with _subscribed(url) as feed:
            began = time.monotonic()
            await square.sell()
            seen = await feed.next(timeout=10)
            took = time.monotonic() - began
            summary.say(
                f"till sale at {STORE}   -> subscriber told in {took * 1000:.0f} ms "
                f"(onHand {row['onHand']} -> {seen['onHand']}, via {seen['via']})"
            )
            summary.ok &= took <= WITHIN and seen["onHand"] == row["onHand"] - 1
            after = await _row(url)
            summary.say(
                f"next product page      -> onHand {after['onHand']}, via {after['via']}, "
                f"confidence {after['confidence']}"
            )
            summary.ok &= after["onHand"] == seen["onHand"]

            inbox = gateway.state.services.webhooks
            before = _counters(inbox)
            replayed = await square.replay_last_delivered()
            stale = await square.send_stale(settings.square_webhook_signature_keys[0], url)
            # The next sale's webhooks Square drops: the delta poll is what finds it.
            poll = gateway.state.services.delta_poll
            polled = poll.caught[SourceSystem.POS]
            await square.knobs({"drop_rate": 1.0})
            began = time.monotonic()
            await square.sell()
            caught = await feed.until(lambda r: r["onHand"] <= seen["onHand"] - 1, timeout=30)
            while poll.caught[SourceSystem.POS] == polled and time.monotonic() - began < 30:
                await asyncio.sleep(0.05)
            summary.say(
                f"dropped webhook        -> the delta poll found the sale after "
                f"{time.monotonic() - began:.1f} s; subscriber told (onHand {caught['onHand']})"
            )
            summary.ok &= square.dropped() >= 1 and poll.caught[SourceSystem.POS] > polled
            # And a delivery signed with a wrong key is refused (Square retries it).
            await square.knobs({"reset": True, "forge": True})
            await square.sell()
            await square.refused_once()
            await square.knobs({"reset": True})
            now = _counters(inbox)
            summary.say(
                f"replayed / stale / forged deliveries -> replays {now.replays - before.replays}"
                f", stale {now.stale - before.stale}, refused {now.refused - before.refused} "
                f"(answered {replayed}, {stale}, 401)"
            )
            summary.ok &= (now.replays - before.replays, now.stale - before.stale) == (1, 1)
            summary.ok &= now.refused - before.refused == 1
    except (FlowFailed, httpx.HTTPError, TimeoutError, OSError, KeyError) as error:
        summary.say(f"real-time flow failed: {error!r}")
        summary.ok = False
    return summary


def _counters(inbox: Any) -> Counters:
    pos = SourceSystem.POS
    return Counters(inbox.refused[pos], inbox.replays[pos], inbox.stale[pos])


async def _row(url: str) -> dict[str, Any]:
    data = await _data(url, ROW, sku=SKU, at=[STORE])
    (row,) = data["product"]["availability"]["locations"]
    return row


class _Feed:
    def __init__(self, socket: Any) -> None:
        self._socket = socket

    async def next(self, timeout: float) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self._socket.recv(), timeout))
            if message["type"] == "ping":
                await self._socket.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                if message["payload"].get("errors"):
                    raise FlowFailed(json.dumps(message["payload"]["errors"])[:300])
                (row,) = message["payload"]["data"]["availabilityChanged"]["locations"]
                return row
            else:
                raise FlowFailed(f"subscription ended: {message}")

    async def until(self, wanted: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = await self.next(max(0.01, deadline - time.monotonic()))
            if wanted(row):
                return row


class _Subscribed:
    def __init__(self, url: str) -> None:
        self._url = url.replace("http://", "ws://")
        self._socket: Any = None

    async def __aenter__(self) -> _Feed:
        self._socket = await websockets.connect(
            self._url, subprotocols=[Subprotocol("graphql-transport-ws")]
        )
        await self._socket.send(json.dumps({"type": "connection_init", "payload": CALLER}))
        ack = json.loads(await asyncio.wait_for(self._socket.recv(), 5))
        if ack.get("type") != "connection_ack":
            raise FlowFailed(f"not acknowledged: {ack}")
        payload = {"query": WATCH, "variables": {"skus": [SKU], "at": [STORE]}}
        await self._socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.2)  # subscribed before anything is sold
        return _Feed(self._socket)

    async def __aexit__(self, *exc: object) -> None:
        await self._socket.close()


def _subscribed(url: str) -> _Subscribed:
    return _Subscribed(url)


class _Square:
    """The Square simulator as its POS and its console would be used."""

    def __init__(self, settings: Settings, store_ref: str, app: Any) -> None:
        self._app = app
        self._base = settings.square_base_url
        self._headers = {"Authorization": f"Bearer {settings.square_access_token}"}
        self._store = store_ref

    async def sell(self) -> None:
        async with httpx.AsyncClient(base_url=self._base, headers=self._headers) as http:
            found = await http.post(
                "/v2/catalog/search",
                json={
                    "object_types": ["ITEM_VARIATION"],
                    "query": {"set_query": {"attribute_name": "sku", "attribute_values": [SKU]}},
                },
            )
            variation = found.json()["objects"][0]["id"]
            sold = await http.post(
                "/v2/inventory/changes/batch-create",
                json={
                    "idempotency_key": uuid.uuid4().hex,
                    "changes": [
                        {
                            "type": "ADJUSTMENT",
                            "adjustment": {
                                "catalog_object_id": variation,
                                "location_id": self._store,
                                "from_state": "IN_STOCK",
                                "to_state": "SOLD",
                                "quantity": "1",
                                "occurred_at": _rfc3339(datetime.now(UTC)),
                            },
                        }
                    ],
                },
            )
            if sold.status_code != 200:
                raise FlowFailed(f"the till sale was refused: {sold.text[:200]}")

    async def knobs(self, values: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=self._base) as http:
            (await http.post("/_sandbox/webhooks", json=values)).raise_for_status()

    def dropped(self) -> int:
        return sum(1 for s in self._app.state.webhooks.sent if s.dropped)

    async def refused_once(self, timeout: float = 10.0) -> None:
        """Wait until the gateway has answered a forged delivery."""
        deadline = time.monotonic() + timeout
        while not any(s.forged and s.status is not None for s in self._app.state.webhooks.sent):
            if time.monotonic() > deadline:
                raise FlowFailed("the forged delivery was never answered")
            await asyncio.sleep(0.02)

    async def replay_last_delivered(self) -> str:
        """Send the last delivery the gateway accepted once more, as an attacker who
        captured it (or Square retrying it) would."""
        sent = self._app.state.webhooks.sent
        delivered = [s for s in sent if s.status == 200 and not s.forged]
        if not delivered:
            raise FlowFailed("Square delivered nothing to replay")
        last = delivered[-1]
        async with httpx.AsyncClient() as http:
            answer = await http.post(last.url, content=last.body, headers=last.headers)
        return str(answer.json().get("status"))

    async def send_stale(self, key: str, graphql_url: str) -> str:
        """A delivery signed right but stamped two days ago (a captured event, replayed
        after its record could have been pruned)."""
        hook = graphql_url.removesuffix("/graphql") + "/webhooks/square"
        old = _rfc3339(datetime.now(UTC) - timedelta(days=2))
        body = json.dumps(
            {
                "merchant_id": "DEMO",
                "type": "inventory.count.updated",
                "event_id": str(uuid.uuid4()),
                "created_at": old,
                "data": {"type": "inventory_counts", "id": "x", "object": {}},
            }
        ).encode()
        signed = signature_of(SourceSystem.POS, key, body, hook)
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                hook, content=body, headers={"x-square-hmacsha256-signature": signed}
            )
        return str(answer.json().get("status"))


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
