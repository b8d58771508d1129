"""SearchCatalogObjects: Square's CatalogQuery filters over the simulated catalog.

exact_query, prefix_query, text_query and sorted_attribute_query may be combined (all must
hold); set_query stands alone. Matching is case-insensitive, on searchable attributes only
(an ITEM has no ``sku``, so a SKU search must ask for ITEM_VARIATION objects). The other
query kinds are refused with a clear "not simulated" error rather than answered wrongly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.square.catalog import SEARCHABLE, Catalog, Ref, parse_types
from sandbox.square.wire import (
    decode_cursor,
    field_of,
    fingerprint,
    invalid,
    page,
    parse_time,
    rfc3339,
    string_list,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
KNOWN_ATTRIBUTES = frozenset(
    {"name", "description", "abbreviation", "upc", "sku", "caption", "display_name"}
)
COMBINABLE = frozenset({"exact_query", "prefix_query", "text_query", "sorted_attribute_query"})
UNSIMULATED = frozenset(
    {
        "range_query",
        "items_for_tax_query",
        "items_for_modifier_list_query",
        "items_for_item_options_query",
        "item_variations_for_item_option_values_query",
    }
)

Predicate = Callable[[Ref], bool]


def search_catalog(catalog: Catalog, body: dict[str, Any]) -> dict[str, Any]:
    types = parse_types(string_list(body, "object_types"), "object_types")
    query = field_of(body, "query", dict) or {}
    include_related = bool(field_of(body, "include_related_objects", bool))
    begin_time = body.get("begin_time")
    limit = field_of(body, "limit", int)
    # "The limit is advisory ... negative, zero, or higher than 1,000: it will be ignored."
    if limit is None or not 0 < limit <= MAX_LIMIT:
        limit = DEFAULT_LIMIT

    refs = _matching(catalog, types, query)
    # begin_time is exclusive: only objects modified after it.
    if begin_time is not None and parse_time(begin_time, "begin_time") >= catalog.updated_at:
        refs = []
    key = fingerprint("search", sorted(types), query, begin_time)
    chunk, cursor = page(refs, decode_cursor(body.get("cursor"), key), limit, key)

    answer: dict[str, Any] = {}
    if chunk:
        answer["objects"] = [catalog.render(ref) for ref in chunk]
    if cursor:
        answer["cursor"] = cursor
    related = _related(catalog, chunk) if include_related else []
    if related:
        answer["related_objects"] = related
    answer["latest_time"] = rfc3339(catalog.updated_at)
    return answer


def _related(catalog: Catalog, chunk: list[Ref]) -> list[dict[str, Any]]:
    """Parent ITEMs of returned variations; CATEGORY objects of returned items."""
    returned = set(chunk)
    related: dict[Ref, None] = {}
    for kind, key in chunk:
        if kind == "ITEM_VARIATION":
            related[("ITEM", catalog.variations[key].item_id)] = None
        elif kind == "ITEM":
            related[("CATEGORY", catalog.categories[catalog.items[key].category])] = None
    return [catalog.render(ref) for ref in related if ref not in returned]


def _matching(catalog: Catalog, types: list[str], query: dict[str, Any]) -> list[Ref]:
    present = [name for name, value in query.items() if value is not None]
    for name in present:
        if name in UNSIMULATED:
            raise invalid("BAD_REQUEST", f"`{name}` is not simulated by the sandbox.", name)
        if name != "set_query" and name not in COMBINABLE:
            raise invalid("INVALID_VALUE", f"Unknown query filter `{name}`.", "query")
    if "set_query" in present:
        if len(present) > 1:
            raise invalid(
                "INVALID_VALUE", "`set_query` cannot be combined with other query filters.", "query"
            )
        part = _part(query, "set_query")
        attr = _attribute_name(part, "set_query")
        values = string_list(part, "attribute_values", "set_query.attribute_values") or []
        wanted = {value.casefold() for value in values}
        if attr == "sku":
            return catalog.sku_refs(types, wanted)
        return [ref for ref in catalog.refs(types) if _equals(catalog, attr, wanted)(ref)]

    predicates: list[Predicate] = []
    candidates: list[Ref] | None = None
    sort: tuple[str, str | None, bool] | None = None
    for name in present:
        part = _part(query, name)
        if name == "exact_query":
            attr = _attribute_name(part, name)
            value = _string(part, "attribute_value", name).casefold()
            if attr == "sku":  # answered from the SKU index, not a scan
                candidates = catalog.sku_refs(types, [value])
            predicates.append(_equals(catalog, attr, {value}))
        elif name == "prefix_query":
            attr = _attribute_name(part, name)
            prefix = _string(part, "attribute_prefix", name).casefold()
            predicates.append(_starts_with(catalog, attr, prefix))
        elif name == "text_query":
            predicates.append(_text(catalog, part))
        else:
            attr = _attribute_name(part, name)
            initial = part.get("initial_attribute_value")
            descending = part.get("sort_order") == "DESC"
            sort = (attr, initial.casefold() if isinstance(initial, str) else None, descending)

    refs = candidates if candidates is not None else catalog.refs(types)
    refs = [ref for ref in refs if all(p(ref) for p in predicates)]
    return _sorted(catalog, refs, *sort) if sort else refs


def _equals(catalog: Catalog, attr: str, wanted: set[str]) -> Predicate:
    def matches(ref: Ref) -> bool:
        value = catalog.attribute(ref, attr)
        return value is not None and value.casefold() in wanted

    return matches


def _starts_with(catalog: Catalog, attr: str, prefix: str) -> Predicate:
    def matches(ref: Ref) -> bool:
        value = catalog.attribute(ref, attr)
        return value is not None and value.casefold().startswith(prefix)

    return matches


def _text(catalog: Catalog, part: dict[str, Any]) -> Predicate:
    keywords = string_list(part, "keywords", "text_query.keywords") or []
    if not 1 <= len(keywords) <= 3:
        raise invalid(
            "INVALID_VALUE", "`keywords` must hold 1 to 3 keywords.", "text_query.keywords"
        )
    # "Keywords with fewer than 3 alphanumeric characters are ignored."
    usable = [k.casefold() for k in keywords if sum(c.isalnum() for c in k) >= 3]

    def matches(ref: Ref) -> bool:
        tokens = [
            token
            for attr in SEARCHABLE.get(ref[0], ())
            for token in _tokens(catalog.attribute(ref, attr))
        ]
        return all(any(token.startswith(k) for token in tokens) for k in usable)

    return matches


def _sorted(
    catalog: Catalog, refs: list[Ref], attr: str, initial: str | None, descending: bool
) -> list[Ref]:
    keyed = [((catalog.attribute(ref, attr) or "").casefold(), ref) for ref in refs]
    if initial is not None:
        keyed = [(k, r) for k, r in keyed if (k <= initial if descending else k >= initial)]
    keyed.sort(key=lambda pair: pair[0], reverse=descending)
    return [ref for _, ref in keyed]


def _tokens(value: str | None) -> list[str]:
    if not value:
        return []
    return "".join(c if c.isalnum() else " " for c in value.casefold()).split()


def _part(query: dict[str, Any], name: str) -> dict[str, Any]:
    return field_of(query, name, dict, f"query.{name}") or {}


def _string(part: dict[str, Any], name: str, query_name: str) -> str:
    value = field_of(part, name, str, f"{query_name}.{name}")
    if value is None:
        raise invalid(
            "MISSING_REQUIRED_PARAMETER", f"Field `{name}` is required.", f"{query_name}.{name}"
        )
    return value


def _attribute_name(part: dict[str, Any], query_name: str) -> str:
    attr = _string(part, "attribute_name", query_name)
    if attr not in KNOWN_ATTRIBUTES:
        raise invalid(
            "INVALID_VALUE",
            f'Unknown attribute definition name "{attr}".',
            f"{query_name}.attribute_name",
        )
    return attr
