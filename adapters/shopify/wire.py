"""Shopify's error layers turned into the project's typed errors, and wire payloads turned
into the OMS documents of ``gateway.domain.documents``.

Three layers (contract errors.json): HTTP errors (401 ``{"errors": "<text>"}``, 5xx), top-level
GraphQL ``errors`` with HTTP 200 (validation, ``THROTTLED``, access denied), and ``userErrors``
inside a mutation's payload, also HTTP 200. THROTTLED is rewritten into a 429 whose
Retry-After is the wait the bucket asks for, so the shared retry policy in adapters.http
handles it like any rate limit.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.http import default_error, json_body
from gateway.domain.documents import (
    OmsFulfillmentLine,
    OmsFulfillmentOrder,
    OmsOrder,
    OmsReturn,
    PostalAddress,
    Tracking,
)
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

BACKEND = "shopify"
THROTTLED = "THROTTLED"


def graphql_codes(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    return [
        str(e.get("extensions", {}).get("code"))
        for e in body["errors"]
        if isinstance(e, dict) and isinstance(e.get("extensions"), dict)
    ]


def throttled_as_429(response: httpx.Response) -> httpx.Response:
    """A THROTTLED answer (HTTP 200 or 429) as a 429 with the bucket's own wait."""
    if response.status_code not in (200, 429):
        return response
    body = json_body(response)
    if THROTTLED not in graphql_codes(body):
        return response
    cost = body.get("extensions", {}).get("cost", {}) if isinstance(body, dict) else {}
    status = cost.get("throttleStatus") or {}
    try:
        wait = (float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])) / float(
            status["restoreRate"]
        )
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        wait = 1.0
    return httpx.Response(
        429,
        headers={"retry-after": f"{max(wait, 0.0):.3f}"},
        json=body,
        request=response.request,
    )


def parse_error(response: httpx.Response) -> BackendError:
    """HTTP-level failures: the body's ``errors`` is a string, or the GraphQL list."""
    status = response.status_code
    body = json_body(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        message = f"{BACKEND}: {errors}"
    elif isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = f"{BACKEND}: {errors[0].get('message')}"
    else:
        return default_error(BACKEND, response)
    code = next(iter(graphql_codes(body)), None)
    if status in (401, 403):
        return BackendAuthError(message, backend=BACKEND, status=status, backend_code=code)
    if status == 429 or status >= 500 or code == THROTTLED:
        return BackendUnavailable(message, backend=BACKEND, status=status, backend_code=code)
    return BackendRejected(message, backend=BACKEND, status=status, backend_code=code)


def graphql_error(body: dict[str, Any], status: int) -> BackendError:
    """Top-level ``errors`` on a 200: a document the API refused, or a scope it lacks."""
    errors = [e for e in body.get("errors", []) if isinstance(e, dict)]
    message = f"{BACKEND}: " + "; ".join(str(e.get("message")) for e in errors)
    code = next(iter(graphql_codes(body)), None)
    kind: type[BackendError] = BackendAuthError if code == "ACCESS_DENIED" else BackendRejected
    if code == THROTTLED:
        kind = BackendUnavailable
    return kind(message, backend=BACKEND, status=status, backend_code=code)


def user_errors(operation: str, payload: dict[str, Any]) -> BackendRejected | None:
    errors = [e for e in payload.get("userErrors") or [] if isinstance(e, dict)]
    if not errors:
        return None
    message = f"{BACKEND} {operation}: " + "; ".join(str(e.get("message")) for e in errors)
    return BackendRejected(
        message,
        backend=BACKEND,
        status=200,
        backend_code=errors[0].get("code"),
        user_errors=errors,
    )


# --- payloads -> documents -------------------------------------------------------------------


def nodes(connection: Any) -> list[dict[str, Any]]:
    if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
        return []
    return [n for n in connection["nodes"] if isinstance(n, dict)]


def fulfillment_order(raw: dict[str, Any]) -> OmsFulfillmentOrder:
    location = (raw.get("assignedLocation") or {}).get("location") or {}
    tracking = [
        Tracking(company=t.get("company"), number=t.get("number"), url=t.get("url"))
        for fulfillment in nodes(raw.get("fulfillments"))
        for t in fulfillment.get("trackingInfo") or []
        if isinstance(t, dict)
    ]
    return OmsFulfillmentOrder(
        id=str(raw["id"]),
        location_ref=str(location.get("id") or ""),
        status=str(raw.get("status")),
        lines=tuple(
            OmsFulfillmentLine(
                id=str(line["id"]),
                sku=str(line.get("sku") or ""),
                total_quantity=int(line.get("totalQuantity") or 0),
                remaining_quantity=int(line.get("remainingQuantity") or 0),
            )
            for line in nodes(raw.get("lineItems"))
        ),
        tracking=tuple(tracking),
    )


def order(raw: dict[str, Any], fulfillment_orders: list[dict[str, Any]]) -> OmsOrder:
    return OmsOrder(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        reference=raw.get("sourceIdentifier"),
        fulfillment_orders=tuple(fulfillment_order(fo) for fo in fulfillment_orders),
    )


def actions(raw: dict[str, Any]) -> set[str]:
    return {str(a.get("action")) for a in raw.get("supportedActions") or [] if isinstance(a, dict)}


def reference_marker(reference: str) -> str:
    """How a gateway reference is written into a note a later look can search."""
    return f"[gateway:{reference}]"


def search_value(value: str) -> str:
    """A value quoted for Shopify's search syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_lines_complete(fo: dict[str, Any]) -> None:
    if ((fo.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
        # Saying so beats silently reporting a partial order.
        raise BackendRejected(
            f"{BACKEND}: fulfillment order {fo.get('id')} has more than 50 lines",
            backend=BACKEND,
        )


def oms_return(raw: dict[str, Any]) -> OmsReturn:
    return OmsReturn(id=str(raw["id"]), name=str(raw.get("name") or ""), status=str(raw["status"]))


def address_input(address: PostalAddress) -> dict[str, Any]:
    first, _, last = address.name.partition(" ")
    return {
        "firstName": first,
        "lastName": last or None,
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "zip": address.postal_code,
        "countryCode": address.country_code,
    }
