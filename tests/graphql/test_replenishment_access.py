"""Who may see a node's replenishment hints: staff anywhere, a store associate at its own
store only; a node that does not exist is NOT_FOUND for everyone."""

from __future__ import annotations

from gateway.domain.principal import Role
from tests.graphql.test_permissions import asking_as

HINT = """query ($at: ID!) { product(sku: "SHOE-42") { sku replenishment(locationId: $at) {
  location { id } suggestedOrder } } }"""


async def ask(gql, role: Role, at: str) -> dict:
    answer = await gql.http.post(
        "/graphql", json={"query": HINT, "variables": {"at": at}}, headers=asking_as(role)
    )
    return answer.json()


async def test_an_associate_sees_its_own_store_s_hints_and_not_another_s(gql):
    own = await ask(gql, Role.STORE_ASSOCIATE, "ST-MITTE")  # asking_as puts it at Mitte
    assert "errors" not in own, own
    assert own["data"]["product"]["replenishment"]["location"]["id"] == "ST-MITTE"
    other = await ask(gql, Role.STORE_ASSOCIATE, "ST-HAMBURG")
    assert other["data"]["product"] == {"sku": "SHOE-42", "replenishment": None}
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert other["errors"][0]["path"] == ["product", "replenishment"]


async def test_staff_see_any_node_and_nobody_a_node_that_is_not_there(gql):
    anywhere = await ask(gql, Role.OPS, "ST-HAMBURG")
    assert anywhere["data"]["product"]["replenishment"]["location"]["id"] == "ST-HAMBURG"
    nowhere = await ask(gql, Role.OPS, "NOWHERE")
    assert nowhere["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    storefront = await ask(gql, Role.STOREFRONT, "ST-MITTE")
    assert storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
