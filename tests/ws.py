"""A graphql-transport-ws client over a real socket (the ``websockets`` library), as
GraphiQL or Apollo Client would speak it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.typing import Subprotocol


class Subscribed:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next result's data; an error or a completion fails the test with it."""
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message["payload"]
            return message["payload"]["data"]

    async def message(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.socket.recv(), timeout))


@asynccontextmanager
async def subscribe(base_url: str, query: str, **variables: Any) -> AsyncIterator[Subscribed]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        yield Subscribed(socket)
