"""Input limits at the edge: a string too long or holding a NUL byte is refused with
BAD_USER_INPUT naming it, before it reaches a backend or the database; a POST body that is
not a GraphQL request is a 400 with a GraphQL error, never an HTTP 500."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.input_limits import (
    DEFAULT_MAX,
    FREE_TEXT_MAX,
    _variable_strings,
    first_problem,
    problem,
)
from resolvers.schema import build_schema

PRODUCT = "query ($sku: String!) { product(sku: $sku) { name } }"
PLACE = """mutation ($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { id } }"""


def refused(body: dict) -> tuple[str, str]:
    (error,) = body["errors"]
    assert body["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error["message"], error["extensions"]["field"]


def order(name: str) -> dict:
    return {
        "lines": [{"sku": "SKU-1", "quantity": 1}],
        "channel": "PICKUP",
        "customer": {"email": "ann@example.org", "name": name},
        "pickup": {"locationId": "ST-MITTE"},
    }


async def test_an_oversized_sku_is_refused_before_any_backend_is_asked(gql, retailer):
    erp, web, pos = retailer
    before = sum(erp.calls.values()) + sum(web.calls.values()) + sum(pos.calls.values())

    message, field = refused(await gql(PRODUCT, sku="S" * 100_000))

    assert field == "$sku" and f"at most {DEFAULT_MAX}" in message
    after = sum(erp.calls.values()) + sum(web.calls.values()) + sum(pos.calls.values())
    assert after == before


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ('{ order(id: "ord_1\\u0000x") { id } }', {}, "id"),
        ("query ($id: ID!) { order(id: $id) { id } }", {"id": "ord_\x00"}, "$id"),
        (PLACE, {"input": order("Ann"), "key": "key-\x00"}, "$key"),
        (PLACE, {"input": order("A" * 300), "key": "key-1"}, "$input.customer.name"),
    ],
    ids=["nul-literal", "nul-variable", "nul-idempotency-key", "300-character-name"],
)
async def test_nul_bytes_and_oversized_strings_are_refused_naming_them(
    gql, query, variables, field
):
    message, named = refused(await gql(query, **variables))
    assert named == field and ("NUL byte" in message or "characters long" in message)


async def test_free_text_may_be_longer_but_not_without_bound(gql):
    cancel = """mutation ($id: ID!, $reason: String!) {
      cancelOrder(id: $id, idempotencyKey: "c-1", reason: $reason) { id } }"""
    fits = await gql(cancel, id="ord_missing", reason="r" * FREE_TEXT_MAX)
    assert fits["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # got past the edge
    _, field = refused(await gql(cancel, id="ord_missing", reason="r" * (FREE_TEXT_MAX + 1)))
    assert field == "$reason"


async def test_a_subscription_with_an_oversized_argument_is_refused_too():
    stream = await build_schema().subscribe(
        "subscription ($skus: [String!]!) { availabilityChanged(skus: $skus) { sku } }",
        variable_values={"skus": ["ok", "S" * 1000]},
    )
    first = await anext(stream)  # type: ignore[arg-type]
    (error,) = first.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "$skus[1]"}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'"hello"', "must be a JSON object"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"query": "{ __typename }", "operationName": {"a": 1}}', "operationName"),
        (b'{"query": "{ __typename }", "operationName": [1]}', "operationName"),
        (b'{"query": "{ __typename }", "variables": "x"}', "variables"),
        (b'{"query": "\xff\xfe"}', "not UTF-8"),
        # Deeper than the json module reads (it raised RecursionError: an HTTP 500).
        (
            b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
            "nested too deeply",
        ),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
    ids=[
        "string",
        "array",
        "object-operation-name",
        "array-operation-name",
        "string-variables",
        "not-utf8",
        "deep-variables",
        "deep-body",
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_a_400_with_a_graphql_error(gql, body, said):
    assert gql.http is not None
    answer = await gql.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and said in error["message"]


async def test_variables_nested_too_deeply_in_a_get_are_a_400_not_a_500(gql):
    assert gql.http is not None
    deep = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = await gql.http.get("/graphql", params={"query": "{ __typename }", "variables": deep})
    assert answer.status_code == 400


# Variables as clients send them: nested objects and lists of strings of every length near
# the limits, some with a NUL byte, under ordinary and free-text names.
_strings = st.one_of(
    st.text(max_size=8),
    st.integers(DEFAULT_MAX - 2, DEFAULT_MAX + 2).map(lambda n: "x" * n),
    st.integers(FREE_TEXT_MAX - 1, FREE_TEXT_MAX + 1).map(lambda n: "y" * n),
    st.just("a\x00b"),
)
_variables = st.recursive(
    st.one_of(_strings, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["sku", "note", "reason", "lines", "x"]), inner, max_size=3
        ),
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["input", "note", "key", "skus"]), _variables, max_size=3))
def test_property_the_quick_look_finds_a_fault_exactly_when_the_full_walk_does(variables):
    walked = next(
        (
            (found, where)
            for where, name, text in _variable_strings(variables)
            if (found := problem(text, where, name))
        ),
        None,
    )
    assert first_problem(None, variables) == walked
