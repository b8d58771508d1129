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

from tests.identity import STAFF


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


async def refused_connection(base_url: str, payload: dict[str, str]) -> tuple[int, str]:
    """The close code and reason of a socket whose connection_init carries ``payload``."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            message = await asyncio.wait_for(socket.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError(f"the socket was not closed: {message}")


@asynccontextmanager
async def subscribe(base_url: str, query: str, **variables: Any) -> AsyncIterator[Subscribed]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": STAFF}))
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
