"""A micro-cache of whole GraphQL responses, for identical read-only requests.

A hot product page is asked for hundreds of times a second with the same document and
variables; executing it each time re-resolves the same cached data into the same JSON.
This keeps that JSON for ``ttl_seconds`` (1 s by default), so answers are at most that much
older than the source caches beneath already allow. It is safe because:

* only POSTed *queries* whose answer has no errors are kept (never mutations, never errors);
* the key is the exact request body plus the data cache's generation, which every
  invalidation bumps, so a write the gateway knows about is visible to the next request;
* what a caller may see joins the key (its roles, scopes and store: gateway.auth), so an
  answer is replayed only to a caller entitled to the same one; so does what it accepts.

When a kept answer expires, every client asking in that instant would miss at once and run
the same query side by side (sixteen clients of the hot page: sixteen executions a second,
each at the tail). The first runs it; the others with the same key wait for its answer and
replay it, or, when it is not kept (errors, not a query), run their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from graphql import OperationType, get_operation_ast, parse

from gateway.cache import CacheObserver
from gateway.request_guard import (
    content_type_and_accept,
    read_body,
    read_body_up_to,
    replaying,
)
from gateway.request_json import read_json

Scope = dict[str, Any]
Message = dict[str, Any]
SOURCE = "response"  # this cache's name in the cache metrics


@lru_cache(maxsize=512)
def _is_query(document: str, operation_name: str | None) -> bool:
    try:
        operation = get_operation_ast(parse(document), operation_name)
    except Exception:  # a syntax error is strawberry's to report, not ours to cache
        return False
    return operation is not None and operation.operation is OperationType.QUERY


def is_cacheable_request(body: bytes, content_type: str = "application/json") -> bool:
    # Only what strawberry would answer as a query: a JSON POST (another content type is
    # refused there, and its refusal must not be served from here) naming its operation, if
    # at all, with a string.
    payload = _json_payload(body, content_type)
    return payload is not None and _names_a_query(payload)


def _json_payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The body's JSON object, if it is sent as JSON and is one."""
    if "json" not in content_type.lower():
        return None
    try:
        payload = read_json(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _names_a_query(payload: dict[str, Any]) -> bool:
    query, name = payload.get("query"), payload.get("operationName")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return False
    return _is_query(query, name)


def early_verdict(body: bytes, content_type: str) -> bool | None:
    """Whether the request reaching the view will be a query the cache may keep, told from
    the body as sent (pure): None when a persisted document may be put in on the way (the
    marking layer then decides on the body it sees)."""
    payload = _json_payload(body, content_type)
    if payload is None:
        return False
    extensions = payload.get("extensions")
    if "documentId" in payload or (isinstance(extensions, dict) and "persistedQuery" in extensions):
        return None
    return _names_a_query(payload)


class ResponseMicroCache:
    """Two ASGI layers around the request's checks: this one, outside them, replays a kept
    answer or keeps the one given; ``QueryMarking``, just before the GraphQL view, tells it
    whether the request that reached the view (a persisted document put in) is a query.

    A replay skips the checks between the two (the body guard, persisted documents): the
    key holds the exact body with its content type, and the same body passed them when the
    answer was kept. Without a marking layer inside, nothing is kept.
    """

    def __init__(
        self,
        app: Any,
        *,
        ttl_seconds: float,
        generation: Callable[[], Awaitable[str]],
        max_entries: int = 2048,
        max_body_bytes: int = 2_000_000,
        clock: Callable[[], float] = time.monotonic,
        observer: CacheObserver | None = None,
    ) -> None:
        self._app = app
        self._observer = observer
        self._ttl = ttl_seconds
        self._generation = generation
        self._max = max_entries
        self._max_body = max_body_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[str, bytes], tuple[float, list[Message]]] = OrderedDict()
        # Queries being answered now, by key: later askers of the same wait for the answer.
        self._flights: dict[tuple[str, bytes], _Flight] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if self._ttl <= 0 or scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        body, whole = await read_body_up_to(receive, self._max_body)
        if not whole:  # over the limit: the guard inside refuses it, reading on from here
            await self._app(scope, replaying(body, then=receive), send)
            return
        content_type, accept = content_type_and_accept(scope)
        # A mutation (or anything else never kept) goes straight on: nothing to look up,
        # nothing to capture, and the marking layer need not read it again.
        early = early_verdict(body, content_type.decode("latin-1"))
        if early is False:
            await self._app(scope, replaying(body), send)
            return
        principal = (scope.get("state") or {}).get("principal")
        grants = b"" if principal is None else principal.grants.encode()
        # What the caller may see, what it accepts (the server may answer another media
        # type, or refuse) and what it sent, as it sent it, make the key.
        digest = hashlib.blake2b(
            b"\0".join((grants, accept, content_type, body)), digest_size=16
        ).digest()
        key = (await self._generation(), digest)
        hit = self._entries.get(key)
        if hit is not None and hit[0] <= self._clock():
            hit = None  # expired
        flight = None if hit is not None else self._flights.get(key)
        if self._observer is not None:
            found, joined = hit is not None, flight is not None
            self._observer.looked_up(SOURCE, int(found), int(not found and not joined), int(joined))
        if hit is not None:
            await _replay(hit[1], send)
            return
        if flight is not None:
            answer = await flight.answer()
            if answer is not None:
                await _replay(answer, send)
                return
            # Not kept (errors, or not a query after all): this request is answered on its own.

        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)
            await send(message)

        flight = _Flight()
        verdict = scope[_VERDICT] = _Verdict(lambda: self._flights.setdefault(key, flight))
        if early:
            verdict.mark_query()
            verdict.decided = True
        kept: list[Message] | None = None
        try:
            await self._app(scope, replaying(body), capture)
            if verdict.query and _succeeded(captured):
                kept = captured
                self._entries[key] = (self._clock() + self._ttl, captured)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        finally:  # raised or cancelled too: those waiting must not wait for ever
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.land(kept)


_VERDICT = "gateway.response_cache"  # the scope key the two layers share


class _Verdict:
    __slots__ = ("_on_query", "decided", "query")

    def __init__(self, on_query: Callable[[], object]) -> None:
        self.query = False  # set by the marking layer: the request it passed on is a query
        self.decided = False  # told from the body as sent: the marking layer has nothing to do
        self._on_query = on_query  # from then on, others asking the same may wait for it

    def mark_query(self) -> None:
        self.query = True
        self._on_query()


class _Flight:
    """One query being answered, for those asking the same meanwhile: its messages when
    they were kept, None when they were not."""

    __slots__ = ("_landed", "_messages")

    def __init__(self) -> None:
        self._landed = asyncio.Event()
        self._messages: list[Message] | None = None

    def land(self, messages: list[Message] | None) -> None:
        self._messages = messages
        self._landed.set()

    async def answer(self) -> list[Message] | None:
        await self._landed.wait()
        return self._messages


async def _replay(messages: list[Message], send: Any) -> None:
    for message in messages:
        await send(message)


class QueryMarking:
    """The micro-cache's inner layer, around the app that answers (the GraphQL view)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        verdict: _Verdict | None = scope.get(_VERDICT)
        if verdict is None or verdict.decided:  # not asked through the cache, or told already
            await self._app(scope, receive, send)
            return
        body = await read_body(receive)
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        if is_cacheable_request(body, content_type):
            verdict.mark_query()
        await self._app(scope, replaying(body), send)


def _succeeded(messages: list[Message]) -> bool:
    if not messages or messages[0].get("status") != 200:
        return False
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return b'"errors"' not in body
