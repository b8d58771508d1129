"""A product asked with its availability starts the stock read before the product arrives;
whether it is asked is read from the document, fragments included."""

from types import SimpleNamespace

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from resolvers.queries import _selects


def info_for(document: str):
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    product = operation.selection_set.selections[0]
    return SimpleNamespace(_raw_info=SimpleNamespace(field_nodes=[product], fragments=fragments))


@pytest.mark.parametrize(
    ("document", "asked"),
    [
        ("{ product(sku: 1) { sku availability { totalAvailable } } }", True),
        ("{ product(sku: 1) { sku stock: availability { totalAvailable } } }", True),
        ("{ product(sku: 1) { ... on Product { availability { totalAvailable } } } }", True),
        ("{ product(sku: 1) { ...Page } } fragment Page on Product { availability { x } }", True),
        ("{ product(sku: 1) { ...Page } } fragment Page on Product { sku }", False),
        ("{ product(sku: 1) { sku name webListing { availability } } }", False),
    ],
)
def test_the_availability_is_asked_for_when_the_document_selects_it(document, asked):
    assert _selects(info_for(document), "availability") is asked
