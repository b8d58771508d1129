"""Every service one gateway process runs, as the composition root (gateway.app) wires
them; resolvers and the background loops reach the services through this."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.admin import ApiKeyAdmin
from gateway.auth.authenticator import Authenticator
from gateway.auth.order_tokens import OrderTokens
from gateway.config import Settings
from gateway.events.bus import ChangeBus
from gateway.events.inbox import WebhookInbox
from gateway.events.polls import DeltaPoll
from gateway.events.processor import WebhookProcessor
from gateway.governance.order_watch import OrderWatch
from gateway.governance.short_hold_watch import ShortHoldWatch
from gateway.ports import BackendHealthSource, ErpPort
from gateway.services.availability import AvailabilityService
from gateway.services.catalog import CatalogService
from gateway.services.cycle_counts import CycleCountPlanner
from gateway.services.fulfillment import FulfillmentPlanner
from gateway.services.item_barcodes import ItemBarcodes
from gateway.services.kpis import KpiService
from gateway.services.orders.book import OrderBook
from gateway.services.orders.lifecycle import OrderLifecycle
from gateway.services.orders.placement import OrderPlacement
from gateway.services.orders.sync import OrderSync
from gateway.services.orders.web_orders import WebOrderImporter
from gateway.services.outbox.admin import OutboxAdmin
from gateway.services.outbox.worker import OutboxWorker
from gateway.services.picking import PickingService
from gateway.services.replenishment import ReplenishmentService
from gateway.services.reservations import ReservationService
from gateway.services.returns.service import ReturnService
from gateway.services.weekly_report import WeeklyReports
from gateway.truth.ledger_check import LedgerCheck
from gateway.truth.reconciler import Reconciler
from gateway.truth.recorded_counts import CountRecorder
from gateway.truth.service import TruthService
from gateway.truth.sync import StorefrontSync


@dataclass(frozen=True)
class Services:
    settings: Settings
    authenticator: Authenticator  # who is asking, from a request's credentials
    keys: ApiKeyAdmin
    order_tokens: OrderTokens
    catalog: CatalogService
    availability: AvailabilityService
    erp: ErpPort
    reservations: ReservationService
    fulfillment: FulfillmentPlanner
    orders: OrderBook
    placement: OrderPlacement
    lifecycle: OrderLifecycle
    order_sync: OrderSync
    returns: ReturnService
    outbox: OutboxAdmin
    truth: TruthService
    reconciler: Reconciler
    ledger_check: LedgerCheck
    storefront_sync: StorefrontSync
    worker: OutboxWorker
    web_orders: WebOrderImporter
    order_watch: OrderWatch
    short_holds: ShortHoldWatch
    webhooks: WebhookInbox
    webhook_processor: WebhookProcessor
    backend_health: BackendHealthSource  # how each backend's calls are going, per process
    changes: ChangeBus  # what subscribers in every process are told
    delta_poll: DeltaPoll  # the safety net under the webhooks
    item_barcodes: ItemBarcodes  # internal codes for items that have none
    replenishment: ReplenishmentService  # when and how much each node should reorder
    cycle_counts: CycleCountPlanner  # which SKUs a node counts on a day
    counts: CountRecorder  # a count recorded, its variance written to the node's source
    kpis: KpiService  # the figures a store team reviews weekly
    weekly_reports: WeeklyReports  # a store's week on one page
    picking: PickingService  # pick lists, short picks, substitutions
