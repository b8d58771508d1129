"""Binds the SDL in ``schema`` to one store: root query and mutation resolvers, connection
paging for every ``*Connection`` field, and the default resolver that reads a record's
snake_case attribute (or a dict's own key) for each camelCase field. With the store's
webhooks given, every mutation is watched so its events are delivered, and the webhook
subscription fields are answered (sandbox.shopify.webhooks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, get_named_type

from sandbox.shopify import fulfillment, order_edits, returns
from sandbox.shopify.catalog import Location, Variant
from sandbox.shopify.edit_records import Event
from sandbox.shopify.orders import cancel_order, create_order, search_orders
from sandbox.shopify.schema import build
from sandbox.shopify.search import connection, matches, parse_query
from sandbox.shopify.store import FulfillmentOrder, Order, Shop
from sandbox.shopify.webhooks import StoreWebhooks

Resolver = Callable[..., Any]
_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")
_CLOSED = ("CLOSED", "CANCELLED")


def snake(name: str) -> str:
    return _CAPITAL.sub("_", name).lower()


def default_resolver(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    if isinstance(source, Mapping):
        return source.get(info.field_name)
    return getattr(source, snake(info.field_name), None)


def executable_schema(shop: Shop, hooks: StoreWebhooks | None = None) -> GraphQLSchema:
    schema = build()
    queries, mutations = _queries(shop), _mutations(shop)
    if hooks is not None:
        mutations = {name: _watched(hooks, name, resolve) for name, resolve in mutations.items()}
        queries.update(_webhook_queries(hooks))
        mutations.update(_webhook_mutations(hooks))
    _bind(schema, "Query", queries)
    _bind(schema, "Mutation", mutations)
    _bind(schema, "Order", {"events": _order_events})
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for field in named.fields.values():
                if get_named_type(field.type).name.endswith("Connection"):
                    field.resolve = _paged(field.resolve or default_resolver)
    interface = schema.type_map["ReturnLineItemType"]
    interface.resolve_type = lambda *_: "ReturnLineItem"  # type: ignore[attr-defined]
    event = schema.type_map["Event"]
    event.resolve_type = lambda *_: "BasicEvent"  # type: ignore[attr-defined]
    return schema


def _bind(schema: GraphQLSchema, type_name: str, resolvers: dict[str, Resolver]) -> None:
    root = schema.type_map[type_name]
    assert isinstance(root, GraphQLObjectType)
    for name, resolve in resolvers.items():
        root.fields[name].resolve = resolve


def _paged(inner: Resolver) -> Resolver:
    """Wraps a resolver returning a list into one returning a page of it."""

    def resolve(
        source: Any,
        info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        **args: Any,
    ) -> dict[str, Any]:
        return connection(inner(source, info, **args), first, after)

    return resolve


def _queries(shop: Shop) -> dict[str, Resolver]:
    def fulfillment_orders(
        _: Any, __: Any, query: str | None = None, includeClosed: bool = False
    ) -> list[FulfillmentOrder]:
        groups = parse_query(query)
        return [
            fo
            for fo in shop.fulfillment_orders.values()
            if (includeClosed or fo.status not in _CLOSED)
            and matches(fo, groups, _fulfillment_order_values)
        ]

    def variants(_: Any, __: Any, query: str | None = None) -> list[Variant]:
        groups = parse_query(query)
        sku_terms = [t for g in groups for t in g if t[0] == "sku" and not t[2]]
        if groups and len(sku_terms) == sum(len(g) for g in groups):
            # Pure "sku:A OR sku:B" answered from the index, not a scan of the catalogue.
            found = (shop.variant_by_sku.get(t[1].casefold()) for t in sku_terms)
            return [v for v in dict.fromkeys(found) if v is not None]
        return [v for v in shop.variants if matches(v, groups, _variant_values)]

    def locations(
        _: Any, __: Any, query: str | None = None, includeInactive: bool = False
    ) -> list[Location]:
        groups = parse_query(query)
        return [
            loc
            for loc in shop.locations
            if (includeInactive or loc.is_active) and matches(loc, groups, _location_values)
        ]

    def reason_definitions(
        _: Any, __: Any, handles: Sequence[str] | None = None, ids: Sequence[str] | None = None
    ) -> list[Any]:
        return [
            r
            for r in shop.reasons
            if (handles is None or r.handle in handles) and (ids is None or r.id in ids)
        ]

    return {
        "order": lambda _, __, id: shop.orders.get(id),
        "orders": lambda _, __, query=None: search_orders(shop, query),
        "fulfillmentOrder": lambda _, __, id: shop.fulfillment_orders.get(id),
        "fulfillmentOrders": fulfillment_orders,
        "returnableFulfillments": lambda _, __, orderId: returns.returnable_fulfillments(
            shop, orderId
        ),
        "return": lambda _, __, id: shop.returns.get(id),
        "returnReasonDefinitions": reason_definitions,
        "productVariants": variants,
        "locations": locations,
        "location": lambda _, __, id=None: (
            shop.location_by_id.get(id) if id else shop.default_location
        ),
        "job": lambda _, __, id: shop.jobs.get(id),
    }


def _mutations(shop: Shop) -> dict[str, Resolver]:
    return {
        "orderCreate": lambda _, __, order, options=None: create_order(shop, order, options),
        "orderCancel": lambda _, __, orderId, **args: cancel_order(shop, orderId, args),
        "fulfillmentOrderMove": lambda _, __, **a: fulfillment.move(
            shop, a["id"], a["newLocationId"], a.get("fulfillmentOrderLineItems")
        ),
        "fulfillmentCreate": lambda _, __, fulfillment, message=None: _fulfil(shop, fulfillment),
        "fulfillmentOrderCancel": lambda _, __, id: fulfillment.cancel(shop, id),
        "fulfillmentOrderHold": lambda _, __, id, fulfillmentHold: fulfillment.hold(
            shop, id, fulfillmentHold
        ),
        "fulfillmentOrderReleaseHold": lambda _, __, id, holdIds=None, externalId=None: (
            fulfillment.release_hold(shop, id, holdIds)
        ),
        "returnRequest": lambda _, __, input: returns.open_return(
            shop, input, approved=False, field="input"
        ),
        "returnApproveRequest": lambda _, __, input: returns.approve(shop, input),
        "returnDeclineRequest": lambda _, __, input: returns.decline(shop, input),
        "returnCreate": lambda _, __, returnInput: returns.open_return(
            shop, returnInput, approved=True, field="returnInput"
        ),
        "returnClose": lambda _, __, id: returns.close(shop, id),
        "orderEditBegin": lambda _, __, id: order_edits.begin(shop, id),
        "orderEditSetQuantity": lambda _, __, **a: order_edits.set_quantity(
            shop, a["id"], a["lineItemId"], a["quantity"], a.get("restock")
        ),
        "orderEditAddVariant": lambda _, __, **a: order_edits.add_variant(
            shop,
            a["id"],
            a["variantId"],
            a["quantity"],
            a.get("locationId"),
            a.get("allowDuplicates"),
        ),
        "orderEditCommit": lambda _, __, **a: order_edits.commit(
            shop, a["id"], a.get("notifyCustomer"), a.get("staffNote")
        ),
    }


def _watched(hooks: StoreWebhooks, name: str, resolve: Resolver) -> Resolver:
    def run(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        before = hooks.before(name, args)
        result = resolve(source, info, **args)
        hooks.mutated(name, args, result, before)
        return result

    return run


def _api_version(info: GraphQLResolveInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    return str(context.get("api_version") or "2026-10")


def _webhook_queries(hooks: StoreWebhooks) -> dict[str, Resolver]:
    return {
        "webhookSubscriptions": lambda _, __, **args: hooks.listed(**args),
        "webhookSubscription": lambda _, __, id: hooks.subscriptions.get(id),
    }


def _webhook_mutations(hooks: StoreWebhooks) -> dict[str, Resolver]:
    return {
        "webhookSubscriptionCreate": lambda _, info, topic, webhookSubscription: hooks.create(
            topic, webhookSubscription, _api_version(info)
        ),
        "webhookSubscriptionUpdate": lambda _, __, id, webhookSubscription: hooks.update(
            id, webhookSubscription
        ),
        "webhookSubscriptionDelete": lambda _, __, id: hooks.delete(id),
    }


def _fulfil(shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
    return fulfillment.fulfil(shop, data)


def _order_events(order: Order, _: GraphQLResolveInfo, query: str | None = None) -> list[Event]:
    groups = parse_query(query)
    return [e for e in order.events if matches(e, groups, _event_values)]


def _event_values(event: Event, key: str) -> Sequence[str] | None:
    if key == "action":
        return [event.action]
    if key == "id":
        return [event.id, event.id.rsplit("/", 1)[-1]]
    return None


def _fulfillment_order_values(fo: FulfillmentOrder, key: str) -> Sequence[str] | None:
    if key == "status":
        return [fo.status]
    if key == "assigned_location_id":
        return [fo.location.id, fo.location.id.rsplit("/", 1)[-1]]
    if key == "order_id":
        return [fo.order.id, fo.order.id.rsplit("/", 1)[-1]]
    return None


def _variant_values(variant: Variant, key: str) -> Sequence[str] | None:
    if key == "sku":
        return [variant.sku]
    if key == "id":
        return [variant.id, variant.id.rsplit("/", 1)[-1]]
    if key == "product_id":
        return [variant.product["id"], variant.product["id"].rsplit("/", 1)[-1]]
    return None


def _location_values(location: Location, key: str) -> Sequence[str] | None:
    if key == "name":
        return [location.name]
    if key == "id":
        return [location.id, location.id.rsplit("/", 1)[-1]]
    return None
