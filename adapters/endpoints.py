"""Which endpoint of a backend a request went to, as a name with few values (for metrics).

A raw URL carries item codes, order numbers and Square object ids: a label made of it would
grow one series per SKU. The name is the method and the path with every identifier put as
``{id}``; what stays is the backends' own vocabulary::

    GET  /api/resource/Item/SHOE-TRAIL-42        GET /api/resource/Item/{name}
    PUT  /wp-json/wc/v3/products/812/variations/9  PUT /wp-json/wc/v3/products/{id}/variations/{id}
    POST /v2/inventory/counts/batch-retrieve     (as it is)
    POST /admin/api/2026-10/graphql.json         (as it is)

A segment stays when it is a lowercase word (``batch-retrieve``, ``frappe.client.cancel``,
``graphql.json``) or an API version (``v3``, ``2026-10``); Frappe's doctype after
``resource`` stays (a fixed vocabulary of the ERP's schema) and the document name after it
never does, whatever it looks like. Everything else is an identifier.

The request an attempt sent is noted by a request hook of the client (``note_sent``, set by
``adapters.http.build_client``) into the list ``sending()`` opened for the call, since an
attempt cut off by the deadline ends with no response and no httpx error to read it from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

UNSENT = "none"  # no request went out: the breaker refused it, or no time was left
_MAX_SEGMENTS = 8
_WORD = re.compile(r"[a-z][a-z_\-]*(?:\.[a-z_\-]+)*")
_VERSION = re.compile(r"v\d{1,2}|\d{4}-\d{2}")

_sent: ContextVar[list[httpx.Request] | None] = ContextVar("backend_requests_sent", default=None)


def endpoint_of(method: str, path: str) -> str:
    """``GET /api/resource/Item/{name}`` for ``GET /api/resource/Item/SHOE-TRAIL-42`` (pure)."""
    segments = [s for s in path.split("/") if s]
    named: list[str] = []
    for index, segment in enumerate(segments[:_MAX_SEGMENTS]):
        before = segments[index - 1] if index >= 1 else ""
        two_before = segments[index - 2] if index >= 2 else ""
        if before == "resource" and _doctype(segment):
            named.append(segment)
        elif two_before == "resource":
            named.append("{name}")
        elif _WORD.fullmatch(segment) or _VERSION.fullmatch(segment):
            named.append(segment)
        else:
            named.append("{id}")
    if len(segments) > _MAX_SEGMENTS:
        named.append("...")
    return f"{method} /{'/'.join(named)}"


def _doctype(segment: str) -> bool:
    # "Item", "Sales Order", "Stock Entry": capitalised words, nothing an id looks like.
    return len(segment) <= 40 and all(
        word[:1].isupper() and word.isalpha() for word in segment.split(" ")
    )


@contextmanager
def sending() -> Iterator[list[httpx.Request]]:
    """The requests sent from here on (within this task), as the client's hook notes them."""
    sent: list[httpx.Request] = []
    token = _sent.set(sent)
    try:
        yield sent
    finally:
        _sent.reset(token)


async def note_sent(request: httpx.Request) -> None:
    """httpx's request hook: note the request for the call being made, if one is watched."""
    sent = _sent.get()
    if sent is not None:
        sent.append(request)


def last_endpoint(sent: list[httpx.Request], response: httpx.Response | None = None) -> str:
    """The endpoint of the last request sent; from the response when the client has no hook."""
    if sent:
        request = sent[-1]
    elif response is not None:
        request = response.request
    else:
        return UNSENT
    return endpoint_of(request.method, request.url.path)
