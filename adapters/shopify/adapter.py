"""OmsPort over the Shopify Admin GraphQL API (pinned 2026-10).

Idempotency. Shopify has no idempotency key on these mutations, so every write looks before
it acts, keyed on the draft's ``reference``. ``orderCreate`` and ``returnRequest`` are sent
once, with no in-call retry; when their answer does not arrive, the look runs again before
another try (adapters.look_then_create), so a lost answer does not make a second document:

* create_order: ``orders(query: "source_identifier:<ref>")`` first (the filter key is the
  simulator's; the contract flags Shopify's key as unconfirmed), ``orderCreate`` only if
  nothing is found, then the moves ``plan.plan_moves`` says are still missing;
* fulfill: a CLOSED fulfillment order is returned as it is;
* cancel_order: ``orderCancel`` cancels the order and all its open work (unlike
  ``fulfillmentOrderCancel``, which opens a replacement at the same location). An order that
  already has ``cancelledAt`` is returned as it is, since Shopify refuses to cancel it twice;
  a refusal that races another cancel is answered the same way. No money moves (the
  storefront owns payments), stock committed to the order is restocked, nobody is emailed.
  Shopify cancels in a background job: the job is polled briefly, and a job still running
  is reported as BackendUnavailable so the write is retried (and then finds it cancelled);
* open_return: the reference rides in each line's ``customerNote`` as ``[gateway:<ref>]``,
  and the order's returns are searched for it before ``returnRequest``;
* close_return: an already CLOSED return is returned as it is;
* edit_lines: the reference rides in the edit's staff note, and the order's "edited"
  timeline entries are searched for it before an edit is begun (adapters.shopify.order_edit).

Call budget. SKUs are resolved to variant gids 50 at a time (``sku:A OR sku:B ...``) and
remembered for ``variant_id_ttl_seconds``; an order read costs one request per five
fulfillment orders.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from adapters.http import build_client, json_body, send
from adapters.look_then_create import look_then_create
from adapters.resilience.policy import BackendPolicy
from adapters.shopify import documents as doc
from adapters.shopify import wire
from adapters.shopify.order_edit import OrderEditor
from adapters.shopify.plan import plan_moves
from adapters.shopify.wire import BACKEND
from gateway.config import Settings
from gateway.domain.documents import (
    OmsAllocation,
    OmsFulfillmentOrder,
    OmsLineChange,
    OmsOrder,
    OmsOrderDraft,
    OmsReturn,
    OmsReturnLine,
    Tracking,
)
from gateway.errors import BackendRejected, BackendUnavailable, NotFound

SKUS_PER_LOOKUP = 50
GRAPHQL_PATH = "/graphql.json"
# Gateway reason code -> (ReturnReasonDefinition handle, deprecated ReturnReason enum).
REASONS = {
    "DAMAGED": ("damaged", "DEFECTIVE"),
    "DEFECTIVE": ("defective", "DEFECTIVE"),
    "WRONG_ITEM": ("wrong-item", "WRONG_ITEM"),
    "NOT_AS_DESCRIBED": ("not-as-described", "NOT_AS_DESCRIBED"),
    "SIZE_OR_FIT": ("does-not-fit", "OTHER"),
    "CHANGED_MIND": ("unwanted", "UNWANTED"),
    "OTHER": ("other", "OTHER"),
}


def build_shopify_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one Shopify client: the token header on every call, the pinned version in the
    base URL (``.../admin/api/<version>``), so requests go to ``/graphql.json``."""
    headers = {
        "X-Shopify-Access-Token": settings.oms_access_token,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    base_url = f"{settings.oms_base_url.rstrip('/')}/admin/api/{settings.oms_api_version}"
    return build_client(settings, base_url, backend=BACKEND, headers=headers, transport=transport)


def return_marker(reference: str) -> str:
    return wire.reference_marker(reference)


class ShopifyAdapter:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_retries: int = 2,
        variant_id_ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        policy: BackendPolicy | None = None,
    ) -> None:
        self._client = client
        self._policy = policy or BackendPolicy(BACKEND)
        self._max_retries = max_retries
        self._ttl = variant_id_ttl_seconds
        self._monotonic = monotonic
        self._variant_ids: dict[str, tuple[str, float]] = {}  # SKU -> (gid, expiry)
        self._reason_ids: dict[str, str] | None = None  # handle -> ReturnReasonDefinition gid
        self._editor = OrderEditor(
            self._call, self._mutate, self._variant_ids_for, max_retries=max_retries
        )

    # --- OmsPort: orders --------------------------------------------------------------------

    async def create_order(self, draft: OmsOrderDraft) -> OmsOrder:
        query = f"source_identifier:{wire.search_value(draft.reference)}"

        async def look() -> dict[str, Any] | None:
            found = await self._call(doc.ORDER_BY_REFERENCE, {"query": query, "after": None})
            existing = wire.nodes(found.get("orders"))
            return existing[0] if existing else None

        async def create() -> dict[str, Any]:
            variables = {
                "order": await self._order_input(draft),
                "options": _OPTIONS,
                "after": None,
            }
            payload = await self._mutate(doc.ORDER_CREATE, variables, "orderCreate", max_retries=0)
            return payload["order"]

        raw = await look_then_create(look, create, max_retries=self._max_retries)
        return await self._placed(raw, draft.allocations)

    async def reallocate(self, order_id: str, allocations: Sequence[OmsAllocation]) -> OmsOrder:
        return await self._placed(await self._raw_order(order_id), allocations)

    async def _placed(self, raw: dict[str, Any], allocations: Sequence[OmsAllocation]) -> OmsOrder:
        """Open fulfillment-order lines moved so each location holds what ``allocations``
        say (a repeat finds them there and moves nothing)."""
        fulfillment_orders = await self._all_fulfillment_orders(raw)
        current = wire.order(raw, fulfillment_orders)
        movable = {fo["id"] for fo in fulfillment_orders if "MOVE" in wire.actions(fo)}
        moves = plan_moves(current.fulfillment_orders, allocations, movable)
        for move in moves:
            await self._mutate(
                doc.MOVE,
                {
                    "id": move.fulfillment_order_id,
                    "newLocationId": move.location_ref,
                    "fulfillmentOrderLineItems": [
                        {"id": line_id, "quantity": quantity} for line_id, quantity in move.lines
                    ],
                },
                "fulfillmentOrderMove",
            )
        if not moves:
            return current
        routed = await self.order(current.id)
        assert routed is not None  # it was there a moment ago
        return routed

    async def order(self, order_id: str) -> OmsOrder | None:
        data = await self._call(doc.ORDER, {"id": order_id, "after": None})
        raw = data.get("order")
        if not isinstance(raw, dict):
            return None
        return wire.order(raw, await self._all_fulfillment_orders(raw))

    async def fulfill(
        self, fulfillment_order_id: str, tracking: Tracking | None
    ) -> OmsFulfillmentOrder:
        raw = await self._fulfillment_order(fulfillment_order_id)
        if raw["status"] == "CLOSED":
            return wire.fulfillment_order(raw)
        fulfillment: dict[str, Any] = {
            # No line list: Shopify fulfils everything still remaining.
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order_id}],
            "notifyCustomer": False,
        }
        if tracking is not None:
            fulfillment["trackingInfo"] = {
                "company": tracking.company,
                "number": tracking.number,
                "url": tracking.url,
            }
        await self._mutate(
            doc.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, "fulfillmentCreate"
        )
        return wire.fulfillment_order(await self._fulfillment_order(fulfillment_order_id))

    async def cancel_order(self, order_id: str) -> OmsOrder:
        raw = await self._raw_order(order_id)
        if raw.get("cancelledAt"):
            return wire.order(raw, await self._all_fulfillment_orders(raw))
        payload = (await self._call(doc.ORDER_CANCEL, _cancel_variables(order_id))).get(
            "orderCancel"
        )
        if not isinstance(payload, dict):
            raise BackendUnavailable(
                f"{BACKEND} orderCancel answered without a payload", backend=BACKEND
            )
        rejected = wire.user_errors(
            "orderCancel", {"userErrors": payload.get("orderCancelUserErrors")}
        )
        job_answer = payload.get("job")
        job: dict[str, Any] = job_answer if isinstance(job_answer, dict) else {}
        for attempt in range(_JOB_POLLS):
            raw = await self._raw_order(order_id)
            if raw.get("cancelledAt"):
                return wire.order(raw, await self._all_fulfillment_orders(raw))
            if rejected is not None:
                raise rejected
            if job.get("done") or not job.get("id"):
                break
            await asyncio.sleep(0.05 * 2**attempt)
            job = (await self._call(doc.JOB, {"id": job["id"]})).get("job") or {}
        raise BackendUnavailable(
            f"{BACKEND} orderCancel for {order_id} has not taken effect yet",
            backend=BACKEND,
            job_id=job.get("id"),
        )

    async def edit_lines(
        self, order_id: str, changes: Sequence[OmsLineChange], reference: str
    ) -> OmsOrder:
        """One order edit (orderEditBegin, an orderEditSetQuantity per line whose SKU falls,
        or rises where a line holds it, an orderEditAddVariant per SKU added or raised with
        no line yet, orderEditCommit with a staff note naming ``reference``) so each SKU's
        current quantity moves by its change's ``delta``. Idempotent: an edit whose
        reference the order's "edited" timeline entries already name is not made again.
        Added units land on a new fulfillment order where Shopify puts them; moving them
        is ``reallocate``'s job. Returns the order as it then is."""
        await self._editor.apply(order_id, changes, reference)
        edited = await self.order(order_id)
        if edited is None:
            raise NotFound(f"no Shopify order {order_id}", order_id=order_id)
        return edited

    async def _raw_order(self, order_id: str) -> dict[str, Any]:
        raw = (await self._call(doc.ORDER, {"id": order_id, "after": None})).get("order")
        if not isinstance(raw, dict):
            raise NotFound(f"no Shopify order {order_id}", order_id=order_id)
        return raw

    # --- OmsPort: returns -------------------------------------------------------------------

    async def open_return(
        self, order_id: str, lines: Sequence[OmsReturnLine], reference: str
    ) -> OmsReturn:
        marker = return_marker(reference)

        async def look() -> OmsReturn | None:
            data = await self._call(doc.ORDER_RETURNS, {"id": order_id})
            raw_order = data.get("order")
            if not isinstance(raw_order, dict):
                raise NotFound(f"no Shopify order {order_id}", order_id=order_id)
            for ret in wire.nodes(raw_order.get("returns")):
                notes = [
                    str(n.get("customerNote") or "") for n in wire.nodes(ret.get("returnLineItems"))
                ]
                if any(marker in note for note in notes):
                    return await self._approved(ret)
            return None

        async def create() -> OmsReturn:
            items = await self._return_line_items(order_id, lines, marker)
            payload = await self._mutate(
                doc.RETURN_REQUEST,
                {"input": {"orderId": order_id, "returnLineItems": items}},
                "returnRequest",
                max_retries=0,
            )
            return await self._approved(payload["return"])

        return await look_then_create(look, create, max_retries=self._max_retries)

    async def close_return(self, return_id: str) -> OmsReturn:
        data = await self._call(doc.RETURN, {"id": return_id})
        raw = data.get("return")
        if not isinstance(raw, dict):
            raise NotFound(f"no Shopify return {return_id}", return_id=return_id)
        if raw.get("status") != "CLOSED":
            raw = (await self._mutate(doc.RETURN_CLOSE, {"id": return_id}, "returnClose"))["return"]
        return wire.oms_return(raw)

    # --- steps ------------------------------------------------------------------------------

    async def _approved(self, raw: dict[str, Any]) -> OmsReturn:
        if raw.get("status") == "REQUESTED":
            payload = await self._mutate(
                doc.RETURN_APPROVE, {"input": {"id": raw["id"]}}, "returnApproveRequest"
            )
            raw = payload["return"]
        return wire.oms_return(raw)

    async def _return_line_items(
        self, order_id: str, lines: Sequence[OmsReturnLine], marker: str
    ) -> list[dict[str, Any]]:
        """``returnRequest``'s lines: each line taken from the fulfilled lines still returnable."""
        returnable = await self._call(doc.RETURNABLE, {"orderId": order_id})
        available: list[tuple[str, str, int]] = [  # (sku, fulfillment line gid, quantity)
            (
                str(item["fulfillmentLineItem"]["lineItem"].get("sku")),
                item["fulfillmentLineItem"]["id"],
                int(item["quantity"]),
            )
            for rf in wire.nodes(returnable.get("returnableFulfillments"))
            for item in wire.nodes(rf.get("returnableFulfillmentLineItems"))
        ]
        reason_ids = await self._reasons()
        items: list[dict[str, Any]] = []
        for line in lines:
            handle, legacy = REASONS.get(line.reason, REASONS["OTHER"])
            note = f"{marker} {line.note}" if line.note else marker
            missing = line.quantity
            for index, (sku, fli_id, quantity) in enumerate(available):
                if sku != line.sku or quantity <= 0 or missing <= 0:
                    continue
                take = min(quantity, missing)
                available[index] = (sku, fli_id, quantity - take)
                missing -= take
                item: dict[str, Any] = {
                    "fulfillmentLineItemId": fli_id,
                    "quantity": take,
                    "customerNote": note,
                }
                if handle in reason_ids:
                    item["returnReasonDefinitionId"] = reason_ids[handle]
                else:
                    item["returnReason"] = legacy
                items.append(item)
            if missing > 0:
                raise BackendRejected(
                    f"{BACKEND}: only {line.quantity - missing} of {line.quantity} x {line.sku} "
                    f"can be returned on order {order_id}",
                    backend=BACKEND,
                    sku=line.sku,
                )
        return items

    async def _reasons(self) -> dict[str, str]:
        if self._reason_ids is None:
            handles = sorted({handle for handle, _ in REASONS.values()})
            data = await self._call(doc.REASON_DEFINITIONS, {"handles": handles})
            self._reason_ids = {
                str(n["handle"]): str(n["id"])
                for n in wire.nodes(data.get("returnReasonDefinitions"))
            }
        return self._reason_ids

    async def _fulfillment_order(self, fo_id: str) -> dict[str, Any]:
        raw = (await self._call(doc.FULFILLMENT_ORDER, {"id": fo_id})).get("fulfillmentOrder")
        if not isinstance(raw, dict):
            raise NotFound(f"no Shopify fulfillment order {fo_id}", fulfillment_order_id=fo_id)
        wire.check_lines_complete(raw)
        return raw

    async def _all_fulfillment_orders(self, raw_order: dict[str, Any]) -> list[dict[str, Any]]:
        connection = raw_order.get("fulfillmentOrders") or {}
        found = wire.nodes(connection)
        while (connection.get("pageInfo") or {}).get("hasNextPage"):
            after = connection["pageInfo"]["endCursor"]
            data = await self._call(doc.ORDER, {"id": raw_order["id"], "after": after})
            connection = (data.get("order") or {}).get("fulfillmentOrders") or {}
            found += wire.nodes(connection)
        for fo in found:
            wire.check_lines_complete(fo)
        return found

    async def _order_input(self, draft: OmsOrderDraft) -> dict[str, Any]:
        variants = await self._variant_ids_for([line.sku for line in draft.lines])
        unknown = [line.sku for line in draft.lines if line.sku not in variants]
        if unknown:
            raise BackendRejected(
                f"{BACKEND}: no product variant for SKU(s) {', '.join(unknown)}",
                backend=BACKEND,
                skus=unknown,
            )
        line_items = []
        for line in draft.lines:
            item: dict[str, Any] = {"variantId": variants[line.sku], "quantity": line.quantity}
            if line.unit_price is not None:
                money = {
                    "amount": str(line.unit_price.amount),
                    "currencyCode": line.unit_price.currency,
                }
                item["priceSet"] = {"shopMoney": money}
            line_items.append(item)
        first, _, last = draft.customer_name.partition(" ")
        order: dict[str, Any] = {
            "sourceIdentifier": draft.reference,
            "email": draft.email,
            "currency": draft.currency,
            "tags": list(draft.tags),
            "note": draft.note,
            "lineItems": line_items,
            "customer": {
                "toUpsert": {"email": draft.email, "firstName": first, "lastName": last or None}
            },
        }
        if draft.shipping_address is not None:
            order["shippingAddress"] = wire.address_input(draft.shipping_address)
        return order

    async def _variant_ids_for(self, skus: Sequence[str]) -> dict[str, str]:
        now = self._monotonic()
        wanted = list(dict.fromkeys(skus))
        found = {s: v[0] for s in wanted if (v := self._variant_ids.get(s)) and v[1] > now}
        missing = [s for s in wanted if s not in found]
        for start in range(0, len(missing), SKUS_PER_LOOKUP):
            chunk = missing[start : start + SKUS_PER_LOOKUP]
            query = " OR ".join(f"sku:{wire.search_value(sku)}" for sku in chunk)
            data = await self._call(doc.VARIANTS_BY_SKU, {"query": query})
            by_sku = {
                str(n.get("sku")): str(n["id"]) for n in wire.nodes(data.get("productVariants"))
            }
            for sku in chunk:
                if sku in by_sku:
                    found[sku] = by_sku[sku]
                    self._variant_ids[sku] = (by_sku[sku], now + self._ttl)
        return found

    # --- transport --------------------------------------------------------------------------

    async def _mutate(
        self,
        document: str,
        variables: dict[str, Any],
        name: str,
        *,
        max_retries: int | None = None,
    ) -> dict[str, Any]:
        payload = (await self._call(document, variables, max_retries=max_retries)).get(name)
        if not isinstance(payload, dict):
            raise BackendUnavailable(
                f"{BACKEND} {name} answered without a payload", backend=BACKEND
            )
        rejected = wire.user_errors(name, payload)
        if rejected is not None:
            raise rejected
        return payload

    async def _call(
        self, document: str, variables: dict[str, Any], *, max_retries: int | None = None
    ) -> dict[str, Any]:
        """The query's ``data``; ``max_retries=0`` for a create that must be sent once."""

        async def post() -> httpx.Response:
            response = await self._client.post(
                GRAPHQL_PATH, json={"query": document, "variables": variables}
            )
            return wire.throttled_as_429(response)

        retries = self._max_retries if max_retries is None else max_retries
        response = await send(self._policy, post, wire.parse_error, max_retries=retries)
        body = json_body(response)
        if not isinstance(body, dict):
            raise BackendUnavailable(
                f"{BACKEND} answered with a body that is not a JSON object",
                backend=BACKEND,
                status=response.status_code,
            )
        if body.get("errors"):
            raise wire.graphql_error(body, response.status_code)
        data = body.get("data")
        return data if isinstance(data, dict) else {}


_JOB_POLLS = 5  # reads of a running cancel job before the write is retried later


def _cancel_variables(order_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "reason": "OTHER",  # the gateway does not know why; the staff note says who did it
        "refundMethod": {"originalPaymentMethodsRefund": False},
        "restock": True,
        "notifyCustomer": False,
        "staffNote": "Cancelled by the commerce gateway",
    }


# Stock truth lives in the ERP and the gateway already promised these units: Shopify's own
# inventory counts must not veto the order, and the customer was emailed by the storefront.
_OPTIONS = {"inventoryBehaviour": "BYPASS", "sendReceipt": False, "sendFulfillmentReceipt": False}
