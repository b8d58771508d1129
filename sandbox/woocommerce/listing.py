"""Collection queries as WP_Query runs them for the products and variations controllers:
filters, ordering, page/per_page/offset, X-WP-Total(Pages) and the Link header."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sandbox.woocommerce.catalog import CATEGORY_IDS, Catalog, Record, fold_sku
from sandbox.woocommerce.order_listing import parse_filter_date
from sandbox.woocommerce.wire import Query, build_query

_HIDDEN_STATUSES = frozenset({"trash", "auto-draft"})
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    pages: int
    page: int


def select(
    catalog: Catalog, args: Mapping[str, Any], *, variations_of: int | None = None
) -> list[Record]:
    """The records a products (or, with ``variations_of``, variations) query matches."""
    skus = _sku_filter(args.get("sku"))
    tests: list[Callable[[Record], bool]] = []
    if variations_of is not None:
        tests.append(lambda r: r.type == "variation" and r.parent_id == variations_of)
    elif skus is None:
        tests.append(lambda r: r.type != "variation")
    status = args.get("status", "any")
    if status == "any":
        tests.append(lambda r: r.status not in _HIDDEN_STATUSES)
    else:
        tests.append(lambda r: r.status == status)
    for name, attribute, keep in (
        ("include", "id", True),
        ("exclude", "id", False),
        ("parent", "parent_id", True),
        ("parent_exclude", "parent_id", False),
    ):
        if args.get(name):
            tests.append(_membership(attribute, frozenset(args[name]), keep))
    if args.get("slug"):
        tests.append(lambda r: r.slug == args["slug"])
    if args.get("type"):
        # product_type is a taxonomy: variations carry no term, so they never match.
        tests.append(lambda r: r.type == args["type"])
    if args.get("category"):
        wanted = {int(c) for c in args["category"].replace(" ", ",").split(",") if c.isdigit()}
        tests.append(lambda r: r.type != "variation" and CATEGORY_IDS.get(r.category) in wanted)
    if args.get("stock_status"):
        tests.append(lambda r: r.stock_status == args["stock_status"])
    tests += _date_tests(args)
    if args.get("search", "").strip():
        terms = [t.casefold() for t in args["search"].split()]
        tests.append(
            lambda r: all(t in r.name.casefold() or t in r.description.casefold() for t in terms)
        )
    candidates = catalog.records.values() if skus is None else catalog.with_skus(skus)
    matches = [r for r in candidates if all(test(r) for test in tests)]
    return _ordered(catalog, matches, args)


_DATE_FILTERS = {  # argument -> (record attribute, later than it)
    "after": ("created", True),
    "before": ("created", False),
    "modified_after": ("modified", True),
    "modified_before": ("modified", False),
}


def _date_tests(args: Mapping[str, Any]) -> list[Callable[[Record], bool]]:
    gmt = bool(args.get("dates_are_gmt"))
    tests: list[Callable[[Record], bool]] = []
    for name, (attribute, later) in _DATE_FILTERS.items():
        if args.get(name):
            tests.append(_date_test(attribute, parse_filter_date(args[name], gmt=gmt), later))
    return tests


def _date_test(attribute: str, bound: datetime, later: bool) -> Callable[[Record], bool]:
    def test(record: Record) -> bool:
        moment: datetime = getattr(record, attribute)
        return moment > bound if later else moment < bound

    return test


def paginate(records: Sequence[T], args: Mapping[str, Any]) -> Page[T]:
    per_page, page = args["per_page"], args["page"]
    start = args["offset"] if args.get("offset") is not None else (page - 1) * per_page
    start = max(start, 0)
    total = len(records)
    return Page(list(records[start : start + per_page]), total, math.ceil(total / per_page), page)


def pagination_headers(page: Page[Any], base_url: str, query: Query) -> dict[str, str]:
    """X-WP-Total, X-WP-TotalPages and Link rel=prev/next carrying the caller's parameters."""
    headers = {"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.pages)}
    links: list[str] = []
    if page.page > 1:
        links.append(_link(base_url, query, min(page.page - 1, page.pages), "prev"))
    if page.pages > page.page:
        links.append(_link(base_url, query, page.page + 1, "next"))
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def _link(base_url: str, query: Query, page: int, rel: str) -> str:
    # add_query_arg('page', n, ...): replaced in place when present, appended otherwise.
    params = dict(query)
    params["page"] = str(page)
    return f'<{base_url}?{build_query(params)}>; rel="{rel}"'


def _sku_filter(value: str | None) -> frozenset[str] | None:
    if not value:
        return None
    skus = value.split(",")
    if len(skus) > 1:
        # WooCommerce also matches the whole string, commas included.
        skus.append(value)
    return frozenset(fold_sku(s) for s in skus)


def _membership(attribute: str, ids: frozenset[int], keep: bool) -> Callable[[Record], bool]:
    return lambda r: (getattr(r, attribute) in ids) == keep


def _ordered(catalog: Catalog, records: Iterable[Record], args: Mapping[str, Any]) -> list[Record]:
    orderby, descending = args.get("orderby", "date"), args.get("order", "desc") == "desc"
    items = list(records)
    if orderby == "include" and args.get("include"):
        position = {record_id: i for i, record_id in enumerate(args["include"])}
        return sorted(items, key=lambda r: position.get(r.id, len(position)))
    if orderby in ("popularity", "rating"):
        # WooCommerce's catalog ordering always lists the best sellers / best rated first.
        return sorted(items, key=lambda r: (r.total_sales, r.id), reverse=True)
    keys: dict[str, Callable[[Record], Any]] = {
        "date": lambda r: (r.created, r.id),
        "modified": lambda r: (r.modified, r.id),
        "id": lambda r: r.id,
        "title": lambda r: (r.name.casefold(), r.id),
        "slug": lambda r: (r.slug, r.id),
        "price": lambda r: (catalog.price(r) or 0, r.id),
        "menu_order": lambda r: (r.menu_order, r.name.casefold()),
    }
    return sorted(items, key=keys.get(orderby, keys["date"]), reverse=descending)
