"""GraphQL requests over HTTP, counted and timed at ``/graphql``'s outermost layer.

It wraps the door (gateway.auth.edge), so a refused request (401, 413, the guard's 400) and
a micro-cache replay are counted like any other. It reads nothing itself: it keeps what the
layers inside read of the request body and what they send back, and looks at both once the
answer is out:

* the operation: ``operationName`` when given, else the name of the document's only
  operation (parsed once per document), else ``anonymous``; ``unknown`` when the body was
  never read (refused before it was: 401, a body declared too large) or is not a GraphQL
  request;
* the status: ``ok`` (no errors), ``partial`` (errors beside some data), ``error`` (errors
  and no data, or an HTTP error), with the first error's ``extensions.code``
  (``HTTP_<status>`` when the answer carries none).

An answer without errors costs a byte search: it is decoded only when it holds ``"errors"``.
The compiled path (resolvers.compiled.http) leaves its operation's name and its answer
before encoding it (``tell_answered``): neither is read back from bytes. The differential
test (tests/graphql/test_compiled.py) checks that both paths are counted alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import OperationDefinitionNode, parse

from gateway.observability.metrics import ANONYMOUS, UNKNOWN, Metrics, error_code_label

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Documents up to this size are remembered with their operation's name; a larger one (rare,
# and bounded by the token limit) is parsed each time rather than held in memory.
_REMEMBERED_DOCUMENT_CHARS = 16_384
# Likewise POST bodies up to this size, with their operation's name (at most 2 MB held).
_REMEMBERED_BODY_BYTES = 4_096


# Where the view that answered a request may leave (the operation's name as labelled here,
# the answer it encoded as a dict): a compiled answer is then neither decoded again nor its
# request's body parsed again (resolvers.compiled.http).
ANSWERED = "gateway.answered"


def tell_answered(
    scope: Scope, given_name: str | None, document_name: str | None, answer: Mapping[str, object]
) -> None:
    """Leave the operation (``operationName`` when given, else the document's only
    operation's name) and the answer for this layer to count."""
    scope[ANSWERED] = (given_name or document_name or ANONYMOUS, answer)


class GraphQLRequestMetrics:
    def __init__(
        self,
        app: Any,  # an ASGI app (the door, gateway.auth.edge)
        metrics: Metrics,
        *,
        max_tokens: int = 15_000,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._max_tokens = max_tokens
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_explorer_page(scope):
            await self._app(scope, receive, send)
            return
        started = self._clock()
        read: list[bytes] = []
        sent: list[bytes] = []
        status = 0

        async def reading() -> Message:
            message = await receive()
            chunk = message.get("body")
            if chunk:
                read.append(chunk)
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, reading, sending)
        finally:
            seconds = self._clock() - started
            told = scope.get(ANSWERED)
            if told is not None and status == 200:  # nothing to decode again
                name, (outcome, code) = told[0], classify_payload(status, told[1])
            else:
                # Nothing sent: the app raised, and the server answers 500.
                outcome, code = classify(status or 500, b"".join(sent))
                name = operation_name(scope, read, self._max_tokens)
            self._metrics.graphql_request(
                self._metrics.operation_label(name), outcome, code, seconds
            )


def _is_explorer_page(scope: Scope) -> bool:
    """GraphiQL's page (a GET for HTML): no operation, not a GraphQL request."""
    if scope["method"] != "GET":
        return False
    for name, value in scope.get("headers") or ():
        if name == b"accept":
            return b"text/html" in value
    return False


def classify(status: int, body: bytes) -> tuple[str, str]:
    """(ok | partial | error, the first error's code or ``none``) of an answer (pure)."""
    if status == 200 and b'"errors"' not in body:
        return "ok", "none"
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    return classify_payload(status, payload)


def classify_payload(status: int, payload: Any) -> tuple[str, str]:
    """``classify`` of an answer already decoded (or, from the view that made it, not yet
    encoded)."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors:
        first = errors[0]
        extensions = first.get("extensions") if isinstance(first, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        data = payload.get("data") if isinstance(payload, dict) else None
        some_data = isinstance(data, dict) and any(v is not None for v in data.values())
        return ("partial" if some_data else "error"), error_code_label(code)
    if status == 200:
        return "ok", "none"  # "errors" was only a field or alias named so
    return "error", f"HTTP_{status}"


def operation_name(scope: Scope, read: list[bytes], max_tokens: int) -> str:
    """The operation a request named (not yet made a label: see Metrics.operation_label)."""
    if scope["method"] == "GET":
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        name: object = (params.get("operationName") or [None])[0]
        query: object = (params.get("query") or [None])[0]
        return _named(name, query, max_tokens)
    body = b"".join(read)
    if len(body) <= _REMEMBERED_BODY_BYTES:
        return _remembered_post(body, max_tokens)
    return _posted_operation(body, max_tokens)


@lru_cache(maxsize=512)
def _remembered_post(body: bytes, max_tokens: int) -> str:
    # A hot request is the same bytes each time: its name is read once, not parsed from
    # JSON on every answer (a micro-cache replay costs little more than that parse).
    return _posted_operation(body, max_tokens)


def _posted_operation(body: bytes, max_tokens: int) -> str:
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return UNKNOWN
    if not isinstance(payload, dict):
        return UNKNOWN
    return _named(payload.get("operationName"), payload.get("query"), max_tokens)


def _named(name: object, query: object, max_tokens: int) -> str:
    if isinstance(name, str) and name:
        return name
    if not isinstance(query, str):
        return UNKNOWN
    if len(query) <= _REMEMBERED_DOCUMENT_CHARS:
        return _remembered_operation(query, max_tokens)
    return _document_operation(query, max_tokens)


@lru_cache(maxsize=512)
def _remembered_operation(document: str, max_tokens: int) -> str:
    return _document_operation(document, max_tokens)


def _document_operation(document: str, max_tokens: int) -> str:
    """The name of the document's only operation; ``anonymous`` when it has none."""
    try:
        parsed = parse(document, no_location=True, max_tokens=max_tokens)
    except Exception:  # a syntax error, or too many tokens: strawberry says which
        return UNKNOWN
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return UNKNOWN  # several need operationName; strawberry refuses the request
    named = operations[0].name
    return ANONYMOUS if named is None else named.value
