"""The orders collection query (WC_REST_Orders_Controller::prepare_objects_query): status,
date windows, customer, product, search, include/exclude, and the orderings wc/v3 offers.

Date filters are exclusive (WP_Date_Query ``after``/``before``). A date without an offset is
read in the site's timezone unless ``dates_are_gmt`` is true, when it is UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.woocommerce.orders import Order, Refund
from sandbox.woocommerce.payloads import SITE_TIMEZONE

_DATE_FILTERS: dict[str, tuple[str, bool]] = {
    # argument: (Order attribute, keep when the order's moment is later)
    "after": ("created", True),
    "before": ("created", False),
    "modified_after": ("modified", True),
    "modified_before": ("modified", False),
}


def select_orders(orders: Iterable[Order], args: Mapping[str, Any]) -> list[Order]:
    tests: list[Callable[[Order], bool]] = []
    statuses = set(args.get("status", ("any",)))
    if "any" in statuses:
        tests.append(lambda o: o.status != "trash")
    else:
        tests.append(lambda o: o.status in statuses)
    gmt = bool(args.get("dates_are_gmt"))
    for name, (attribute, later) in _DATE_FILTERS.items():
        if args.get(name):
            tests.append(_date_test(attribute, parse_filter_date(args[name], gmt=gmt), later))
    if args.get("customer") is not None:
        tests.append(lambda o: o.customer_id == args["customer"])
    if args.get("product"):
        tests.append(
            lambda o: any(args["product"] in (i.product_id, i.variation_id) for i in o.lines)
        )
    if args.get("include"):
        tests.append(lambda o: o.id in args["include"])
    if args.get("exclude"):
        tests.append(lambda o: o.id not in args["exclude"])
    if args.get("parent"):
        # Orders here have no parent (parent_id 0): only 0 in the list can match.
        tests.append(lambda o: 0 in args["parent"])
    if args.get("search", "").strip():
        tests.append(_search_test(args["search"].strip()))
    matches = [o for o in orders if all(test(o) for test in tests)]
    return _ordered(matches, args)


def ordered_refunds(refunds: Iterable[Refund], args: Mapping[str, Any]) -> list[Refund]:
    items = [r for r in refunds if not args.get("include") or r.id in args["include"]]
    items = [r for r in items if r.id not in args.get("exclude", ())]
    descending = args.get("order", "desc") == "desc"
    if args.get("orderby") == "id":
        return sorted(items, key=lambda r: r.id, reverse=descending)
    return sorted(items, key=lambda r: (r.created, r.id), reverse=descending)


def parse_filter_date(value: str, *, gmt: bool) -> datetime:
    moment = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T").replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if gmt else SITE_TIMEZONE)
    return moment.astimezone(UTC)


def _date_test(attribute: str, bound: datetime, later: bool) -> Callable[[Order], bool]:
    if later:
        return lambda o: getattr(o, attribute) > bound
    return lambda o: getattr(o, attribute) < bound


def _search_test(term: str) -> Callable[[Order], bool]:
    # wc_order_search: a LIKE '%term%' on the address indexes, email and item names,
    # and an exact match on the order id.
    folded = term.casefold()

    def matches(order: Order) -> bool:
        if term.isdigit() and int(term) == order.id:
            return True
        billing = " ".join(order.billing.values())
        shipping = " ".join(order.shipping.values())
        names = " ".join(line.name for line in order.lines)
        return any(folded in text.casefold() for text in (billing, shipping, names))

    return matches


def _ordered(orders: list[Order], args: Mapping[str, Any]) -> list[Order]:
    orderby, descending = args.get("orderby", "date"), args.get("order", "desc") == "desc"
    if orderby == "include" and args.get("include"):
        position = {order_id: i for i, order_id in enumerate(args["include"])}
        return sorted(orders, key=lambda o: position.get(o.id, len(position)))
    keys: dict[str, Callable[[Order], Any]] = {
        "id": lambda o: o.id,
        "modified": lambda o: (o.modified, o.id),
    }
    # title and slug are the post's "Order &ndash; <date>": the same order as date.
    key = keys.get(orderby, lambda o: (o.created, o.id))
    return sorted(orders, key=key, reverse=descending)
