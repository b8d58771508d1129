"""``commerce-gateway demo``: simulators + gateway + sample data on one machine.

Everything runs in one process on loopback ports with the embedded defaults (in-process
cache; SQLite where a database is needed), so the demo needs nothing installed but Python.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from gateway.app import create_app
from gateway.config import Settings, TruthSettings
from sandbox.demo_identity import CALLER, IdentityProvider, one_key_per_role
from sandbox.demo_truth import SUMMARY_QUERY, stock_truth
from sandbox.demo_webhooks import register_gateway_webhooks
from sandbox.faults import parse_break
from sandbox.faulty_server import simulator_server
from sandbox.mail_sink import MailSink
from sandbox.retailer import Dataset, Item
from sandbox.sample_data import generate, gtin_check_digit
from sandbox.servers import SimulatorPorts, simulator_apps

EXAMPLE_QUERY = """\
query StoresNearMe {
  product(sku: "SHOE-TRAIL-42") {
    name
    webPrice { amount currency }
    availability(near: {lat: 52.52, lng: 13.405, radiusKm: 25}, channel: PICKUP) {
      totalAvailable
      locations {
        location { name address }
        distanceKm
        availableToPromise
        status
        source
        asOf
        stale
        confidence
      }
    }
  }
}"""

# What an operator asks when answers come back stale or partial.
HEALTH_QUERY = """\
query Backends {
  backendHealth { name state lastSuccessAt lastFailure errorRate latencyP99 }
}"""

# --break names the products; the simulators are keyed by role.
SIMULATOR_OF = {
    "erpnext": "erp",
    "woocommerce": "woocommerce",
    "square": "square",
    "shopify": "oms",
}


# The end-to-end flow ``--check`` runs after the example query: a click-and-collect order
# at this store is placed, picked up and returned.
FLOW_SKU = "SHOE-TRAIL-42"
FLOW_STORE = "ST-BERLIN-STORE"
ORDER_FIELDS = "id status pickupDeadline systems { system id status } timeline { kind detail }"
AVAILABLE = """query ($sku: String!, $at: [ID!]) { product(sku: $sku) {
  availability(locationIds: $at) { locations { availableToPromise incoming } } } }"""
PLACE = f"""mutation ($input: PlaceOrderInput!, $key: String!) {{
  placeOrder(input: $input, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""
READY = f"""mutation ($id: ID!, $key: String!) {{
  markReadyForPickup(id: $id, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""
PICKED_UP = f"""mutation ($id: ID!, $key: String!) {{
  confirmPickup(id: $id, idempotencyKey: $key) {{ {ORDER_FIELDS} }} }}"""
RETURN_FIELDS = "id status omsReturnId refundTotal { amount currency } lines { sku disposition }"
REQUEST_RETURN = f"""mutation ($id: ID!, $lines: [ReturnLineInput!]!, $key: String!) {{
  requestReturn(orderId: $id, lines: $lines, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
RECEIVE_RETURN = f"""mutation ($id: ID!, $key: String!) {{
  receiveReturn(id: $id, idempotencyKey: $key) {{ {RETURN_FIELDS} }} }}"""
ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
RETURN = f"query ($id: ID!) {{ returnRequest(id: $id) {{ {RETURN_FIELDS} }} }}"
DELIVERIES = "query ($id: ID!) { orderDeliveries(orderId: $id) { operation status lastError } }"

# The checkout promise: where would 3 trail shoes and 2 pairs of socks to Berlin Mitte come
# from, by when, at what cost, and why those nodes.
PLAN_QUERY = """query CheckoutPromise {
  fulfillmentPlan(input: {
    lines: [{sku: "SHOE-TRAIL-42", quantity: 3}, {sku: "SOCK-MER-CREW-M", quantity: 2}]
    destination: {lat: 52.52, lng: 13.405}
  }) {
    promisedDate
    shipments { locationName service distanceKm arrivalDate lines { sku quantity } }
    cost { total { amount currency } shipping { amount } handling { amount } }
    explanation {
      summary tieBreak
      candidates(first: 6) { locationName verdict score { amount } rejection detail }
    }
  }
}"""
ROUTED_ORDER = """query ($id: ID!) { order(id: $id) { id status lines { sku quantity locationId }
  routing { strategy decidedAt plan { explanation { summary } }
            replay { samePlan differences } } } }"""


DEMO_RECONCILE_SECONDS = 30.0


DEMO_RETURNS_LOCATION = "WH-CENTRAL-WAREHOUSE"
DEMO_WEB_ORDER_SYNC_SECONDS = 2.0
DEMO_DELTA_POLL_SECONDS = 5.0


def demo_settings(
    host: str,
    port: int,
    ports: SimulatorPorts,
    nodes_file: Path,
    workdir: Path | None = None,
    mail: MailSink | None = None,
) -> Settings:
    # A database of its own per run (unless DATABASE_URL says otherwise), so one demo's
    # orders and idempotency keys never meet the next one's fresh simulators.
    database: dict[str, Any] = {}
    if workdir is not None and not os.environ.get("DATABASE_URL"):
        database["database_url"] = f"sqlite+aiosqlite:///{workdir / 'gateway.db'}"
    return Settings(
        _env_file=None,
        host=host,
        port=port,
        # A sandbox to explore: the explorer and introspection on, simulators' credentials.
        graphiql=True,
        introspection=True,
        sandbox=True,
        erp_base_url=f"http://127.0.0.1:{ports.erp}",
        woo_base_url=f"http://127.0.0.1:{ports.woocommerce}",
        square_base_url=f"http://127.0.0.1:{ports.square}",
        oms_base_url=f"http://127.0.0.1:{ports.oms}",
        nodes_file=nodes_file,
        redis_url=None,
        # Reconcile often, so the seeded drift shows up in the queue within half a minute.
        truth=TruthSettings(reconcile_seconds=DEMO_RECONCILE_SECONDS),
        # Where returns of web orders that no node is known to have shipped go.
        returns_location_id=DEMO_RETURNS_LOCATION,
        # Checkout orders come by webhook; the import poll is the safety net under it.
        web_order_sync_seconds=DEMO_WEB_ORDER_SYNC_SECONDS,
        # A webhook the simulators are told to drop is caught within seconds.
        delta_poll_seconds=DEMO_DELTA_POLL_SECONDS,
        # Customers are mailed at the demo's local mail sink.
        smtp_host=None if mail is None else mail.host,
        smtp_port=25 if mail is None else mail.port,
        **database,
    )


def _server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


async def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    ports: SimulatorPorts | None = None,
    seed: int = 42,
    skus: int = 500,
    stores: int = 12,
    latency_ms: float = 0.0,
    check: bool = False,
    breaks: Sequence[str] = (),
) -> int:
    plans = [parse_break(text) for text in breaks]
    ports = ports or SimulatorPorts()
    # Figures stamped now, not on the fixed date the tests use: a demo is never stale.
    dataset = generate(seed=seed, skus=skus, stores=stores, base_time=datetime.now(UTC))
    workdir = Path(tempfile.mkdtemp(prefix="commerce-gateway-demo-"))
    nodes_file = workdir / "nodes.json"
    nodes_file.write_text(json.dumps(dataset.nodes_config(), indent=2))
    mail = MailSink()
    mail.start()
    idp = IdentityProvider(workdir)
    settings = demo_settings(host, port, ports, nodes_file, workdir, mail).model_copy(
        update={"auth": idp.settings()}
    )
    apps = simulator_apps(dataset, latency_ms=latency_ms)
    servers = [
        simulator_server(apps["erp"], host="127.0.0.1", port=ports.erp),
        simulator_server(apps["woocommerce"], host="127.0.0.1", port=ports.woocommerce),
        simulator_server(apps["square"], host="127.0.0.1", port=ports.square),
        simulator_server(apps["oms"], host="127.0.0.1", port=ports.oms),
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        await _started(servers, tasks)
        # As a merchant would: each product told, through its own API, to call the
        # gateway's webhook endpoints; the gateway verifies them with what that gave back.
        reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        base = f"http://{reachable}:{port}"
        secrets = await register_gateway_webhooks(settings, base)
        settings = settings.model_copy(update={**secrets.settings(), "webhook_base_url": base})
        gateway = create_app(settings)
        servers.append(_server(gateway, host, port))
        tasks.append(asyncio.create_task(servers[-1].serve()))
        await _started(servers, tasks)
        url = f"http://{host}:{port}/graphql"
        console = idp.console_headers()
        keys = await one_key_per_role(gateway.state.services, FLOW_STORE)
        print(
            f"Sample retailer: {len(dataset.sellable_skus)} SKUs, {len(dataset.stores)} stores, "
            f"{len(dataset.leaf_warehouses)} warehouses; the web stock of "
            f"{len(dataset.drift_skus)} SKUs drifts from what the gateway can promise online."
        )
        print(
            f"Simulators: ERPNext :{ports.erp}  WooCommerce :{ports.woocommerce}  "
            f"Square :{ports.square}  Shopify (OMS) :{ports.oms}"
        )
        for backend, plan in plans:
            # Broken only now: the webhooks above were registered through the backends' APIs.
            apps[SIMULATOR_OF[backend]].state.faults.configure(plan)
            print(f"Broken on purpose: {backend} {plan} (POST /_sandbox/faults to change it)")
        if plans:
            print(
                "Answers that need a broken backend come from its last good copy, flagged "
                "stale: true with confidence LOW, or name it in a BACKEND_UNAVAILABLE error; "
                f"see also:\n\n{HEALTH_QUERY}\n"
            )
        print("\nAPI keys, one per role (shown once; send as Authorization: Bearer <key>):")
        for name, key in keys.items():
            print(f"  {name:22} {key}")
        print(f"A staff console's JWT (every role, pii:read):\n  {console['Authorization']}")
        print(f"\nGraphiQL: {url} (paste a header above into its Headers tab)")
        print(f"\nTry this query:\n\n{EXAMPLE_QUERY}\n")
        answer = await _ask(url, EXAMPLE_QUERY)
        print("It answers:\n" + json.dumps(answer, indent=2)[:2000])
        print(f"\nAnd the checkout promise (a dry run that holds nothing):\n\n{PLAN_QUERY}\n")
        promise = await _ask(url, PLAN_QUERY)
        print("It answers:\n" + json.dumps(promise, indent=2)[:3000])
        label, scanned = await scan_a_price_label(url, dataset)
        print(f"\nA marked-down pack's price label at the till ({label}):\n\n{LABEL_QUERY}\n")
        print("It answers:\n" + json.dumps(scanned, indent=2))
        store = dataset.node_ids()[len(dataset.leaf_warehouses)]  # the first store
        reorder = await _ask(url, REORDER_QUERY, at=store)
        print(f"\nWhat {store} should reorder (from its till's last four weeks):\n")
        print(REORDER_QUERY + "\n\nIt answers:\n" + json.dumps(reorder, indent=2)[:2500])
        print(
            f"\nA reconcile runs every {DEMO_RECONCILE_SECONDS:.0f} s (or ask for one with "
            "reconcileNow): the drifting SKUs become owned discrepancies, WooCommerce is "
            f"corrected and they close by themselves. See:\n\n{SUMMARY_QUERY}\n"
        )
        if check:
            ok = "errors" not in answer and answer["data"]["product"]["availability"]["locations"]
            ok = ok and label_answer_right(scanned, dataset)
            ok = ok and bool(((reorder.get("data") or {}).get("replenishment") or {}).get("edges"))
            if not ok:
                return 1
            # The seeded drift first: the flows below move stock at the sources, and the
            # storefront hears of each move a moment later, a lag a reconcile may catch.
            print("\nOne truth for stock:\n")
            # What start-up owes is settled first, as the background loops do within seconds:
            # the seeded open web orders imported (their holds taken), the storefront pushes
            # those holds owe queued, and every write delivered. Otherwise a push still on
            # its way when the reconcile reads makes a seeded drift look like a lag (it is
            # one), or a web order imported mid-reconcile moves a SKU under it.
            services = gateway.state.services
            await services.web_orders.sync()
            await services.storefront_sync.flush()
            await services.worker.drain()
            truth_ok, truth_lines = await stock_truth(url, dataset)
            print("\n".join(truth_lines))
            print("\nRoute an order, then place, pick up and return one:\n")
            routed = await route_and_replay(url)
            summary = await pickup_and_return(url)
            print("\n".join(routed.lines + summary.lines))
            from sandbox.demo_web_order import web_order_flow  # it uses this module's helpers

            print("\nA WooCommerce checkout order, collected and returned, in every system:\n")
            web = await web_order_flow(url, settings)
            print("\n".join(web.lines))
            # Last: its till sales are drift the storefront is corrected of after the check
            # above, which expects the seeded drift alone.
            print("\nReal time (a subscribed client, Square's webhooks, the delta poll):\n")
            from sandbox.demo_realtime import real_time_flow  # it uses this module's helpers

            live = await real_time_flow(url, gateway, apps["square"], settings)
            print("\n".join(live.lines))
            print("\nStore operations (a count in the past, the weekly page):\n")
            from sandbox.demo_store_ops import store_ops_flow  # it uses this module's helpers

            ops = await store_ops_flow(url, gateway, settings, dataset, apps["oms"])
            print("\n".join(ops.lines))
            print("\nA backend that stops answering (Square hangs, then comes back):\n")
            from sandbox.demo_resilience import degraded_flow  # it uses this module's helpers

            deadline = settings.request_deadline.query_seconds or 0.0
            degraded = await degraded_flow(url, gateway, apps["square"], deadline)
            print("\n".join(degraded.lines))
            print(f"\nWhat customers were told (the mail sink on :{mail.port}):\n")
            print("\n".join(mailbox(mail)))
            flows = {
                "stock truth": (truth_ok, truth_lines),
                "route and replay": (routed.ok, routed.lines),
                "pickup and return": (summary.ok, summary.lines),
                "web order": (web.ok, web.lines),
                "real time": (live.ok, live.lines),
                "store operations": (ops.ok, ops.lines),
                "degraded": (degraded.ok, degraded.lines),
                "customer mail": (bool(mail.received), ["no mail reached the sink"]),
            }
            failed = {name: lines for name, (ok, lines) in flows.items() if not ok}
            for name, lines in failed.items():
                # Repeated at the end so a failed check names its flow where a log tail shows it.
                print(f"\nCHECK FAILED: {name}\n" + "\n".join(lines))
            return 1 if failed else 0
        print(f"\nCustomer mail goes to the demo's mail sink on :{mail.port}; it is shown here.")
        print("Ctrl-C to stop.")
        await asyncio.gather(*tasks, show_mail(mail))
        return 0
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        mail.stop()


async def _started(servers: list[uvicorn.Server], tasks: list[asyncio.Task[None]]) -> None:
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            for t in tasks:
                if t.done() and t.exception():
                    raise t.exception()  # type: ignore[misc]
            raise SystemExit("demo: a server failed to start (is a port in use?)")
        await asyncio.sleep(0.05)


def mailbox(mail: MailSink, start: int = 0) -> list[str]:
    return [f"  to {', '.join(m.to)}: {m.subject}" for m in mail.received[start:]]


async def show_mail(mail: MailSink) -> None:
    """Print each customer mail as the sink receives it (until the demo stops)."""
    shown = 0
    while True:
        await asyncio.sleep(0.5)
        for line in mailbox(mail, shown):
            print(f"mail{line}")
        shown = len(mail.received)


REORDER_QUERY = """query ($at: ID!) {
  replenishment(locationId: $at, first: 3, filter: {belowReorderPoint: true}) {
    edges { node { sku dailyDemand averageDailyDemand safetyStock reorderPoint available
                   incoming suggestedOrder daysOfSupply } } } }"""
LABEL_QUERY = """query ($code: String!) { productByBarcode(code: $code) {
  sku name scan { itemReference price { amount currency } } } }"""
LABEL_PRICE_CENTS = 749


def _labelled_item(dataset: Dataset) -> Item:
    return next(item for item in dataset.items.values() if item.label_barcode)


async def scan_a_price_label(url: str, dataset: Dataset) -> tuple[str, dict[str, Any]]:
    """A label the shelf printer would make for the first price-labelled item at 7.49:
    its template code with the price in place of the zeros."""
    template = str(_labelled_item(dataset).label_barcode)
    body = template[:7] + f"{LABEL_PRICE_CENTS:05d}"
    label = body + gtin_check_digit(body)
    return label, await _ask(url, LABEL_QUERY, code=label)


def label_answer_right(answer: dict[str, Any], dataset: Dataset) -> bool:
    found = (answer.get("data") or {}).get("productByBarcode") or {}
    price = (found.get("scan") or {}).get("price") or {}
    return found.get("sku") == _labelled_item(dataset).sku and price.get("amount") == "7.49"


async def _ask(url: str, query: str, **variables: Any) -> dict:
    async with httpx.AsyncClient(timeout=30, headers=CALLER) as client:
        response = await client.post(url, json={"query": query, "variables": variables})
        return response.json()


class FlowFailed(Exception):
    pass


class Summary:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ok = True

    def say(self, text: str) -> None:
        self.lines.append(f"  {text}")


async def _data(url: str, query: str, **variables: Any) -> dict[str, Any]:
    body = await _ask(url, query, **variables)
    if body.get("errors"):
        raise FlowFailed(json.dumps(body["errors"])[:500])
    return body["data"]


async def _settled(url: str, order_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Wait for the gateway's outbox worker to deliver every write the order owes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        owed = (await _data(url, DELIVERIES, id=order_id))["orderDeliveries"]
        if all(d["status"] == "DELIVERED" for d in owed):
            return owed
        if loop.time() > deadline or any(d["status"] == "DEAD" for d in owed):
            raise FlowFailed(f"backend writes not delivered: {owed}")
        await asyncio.sleep(0.1)


async def _shelf(url: str) -> tuple[int, int]:
    data = await _data(url, AVAILABLE, sku=FLOW_SKU, at=[FLOW_STORE])
    (row,) = data["product"]["availability"]["locations"]
    return row["availableToPromise"], row["incoming"]


def _system(order: dict[str, Any], name: str) -> str:
    found = next((s for s in order["systems"] if s["system"] == name), None)
    return "-" if found is None else f"{found['id']} ({found['status']})"


async def route_and_replay(url: str) -> Summary:
    """Ask for the plan, place the order on it, then read back the decision and replay it."""
    summary = Summary()
    run = uuid.uuid4().hex[:8]
    try:
        plan = (await _data(url, PLAN_QUERY))["fulfillmentPlan"]
        summary.say(f"fulfillmentPlan -> {plan['explanation']['summary']}")
        placed = (
            await _data(
                url,
                PLACE,
                input={
                    "lines": [
                        {"sku": "SHOE-TRAIL-42", "quantity": 3},
                        {"sku": "SOCK-MER-CREW-M", "quantity": 2},
                    ],
                    "channel": "ONLINE",
                    "customer": {"email": "demo@example.org", "name": "Demo Customer"},
                    "delivery": {
                        "address": {
                            "name": "Demo Customer",
                            "line1": "Invalidenstrasse 44",
                            "city": "Berlin",
                            "postalCode": "10115",
                            "countryCode": "DE",
                            "lat": 52.52,
                            "lng": 13.405,
                        }
                    },
                },
                key=f"demo-{run}-routed",
            )
        )["placeOrder"]
        order = (await _data(url, ROUTED_ORDER, id=placed["id"]))["order"]
        routing = order["routing"]
        nodes = sorted({line["locationId"] for line in order["lines"]})
        summary.say(
            f"placeOrder      -> {order['id']} {order['status']} from {', '.join(nodes)} "
            f"({routing['strategy']})"
        )
        summary.say(
            f"Order.routing   -> decided {routing['decidedAt']}; replayed on its stored "
            f"inputs: {'same plan' if routing['replay']['samePlan'] else 'DIFFERENT'}"
        )
        summary.ok = routing["replay"]["samePlan"] and bool(nodes)
    except FlowFailed as failure:
        summary.say(f"FAILED: {failure}")
        summary.ok = False
    return summary


async def pickup_and_return(url: str) -> Summary:
    """Place a click-and-collect order, pick it up and return it, through the API only."""
    summary = Summary()
    run = uuid.uuid4().hex[:8]
    try:
        available, _ = await _shelf(url)
        summary.say(f"{FLOW_SKU} at {FLOW_STORE}: {available} available to promise")
        order = (
            await _data(
                url,
                PLACE,
                input={
                    "lines": [{"sku": FLOW_SKU, "quantity": 1}],
                    "channel": "PICKUP",
                    "customer": {"email": "demo@example.org", "name": "Demo Customer"},
                    "pickup": {"locationId": FLOW_STORE},
                },
                key=f"demo-{run}-place",
            )
        )["placeOrder"]
        order_id = order["id"]
        held, _ = await _shelf(url)
        summary.say(f"placeOrder      -> {order_id} {order['status']}; available now {held}")
        await _settled(url, order_id)
        ready = await _data(url, READY, id=order_id, key=f"demo-{run}-ready")
        summary.say(
            f"markReadyForPickup -> {ready['markReadyForPickup']['status']} "
            f"(collect by {ready['markReadyForPickup']['pickupDeadline']})"
        )
        picked = await _data(url, PICKED_UP, id=order_id, key=f"demo-{run}-pickup")
        summary.say(f"confirmPickup   -> {picked['confirmPickup']['status']}")
        await _settled(url, order_id)
        opened = (
            await _data(
                url,
                REQUEST_RETURN,
                id=order_id,
                lines=[
                    {"sku": FLOW_SKU, "quantity": 1, "reason": "SIZE_OR_FIT", "condition": "NEW"}
                ],
                key=f"demo-{run}-return",
            )
        )["requestReturn"]
        await _settled(url, order_id)
        _, incoming = await _shelf(url)
        dispositions = ", ".join(f"{x['sku']} {x['disposition']}" for x in opened["lines"])
        summary.say(
            f"requestReturn   -> {opened['id']} {opened['status']} ({dispositions}); "
            f"{incoming} incoming at the store"
        )
        received = await _data(url, RECEIVE_RETURN, id=opened["id"], key=f"demo-{run}-receive")
        summary.say(f"receiveReturn   -> {received['receiveReturn']['status']}")
        owed = await _settled(url, order_id)
        final = (await _data(url, ORDER, id=order_id))["order"]
        closed = (await _data(url, RETURN, id=opened["id"]))["returnRequest"]
        back, _ = await _shelf(url)
        summary.say(f"order {order_id}: {final['status']}; return {closed['status']}")
        summary.say(f"OMS order {_system(final, 'OMS')}; backend writes delivered: {len(owed)}")
        summary.say(f"{FLOW_SKU} at {FLOW_STORE}: {back} available to promise again")
        summary.ok = (
            final["status"] == "RETURNED" and closed["status"] == "CLOSED" and back == available
        )
    except FlowFailed as failure:
        summary.say(f"FAILED: {failure}")
        summary.ok = False
    return summary
