"""The role matrix, walked from the schema: every query, mutation and subscription declares
who may ask for it (resolvers/permissions.py), and asking as each role gives FORBIDDEN on
that field exactly when the rule leaves the role out. An operation added without a rule
fails here. Arguments are the least each operation needs to get past validation; what the
operation then does with them (NOT_FOUND and the like) is not this test's business."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from gateway.domain.principal import Role
from resolvers.context import GatewayContext
from resolvers.permissions import rule_of
from resolvers.role_table import role_table
from resolvers.schema import build_schema
from tests.identity import bearer, token

SCHEMA = build_schema()
SCALARS: dict[str, Any] = {
    "String": "x",
    "ID": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "Date": "2026-12-05",
    "DateTime": "2026-12-05T00:00:00+00:00",
    "Decimal": "1",
    "JSON": {},
}


def least(kind: GraphQLInputType) -> Any:
    """The smallest value of an input type: required fields only."""
    if isinstance(kind, GraphQLNonNull):
        return least(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [least(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: least(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType)
    return SCALARS[kind.name]


def operation(kind: str, name: str, field: GraphQLField) -> tuple[str, dict[str, Any]]:
    required = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    }
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    document = (
        f"{kind} {'(' + declared + ')' if declared else ''} "
        f"{{ {name}{'(' + passed + ')' if passed else ''}{selection} }}"
    )
    return document, {a: least(arg.type) for a, arg in required.items()}


def root_fields(kind: str) -> list[tuple[str, frozenset[Role] | None]]:
    definition = SCHEMA.get_type_by_name(kind.title())
    names = SCHEMA.config.name_converter
    return [(names.get_graphql_name(f), rule_of(f)) for f in definition.fields]  # type: ignore[union-attr]


def asking_as(role: Role) -> dict[str, str]:
    store = "ST-MITTE" if role is Role.STORE_ASSOCIATE else None
    return bearer(token([role.value], sub=f"as-{role.value.lower()}", location_id=store))


@pytest.mark.parametrize("kind", ["query", "mutation", "subscription"])
def test_every_operation_declares_who_may_ask_for_it(kind):
    undeclared = [name for name, rule in root_fields(kind) if not rule]
    assert undeclared == [], f"{kind} fields without a rule in resolvers/permissions.py"


def forbidden_at(body: dict[str, Any], name: str) -> bool:
    return any(
        e["extensions"]["code"] == "FORBIDDEN" and e.get("path") == [name]
        for e in body.get("errors", [])
    )


@pytest.mark.parametrize("kind", ["query", "mutation"])
async def test_each_role_is_refused_exactly_what_its_rules_leave_out(gql, kind):
    assert gql.http is not None
    graphql_type = SCHEMA._schema.get_type(kind.title())
    mismatches = []
    for name, rule in root_fields(kind):
        document, variables = operation(kind, name, graphql_type.fields[name])
        for role in Role:
            answer = await gql.http.post(
                "/graphql",
                json={"query": document, "variables": variables},
                headers=asking_as(role),
            )
            body = answer.json()
            assert answer.status_code == 200, body
            assert all(
                e["extensions"]["code"] != "GRAPHQL_VALIDATION_FAILED"
                for e in body.get("errors", [])
            ), (document, body)
            if forbidden_at(body, name) == (role in (rule or ())):
                mismatches.append((name, role.value, body.get("errors")))
    assert mismatches == []


async def test_each_role_is_refused_exactly_the_subscriptions_its_rules_leave_out(gql):
    services = gql.app.state.services
    graphql_type = SCHEMA._schema.get_type("Subscription")
    for name, rule in root_fields("subscription"):
        document, variables = operation("subscription", name, graphql_type.fields[name])
        for role in Role:
            principal_context = GatewayContext(services, remember=False)
            principal_context.principal = await services.authenticator.principal(
                asking_as(role)["Authorization"], None
            )
            result = await SCHEMA.subscribe(
                document, variable_values=variables, context_value=principal_context
            )
            if hasattr(result, "__aiter__"):
                # A refusal is the first result, at once; an allowed subscription waits for
                # its first change.
                try:
                    first = await asyncio.wait_for(anext(aiter(result)), 0.5)
                except TimeoutError:
                    first = None
                await result.aclose()  # type: ignore[union-attr]
            else:
                first = result
            errors = [e.extensions or {} for e in ((first and first.errors) or [])]
            refused = any(e.get("code") == "FORBIDDEN" for e in errors)
            assert refused == (role not in (rule or ())), (name, role, first.errors)


PRODUCT = '{ product(sku: "SOCK-M") { sku name cost { amount } } }'


async def test_the_storefront_never_sees_cost_and_keeps_the_rest_of_the_answer(gql):
    assert gql.http is not None
    storefront = (
        await gql.http.post("/graphql", json={"query": PRODUCT}, headers=asking_as(Role.STOREFRONT))
    ).json()
    assert storefront["data"]["product"]["name"] and storefront["data"]["product"]["cost"] is None
    (error,) = storefront["errors"]
    assert error["path"] == ["product", "cost"]
    assert error["extensions"] == {"code": "FORBIDDEN", "roles": ["ADMIN", "OPS", "SUPPORT"]}

    ops = (
        await gql.http.post("/graphql", json={"query": PRODUCT}, headers=asking_as(Role.OPS))
    ).json()
    assert "errors" not in ops and ops["data"]["product"]["cost"]["amount"]


def test_the_readme_table_of_roles_is_the_generated_one():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n### Roles: who may ask for what\n", 1)[1].split("\n### ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert "\n".join(table) == role_table(), (
        "README's role table is stale: replace it with `python -m resolvers.role_table`"
    )
