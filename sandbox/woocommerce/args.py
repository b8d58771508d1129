"""WordPress REST argument validation (rest_validate_value_from_schema), for the arguments this
simulator reads: the same coercions (query strings are strings), the same messages, and one
``rest_invalid_param`` 400 naming every bad argument at once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.woocommerce.wire import WPError

ORDERBY = (
    "date",
    "id",
    "include",
    "title",
    "slug",
    "modified",
    "price",
    "popularity",
    "rating",
    "menu_order",
)
POST_STATUSES = ("draft", "pending", "private", "publish")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
BACKORDERS = ("no", "notify", "yes")
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)
# rest_parse_date's pattern (RFC 3339, offset optional).
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$")


@dataclass(frozen=True)
class Arg:
    type: str  # integer | boolean | string | date-time | array (of integers) | strings
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    default: Any = None


_LIST_COMMON: dict[str, Arg] = {
    "context": Arg("string", ("view", "edit"), default="view"),
    "page": Arg("integer", minimum=1, default=1),
    "per_page": Arg("integer", minimum=1, maximum=100, default=10),
    "search": Arg("string"),
    "offset": Arg("integer"),
    "order": Arg("string", ("asc", "desc"), default="desc"),
    "orderby": Arg("string", ORDERBY, default="date"),
    "include": Arg("array", default=()),
    "exclude": Arg("array", default=()),
    "parent": Arg("array", default=()),
    "parent_exclude": Arg("array", default=()),
    "slug": Arg("string"),
    "status": Arg("string", ("any", "future", "trash", *POST_STATUSES), default="any"),
    "sku": Arg("string"),
    "stock_status": Arg("string", STOCK_STATUSES),
    # WooCommerce 5.8+: filter on the post's dates (local to the site unless dates_are_gmt).
    "after": Arg("date-time"),
    "before": Arg("date-time"),
    "modified_after": Arg("date-time"),
    "modified_before": Arg("date-time"),
    "dates_are_gmt": Arg("boolean", default=False),
}
PRODUCT_LIST_ARGS = {
    **_LIST_COMMON,
    "type": Arg("string", PRODUCT_TYPES),
    "category": Arg("string"),
}
VARIATION_LIST_ARGS = dict(_LIST_COMMON)

_STOCK_WRITE: dict[str, Arg] = {
    "manage_stock": Arg("boolean"),
    "stock_quantity": Arg("integer"),
    "inventory_delta": Arg("integer"),
    "stock_status": Arg("string", STOCK_STATUSES),
    "backorders": Arg("string", BACKORDERS),
    "low_stock_amount": Arg("integer", nullable=True),
    "sku": Arg("string"),
    "global_unique_id": Arg("string"),
    "regular_price": Arg("string"),
    "sale_price": Arg("string"),
    "description": Arg("string"),
}
PRODUCT_WRITE_ARGS = {
    **_STOCK_WRITE,
    "name": Arg("string"),
    "type": Arg("string", PRODUCT_TYPES),
    "status": Arg("string", ("future", "auto-draft", "trash", *POST_STATUSES)),
}
VARIATION_WRITE_ARGS = {**_STOCK_WRITE, "status": Arg("string", POST_STATUSES)}

_ORDER_LIST_COMMON: dict[str, Arg] = {
    **{k: _LIST_COMMON[k] for k in ("context", "page", "per_page", "search", "offset", "order")},
    "orderby": Arg(
        "string", ("date", "id", "include", "title", "slug", "modified"), default="date"
    ),
    "include": Arg("array", default=()),
    "exclude": Arg("array", default=()),
    "dp": Arg("integer", default=2),
}
ORDER_LIST_ARGS = {
    **_ORDER_LIST_COMMON,
    "after": Arg("date-time"),
    "before": Arg("date-time"),
    "modified_after": Arg("date-time"),
    "modified_before": Arg("date-time"),
    "dates_are_gmt": Arg("boolean", default=False),
    "parent": Arg("array", default=()),
    "parent_exclude": Arg("array", default=()),
    "status": Arg("strings", ("any", "trash", *ORDER_STATUSES[:-1]), default=("any",)),
    "customer": Arg("integer"),
    "product": Arg("integer"),
}
# WooCommerce 11.3+ registers this status on stores offering local pickup (before the
# block checkout's draft status in the list).
PICKUP_STATUS = "ready-for-pickup"
ORDER_WRITE_ARGS = {
    "status": Arg("string", ORDER_STATUSES),
    "set_paid": Arg("boolean"),
    "customer_id": Arg("integer"),
    "payment_method": Arg("string"),
    "payment_method_title": Arg("string"),
    "transaction_id": Arg("string"),
    "customer_note": Arg("string"),
}
REFUND_LIST_ARGS = dict(_ORDER_LIST_COMMON)
NOTE_LIST_ARGS = {"type": Arg("string", ("any", "customer", "internal"), default="any")}
NOTE_CREATE_ARGS = {
    "note": Arg("string"),
    "customer_note": Arg("boolean", default=False),
    "added_by_user": Arg("boolean", default=False),
}
REFUND_CREATE_ARGS = {
    "amount": Arg("string"),
    "reason": Arg("string"),
    "api_refund": Arg("boolean", default=True),
    "api_restock": Arg("boolean", default=True),
}


def with_local_pickup(schema: dict[str, Arg]) -> dict[str, Arg]:
    """``schema`` on a store offering local pickup: its status argument knows
    ready-for-pickup."""
    status = schema["status"]
    values = list(status.enum or ())
    values.insert(values.index("checkout-draft"), PICKUP_STATUS)
    return {**schema, "status": replace(status, enum=tuple(values))}


def validate(params: Mapping[str, Any], schema: Mapping[str, Arg]) -> dict[str, Any]:
    """The sanitized arguments (defaults filled in), or WPError rest_invalid_param."""
    clean: dict[str, Any] = {}
    problems: dict[str, tuple[str, str]] = {}
    for name, arg in schema.items():
        if name not in params:
            if arg.default is not None:
                clean[name] = arg.default
            continue
        try:
            clean[name] = _check(name, params[name], arg)
        except _Invalid as bad:
            problems[name] = (bad.code, str(bad))
    if problems:
        raise WPError(
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(problems)}",
            400,
            params={name: message for name, (_, message) in problems.items()},
            details={
                name: {"code": code, "message": message, "data": None}
                for name, (code, message) in problems.items()
            },
        )
    return clean


class _Invalid(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _check(name: str, value: Any, arg: Arg) -> Any:
    if value is None and arg.nullable:
        return None
    if arg.type == "integer":
        number = _integer(value)
        if number is None:
            types = "integer,null" if arg.nullable else "integer"
            raise _Invalid("rest_invalid_type", f"{name} is not of type {types}.")
        _bounds(name, number, arg)
        return number
    if arg.type == "boolean":
        flag = _boolean(value)
        if flag is None:
            raise _Invalid("rest_invalid_type", f"{name} is not of type boolean.")
        return flag
    if arg.type == "array":
        items = list(value.values()) if isinstance(value, dict) else _parse_list(value)
        numbers = [_integer(item) for item in items]
        if any(n is None for n in numbers):
            raise _Invalid("rest_invalid_type", f"{name}[0] is not of type integer.")
        return tuple(n for n in numbers if n is not None)
    if arg.type == "strings":
        values = list(value.values()) if isinstance(value, dict) else _parse_list(value)
        for index, item in enumerate(values):
            if arg.enum is not None and item not in arg.enum:
                message = f"{name}[{index}] is not one of {_wp_list(arg.enum)}."
                raise _Invalid("rest_not_in_enum", message)
        return tuple(values)
    if not isinstance(value, str):
        raise _Invalid("rest_invalid_type", f"{name} is not of type string.")
    if arg.type == "date-time" and not _DATE.match(value):
        raise _Invalid("rest_invalid_date", "Invalid date.")
    if arg.enum is not None and value not in arg.enum:
        raise _Invalid("rest_not_in_enum", f"{name} is not one of {_wp_list(arg.enum)}.")
    return value


def _integer(value: Any) -> int | None:
    """rest_is_integer: ints, and numeric strings or floats without a fraction."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return None


def _boolean(value: Any) -> bool | None:
    """rest_is_boolean: true/false, 1/0, and the strings 'true', 'false', '1', '0', ''."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", ""):
        return value.lower() in ("true", "1")
    return None


def _bounds(name: str, number: int, arg: Arg) -> None:
    low, high = arg.minimum, arg.maximum
    if low is not None and high is not None and not low <= number <= high:
        message = f"{name} must be between {low} (inclusive) and {high} (inclusive)"
        raise _Invalid("rest_out_of_bounds", message)
    if low is not None and high is None and number < low:
        raise _Invalid("rest_out_of_bounds", f"{name} must be greater than or equal to {low}")


def _parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part for part in value.replace(" ", ",").split(",") if part]
    return [value]


def _wp_list(items: Sequence[str]) -> str:
    """wp_sprintf_l: 'a and b', 'a, b, and c'."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f", and {items[-1]}"
