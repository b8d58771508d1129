"""The compiled path (resolvers.compiled) answers byte for byte as strawberry does.

Two corpora run through both paths on one gateway (the same database, caches and fake
backends), the status, the headers and the body compared as bytes:

* every GraphQL operation written in this test suite (string constants under tests/ that
  parse as queries or mutations), with variables made from their declared types;
* selections hypothesis draws over the schema: root fields with arguments, nested fields,
  aliases, repeats, fragments, __typename.

A request is compared when strawberry itself answers it the same way before and after the
compiled run (a mutation that creates something answers differently each time; an
idempotent replay or a refusal does not).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    ast_from_value,
    get_named_type,
    is_leaf_type,
    parse,
    print_ast,
    type_from_ast,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import PersistedSettings
from tests.identity import bearer, token

TESTS = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings_overrides():
    # Every valid document is compiled once seen; the test switches the path per request.
    # No whole answers replayed: every request executes.
    return {
        "response_cache_seconds": 0,
        "persisted": PersistedSettings(compile="all"),
        "rate_limit": {"per_second": 1e6, "burst": 10**6},
    }


@pytest.fixture
def run_workers():
    return False


def operations_in_the_suite() -> list[tuple[str, str | None]]:
    """(document, operation name) of every query and mutation written under tests/."""
    found: dict[tuple[str, str | None], None] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value.strip()
            if not text.startswith(("query", "mutation", "{")):
                continue
            try:
                document = parse(text)
            except Exception:
                continue
            operations = [
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
                and d.operation is not OperationType.SUBSCRIPTION
            ]
            for operation in operations:
                name = operation.name.value if operation.name and len(operations) > 1 else None
                found[(text, name)] = None
    return list(found)


CORPUS = operations_in_the_suite()


def sample_value(type_: Any, name: str) -> Any:
    """A value of an input type, plausible for the small retailer's fakes."""
    if isinstance(type_, GraphQLNonNull):
        return sample_value(type_.of_type, name)
    if isinstance(type_, GraphQLList):
        return [sample_value(type_.of_type, name)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            field_name: sample_value(field.type, field_name)
            for field_name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(type_, GraphQLScalarType)
    lowered = name.lower()
    by_name = {
        "sku": "SHOE-42",
        "skus": "SHOE-42",
        "lat": 52.52,
        "lng": 13.405,
        "radiuskm": 50.0,
        "quantity": 1,
        "first": 3,
        "locationid": "ST-MITTE-STORE",
        "email": "ada@example.com",
        "customeremail": "ada@example.com",
        "idempotencykey": "differential-1",
    }
    if lowered in by_name:
        return by_name[lowered]
    return {
        "String": "x",
        "ID": "missing-1",
        "Int": 2,
        "Float": 1.5,
        "Boolean": True,
        "DateTime": "2026-12-05T12:00:00+00:00",
        "Date": "2026-12-07",
    }.get(type_.name, "1")


def variables_for(schema: GraphQLSchema, document: str, name: str | None) -> dict[str, Any]:
    parsed = parse(document)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (o for o in operations if name is None or (o.name and o.name.value == name)), None
    )
    values: dict[str, Any] = {}
    for definition in (operation.variable_definitions if operation else None) or ():
        declared = type_from_ast(schema, definition.type)
        if declared is not None:
            values[definition.variable.name.value] = sample_value(
                declared, definition.variable.name.value
            )
    return values


class BothPaths:
    """Posts one request through strawberry and through the compiled path of one app."""

    def __init__(self, gql) -> None:
        self.http = gql.http
        self.view = gql.app.state.graphql
        self.metrics = gql.app.state.metrics
        self.compiled = self.view.compiled
        self.compared = 0
        self.refused = 0  # compared answers holding a permission refusal
        self.compiled_runs = 0
        self.varying: list[dict[str, Any]] = []  # compiled, but strawberry's answers vary
        original = self.compiled.execute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.compiled_runs += 1
            return await original(*args, **kwargs)

        self.compiled.execute = counted

    def _counted(self) -> dict[tuple[str, ...], float]:
        """The requests counted so far, by (operation, status, error code)."""
        counts: dict[tuple[str, ...], float] = {}
        for family in self.metrics.registry.collect():
            if family.name == "commerce_gateway_graphql_requests":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        labels = sample.labels
                        key = (labels["operation"], labels["status"], labels["error_code"])
                        counts[key] = sample.value
        return counts

    async def _post(
        self, body: dict[str, Any] | bytes, compiled: bool, headers: dict[str, str]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, list[tuple[str, ...]]]:
        """The answer, and how the metrics counted the request."""
        self.view.compiled = self.compiled if compiled else None
        counted = self._counted()
        try:
            if isinstance(body, bytes):
                response = await self.http.post("/graphql", content=body, headers=headers)
            else:
                response = await self.http.post("/graphql", json=body, headers=headers)
        finally:
            self.view.compiled = self.compiled
        labels = [k for k, n in self._counted().items() if n != counted.get(k, 0)]
        # Every header but the request's own id, in the order sent.
        sent = [(k, v) for k, v in response.headers.raw if k.lower() != b"x-request-id"]
        return response.status_code, sent, response.content, labels

    async def compare(
        self, body: dict[str, Any] | bytes, *, always: bool = False, **headers: str
    ) -> None:
        """``always``: compare even when the plan was not used (a request it leaves)."""
        await self._post(body, False, headers)  # the data caches filled
        before = await self._post(body, False, headers)
        runs = self.compiled_runs
        through_plan = await self._post(body, True, headers)
        after = await self._post(body, False, headers)
        if self.compiled_runs == runs and not always:
            return  # not compiled (invalid, or @skip on a variable): strawberry's alone
        if before != after:
            self.varying.append(body)  # strawberry itself answers it differently each time
            return
        self.compared += 1
        if b'"FORBIDDEN"' in before[2]:
            self.refused += 1
        # The same answer, counted once under the same operation, status and code.
        assert len(before[3]) == 1, before
        assert through_plan == before, (body, before, through_plan)


async def compare_the_corpus(gql, **headers: str) -> BothPaths:
    """Every operation of the suite, posted both ways with ``headers``."""
    schema = gql.app.state.graphql.schema._schema
    both = BothPaths(gql)
    for document, name in CORPUS:
        body = {"query": document, "variables": variables_for(schema, document, name)}
        if name is not None:
            body["operationName"] = name
        await both.compare(body, **headers)
    return both


async def test_every_operation_in_the_suite_answers_the_same_through_its_plan(gql) -> None:
    both = await compare_the_corpus(gql)
    # Most of the suite's operations were compared, not skipped.
    assert len(CORPUS) > 100
    assert both.compared >= len(CORPUS) * 0.75, (both.compared, len(CORPUS))
    assert len(both.varying) <= len(CORPUS) * 0.1, both.varying


@pytest.mark.parametrize(
    "caller",
    [
        bearer(token(["STOREFRONT"], sub="web-shop")),
        bearer(token(["SUPPORT"], sub="agent-1")),
    ],
    ids=["storefront", "support-without-pii"],
)
async def test_a_caller_with_one_role_is_refused_the_same_through_the_plans(
    gql, caller: dict[str, str]
) -> None:
    # The permission checks run in the plan's direct calls (resolvers.compiled.direct),
    # not in strawberry's wrapper: what a role may not ask is refused the same way.
    both = await compare_the_corpus(gql, **caller)
    assert both.compared >= len(CORPUS) * 0.75, (both.compared, len(CORPUS))
    assert both.refused >= 20, both.refused


# -- hypothesis: selections over the schema --------------------------------------------


def _literal(value: Any, type_: GraphQLInputType) -> str:
    node = ast_from_value(value, type_)
    assert node is not None
    return print_ast(node)


@st.composite
def selection(draw, type_: GraphQLObjectType, depth: int) -> str:
    fields = sorted(type_.fields.items())
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4))
    parts: list[str] = []
    for index, (name, field) in enumerate(chosen):
        alias = draw(st.sampled_from(["", f"a{index}: "]))
        arguments = [
            f"{arg_name}: {_literal(sample_value(arg.type, arg_name), arg.type)}"
            for arg_name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        ]
        head = alias + name + (f"({', '.join(arguments)})" if arguments else "")
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(head)
        elif isinstance(named, GraphQLObjectType) and depth > 0:
            inner = draw(selection(named, depth - 1))
            parts.append(f"{head} {{ {inner} }}")
        else:
            parts.append(f"{head} {{ __typename }}")
    if draw(st.booleans()):
        parts.append("__typename")
    return " ".join(parts)


ROOTS = ["product", "products", "availability", "locations", "order", "orders", "reservation"]


@st.composite
def query(draw, schema: GraphQLSchema) -> str:
    root = schema.query_type
    assert root is not None
    name = draw(st.sampled_from(ROOTS))
    field = root.fields[name]
    arguments = [
        f"{arg_name}: {_literal(sample_value(arg.type, arg_name), arg.type)}"
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]
    named = get_named_type(field.type)
    assert isinstance(named, GraphQLObjectType)
    inner = draw(selection(named, 2))
    head = name + (f"({', '.join(arguments)})" if arguments else "")
    if draw(st.booleans()):  # the same selection again, through a fragment
        return f"{{ {head} {{ ...F }} }} fragment F on {named.name} {{ {inner} }}"
    return f"{{ {head} {{ {inner} }} }}"


async def test_drawn_selections_answer_the_same_through_their_plans(gql) -> None:
    schema = gql.app.state.graphql.schema._schema
    both = BothPaths(gql)
    documents: list[str] = []

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(query(schema))
    def draw(document: str) -> None:
        documents.append(document)

    draw()
    for document in documents:
        await both.compare({"query": document})
    assert both.compared >= len(documents) * 0.75, (both.compared, len(documents))


async def test_a_plans_cost_estimate_follows_the_variables_that_size_its_lists(gql) -> None:
    # Given one document asked for one SKU, then three, then one again with another value
    # of a variable that sizes no list, and pages of several sizes
    both = BothPaths(gql)
    availability = (
        "query($skus: [String!]!, $label: String!) "
        "{ availability(skus: $skus) { sku } product(sku: $label) { sku } }"
    )
    page = (
        "query($first: Int, $search: String) "
        "{ products(first: $first, filter: {search: $search}) { edges { node { sku } } } }"
    )
    bodies = [
        {"query": availability, "variables": {"skus": ["SKU-1"], "label": "SKU-1"}},
        {
            "query": availability,
            "variables": {"skus": ["SKU-1", "SKU-2", "SKU-3"], "label": "SKU-1"},
        },
        {"query": availability, "variables": {"skus": ["SKU-2"], "label": "SKU-3"}},
        {"query": page, "variables": {"first": 2, "search": "x"}},
        {"query": page, "variables": {"first": 40, "search": "y"}},
        {"query": page, "variables": {"search": "z"}},
    ]
    estimates = []
    for body in bodies:
        # When each is asked through the plan and through strawberry
        await both.compare(body)
        answer = (await gql.http.post("/graphql", json=body)).json()
        estimates.append(answer["extensions"]["cost"]["requestedQueryCost"])

    # Then both agree on every answer, its cost included, and the estimate moved with the
    # list sizes only
    assert both.compared == len(bodies)
    assert estimates[0] == estimates[2] < estimates[1]
    assert estimates[3] < estimates[4] and estimates[5] not in (estimates[3], estimates[4])


async def test_a_known_operation_posted_as_json_is_answered_without_strawberrys_view(gql) -> None:
    # Given a compiled operation and strawberry's HTTP view counting the requests it serves
    both = BothPaths(gql)
    served = 0
    run = both.view.run

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal served
        served += 1
        return await run(*args, **kwargs)

    both.view.run = counted
    body = {"query": "query($first: Int) { products(first: $first) { edges { node { sku } } } }"}
    # When it is posted as plain JSON, through the plan and through strawberry
    await both.compare({**body, "variables": {"first": 2}})
    # Then the plan's answer (the same, headers included) skipped the view: three requests
    # went through strawberry, the fourth did not
    assert both.compared == 1
    assert served == 3


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # The view's own refusals and streams, which the shortcut leaves to it.
        (b'{"query": "{ products { edges { node { sku } } } }"}', {"content-type": "text/plain"}),
        (
            b'{"query": "{ products { edges { node { sku } } } }"}',
            {"content-type": "application/json; charset=utf-8"},
        ),
        (
            b'{"query": "{ products { edges { node { sku } } } }"}',
            {"content-type": "application/json", "accept": "text/event-stream"},
        ),
        (
            b'{"query": "{ products { edges { node { sku } } } }", "extensions": 1}',
            {"content-type": "application/json"},
        ),
        # JSON only Python's json module reads: NaN.
        (
            b'{"query": "query($n: Float) { products(first: 1) { edges { node { sku } } } }",'
            b' "variables": {"n": NaN}}',
            {"content-type": "application/json"},
        ),
        # An integer beyond 64 bits, which orjson would read as a float: the error must
        # name the integer, as strawberry's json module reads it.
        (
            b'{"query": "query($first: Int) { products(first: $first) { edges { node { sku } } } }",'
            b' "variables": {"first": 18446744073709551616}}',
            {"content-type": "application/json"},
        ),
        # Two operations, the one to run named; then none named.
        (
            b'{"query": "query A { products(first: 1) { edges { node { sku } } } } '
            b'query B { products(first: 2) { edges { node { sku } } } }", "operationName": "B"}',
            {"content-type": "application/json"},
        ),
        (
            b'{"query": "query A { products(first: 1) { edges { node { sku } } } } '
            b'query B { products(first: 2) { edges { node { sku } } } }"}',
            {"content-type": "application/json"},
        ),
        # An error the plan answers, with its code.
        (
            b'{"query": "query($first: Int) { products(first: $first) { edges { node { sku } } } }",'
            b' "variables": {"first": "two"}}',
            {"content-type": "application/json"},
        ),
    ],
)
async def test_what_the_shortcut_leaves_or_takes_is_answered_as_strawberry_answers_it(
    gql, body: bytes, headers: dict[str, str]
) -> None:
    both = BothPaths(gql)
    await both.compare(body, always=True, **headers)
    assert both.compared == 1
