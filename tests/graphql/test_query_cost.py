"""What an operation costs (resolvers/cost.py): estimated from the document and the
schema's @cost/@listSize before anything runs, counted from the answer after, both in
extensions.cost; over LIMITS__MAX_COST it is refused with QUERY_TOO_COSTLY when enforcing."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from resolvers.cost import actual_cost, estimated_cost
from resolvers.schema import build_schema

SCHEMA = build_schema()._schema
PAGE = """query ($first: Int!) { products(first: $first) { edges { node {
  sku availability { locations { availableToPromise } } } } } }"""
# product 1 + availability (@cost 5, an object 1) + locations (@listSize 50 objects of 1)
PRODUCT_PAGE_COST = 1 + 5 + 1 + 50


def estimate(document: str, **variables: Any) -> int | None:
    return estimated_cost(SCHEMA, parse(document), None, variables)


def test_a_product_page_costs_its_objects_and_its_backend_reads():
    page = '{ product(sku: "S") { sku availability { locations { availableToPromise } } } }'
    assert estimate(page) == PRODUCT_PAGE_COST


def test_a_connection_costs_first_times_each_edge_whether_first_is_written_or_a_variable():
    each_edge = 1 + PRODUCT_PAGE_COST  # the edge object, then its node
    assert estimate(PAGE, first=10) == 1 + 10 * each_edge
    written = PAGE.replace("products(first: $first)", "products(first: 3)")
    assert estimate(written.replace("($first: Int!) ", "")) == 1 + 3 * each_edge
    # Left out, first takes the schema's default (20).
    defaulted = PAGE.replace("products(first: $first)", "products").replace("($first: Int!) ", "")
    assert estimate(defaulted) == 1 + 20 * each_edge


def test_a_cart_costs_per_sku_asked_and_a_mutation_at_least_ten():
    cart = "query ($skus: [String!]!) { availability(skus: $skus) { sku totalAvailable } }"
    assert estimate(cart, skus=["A", "B", "C"]) == 5 + 3 * 1
    release = 'mutation { releaseReservation(id: "r", idempotencyKey: "k") { id status } }'
    assert estimate(release) == 10 + 1


def test_fragments_count_like_the_fields_they_stand_for():
    spread = """query { product(sku: "S") { ...Stock } }
      fragment Stock on Product { availability { locations { availableToPromise } } }"""
    assert estimate(spread) == PRODUCT_PAGE_COST


def test_the_actual_cost_counts_what_came_back():
    document = parse(PAGE)
    data = {
        "products": {
            "edges": [
                {"node": {"sku": "A", "availability": {"locations": [{"a": 1}] * 2}}},
                {"node": {"sku": "B", "availability": None}},
            ]
        }
    }
    # connection 1; edge A: 1 + node 1 + availability 5 + 1 + 2 locations; edge B: 1 + 1 + 5
    assert actual_cost(SCHEMA, document, None, {"first": 10}, data) == 1 + 10 + 7


def test_an_object_of_leaves_counts_once_per_item_that_holds_it():
    # Nothing inside a location costs, so its fields are not walked; it still counts 1.
    document = parse(
        '{ product(sku: "S") { availability { locations '
        "{ availableToPromise location { id name } } } } }"
    )
    data = {
        "product": {
            "availability": {
                "locations": [
                    {"availableToPromise": 1, "location": {"id": "X", "name": "x"}},
                    {"availableToPromise": 0, "location": None},
                ]
            }
        }
    }
    # product 1 + availability 5 + 1 + first location 1 + its location 1 + second 1
    assert actual_cost(SCHEMA, document, None, {}, data) == 1 + 6 + 2 + 1


async def test_an_answer_carries_its_estimated_and_actual_cost(gql):
    body = await gql(PAGE, first=2)
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 2 * (1 + PRODUCT_PAGE_COST)
    locations = sum(
        len(e["node"]["availability"]["locations"]) for e in body["data"]["products"]["edges"]
    )
    assert cost["actualQueryCost"] == 1 + 2 * (1 + 1 + 5 + 1) + locations
    assert cost["actualQueryCost"] < cost["requestedQueryCost"]


@pytest.mark.parametrize("settings_overrides", [{"limits": {"max_cost": 200}}])
async def test_an_operation_over_the_limit_is_refused_before_any_backend_is_asked(gql, retailer):
    erp, _, _ = retailer
    before = sum(erp.calls.values())
    body = await gql(PAGE, first=5)
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "requestedQueryCost": 1 + 5 * (1 + PRODUCT_PAGE_COST),
        "maximumQueryCost": 200,
    }
    assert body.get("data") is None and sum(erp.calls.values()) == before
    # Asking for fewer items fits.
    assert "errors" not in await gql(PAGE, first=2)


@pytest.mark.parametrize(
    "settings_overrides", [{"limits": {"max_cost": 200, "cost_mode": "measure"}}]
)
async def test_measure_mode_answers_and_reports_the_cost_over_the_limit(gql):
    body = await gql(PAGE, first=5)
    assert "errors" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] > 200


@pytest.mark.parametrize("first", [2**31, 2**64])
async def test_a_first_no_int_can_hold_is_refused_as_an_int_not_estimated_from(gql, first: int):
    # Given a page size beyond GraphQL's Int (2**64 made an estimate orjson could not
    # write: an HTTP 500)
    body = await gql(PAGE, first=first)
    # Then the variable is refused as the Int it is not, naming it as it was sent
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert str(first) in error["message"]
    assert body.get("data") is None
