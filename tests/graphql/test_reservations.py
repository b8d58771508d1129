"""Holds through the schema: reserve, extend, confirm, release; errors a client can act on;
the dead-letter list. The outbox worker is off: each test drains it when it means to."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import BackendRejected


@pytest.fixture
def run_workers():
    return False


RESERVE = """mutation ($input: ReserveInput!, $key: String!) {
  reserve(input: $input, idempotencyKey: $key) {
    id status locationId channel customerRef expiresAt createdAt orderId lines { sku quantity } } }"""
EXTEND = """mutation ($id: ID!, $ttl: Int!, $key: String!) {
  extendReservation(id: $id, ttlSeconds: $ttl, idempotencyKey: $key) { id status expiresAt } }"""
CONFIRM = """mutation ($id: ID!, $key: String!) {
  confirmReservation(id: $id, idempotencyKey: $key) { id status } }"""
RELEASE = """mutation ($id: ID!, $key: String!) {
  releaseReservation(id: $id, idempotencyKey: $key) { id status } }"""
RESERVATION = """query ($id: ID!) { reservation(id: $id) { id status lines { sku quantity } } }"""
CENTRAL = """query ($sku: String!) { product(sku: $sku) {
  availability(locationIds: ["WH-CENTRAL"]) {
    locations { onHand reserved held availableToPromise } } } }"""
FAILURES = """query ($first: Int!) { deliveryFailures(first: $first) {
  id status target operation reference orderingKey attempts lastError } }"""
RETRY = """mutation ($id: ID!, $key: String!) {
  retryDelivery(id: $id, idempotencyKey: $key) { id status attempts } }"""


def shoes(quantity=3, location="WH-CENTRAL", channel="ONLINE", **extra):
    return {
        "lines": [{"sku": "SHOE-42", "quantity": quantity}],
        "locationId": location,
        "channel": channel,
        "customerRef": "cust-7",
        **extra,
    }


async def central(gql):
    body = await gql(CENTRAL, sku="SHOE-42")
    assert "errors" not in body, body
    [row] = body["data"]["product"]["availability"]["locations"]
    return row


def error(body):
    # The field that failed is null, and nothing else is answered in its place.
    assert not any((body.get("data") or {}).values()), body
    [err] = body["errors"]
    return err


async def drain(gql):
    await gql.app.state.services.worker.drain()


async def test_reserve_holds_stock_and_every_reader_sees_it_as_held(gql):
    # 10 on hand, 2 reserved at the ERP: 8 to promise
    assert await central(gql) == {"onHand": 10, "reserved": 2, "held": 0, "availableToPromise": 8}
    before = datetime.now(UTC)
    body = await gql(RESERVE, input=shoes(3, ttlSeconds=600), key="r-1")
    assert "errors" not in body, body
    held = body["data"]["reserve"]
    assert held["status"] == "ACTIVE"
    assert held["locationId"] == "WH-CENTRAL" and held["channel"] == "ONLINE"
    assert held["customerRef"] == "cust-7" and held["orderId"] is None
    assert held["lines"] == [{"sku": "SHOE-42", "quantity": 3}]
    expires = datetime.fromisoformat(held["expiresAt"])
    assert before + timedelta(seconds=599) < expires < datetime.now(UTC) + timedelta(seconds=601)
    assert await central(gql) == {"onHand": 10, "reserved": 2, "held": 3, "availableToPromise": 5}
    again = await gql(RESERVATION, id=held["id"])
    assert again["data"]["reservation"]["status"] == "ACTIVE"


async def test_extend_moves_the_expiry_later(gql):
    held = (await gql(RESERVE, input=shoes(1, ttlSeconds=60), key="r-1"))["data"]["reserve"]
    body = await gql(EXTEND, id=held["id"], ttl=3600, key="e-1")
    assert "errors" not in body, body
    extended = body["data"]["extendReservation"]
    assert extended["status"] == "ACTIVE"
    assert datetime.fromisoformat(extended["expiresAt"]) > datetime.fromisoformat(
        held["expiresAt"]
    ) + timedelta(seconds=3000)


async def test_confirm_writes_the_sales_order_and_atp_is_not_counted_twice(gql, retailer):
    erp = retailer[0]
    held = (await gql(RESERVE, input=shoes(3), key="r-1"))["data"]["reserve"]
    body = await gql(CONFIRM, id=held["id"], key="c-1")
    assert body["data"]["confirmReservation"]["status"] == "CONFIRMED"
    await drain(gql)
    [(so, _)] = erp.sales_orders.values()
    assert so.reference == held["id"]
    # The ERP now reserves the 3 itself; the gateway's hold stands down.
    assert await central(gql) == {"onHand": 10, "reserved": 5, "held": 0, "availableToPromise": 5}


async def test_release_gives_the_units_back(gql):
    held = (await gql(RESERVE, input=shoes(3), key="r-1"))["data"]["reserve"]
    body = await gql(RELEASE, id=held["id"], key="x-1")
    assert body["data"]["releaseReservation"]["status"] == "RELEASED"
    assert (await central(gql))["availableToPromise"] == 8


async def test_a_retried_reserve_returns_the_first_hold_and_a_changed_one_is_refused(gql):
    first = (await gql(RESERVE, input=shoes(3), key="same"))["data"]["reserve"]
    second = (await gql(RESERVE, input=shoes(3), key="same"))["data"]["reserve"]
    assert second["id"] == first["id"]
    assert (await central(gql))["held"] == 3
    err = error(await gql(RESERVE, input=shoes(4), key="same"))
    assert err["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_too_little_stock_is_refused_with_what_is_still_available(gql):
    err = error(await gql(RESERVE, input=shoes(9), key="r-1"))
    assert err["extensions"]["code"] == "INSUFFICIENT_STOCK"
    assert err["extensions"]["shortfalls"] == [
        {"sku": "SHOE-42", "locationId": "WH-CENTRAL", "requested": 9, "available": 8}
    ]
    assert "8 available" in err["message"]


@pytest.mark.parametrize(
    ("input", "key", "code", "field"),
    [
        (shoes(0), "k", "BAD_USER_INPUT", "quantity"),
        (shoes(-2), "k", "BAD_USER_INPUT", "quantity"),
        ({**shoes(), "lines": []}, "k", "BAD_USER_INPUT", "lines"),
        (shoes(location="WH-NOWHERE"), "k", "NOT_FOUND", "locationId"),
        (shoes(channel="PICKUP"), "k", "BAD_USER_INPUT", "channel"),  # a warehouse
        (shoes(location="ST-HAMBURG"), "k", "BAD_USER_INPUT", "channel"),  # ships nothing
        (shoes(ttlSeconds=0), "k", "BAD_USER_INPUT", "ttlSeconds"),
        (shoes(ttlSeconds=7 * 24 * 3600 + 1), "k", "BAD_USER_INPUT", "ttlSeconds"),
        (shoes(), "", "BAD_USER_INPUT", "idempotencyKey"),
        (shoes(), "k" * 201, "BAD_USER_INPUT", "idempotencyKey"),
    ],
)
async def test_bad_reserve_input_gets_a_clear_error_code(gql, input, key, code, field):
    err = error(await gql(RESERVE, input=input, key=key))
    assert err["extensions"]["code"] == code
    assert err["extensions"]["field"] == field
    assert (await central(gql))["held"] == 0


async def test_unknown_reservations_are_not_found(gql):
    for query, variables in (
        (RESERVATION, {"id": "res_nope"}),
        (CONFIRM, {"id": "res_nope", "key": "c"}),
        (RELEASE, {"id": "res_nope", "key": "r"}),
        (EXTEND, {"id": "res_nope", "ttl": 60, "key": "e"}),
    ):
        err = error(await gql(query, **variables))
        assert err["extensions"]["code"] == "NOT_FOUND", query


async def test_extending_a_released_hold_is_an_illegal_transition(gql):
    held = (await gql(RESERVE, input=shoes(1), key="r-1"))["data"]["reserve"]
    await gql(RELEASE, id=held["id"], key="x-1")
    err = error(await gql(EXTEND, id=held["id"], ttl=600, key="e-1"))
    assert err["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert err["extensions"]["status"] == "RELEASED"


async def test_a_refused_write_shows_in_delivery_failures_and_retry_delivery_revives_it(
    gql, retailer
):
    erp = retailer[0]
    erp.writes.fail(BackendRejected("Customer is disabled", backend="erpnext", status=417))
    held = (await gql(RESERVE, input=shoes(3), key="r-1"))["data"]["reserve"]
    await gql(CONFIRM, id=held["id"], key="c-1")
    assert (await gql(FAILURES, first=10))["data"]["deliveryFailures"] == []
    await drain(gql)

    # The operator's list, asked again exactly as before, shows the dead write.
    [dead] = (await gql(FAILURES, first=10))["data"]["deliveryFailures"]
    assert dead["status"] == "DEAD" and dead["target"] == "ERP"
    assert dead["operation"] == "erp.submit_sales_order"
    assert dead["orderingKey"] == held["id"] and dead["reference"] == held["id"]
    assert "Customer is disabled" in dead["lastError"]

    erp.writes.heal()
    body = await gql(RETRY, id=dead["id"], key="retry-1")
    assert body["data"]["retryDelivery"] == {"id": dead["id"], "status": "PENDING", "attempts": 0}
    await drain(gql)
    assert (await gql(FAILURES, first=10))["data"]["deliveryFailures"] == []
    assert len(erp.sales_orders) == 1
    assert await central(gql) == {"onHand": 10, "reserved": 5, "held": 0, "availableToPromise": 5}


async def test_retry_delivery_with_a_bad_or_unknown_id_is_refused(gql):
    assert error(await gql(RETRY, id="abc", key="k1"))["extensions"]["code"] == "BAD_USER_INPUT"
    assert error(await gql(RETRY, id="4242", key="k2"))["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("first", [0, -1, 501])
async def test_delivery_failures_page_size_out_of_range_is_refused(gql, first):
    err = error(await gql(FAILURES, first=first))
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert err["extensions"]["field"] == "first"
