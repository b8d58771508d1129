"""Composition root: the only place concrete adapters are wired into services.

``create_app(settings)`` builds the Starlette app; its lifespan opens one httpx client per
backend and the cache, and closes them on the way out. Tests pass ``backends`` to run the
same app over in-memory fakes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import orjson
from opentelemetry.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway import background
from gateway.auth.admin import ApiKeyAdmin
from gateway.auth.authenticator import Authenticator
from gateway.auth.edge import Authenticate
from gateway.auth.order_tokens import OrderTokens
from gateway.auth.tokens import TokenVerifier, signing_keys
from gateway.cache import Cache, cache_for
from gateway.clock import SystemClock
from gateway.config import Settings
from gateway.domain import SourceSystem, Via
from gateway.domain.events import StockChanged
from gateway.domain.freshness import StaleSafety
from gateway.domain.principal import StoredKey
from gateway.errors import Unauthenticated
from gateway.events.bus import ChangeBus, InProcess
from gateway.events.feed import ChangeFeed
from gateway.events.http import webhook
from gateway.events.inbox import WebhookInbox
from gateway.events.polls import DeltaPoll
from gateway.events.processor import WebhookProcessor
from gateway.governance.order_watch import OrderWatch
from gateway.governance.short_hold_reroute import ShortHoldReroute
from gateway.governance.short_hold_watch import ShortHoldWatch
from gateway.governance.write_failures import WriteFailures
from gateway.graphiql import ASSETS_PATH, graphiql_assets, graphiql_page
from gateway.heap import startup_heap_frozen
from gateway.nodes import load_node_file
from gateway.observability.metrics import Metrics
from gateway.observability.request_metrics import GraphQLRequestMetrics
from gateway.observability.requests import ObservedStarlette
from gateway.observability.scrape import metrics_endpoint
from gateway.observability.tracing import Tracing
from gateway.persisted import PersistedDocuments, PersistedOperations
from gateway.persistence.database import Database, create_engine
from gateway.persistence.hold_batcher import HoldBatcher
from gateway.persistence.ledger_source import DatabaseLedger
from gateway.persistence.migrate import upgrade
from gateway.persistence.pg_holds import PostgresHoldTaker
from gateway.persistence.sqlite_holds import SqliteHoldTaker
from gateway.persistence.unit_of_work import SqlStorage
from gateway.ports import (
    BackendHealthSource,
    Clock,
    ErpBackend,
    MailPort,
    OmsPort,
    PosBackend,
    StorefrontBackend,
)
from gateway.ratelimit import rate_limiter_for
from gateway.ratelimit.edge import RateLimit
from gateway.readiness import health, readiness
from gateway.request_guard import RequestGuard, read_body, replaying
from gateway.request_json import NestedTooDeep, read_json
from gateway.response_cache import QueryMarking, ResponseMicroCache
from gateway.running import background_tasks, open_change_bus
from gateway.services.availability import AvailabilityService, PromiseCap
from gateway.services.cached_sources import CachedErp, CachedPos, CachedStorefront, Ttls
from gateway.services.catalog import CatalogService
from gateway.services.commands import Commands
from gateway.services.container import Services
from gateway.services.cycle_counts import CycleCountPlanner
from gateway.services.fulfillment import FulfillmentPlanner
from gateway.services.item_barcodes import ItemBarcodes
from gateway.services.kpis import KpiService
from gateway.services.locations import LocationDirectory
from gateway.services.orders.book import OrderBook
from gateway.services.orders.lifecycle import OrderLifecycle
from gateway.services.orders.placement import OrderPlacement
from gateway.services.orders.reports import OrderReports
from gateway.services.orders.sync import OrderSync
from gateway.services.orders.web_orders import WebOrderImporter
from gateway.services.orders.web_placement import WebOrderPlacement
from gateway.services.outbox.admin import OutboxAdmin
from gateway.services.outbox.erp import ErpWrites
from gateway.services.outbox.mail import MailWrites
from gateway.services.outbox.oms import OmsWrites
from gateway.services.outbox.pos import PosWrites
from gateway.services.outbox.storefront import StorefrontWrites
from gateway.services.outbox.worker import OutboxWorker, RetryPolicy
from gateway.services.picking import PickingService
from gateway.services.replenishment import ReplenishmentService
from gateway.services.reservations import HoldPolicy, ReservationService
from gateway.services.returns.rules import DEFAULT_RULES, parse_rules
from gateway.services.returns.service import ReturnService
from gateway.services.weekly_report import WeeklyReports
from gateway.truth.ledger_check import LedgerCheck
from gateway.truth.policy import check as check_policy
from gateway.truth.reconciler import Reconciler
from gateway.truth.recorded_counts import CountRecorder
from gateway.truth.service import TruthService
from gateway.truth.store_counts import StoreCountCopy
from gateway.truth.sync import StorefrontSync
from resolvers.compiled.http import CompiledHttp
from resolvers.compiled.operations import CompiledOperations
from resolvers.context import GatewayContext
from resolvers.schema import build_schema

log = logging.getLogger(__name__)
# What a browser client sends besides the simple headers: credentials, tracing, request ids.
CORS_HEADERS = ["Authorization", "Content-Type", "X-Api-Key", "X-Request-Id", "traceparent"]


@dataclass
class Backends:
    """One adapter per backend. Each adapter implements its backend's read port and its
    write port (ERPNext: ErpPort + ErpOrdersPort, and so on)."""

    erp: ErpBackend
    storefront: StorefrontBackend
    pos: PosBackend
    oms: OmsPort
    mail: MailPort | None = None  # None: customers are not mailed
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    # How each backend's calls are going, as its guard sees them (adapters.resilience).
    health: BackendHealthSource = field(default=lambda: [])


BackendsFactory = Callable[[Settings], Awaitable[Backends]]


async def http_backends(
    settings: Settings, *, observe: Callable[[str, str, str, float | None], None] | None = None
) -> Backends:
    """The real adapters, one AsyncClient each, pointed at the configured base URLs;
    ``observe`` is told of every backend call (the metrics: adapters.resilience.policy)."""
    from adapters.erpnext import ErpNextAdapter, build_erpnext_client
    from adapters.http import build_policy
    from adapters.shopify import ShopifyAdapter, build_shopify_client
    from adapters.smtp import SmtpMailer
    from adapters.square import SquareAdapter, build_square_client
    from adapters.woocommerce import WooCommerceAdapter, build_woocommerce_client

    erp_client = build_erpnext_client(settings)
    woo_client = build_woocommerce_client(settings)
    square_client = build_square_client(settings)
    oms_client = build_shopify_client(settings)
    retries = settings.http_max_retries
    guards = {
        name: build_policy(settings, name, observe=observe)
        for name in ("erpnext", "woocommerce", "square", "shopify")
    }
    return Backends(
        erp=ErpNextAdapter(
            erp_client,
            timezone=settings.erp_timezone,
            max_retries=retries,
            policy=guards["erpnext"],
        ),
        storefront=WooCommerceAdapter(
            woo_client,
            max_retries=retries,
            currency=settings.woo_currency,
            policy=guards["woocommerce"],
        ),
        pos=SquareAdapter(
            square_client,
            max_retries=retries,
            policy=guards["square"],
            shelf_attribute=settings.picking.shelf_attribute,
        ),
        oms=ShopifyAdapter(oms_client, max_retries=retries, policy=guards["shopify"]),
        mail=None
        if settings.smtp_host is None
        else SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_start_tls,
            use_tls=settings.smtp_use_tls,
        ),
        clients=[erp_client, woo_client, square_client, oms_client],
        health=lambda: [guard.report() for guard in guards.values()],
    )


def build_services(
    settings: Settings,
    backends: Backends,
    cache: Cache,
    db: Database,
    clock: Clock | None = None,
    changes: ChangeBus | None = None,
    identity_http: httpx.AsyncClient | None = None,
) -> Services:
    clock = clock or SystemClock()
    # Not started: changes are told to nobody (the services of a one-off command).
    changes = changes or ChangeBus(InProcess(), ChangeFeed())
    ttls = Ttls(
        item=settings.cache_ttl_item_seconds,
        web_listing=settings.cache_ttl_web_listing_seconds,
        pos_catalog=settings.cache_ttl_pos_catalog_seconds,
        stock=settings.cache_ttl_stock_seconds,
        locations=settings.cache_ttl_locations_seconds,
        kits=settings.cache_ttl_kits_seconds,
    )
    erp = CachedErp(backends.erp, cache, ttls, clock)
    storefront = CachedStorefront(backends.storefront, cache, ttls)
    pos = CachedPos(backends.pos, cache, ttls, clock)
    directory = LocationDirectory(
        erp,
        pos,
        load_node_file(settings.nodes_file),
        warehouse_safety_stock=settings.warehouse_safety_stock,
        store_safety_stock=settings.store_safety_stock,
    )
    # A reading is never older than the stock TTL, so a movement its source applied
    # longer ago than this is in every reading still in use.
    horizon = timedelta(seconds=max(300, 4 * settings.cache_ttl_stock_seconds))
    # The hold taker and the batched reserves each database gets.
    postgres = db.dialect == "postgresql"
    storage = SqlStorage(
        db,
        holds=partial(PostgresHoldTaker if postgres else SqliteHoldTaker, horizon=horizon),
        published=changes.publish,
    )
    uow = storage.unit_of_work

    async def find_key(key_id: str) -> StoredKey | None:
        async with uow(read_only=True) as reading:
            return await reading.api_keys.get(key_id)

    keys = signing_keys(settings.auth, identity_http or httpx.AsyncClient(timeout=5.0))
    authenticator = Authenticator(
        find_key,
        None if keys is None else TokenVerifier(settings.auth, keys),
        key_cache_seconds=settings.auth.key_cache_seconds,
    )

    async def oversell_risks(skus: Sequence[str]) -> Collection[str]:
        async with uow(read_only=True) as reading:
            return (await reading.discrepancies.open_oversell_risks(skus)).keys()

    cap = settings.truth.oversell_risk_promise_cap
    availability = AvailabilityService(
        erp,
        pos,
        directory,
        low_stock_threshold=settings.low_stock_threshold,
        ledger=DatabaseLedger(db, clock, horizon),
        promise_cap=None if cap is None else PromiseCap(cap, oversell_risks),
        stale_safety=StaleSafety(
            settings.resilience.stale_safety_percent, settings.resilience.stale_safety_units
        ),
    )
    catalog = CatalogService(
        erp,
        storefront,
        pos,
        settings.field_policy,
        settings.barcodes.layouts(),
        settings.barcodes.currency,
    )

    async def answers_changed(skus: Sequence[str], *, at_sources: bool = False) -> None:
        # Holds are read from the database on every request; only whole answers cached
        # in front of it (the response micro-cache) need to be told. The storefront's copy
        # of these SKUs' stock follows (coalesced, pushed by the storefront-sync loop).
        await cache.bump_generation()
        storefront_sync.note(skus)
        if skus:
            changes.publish([StockChanged(tuple(skus), at_sources)])

    async def sources_changed(skus: Sequence[str]) -> None:
        # A backend recorded one of our writes: fetch its figures afresh (the storefront's
        # listing too, when the write was a stock push).
        await cache.invalidate("erp:stock", skus)
        await cache.invalidate("pos:stock", skus)
        await cache.invalidate("web:listing", skus)
        storefront_sync.note(skus)
        if skus:
            changes.publish([StockChanged(tuple(skus))])

    async def item_changed(sku: str, barcodes: Sequence[str]) -> None:
        # An Item master the gateway wrote (a barcode added): its cached copy, and the
        # look-ups of those codes (their absence is cached too), are read afresh.
        await cache.invalidate("erp:item", [sku])
        await cache.invalidate("erp:barcode", barcodes)

    write_failures = WriteFailures(settings.truth)
    worker = OutboxWorker(
        uow,
        [
            ErpWrites(backends.erp, item_changed),
            PosWrites(backends.pos),
            OmsWrites(backends.oms),
            # The raw adapter: a push compares with what the storefront shows now.
            StorefrontWrites(backends.storefront, backends.storefront),
            *([] if backends.mail is None else [MailWrites(backends.mail)]),
        ],
        clock,
        RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            first_delay=timedelta(seconds=settings.outbox_first_retry_seconds),
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        ),
        sources_changed,
        failures=write_failures,
    )
    commands = Commands(uow, clock, answers_changed, worker.wake)
    storefront_sync = StorefrontSync(
        uow, backends.storefront, availability, clock, settings.truth, worker.wake
    )
    # A reconcile reads the sources straight (a full one would fill any cache with the whole
    # catalogue); it shares the node directory and the ledger.
    sources = AvailabilityService(
        backends.erp,
        backends.pos,
        directory,
        low_stock_threshold=settings.low_stock_threshold,
        ledger=DatabaseLedger(db, clock, horizon),
    )
    reconciler = Reconciler(
        uow,
        backends.erp,
        backends.storefront,
        backends.pos,
        sources,
        clock,
        settings.truth,
        worker.wake,
        StoreCountCopy(uow, backends.pos, clock, settings.truth),
        own_changes=storefront_sync.flush,
    )
    hold_policy = HoldPolicy(
        default_ttl=timedelta(seconds=settings.hold_default_ttl_seconds),
        max_ttl=timedelta(seconds=settings.hold_max_ttl_seconds),
        erp_customer=settings.erp_customer,
    )
    batched = (
        HoldBatcher(
            db.engine,
            clock,
            horizon,
            max_batch=settings.hold_batch_size,
            linger_seconds=settings.hold_batch_linger_ms / 1000,
        )
        if postgres
        else None
    )
    if batched is not None:
        db.adopt(batched)
    holds = ReservationService(
        uow, commands, availability, clock, hold_policy, answers_changed, batched
    )
    planner = FulfillmentPlanner(uow, availability, catalog, clock, settings.routing)
    reports = OrderReports(backends.oms, backends.erp, backends.storefront)
    lifecycle = OrderLifecycle(
        uow,
        commands,
        availability,
        holds,
        timedelta(hours=settings.pickup_window_hours),
        reports,
        settings.web_pickup_status,
        mails_customers=backends.mail is not None,
    )
    order_watch = OrderWatch(
        uow,
        reports,
        lifecycle,
        clock,
        settings.truth,
        answers_changed,
        worker.wake,
        window=timedelta(days=settings.order_watch_days),
    )
    placement = OrderPlacement(commands, availability, catalog, holds, planner, clock, hold_policy)
    web_orders = WebOrderImporter(
        uow,
        backends.storefront,
        clock,
        answers_changed,
        WebOrderPlacement(
            commands,
            availability,
            planner,
            placement,
            hold_policy,
            settings.truth,
            settings.web_order_default_location_id,
        ),
        order_watch,
    )

    async def stock_heard(skus: Sequence[str], via: Via) -> None:
        # A backend says these SKUs' stock or listing changed: read them afresh now, so the
        # next answer (and every subscriber) has them, marked with how the gateway knew.
        if skus:
            try:
                await asyncio.gather(erp.refresh(skus, via), pos.refresh(skus, via))
            except Exception as error:  # read when next asked instead
                log.warning("could not read %d changed SKUs at once: %s", len(skus), error)
                await cache.invalidate("erp:stock", skus)
                await cache.invalidate("pos:stock", skus)
            await cache.invalidate("web:listing", skus)
        await answers_changed(skus, at_sources=True)
        # (The reconcile that follows queues the storefront pushes the gateway owes first:
        # Reconciler's own_changes.)

    webhook_processor = WebhookProcessor(
        uow,
        web_orders,
        order_watch,
        backends.pos,
        stock_heard,
        lambda skus: reconciler.run(skus),
        clock,
    )

    async def store_refs() -> list[str]:
        located = await availability.all_locations()
        return [loc.source_ref for loc in located if loc.source is SourceSystem.POS]

    delta_poll = DeltaPoll(
        uow,
        backends.erp,
        backends.storefront,
        backends.pos,
        store_refs,
        stock_heard,
        lambda skus: reconciler.run(skus),
        clock,
    )
    replenishment = ReplenishmentService(
        catalog, erp, availability, pos, uow, clock, settings.replenishment
    )
    reroute = ShortHoldReroute(
        uow,
        availability,
        planner,
        placement,
        hold_policy,
        clock,
        mails_customers=backends.mail is not None,
    )
    kpis = KpiService(
        catalog,
        erp,
        pos,
        availability,
        replenishment,
        uow,
        clock,
        settings.kpis,
        settings.cycle_counts,
        settings.picking,
    )
    return Services(
        settings=settings,
        authenticator=authenticator,
        keys=ApiKeyAdmin(uow, clock),
        order_tokens=OrderTokens(settings.auth),
        catalog=catalog,
        item_barcodes=ItemBarcodes(commands, backends.erp, settings.barcodes),
        replenishment=replenishment,
        cycle_counts=CycleCountPlanner(catalog, replenishment, settings.cycle_counts),
        kpis=kpis,
        weekly_reports=WeeklyReports(kpis, replenishment, availability, erp, uow, clock),
        picking=PickingService(
            commands,
            uow,
            availability,
            catalog,
            erp,
            pos,
            holds,
            reroute,
            clock,
            settings.picking,
            hold_policy,
            mails_customers=backends.mail is not None,
        ),
        counts=CountRecorder(
            commands,
            availability,
            backends.erp,
            backends.pos,
            clock,
            settings.cycle_counts,
            settings.truth,
        ),
        availability=availability,
        erp=erp,
        reservations=holds,
        fulfillment=planner,
        orders=OrderBook(uow),
        placement=placement,
        lifecycle=lifecycle,
        order_sync=OrderSync(
            uow,
            commands,
            lifecycle,
            clock,
            answers_changed,
            worker.wake,
            reports,
        ),
        returns=ReturnService(
            uow,
            commands,
            availability,
            DEFAULT_RULES if settings.return_rules is None else parse_rules(settings.return_rules),
            settings.returns_location_id,
            mails_customers=backends.mail is not None,
        ),
        outbox=OutboxAdmin(uow, commands, write_failures),
        truth=TruthService(uow, commands, reconciler, clock, settings),
        reconciler=reconciler,
        ledger_check=LedgerCheck(
            uow, backends.erp, directory.locations, clock, settings.truth, settings.erp_customer
        ),
        storefront_sync=storefront_sync,
        worker=worker,
        order_watch=order_watch,
        short_holds=ShortHoldWatch(
            uow,
            availability,
            backends.pos,
            clock,
            settings.truth,
            reroute=reroute,
            mails_customers=backends.mail is not None,
        ),
        web_orders=web_orders,
        webhooks=WebhookInbox(
            uow,
            {
                SourceSystem.STOREFRONT: settings.woo_webhook_secrets,
                SourceSystem.POS: settings.square_webhook_signature_keys,
                SourceSystem.OMS: settings.shopify_webhook_secrets,
                SourceSystem.ERP: settings.erp_webhook_secrets,
            },
            clock,
            webhook_processor.wake,
            timedelta(seconds=settings.webhook_max_age_seconds),
        ),
        webhook_processor=webhook_processor,
        backend_health=backends.health,
        changes=changes,
        delta_poll=delta_poll,
    )


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    # Known documents' plans (resolvers.compiled); None: every request through strawberry.
    compiled: CompiledOperations | None = None
    _shortcut: CompiledHttp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        compiled = self.compiled
        if compiled is not None and scope["type"] == "http" and scope["method"] == "POST":
            # A known operation sent as plain JSON skips the HTTP view (resolvers.compiled.
            # http); the body was read whole and checked by RequestGuard outside.
            shortcut = self._shortcut
            if shortcut is None or shortcut.compiled is not compiled:
                shortcut = self._shortcut = CompiledHttp(self, compiled)
            body = await read_body(receive)
            if await shortcut.answer(scope, body, send):
                return
            receive = replaying(body)
        await super().__call__(scope, receive, send)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: GatewayContext,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        compiled = self.compiled
        variables = request_data.variables
        plan = (
            compiled.plan_for(request_data.query, request_data.operation_name)
            if compiled is not None and (variables is None or isinstance(variables, dict))
            else None
        )
        if plan is not None and plan.operation_type in OperationType.from_http(
            request_adapter.method
        ):
            assert compiled is not None and request_data.query is not None
            return await compiled.execute(
                plan,
                query=request_data.query,
                variables=variables,
                context=context,
                operation_name=request_data.operation_name,
            )
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # A body as the layers before the view read it (once, shared); and JSON nested too
        # deeply for the json module refused as strawberry refuses malformed JSON (a 400),
        # where its RecursionError was an HTTP 500 (a GET's variables: the body guard
        # refuses a POST's before it gets here).
        try:
            return read_json(data) if isinstance(data, bytes) else json.loads(data)
        except (NestedTooDeep, RecursionError):
            raise json.JSONDecodeError("nested too deeply to read", "", 0) from None

    async def get_context(self, request: Any, response: Any) -> GatewayContext:
        if isinstance(request, WebSocket):  # one context for the socket's whole life
            return GatewayContext(request.app.state.services, connection=request, remember=False)
        # gateway.auth.edge let it in: it names who is asking (none for GraphiQL's page).
        principal = getattr(request.state, "principal", None)
        return GatewayContext(request.app.state.services, principal=principal)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Asked only when GraphiQL is on (strawberry answers 404 otherwise). The page loads
        # nothing but the gateway's own copies of its scripts: it works offline.
        page = graphiql_page(request.scope.get("root_path", ""))
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        """A subscriber names itself in connection_init's payload (browsers cannot set
        headers on a WebSocket), else on the upgrade request; refused: closed with 4403."""
        params = context.connection_params or {}
        headers = context.connection.headers if context.connection is not None else {}
        given = params.get("Authorization") or params.get("authorization")
        key = params.get("X-API-Key") or params.get("x-api-key")
        try:
            context.principal = await context.services.authenticator.principal(
                given if isinstance(given, str) else headers.get("authorization"),
                key if isinstance(key, str) else headers.get("x-api-key"),
            )
        except Unauthenticated as refused:
            raise ConnectionRejectionError({"message": str(refused)}) from refused
        return UNSET


def create_app(
    settings: Settings | None = None,
    *,
    backends: BackendsFactory | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    settings = settings or Settings()
    # Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test lends a provider).
    tracing = Tracing.from_environment() if tracer_provider is None else Tracing(tracer_provider)
    # A source-of-truth policy the gateway cannot honour stops it here, saying why.
    check_policy(settings.truth, settings.field_policy)
    # This app's own metrics: nothing registered globally, so apps never share counts.
    metrics = Metrics()
    make_backends = backends or partial(http_backends, observe=metrics.backend_call)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            opened = await make_backends(settings)
            for client in opened.clients:
                stack.push_async_callback(client.aclose)
            if tracing is not None:
                stack.push_async_callback(tracing.close)  # last out: flushes every span
                tracing.instrument_clients(opened.clients)
            cache = cache_for(settings)
            cache.observer = metrics
            stack.push_async_callback(cache.close)
            limiter = rate_limiter_for(settings.rate_limit, settings.redis_url)
            stack.push_async_callback(limiter.close)
            app.state.rate_limiter = limiter
            db = Database(
                create_engine(settings.database_url, pool_size=settings.database_pool_size)
            )
            stack.push_async_callback(db.close)
            if settings.migrate_on_start:
                await upgrade(db)
            if tracing is not None:  # after the migrations: requests' SQL, not start-up's
                tracing.instrument_database(db)
            bus = await open_change_bus(stack, settings, db, cache)
            identity_http = httpx.AsyncClient(timeout=5.0)  # the JWKS, when fetched
            stack.push_async_callback(identity_http.aclose)
            services = build_services(
                settings, opened, cache, db, changes=bus, identity_http=identity_http
            )
            app.state.services = services
            app.state.cache = cache
            app.state.db = db
            stack.enter_context(startup_heap_frozen())
            if settings.run_workers:
                running = background.start(background_tasks(settings, services, db))
                stack.push_async_callback(background.stop, running)
            yield

    schema = build_schema(
        settings.limits,
        tracer=None if tracing is None else tracing.tracer,
        introspection=settings.introspection,
    )
    graphql = GatewayGraphQL(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        # Subscriptions: the current protocol only (the legacy graphql-ws is unmaintained).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    # Read at start: a manifest that cannot be read stops the gateway here, saying why.
    persisted = PersistedOperations.load(
        settings.persisted.manifest, safelist=settings.persisted.safelist
    )
    # Plans for known documents, made here at start. With traces on, every operation runs
    # through strawberry, whose extensions make the spans.
    mode = settings.persisted.compile
    if mode != "off" and tracing is None:
        graphql.compiled = CompiledOperations(
            schema, set(persisted.documents.values()), compile_any=mode == "all"
        )
    guarded = RequestGuard(
        PersistedDocuments(QueryMarking(graphql), persisted),
        max_body_bytes=settings.limits.max_body_bytes,
    )
    # Outside the body checks: a replay is of a body that passed them (response_cache.py).
    cached = ResponseMicroCache(
        guarded,
        ttl_seconds=settings.response_cache_seconds,
        # Requests arrive only after the lifespan has opened the cache.
        generation=lambda: app.state.cache.generation(),
        max_body_bytes=settings.limits.max_body_bytes,
        observer=metrics,
    )
    limited = RateLimit(cached, lambda: app.state.rate_limiter)
    door = Authenticate(limited, lambda: app.state.services.authenticator)
    # GraphiQL's scripts are mounted only with its page: with GraphiQL off, the gateway
    # serves no trace of an explorer (nor which version it would be).
    explorer: list[BaseRoute] = [Mount(ASSETS_PATH, graphiql_assets())] if settings.graphiql else []
    # Every response carries X-Request-Id, the log lines of its request name it
    # (gateway.observability.requests); with tracing on, each request is a span.
    # Browsers on the listed origins may call /graphql (preflight answered here); others,
    # and every origin when none is listed, are left to the same-origin policy.
    cors = (
        [
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allow_origins,
                allow_methods=["GET", "POST"],
                allow_headers=CORS_HEADERS,
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=600,
            )
        ]
        if settings.cors_allow_origins
        else []
    )
    app = ObservedStarlette(
        wrap=None if tracing is None else tracing.server_spans,
        middleware=cors,
        routes=[
            Route(
                "/graphql",
                GraphQLRequestMetrics(door, metrics, max_tokens=settings.limits.max_tokens),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
            Route("/readyz", readiness),
            Route("/metrics", metrics_endpoint),
            Route("/webhooks/{backend}", webhook, methods=["POST"]),
            *explorer,
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.graphql = graphql  # the GraphQL view, its compiled operations with it
    return app
