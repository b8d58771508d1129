"""The wc/v3 webhooks endpoints (WC_REST_Webhooks_Controller): list, create, read, update and
delete a shop's webhooks, with the same authentication and argument checks as the rest of
the API. The secret is write-only; a webhook cannot be trashed, only deleted with force.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.woocommerce.args import Arg, validate
from sandbox.woocommerce.incoming import api_base, params, require_user
from sandbox.woocommerce.listing import paginate, pagination_headers
from sandbox.woocommerce.payloads import API_PATH, gmt_date, local_date
from sandbox.woocommerce.webhooks import STATUSES, ShopWebhooks, Webhook, valid_topic
from sandbox.woocommerce.wire import WPError, parse_query, wp_response

_TYPE = "shop_webhook"  # the post type WooCommerce names its webhook errors after
WEBHOOK_WRITE_ARGS = {
    "name": Arg("string"),
    "status": Arg("string", STATUSES),
    "topic": Arg("string"),
    "delivery_url": Arg("string"),
    "secret": Arg("string"),
}
WEBHOOK_LIST_ARGS = {
    "page": Arg("integer", minimum=1, default=1),
    "per_page": Arg("integer", minimum=1, maximum=100, default=10),
    "offset": Arg("integer"),
    "order": Arg("string", ("asc", "desc"), default="desc"),
    "orderby": Arg("string", ("date", "id", "title"), default="date"),
    "status": Arg("string", ("all", *STATUSES), default="all"),
}


class WebhookDesk:
    def __init__(self, webhooks: ShopWebhooks) -> None:
        self.webhooks = webhooks

    def routes(self) -> list[BaseRoute]:
        collection = f"{API_PATH}/webhooks"
        one = f"{collection}/{{id:int}}"
        return [
            Route(collection, self.list_webhooks, methods=["GET"]),
            Route(collection, self.create_webhook, methods=["POST"]),
            Route(one, self.get_webhook, methods=["GET"]),
            Route(one, self.update_webhook, methods=["POST", "PUT", "PATCH"]),
            Route(one, self.delete_webhook, methods=["DELETE"]),
        ]

    async def list_webhooks(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        args = validate(query, WEBHOOK_LIST_ARGS)
        require_user(request, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        found = [
            w
            for w in self.webhooks.hooks.values()
            if args["status"] == "all" or w.status == args["status"]
        ]
        key = {
            "date": lambda w: (w.created, w.id),
            "id": lambda w: w.id,
            "title": lambda w: (w.name.casefold(), w.id),
        }[args["orderby"]]
        found.sort(key=key, reverse=args["order"] == "desc")
        page = paginate(found, args)
        api = api_base(request)
        body = [webhook_payload(w, api) for w in page.items]
        return wp_response(body, headers=pagination_headers(page, f"{api}/webhooks", query))

    async def create_webhook(self, request: Request) -> Response:
        args = validate(await params(request), WEBHOOK_WRITE_ARGS)
        require_user(
            request,
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        )
        if not valid_topic(str(args.get("topic") or "").lower()):
            raise WPError(
                f"woocommerce_rest_{_TYPE}_invalid_topic",
                "Webhook topic is required and must be valid.",
                400,
            )
        if not _valid_url(args.get("delivery_url")):
            raise WPError(
                f"woocommerce_rest_{_TYPE}_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )
        webhook = self.webhooks.create(args)
        api = api_base(request)
        headers = {"Location": f"{api}/webhooks/{webhook.id}"}
        return wp_response(webhook_payload(webhook, api), 201, headers)

    async def get_webhook(self, request: Request) -> Response:
        webhook = self._webhook(request)
        require_user(
            request, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."
        )
        return wp_response(webhook_payload(webhook, api_base(request)))

    async def update_webhook(self, request: Request) -> Response:
        args = validate(await params(request), WEBHOOK_WRITE_ARGS)
        webhook = self._webhook(request)
        require_user(
            request,
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        )
        if args.get("topic") and not valid_topic(args["topic"].lower()):
            raise WPError(
                f"woocommerce_rest_{_TYPE}_invalid_topic",
                "Webhook topic must be valid.",
                400,
            )
        if "delivery_url" in args and not _valid_url(args["delivery_url"]):
            raise WPError(
                f"woocommerce_rest_{_TYPE}_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )
        self.webhooks.update(webhook, args)
        return wp_response(webhook_payload(webhook, api_base(request)))

    async def delete_webhook(self, request: Request) -> Response:
        query = parse_query(request.scope["query_string"])
        force = validate(query, {"force": Arg("boolean", default=False)})["force"]
        webhook = self._webhook(request)
        require_user(
            request,
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        )
        if not force:
            raise WPError(
                "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
            )
        answer = webhook_payload(webhook, api_base(request))
        self.webhooks.delete(webhook)
        return wp_response(answer)

    def _webhook(self, request: Request) -> Webhook:
        webhook = self.webhooks.hooks.get(request.path_params["id"])
        if webhook is None:
            raise WPError(f"woocommerce_rest_{_TYPE}_invalid_id", "Invalid ID.", 404)
        return webhook


def webhook_payload(webhook: Webhook, api: str) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": webhook.hooks,
        "delivery_url": webhook.delivery_url,
        "date_created": local_date(webhook.created),
        "date_created_gmt": gmt_date(webhook.created),
        "date_modified": local_date(webhook.modified),
        "date_modified_gmt": gmt_date(webhook.modified),
        "_links": {
            "self": [{"href": f"{api}/webhooks/{webhook.id}"}],
            "collection": [{"href": f"{api}/webhooks"}],
        },
    }


def _valid_url(value: Any) -> bool:
    """wc_is_valid_url: http or https, with a host."""
    if not isinstance(value, str):
        return False
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/", 1)[0])
