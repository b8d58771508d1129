"""Error codes as a client discovers them: every code a response can carry is a value of
ErrorCode with a description naming the type of its extensions; every error's extensions fit
that type; the README's table is the one generated from the same declarations."""

import json
import logging
import re
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, is_typeddict

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql import (
    build_schema as build_sdl,
)

from adapters import http
from adapters.erpnext import wire as erpnext_wire
from adapters.resilience.policy import BackendPolicy
from adapters.shopify import wire as shopify_wire
from adapters.square import api as square_api
from adapters.woocommerce import connection as woocommerce_connection
from gateway import errors
from gateway.barcodes import check_digit, validate_gtin
from gateway.config import QueryLimitSettings
from gateway.persisted import PersistedOperations, Refusal, resolved
from gateway.request_guard import RequestGuard
from resolvers.error_table import error_table
from resolvers.errors import to_client_error
from resolvers.schema import build_schema
from resolvers.types.errors import details, shape_of

ROOT = Path(__file__).resolve().parents[2]
# The published contract; tests/test_schema_snapshot.py keeps it equal to the code's.
SDL = build_sdl((ROOT / "schema.graphql").read_text())
NAMED = re.compile(r"Extensions: `(\w+)`\.$")


def extensions_type(code: str) -> GraphQLObjectType:
    """The type a client reads from the code's description, as introspection shows it."""
    enum = SDL.get_type("ErrorCode")
    assert isinstance(enum, GraphQLEnumType)
    description = enum.values[code].description or ""
    named = NAMED.search(description)
    assert named, f"{code}'s description names no extensions type: {description!r}"
    found = SDL.get_type(named.group(1))
    assert isinstance(found, GraphQLObjectType)
    return found


def misfits(value: Any, of: Any, at: str = "extensions") -> list[str]:
    """Where ``value`` (decoded JSON) does not fit the GraphQL output type ``of``."""
    if isinstance(of, GraphQLNonNull):
        return [f"{at} is missing"] if value is None else misfits(value, of.of_type, at)
    if value is None:
        return []
    if isinstance(of, GraphQLList):
        if not isinstance(value, list):
            return [f"{at} is not a list"]
        return [m for i, item in enumerate(value) for m in misfits(item, of.of_type, f"{at}[{i}]")]
    if isinstance(of, GraphQLObjectType):
        if not isinstance(value, dict):
            return [f"{at} is not an object"]
        found = [
            f"{at}.{key} is not declared by {of.name}" for key in value if key not in of.fields
        ]
        for name, field in of.fields.items():
            found += misfits(value.get(name), field.type, f"{at}.{name}")
        return found
    if isinstance(of, GraphQLEnumType):
        return [] if value in of.values else [f"{at}: {value!r} is not a {of.name}"]
    assert isinstance(of, GraphQLScalarType)
    fits = {
        "String": lambda v: isinstance(v, str),
        "ID": lambda v: isinstance(v, str | int) and not isinstance(v, bool),
        "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
    }[of.name]
    return [] if fits(value) else [f"{at}: {value!r} is not a {of.name}"]


def sample(hint: Any) -> Any:
    """A value of a declared detail type, every optional key of a shape filled in."""
    hint = shape_of(hint)
    if get_origin(hint) in (Union, types.UnionType):
        return sample(next(a for a in get_args(hint) if a is not type(None)))
    if get_origin(hint) is Literal:
        return get_args(hint)[0]
    if get_origin(hint) is not None:  # list, Sequence
        return [sample(get_args(hint)[0])]
    if is_typeddict(hint):
        return {d.key: sample(d.type) for d in details(hint)}
    return {str: "x", int: 2, float: 1.5, bool: True}[hint]


def with_every_detail(cls: type[errors.GatewayError]) -> errors.GatewayError:
    declaration = errors.details_of(cls.code)
    assert declaration is not None
    return cls("message", **{d.key: sample(d.type) for d in details(declaration)})


def raised(action: Any) -> errors.GatewayError:
    with pytest.raises(errors.GatewayError) as caught:
        action()
    return caught.value


def response(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://backend/"), **kwargs)


def real_errors() -> list[errors.GatewayError]:
    """Errors as the code that raises them builds them, details passed as dicts included."""
    body = "400638133394"
    wrong = str((int(check_digit(body)) + 1) % 10)
    return [
        raised(lambda: validate_gtin("40063813339X8")),
        raised(lambda: validate_gtin("4006381")),
        raised(lambda: validate_gtin(body + wrong)),
        http.default_error("erpnext", response(401)),
        http.default_error("erpnext", response(503)),
        http.default_error("erpnext", response(404)),
        erpnext_wire.parse_error(
            response(429, headers={"Retry-After": "7"}, json={"exc_type": "RateLimitExceededError"})
        ),
        square_api.parse_error(
            response(
                400,
                json={
                    "errors": [
                        {
                            "category": "INVALID_REQUEST_ERROR",
                            "code": "INVALID_VALUE",
                            "detail": "bad quantity",
                            "field": "changes[0].quantity",
                        }
                    ]
                },
            )
        ),
        shopify_wire.user_errors(
            "orderCancel",
            {
                "userErrors": [
                    {"field": ["orderId"], "message": "Order is gone", "code": "NOT_FOUND"}
                ]
            },
        ),
        shopify_wire.graphql_error(
            {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}, 200
        ),
        woocommerce_connection.woocommerce_error(
            response(403, json={"code": "woocommerce_rest_cannot_view", "message": "No."})
        ),
        raised(lambda: woocommerce_connection.decode(response(200, text="<html>"), dict)),
    ]


@pytest.fixture
def settings_overrides():
    # Clients discover the codes and their details by introspection, turned on here.
    return {"introspection": True}


GRAPHQL_CORE_ERRORS = [
    ("{ product(sku: ) { sku } }", "GRAPHQL_PARSE_FAILED"),
    ('{ product(sku: "A") { notAField } }', "GRAPHQL_VALIDATION_FAILED"),
    # graphql-core's errors about a variable (here one of the wrong type for where it is used)
    ("query ($n: String) { products(first: $n) { edges { cursor } } }", "BAD_USER_INPUT"),
]


# The query limits' refusals (LIMITS__*), against a schema built with small ones.
LIMITED = [
    ('{ product(sku: "A") { availability { locations { stale } } } }', "QUERY_TOO_DEEP"),
    ('{ a: product(sku: "A") { sku } b: product(sku: "B") { sku } }', "TOO_MANY_ALIASES"),
    ("{ " + "__typename " * 50 + "}", "TOO_MANY_TOKENS"),
]


async def too_large_body_code() -> str:
    """What the HTTP edge answers a body over its limit with (gateway.request_guard)."""
    sent: list[dict[str, Any]] = []

    async def never_reached(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the body was passed on")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * 11, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": []}
    await RequestGuard(never_reached, max_body_bytes=10)(scope, receive, send)
    assert sent[0]["status"] == 413
    code: str = json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"]
    return code


def on_the_wire(error: errors.GatewayError) -> dict[str, Any]:
    extensions = to_client_error(GraphQLError(error.message, original_error=error)).extensions
    assert extensions is not None
    return dict(extensions)


def test_the_readme_table_of_error_codes_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Errors\n", 1)[1].split("\n### ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert "\n".join(table) == error_table(), (
        "README's error table is stale: replace it with `python -m resolvers.error_table`"
    )


def test_every_error_class_carries_a_code_of_the_enum_and_declares_its_details():
    # Given every class of the tree, however deep (the root itself is never raised)
    pending, classes = list(errors.GatewayError.__subclasses__()), []
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    # Then each has a code of its own from the enum, and the schema knows its details
    assert {cls.code for cls in classes} <= set(errors.ErrorCode)
    assert len({cls.code for cls in classes}) == len(classes)
    assert set(classes) == set(errors.ERROR_CLASSES)
    assert all(errors.details_of(cls.code) is not None for cls in classes)


async def test_every_code_a_response_can_carry_is_in_the_enum_and_every_value_is_reachable():
    # When every kind of failure goes through the schema's error policy
    schema = build_schema()
    produced = [on_the_wire(with_every_detail(cls))["code"] for cls in errors.ERROR_CLASSES]
    for document, code in GRAPHQL_CORE_ERRORS:
        result = await schema.execute(document)
        assert result.errors is not None
        assert [e.extensions for e in result.errors] == [{"code": code}]
        produced.append(code)
    tight = build_schema(QueryLimitSettings(max_depth=2, max_aliases=1, max_tokens=40))
    for document, code in LIMITED:
        result = await tight.execute(document)
        assert result.errors is not None
        assert [e.extensions for e in result.errors] == [{"code": code}], result.errors
        produced.append(code)
    produced.append(await too_large_body_code())
    # Persisted operations (gateway.persisted): an id not held; in safelist mode, a document
    # not in the manifest.
    for refused in (
        resolved({"documentId": "nope"}, PersistedOperations({})),
        resolved({"query": "{ __typename }"}, PersistedOperations({}, safelist=True)),
    ):
        assert isinstance(refused, Refusal)
        produced.append(refused.code.value)
    unexpected = GraphQLError("boom", original_error=ZeroDivisionError("secret"))
    produced.append((to_client_error(unexpected).extensions or {})["code"])
    # Then each code is a plain string the enum lists, and no value of the enum is unused
    assert all(type(code) is str for code in produced)
    assert set(produced) == {code.value for code in errors.ErrorCode}


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("query ($n: Int) { products(first: $n) { edges { cursor } } }", {"n": "ten"}),
        ("query ($n: Int!) { products(first: $n) { edges { cursor } } }", {}),
        (
            'query ($d: Date) { fulfillmentPlan(input: {lines: [{sku: "A", quantity: 1}], '
            "destination: {lat: 52.5, lng: 13.4}, deliverBy: $d}) { complete } }",
            {"d": "2026-13-40"},
        ),
    ],
    ids=["not-an-int", "missing", "not-a-date"],
)
async def test_a_variable_value_that_does_not_fit_its_type_is_bad_user_input(
    document, variables, caplog
):
    # graphql-core 3.3 gives these an original_error (the scalar's complaint): they are
    # still the request's fault, not the gateway's, and not logged as an incident.
    with caplog.at_level(logging.ERROR, logger="commerce_gateway.graphql"):
        result = await build_schema().execute(document, variable_values=variables)
    assert result.errors is not None
    assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert result.errors[0].message.startswith("Variable '$")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    "error",
    [with_every_detail(cls) for cls in errors.ERROR_CLASSES] + real_errors(),
    ids=lambda e: f"{type(e).__name__}:{e.message[:30]}",
)
def test_an_errors_extensions_fit_the_type_its_code_names(error):
    extensions = on_the_wire(error)
    assert misfits(extensions, GraphQLNonNull(extensions_type(extensions["code"]))) == []


async def test_a_retry_after_shows_as_both_the_header_and_seconds():
    # Given ERPNext asks to come back later than a caller can wait
    async def call():
        return response(503, headers={"Retry-After": "5"}, json={"exc_type": "Busy"})

    # When the shared policy gives up at once
    with pytest.raises(errors.BackendUnavailable) as caught:
        await http.send(BackendPolicy("erpnext"), call, erpnext_wire.parse_error, max_retries=2)
    extensions = on_the_wire(caught.value)
    # Then both spellings ride along, and the type declares them
    assert extensions["retryAfter"] == "5"
    assert extensions["retryAfterSeconds"] == 5.0
    assert misfits(extensions, extensions_type("BACKEND_UNAVAILABLE")) == []


INTROSPECT_CODES = """{ __type(name: "ErrorCode") { enumValues { name description } } }"""
INTROSPECT_FIELDS = """query ($name: String!) { __type(name: $name) { fields { name } } }"""


async def test_introspection_lists_every_error_code_with_its_description(gql):
    body = await gql(INTROSPECT_CODES)
    values = {v["name"]: v["description"] for v in body["data"]["__type"]["enumValues"]}
    assert set(values) == {code.value for code in errors.ErrorCode}
    for code in errors.ErrorCode:
        assert values[code].startswith(code.description)
        named = NAMED.search(values[code])
        assert named
        fields = (await gql(INTROSPECT_FIELDS, name=named.group(1)))["data"]["__type"]["fields"]
        assert fields[0]["name"] == "code"


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ('{ productByBarcode(code: "4006381333949") { sku } }', {}, "INVALID_BARCODE"),
        ('{ productByBarcode(code: "96385074") { sku } }', {}, "NOT_FOUND"),
        ('{ availability(skus: ["SHOE-42", "GHOST"]) { sku } }', {}, "NOT_FOUND"),
        (
            '{ product(sku: "SHOE-42") { availability(locationIds: ["ST-MOON"]) { totalAvailable } } }',
            {},
            "NOT_FOUND",
        ),
        ("{ products(first: 0) { edges { cursor } } }", {}, "BAD_USER_INPUT"),
        *((document, {}, code) for document, code in GRAPHQL_CORE_ERRORS),
        (
            'mutation ($input: ReserveInput!) { reserve(input: $input, idempotencyKey: "k") { id } }',
            {
                "input": {
                    "lines": [{"sku": "SHOE-42", "quantity": 99}],
                    "locationId": "WH-CENTRAL",
                    "channel": "ONLINE",
                }
            },
            "INSUFFICIENT_STOCK",
        ),
    ],
)
async def test_errors_over_the_wire_carry_only_what_their_codes_type_declares(
    gql, document, variables, code
):
    body = await gql(document, **variables)
    await assert_fits_as_introspection_says(gql, body, code)


async def test_an_illegal_transition_over_the_wire_fits_its_type(gql):
    # Given a hold that was released
    reserve = """mutation ($input: ReserveInput!) { reserve(input: $input, idempotencyKey: "r") { id } }"""
    lines = [{"sku": "SHOE-42", "quantity": 1}]
    held = await gql(
        reserve, input={"lines": lines, "locationId": "WH-CENTRAL", "channel": "ONLINE"}
    )
    hold = held["data"]["reserve"]["id"]
    await gql(f'mutation {{ releaseReservation(id: "{hold}", idempotencyKey: "x") {{ id }} }}')
    # When it is extended
    body = await gql(
        f'mutation {{ extendReservation(id: "{hold}", ttlSeconds: 600, idempotencyKey: "e") {{ id }} }}'
    )
    # Then the error is ILLEGAL_TRANSITION and fits the type its code names
    await assert_fits_as_introspection_says(gql, body, "ILLEGAL_TRANSITION")


async def assert_fits_as_introspection_says(gql, body, code):
    [error] = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == code
    # The type the code's description names, asked by introspection, declares every key
    codes = (await gql(INTROSPECT_CODES))["data"]["__type"]["enumValues"]
    description = next(v["description"] for v in codes if v["name"] == code)
    named = NAMED.search(description)
    assert named
    fields = (await gql(INTROSPECT_FIELDS, name=named.group(1)))["data"]["__type"]["fields"]
    assert set(extensions) <= {f["name"] for f in fields}
    # And every value fits its declared type
    assert misfits(extensions, extensions_type(code)) == []
