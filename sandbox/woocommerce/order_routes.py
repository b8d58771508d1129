"""The orders and order refunds endpoints of wc/v3, over one OrderBook.

Same order of checks as the product endpoints: arguments (400), permission (401 when
anonymous), then the object (404, or 400 for an update of an unknown id).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.woocommerce.args import (
    NOTE_CREATE_ARGS,
    NOTE_LIST_ARGS,
    ORDER_LIST_ARGS,
    ORDER_WRITE_ARGS,
    REFUND_CREATE_ARGS,
    REFUND_LIST_ARGS,
    validate,
    with_local_pickup,
)
from sandbox.woocommerce.incoming import api_base, params, require_user
from sandbox.woocommerce.listing import paginate, pagination_headers
from sandbox.woocommerce.order_book import OrderBook, RefundRequest, parse_refund_lines
from sandbox.woocommerce.order_listing import ordered_refunds, select_orders
from sandbox.woocommerce.order_payloads import note_payload, order_payload, refund_payload
from sandbox.woocommerce.orders import Order
from sandbox.woocommerce.payloads import API_PATH
from sandbox.woocommerce.wire import WPError, parse_query, wp_response

_CANNOT_LIST = "Sorry, you cannot list resources."
_CANNOT_VIEW = "Sorry, you cannot view this resource."
_CANNOT_CREATE = "Sorry, you are not allowed to create resources."
_CANNOT_EDIT = "Sorry, you are not allowed to edit this resource."


class OrderDesk:
    def __init__(self, book: OrderBook, *, local_pickup: bool = False) -> None:
        self.book = book
        # A store offering local pickup knows one more order status.
        self.list_args = with_local_pickup(ORDER_LIST_ARGS) if local_pickup else ORDER_LIST_ARGS
        self.write_args = with_local_pickup(ORDER_WRITE_ARGS) if local_pickup else ORDER_WRITE_ARGS

    def routes(self) -> list[BaseRoute]:
        orders = f"{API_PATH}/orders"
        refunds = f"{orders}/{{order_id:int}}/refunds"
        notes = f"{orders}/{{order_id:int}}/notes"
        return [
            Route(orders, self.list_orders, methods=["GET"]),
            Route(orders, self.create_order, methods=["POST"]),
            Route(f"{orders}/{{id:int}}", self.get_order, methods=["GET"]),
            Route(f"{orders}/{{id:int}}", self.update_order, methods=["POST", "PUT", "PATCH"]),
            Route(refunds, self.list_refunds, methods=["GET"]),
            Route(refunds, self.create_refund, methods=["POST"]),
            Route(notes, self.list_notes, methods=["GET"]),
            Route(notes, self.create_note, methods=["POST"]),
        ]

    async def list_orders(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        args = validate(query, self.list_args)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_LIST)
        page = paginate(select_orders(self.book.orders.values(), args), args)
        api = api_base(request)
        body = [order_payload(o, api, args["dp"]) for o in page.items]
        return wp_response(body, headers=pagination_headers(page, f"{api}/orders", query))

    async def get_order(self, request: Request) -> Response:
        args = validate(parse_query(request.scope["query_string"]), {"dp": ORDER_LIST_ARGS["dp"]})
        order = self.book.get(request.path_params["id"])
        if order is None:
            raise WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_VIEW)
        return wp_response(order_payload(order, api_base(request), args["dp"]))

    async def create_order(self, request: Request) -> Response:
        body = await params(request)
        args = {**body, **validate(body, self.write_args)}
        require_user(request, "woocommerce_rest_cannot_create", _CANNOT_CREATE)
        if body.get("id"):
            raise WPError(
                "woocommerce_rest_shop_order_exists", "Cannot create existing order.", 400
            )
        order = self.book.create(args)
        api = api_base(request)
        headers = {"Location": f"{api}/orders/{order.id}"}
        return wp_response(order_payload(order, api), 201, headers)

    async def update_order(self, request: Request) -> Response:
        body = await params(request)
        args = validate(body, self.write_args)
        order = self.book.get(request.path_params["id"])
        if order is None:
            raise WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
        require_user(request, "woocommerce_rest_cannot_edit", _CANNOT_EDIT)
        self.book.update(order, args)
        return wp_response(order_payload(order, api_base(request)))

    async def list_refunds(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        args = validate(query, REFUND_LIST_ARGS)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_LIST)
        order_id = request.path_params["order_id"]
        # An unknown order is an empty collection here, not a 404 (post_parent__in).
        order = self.book.get(order_id)
        refunds = ordered_refunds(order.refunds if order else (), args)
        page = paginate(refunds, args)
        api = api_base(request)
        body = [refund_payload(r, api, args["dp"]) for r in page.items]
        collection = f"{api}/orders/{order_id}/refunds"
        return wp_response(body, headers=pagination_headers(page, collection, query))

    async def create_refund(self, request: Request) -> Response:
        body = await params(request)
        args = validate(body, REFUND_CREATE_ARGS)
        require_user(request, "woocommerce_rest_cannot_create", _CANNOT_CREATE)
        order = self._order_for_refund(request.path_params["order_id"])
        refund = self.book.refund(
            order,
            RefundRequest(
                amount=args.get("amount"),
                reason=str(args.get("reason") or ""),
                api_refund=args["api_refund"],
                api_restock=args["api_restock"],
                lines=parse_refund_lines(body.get("line_items")),
            ),
        )
        api = api_base(request)
        headers = {"Location": f"{api}/orders/{order.id}/refunds/{refund.id}"}
        return wp_response(refund_payload(refund, api), 201, headers)

    async def list_notes(self, request: Request) -> Response:
        args = validate(parse_query(request.scope["query_string"]), NOTE_LIST_ARGS)
        require_user(request, "woocommerce_rest_cannot_view", _CANNOT_LIST)
        order = self._order_for_notes(request.path_params["order_id"])
        wanted = args["type"]
        notes = [
            n for n in order.notes if wanted == "any" or n.customer_note is (wanted == "customer")
        ]
        api = api_base(request)
        return wp_response([note_payload(order.id, n, api) for n in notes])

    async def create_note(self, request: Request) -> Response:
        body = await params(request)
        args = validate(body, NOTE_CREATE_ARGS)
        require_user(request, "woocommerce_rest_cannot_create", _CANNOT_CREATE)
        order = self._order_for_notes(request.path_params["order_id"])
        text = str(args.get("note") or "")
        if not text:
            raise WPError(
                "rest_missing_callback_param",
                "Missing parameter(s): note",
                400,
                params=["note"],
            )
        author = "system" if not args["added_by_user"] else "shop manager"
        note = self.book.add_note(order, text, customer_note=args["customer_note"], author=author)
        api = api_base(request)
        headers = {"Location": f"{api}/orders/{order.id}/notes/{note.id}"}
        return wp_response(note_payload(order.id, note, api), 201, headers)

    def _order_for_notes(self, order_id: int) -> Order:
        order = self.book.get(order_id)
        if order is None:
            raise WPError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        return order

    def _order_for_refund(self, order_id: int) -> Order:
        order = self.book.get(order_id)
        if order is None:
            raise WPError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        return order
