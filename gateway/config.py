"""Settings, read once from the environment (or a .env file) and frozen.

Every field is an environment variable of the same name in upper case (ERP_BASE_URL, ...).
The README has the table; keep it in step with this class.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.domain import NodeType, SourceSystem
from gateway.domain.embedded_barcodes import EmbeddedLayout, EmbeddedValue
from gateway.domain.truth import DiscrepancyKind, Enforcement, Severity
from gateway.routing.model import Strategy

# Which system wins for which product field, first that has a value wins. The ERP is the
# system of record for what an item is; each channel owns the price it charges.
DEFAULT_FIELD_POLICY: dict[str, list[SourceSystem]] = {
    "name": [SourceSystem.ERP, SourceSystem.STOREFRONT, SourceSystem.POS],
    "category": [SourceSystem.ERP],
    "barcodes": [SourceSystem.ERP],
    "cost": [SourceSystem.ERP],
    "tax_category": [SourceSystem.ERP],
    "description": [SourceSystem.ERP],
    "list_price": [SourceSystem.ERP],
    "web_price": [SourceSystem.STOREFRONT, SourceSystem.ERP],
    "store_price": [SourceSystem.POS, SourceSystem.ERP],
    "web_status": [SourceSystem.STOREFRONT],
    "permalink": [SourceSystem.STOREFRONT],
}


class RateBandSettings(BaseModel, frozen=True):
    up_to_km: int
    first_parcel: int  # minor units
    additional_parcel: int
    transit_days: int


class ServiceSettings(BaseModel, frozen=True):
    name: str
    bands: list[RateBandSettings]


class NodeTermsSettings(BaseModel, frozen=True):
    """A node type's default fulfillment terms (the node file overrides them per node)."""

    daily_capacity: int | None
    cutoff: str  # "HH:MM", local to ``timezone``
    timezone: str = "Europe/Berlin"
    handling_per_order: int = 0  # minor units
    handling_per_unit: int = 0


DEFAULT_SERVICES = [
    ServiceSettings(
        name="STANDARD",
        bands=[
            RateBandSettings(up_to_km=50, first_parcel=490, additional_parcel=150, transit_days=1),
            RateBandSettings(up_to_km=200, first_parcel=590, additional_parcel=200, transit_days=2),
            RateBandSettings(
                up_to_km=1000, first_parcel=790, additional_parcel=250, transit_days=3
            ),
        ],
    ),
    ServiceSettings(
        name="EXPRESS",
        bands=[
            RateBandSettings(
                up_to_km=200, first_parcel=1290, additional_parcel=300, transit_days=0
            ),
            RateBandSettings(
                up_to_km=1000, first_parcel=1590, additional_parcel=400, transit_days=1
            ),
        ],
    ),
]


class RoutingSettings(BaseModel, frozen=True):
    """The router's rate table and policy; ROUTING__SPLIT_PENALTY=500 and the like, or
    ROUTING='{...}' as JSON. Money in minor units of ``currency``."""

    online_strategy: Strategy = Strategy.COST
    currency: str = "EUR"
    units_per_parcel: int = 5
    services: list[ServiceSettings] = Field(default_factory=lambda: list(DEFAULT_SERVICES))
    split_penalty: int = 300
    max_radius_km: int | None = 1000
    # A node is not routed to when the gateway read its figures longer ago than this,
    stale_after_seconds: int | None = 900
    # or when their source has not stated or moved them for longer than this (its own
    # stamp: a Bin's modified, a Square count's calculated_at). Long, since a slow seller
    # is rightly untouched for weeks; what it catches is a source that stopped updating.
    source_stale_after_seconds: int | None = 30 * 86_400
    max_shipments: int = 4
    excess_days: int | None = 60
    excess_bonus: int = 20
    store_reserve: int = 1
    store_reserve_penalty: int = 50
    # Days of sales the days-of-supply figure is measured over.
    demand_window_days: int = 28
    warehouse: NodeTermsSettings = NodeTermsSettings(
        daily_capacity=5000, cutoff="16:00", handling_per_order=150, handling_per_unit=20
    )
    store: NodeTermsSettings = NodeTermsSettings(
        daily_capacity=60, cutoff="18:00", handling_per_order=250, handling_per_unit=40
    )


ItemMasterField = Literal["name"]


def _names_only() -> list[ItemMasterField]:
    return ["name"]


class OwnerRule(BaseModel, frozen=True):
    """Who owns a discrepancy: the first rule whose every given condition matches."""

    owner: str = Field(min_length=1)
    kinds: list[DiscrepancyKind] | None = None
    categories: list[str] | None = None
    location_types: list[NodeType] | None = None


DEFAULT_OWNERS = [
    # An order's exceptions: who makes the order right, whatever node it is at.
    OwnerRule(
        owner="fulfilment",
        kinds=[DiscrepancyKind.UNALLOCATABLE_ORDER, DiscrepancyKind.WRITE_FAILED],
    ),
    # Systems telling a customer different things about one order: who answers them.
    OwnerRule(owner="customer-service", kinds=[DiscrepancyKind.ORDER_STATE_MISMATCH]),
    # A promised unit sold at the till: the store finds a replacement or refunds.
    OwnerRule(owner="store-ops", kinds=[DiscrepancyKind.SHORT_HOLD]),
    OwnerRule(owner="inventory-control", kinds=[DiscrepancyKind.LEDGER_INCONSISTENCY]),
    OwnerRule(owner="store-ops", location_types=[NodeType.STORE]),
    OwnerRule(
        owner="ecommerce",
        kinds=[
            DiscrepancyKind.OVERSELL_RISK,
            DiscrepancyKind.LOST_SALES,
            DiscrepancyKind.STATUS_MISMATCH,
        ],
    ),
    OwnerRule(
        owner="merchandising",
        kinds=[
            DiscrepancyKind.MAPPING_MISSING,
            DiscrepancyKind.BARCODE_CONFLICT,
            DiscrepancyKind.ITEM_MASTER_MISMATCH,
            DiscrepancyKind.PRICE_CHANGED,
        ],
    ),
]


class TruthSettings(BaseModel, frozen=True):
    """Which system is right about what, which copies must follow, and how disagreements are
    queued and corrected. TRUTH__WEB_STOCK_BUFFER=2 and the like, or TRUTH='{...}' as JSON.
    Money in minor units of ``currency``. gateway/truth/policy.py checks it at start."""

    # Authorities: who is right about stock at each node type, and about the item master.
    warehouse_stock: SourceSystem = SourceSystem.ERP
    store_stock: SourceSystem = SourceSystem.POS
    item_master: SourceSystem = SourceSystem.ERP
    # The storefront's stock copy follows the ONLINE available-to-promise less this buffer.
    web_stock_buffer: int = Field(default=0, ge=0)
    # Whether a storefront listing may allow backorders (policy: no overselling).
    web_backorders_allowed: bool = False
    # Item master fields the storefront and the POS must spell as the ERP does.
    item_master_fields: list[ItemMasterField] = Field(default_factory=_names_only)
    # A price change of at least this many percent is flagged (smaller ones are recorded).
    price_jump_percent: int = Field(default=50, ge=1)
    # While a SKU has an open OVERSELL_RISK, each node promises at most this many units of it
    # (holds outstanding included; 0 stops promising it); unset, promises are not capped.
    oversell_risk_promise_cap: int | None = Field(default=None, ge=0)
    # Changes the gateway made within this many seconds may not have reached a copy yet.
    grace_seconds: int = Field(default=120, ge=0)
    # A difference becomes a discrepancy once it has lasted this long (seen first, then seen
    # again at least this much later); before, it may be a write on its way.
    suspect_confirm_seconds: int = Field(default=10, ge=0)
    currency: str = "EUR"
    # Severity from the money at stake (units x price): at least this much is MEDIUM, ...
    severity_at_stake: dict[Severity, int] = Field(
        default_factory=lambda: {
            Severity.MEDIUM: 10_000,
            Severity.HIGH: 100_000,
            Severity.CRITICAL: 1_000_000,
        }
    )
    # Severity of the kinds that put no money at stake directly.
    severity_of_kind: dict[DiscrepancyKind, Severity] = Field(
        default_factory=lambda: {
            DiscrepancyKind.MAPPING_MISSING: Severity.MEDIUM,
            DiscrepancyKind.BARCODE_CONFLICT: Severity.HIGH,
            DiscrepancyKind.ITEM_MASTER_MISMATCH: Severity.LOW,
            DiscrepancyKind.PRICE_CHANGED: Severity.HIGH,
            DiscrepancyKind.LEDGER_INCONSISTENCY: Severity.HIGH,
            DiscrepancyKind.UNALLOCATABLE_ORDER: Severity.HIGH,
            DiscrepancyKind.WRITE_FAILED: Severity.HIGH,
            DiscrepancyKind.ORDER_STATE_MISMATCH: Severity.HIGH,
            DiscrepancyKind.SHORT_HOLD: Severity.CRITICAL,
        }
    )
    # How long an owner has, per severity.
    sla_hours: dict[Severity, float] = Field(
        default_factory=lambda: {
            Severity.CRITICAL: 1.0,
            Severity.HIGH: 4.0,
            Severity.MEDIUM: 24.0,
            Severity.LOW: 72.0,
        }
    )
    # Per kind: push the truth to the copy, or only queue it.
    enforcement: dict[DiscrepancyKind, Enforcement] = Field(
        default_factory=lambda: {
            DiscrepancyKind.OVERSELL_RISK: Enforcement.ENFORCE,
            DiscrepancyKind.LOST_SALES: Enforcement.ENFORCE,
            DiscrepancyKind.STATUS_MISMATCH: Enforcement.ENFORCE,
        }
    )
    owners: list[OwnerRule] = Field(default_factory=lambda: list(DEFAULT_OWNERS))
    default_owner: str = "inventory-control"
    # A scheduled reconcile every this many seconds in one gateway process at a time; 0 = off.
    reconcile_seconds: float = Field(default=300.0, ge=0)
    # SKUs a reconcile reads per page, and pages it works on at once.
    page_size: int = Field(default=100, ge=1, le=100)
    concurrency: int = Field(default=4, ge=1, le=32)
    # The stores' counts a full reconcile adds up are kept and brought up to date by asking
    # Square what changed, this often during a run (gateway.truth.store_counts); a SKU not
    # read in full for this many hours is read in full again.
    store_counts_delta_seconds: float = Field(default=5.0, gt=0)
    store_counts_reread_hours: float = Field(default=24.0, gt=0)


class RequestDeadlineSettings(BaseModel, frozen=True):
    """How long one GraphQL request may wait on backends in all (gateway.deadline):
    REQUEST_DEADLINE__QUERY_SECONDS=2.5 and the like; null for none."""

    query_seconds: float | None = Field(default=2.5, gt=0)
    mutation_seconds: float | None = Field(default=10.0, gt=0)


class BackendGuardSettings(BaseModel, frozen=True):
    """One backend's own limits; unset ones take the shared HTTP_* defaults."""

    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    read_timeout_seconds: float | None = Field(default=None, gt=0)
    # The bulkhead: calls in flight to this backend at once, from this process.
    max_concurrent: int = Field(default=64, ge=1)


class ResilienceSettings(BaseModel, frozen=True):
    """How backend calls are guarded (adapters.resilience), and how a failing backend's last
    good answers are served (gateway.cache). RESILIENCE__BREAKER_OPEN_SECONDS=10,
    RESILIENCE__BACKENDS='{"square": {"read_timeout_seconds": 2}}' and the like."""

    # Circuit breaker per backend: opens on this many failures in a row, or when this share
    # of the last ``breaker_window`` calls failed (once ``breaker_min_calls`` are in); stays
    # open this long, then lets ``breaker_probes`` calls through to find out.
    breaker_failures_in_a_row: int = Field(default=5, ge=1)
    breaker_failure_rate: float = Field(default=0.5, gt=0, le=1)
    breaker_window: int = Field(default=20, ge=1)
    breaker_min_calls: int = Field(default=10, ge=1)
    breaker_open_seconds: float = Field(default=5.0, gt=0)
    breaker_probes: int = Field(default=1, ge=1)
    # A call the request's deadline cut off after this long counts as a failure.
    slow_call_seconds: float = Field(default=1.0, gt=0)
    # One attempt may take at most this share of the time its request has left, so a
    # hanging backend leaves time for the reads that follow (and for the last good copy).
    attempt_share_of_deadline: float = Field(default=0.5, gt=0, le=1)
    # Retries per backend: at most this share of first attempts over the window, plus a floor.
    retry_budget_ratio: float = Field(default=0.2, ge=0)
    retry_budget_floor: int = Field(default=3, ge=0)
    retry_budget_window_seconds: float = Field(default=10.0, gt=0)
    backends: dict[str, BackendGuardSettings] = Field(default_factory=dict)
    # Cached answers are kept this long past their time to live, as the last good copy
    # served (flagged stale) when their backend fails; at most this many in memory.
    stale_keep_seconds: int = Field(default=86_400, ge=0)
    stale_copies_max: int = Field(default=200_000, ge=0)
    # Stale availability promises less: this share of it is kept back, at least this many.
    stale_safety_percent: int = Field(default=20, ge=0, le=100)
    stale_safety_units: int = Field(default=1, ge=0)

    def guard(self, backend: str) -> BackendGuardSettings:
        return self.backends.get(backend, BackendGuardSettings())


class QueryLimitSettings(BaseModel, frozen=True):
    """What one request may ask for at most, checked before anything runs
    (resolvers/schema.py): LIMITS__MAX_DEPTH=15 and the like."""

    max_depth: int = Field(default=15, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    # Apollo Router's default; a 5,000-alias document has about 15,000 tokens alone.
    max_tokens: int = Field(default=15_000, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1)
    # What one operation may cost (resolvers/cost.py): estimated before it runs;
    # "measure" reports the cost in extensions only, "enforce" also refuses over max_cost.
    cost_mode: Literal["measure", "enforce"] = "enforce"
    max_cost: int = Field(default=20_000, ge=1)
    # A list the schema gives no size for is taken to hold this many items.
    assumed_list_size: int = Field(default=10, ge=1)


class EmbeddedLayoutSettings(BaseModel, frozen=True):
    """How the labels of one or more GS1 prefixes (20-29) divide (gateway.domain
    .embedded_barcodes): the item reference's digits, an optional price/weight verifier
    digit, and a value in minor units (PRICE) or grams (WEIGHT) filling the rest."""

    prefixes: list[str]
    value: Literal["PRICE", "WEIGHT"]
    item_digits: int = 5
    verified: bool = False

    @model_validator(mode="after")
    def _possible(self) -> EmbeddedLayoutSettings:
        problem = self.layout().problem()
        if problem is not None:
            raise ValueError(f"barcode layout {self.prefixes}: {problem}")
        return self

    def layout(self) -> EmbeddedLayout:
        return EmbeddedLayout(
            frozenset(self.prefixes), EmbeddedValue(self.value), self.item_digits, self.verified
        )


def _default_layouts() -> list[EmbeddedLayoutSettings]:
    # A common European split: 21-22 a price in cents, 23-25 a weight in grams, each after
    # a five-digit item reference. 20 and 26-29 stay plain codes unless configured.
    return [
        EmbeddedLayoutSettings(prefixes=["21", "22"], value="PRICE"),
        EmbeddedLayoutSettings(prefixes=["23", "24", "25"], value="WEIGHT"),
    ]


class BarcodeSettings(BaseModel, frozen=True):
    """In-store barcodes. BARCODES__EMBEDDED='[{"prefixes": ["20"], "value": "PRICE",
    "item_digits": 5, "verified": true}]' replaces the default layouts; prices embedded in
    labels are in minor units of BARCODES__CURRENCY."""

    embedded: list[EmbeddedLayoutSettings] = Field(default_factory=_default_layouts)
    currency: str = "EUR"
    # Internal Code 128 codes (assignBarcode without a code) are this prefix and the SKU.
    internal_prefix: str = Field(default="CG-", max_length=8)

    @model_validator(mode="after")
    def _one_layout_per_prefix(self) -> BarcodeSettings:
        prefixes = [p for layout in self.embedded for p in layout.prefixes]
        if len(prefixes) != len(set(prefixes)):
            raise ValueError("a barcode prefix is in more than one layout")
        return self

    def layouts(self) -> tuple[EmbeddedLayout, ...]:
        return tuple(layout.layout() for layout in self.embedded)


class ReplenishmentSettings(BaseModel, frozen=True):
    """Replenishment hints (gateway.domain.replenishment): REPLENISHMENT__WINDOW_DAYS of
    sales make the demand, REPLENISHMENT__SERVICE_LEVEL sets the safety stock; the supply
    terms are used for items whose ERP record gives none."""

    window_days: int = Field(default=28, ge=7, le=366)
    service_level: float = Field(default=0.95, ge=0.5, lt=1)
    lead_time_days: int = Field(default=7, ge=0, le=365)
    lead_time_stdev_days: float = Field(default=0.0, ge=0, le=365)
    case_size: int = Field(default=1, ge=1)
    min_order_qty: int = Field(default=0, ge=0)
    review_days: int = Field(default=7, ge=1, le=365)


class CycleCountSettings(BaseModel, frozen=True):
    """Cycle counts (gateway.domain.cycle_counts): CYCLE_COUNTS__A_DAYS, __B_DAYS, __C_DAYS
    how often each ABC class is counted; __A_SHARE, __B_SHARE where the classes end in the
    ranking by value moved; __DISCREPANCY_UNITS, __DISCREPANCY_VALUE which recorded
    variances are queued for an owner; __MAX_AGE_HOURS how old a recorded count may be;
    __ACCURACY_TOLERANCE_UNITS what inventory accuracy lets pass."""

    a_days: int = Field(default=30, ge=1, le=366)
    b_days: int = Field(default=90, ge=1, le=366)
    c_days: int = Field(default=365, ge=1, le=731)
    a_share: float = Field(default=0.80, gt=0, le=1)
    b_share: float = Field(default=0.95, gt=0, le=1)
    # A recorded count whose variance is more than this many units either way, or worth
    # more than this at cost (in the item's cost currency), opens a COUNT_VARIANCE.
    discrepancy_units: int = Field(default=2, ge=0)
    discrepancy_value: Decimal = Field(default=Decimal("25"), ge=0)
    # How far back a count may be recorded: Square takes physical counts of the last 24
    # hours only, so stores cannot go further.
    max_age_hours: int = Field(default=24, ge=1, le=24)
    # Inventory accuracy (kpis): a count within this many units of the book is accurate.
    accuracy_tolerance_units: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CycleCountSettings:
        if self.a_share > self.b_share:
            raise ValueError("CYCLE_COUNTS__A_SHARE must not exceed __B_SHARE")
        return self


class KpiSettings(BaseModel, frozen=True):
    """Store KPIs (gateway.domain.kpis): KPIS__MAX_DAYS the longest period asked for at
    once (on-time pickup readiness measures PICKING__PICKUP_READY_HOURS)."""

    max_days: int = Field(default=92, ge=7, le=366)


class PickingSettings(BaseModel, frozen=True):
    """Picking at a store (gateway.domain.picking): PICKING__PICKUP_READY_HOURS after it is
    placed a pickup order is promised ready, PICKING__SHIP_WITHIN_HOURS a delivery order
    shipped; a short pick offers up to PICKING__SUBSTITUTES SKUs of the same category priced
    within PICKING__SUBSTITUTE_PRICE_BAND (a share) of the missing one;
    PICKING__SHELF_ATTRIBUTE names the Square catalog custom attribute that says where an
    item is on the shop floor."""

    pickup_ready_hours: float = Field(default=2.0, gt=0, le=168)
    ship_within_hours: float = Field(default=24.0, gt=0, le=720)
    substitute_price_band: Decimal = Field(default=Decimal("0.20"), ge=0, le=1)
    substitutes: int = Field(default=3, ge=0, le=10)
    shelf_attribute: str = Field(default="Shelf", min_length=1)


class PersistedSettings(BaseModel, frozen=True):
    """Persisted operations (gateway.persisted): PERSISTED__MANIFEST=ops.json (Apollo's
    persisted query manifest), PERSISTED__SAFELIST=true to run nothing else."""

    manifest: Path | None = None
    safelist: bool = False
    # Which documents run through a plan compiled once (resolvers.compiled) instead of
    # strawberry's pipeline: the manifest's, every valid one once seen, or none.
    compile: Literal["persisted", "all", "off"] = "persisted"


class RateRule(BaseModel, frozen=True):
    per_second: float = Field(gt=0)  # the bucket's refill
    burst: int = Field(ge=1)  # requests at once


class RateLimitSettings(BaseModel, frozen=True):
    """Requests per principal (gateway.ratelimit): a token bucket each, shared through
    Redis when REDIS_URL is set. RATE_LIMIT__PER_SECOND=100 RATE_LIMIT__BURST=200 for every
    caller; RATE_LIMIT__ROLES='{"STOREFRONT": {"per_second": 1000, "burst": 2000}}' for a
    role (a caller holding several roles gets the most generous of their rules)."""

    enabled: bool = True
    per_second: float = Field(default=100.0, gt=0)
    burst: int = Field(default=200, ge=1)
    # A web shop's or an app's one key carries every shopper's requests.
    roles: dict[str, RateRule] = Field(
        default_factory=lambda: {"STOREFRONT": RateRule(per_second=1000.0, burst=2000)}
    )

    def rule_for(self, roles: frozenset[str]) -> tuple[str, RateRule]:
        """The rule's name (``default`` or a role) and the rule that applies."""
        chosen = ("default", RateRule(per_second=self.per_second, burst=self.burst))
        for role in sorted(roles):
            rule = self.roles.get(role)
            if rule is not None and (rule.per_second, rule.burst) > (
                chosen[1].per_second,
                chosen[1].burst,
            ):
                chosen = (role, rule)
        return chosen


class AuthSettings(BaseModel, frozen=True):
    """Who may call (gateway.auth): API keys (``commerce-gateway keys create``) need no
    setting; staff JWTs are accepted once an issuer, an audience and a JWKS are set.
    AUTH__JWT_ISSUER=https://login.example.com/ AUTH__JWT_AUDIENCE=commerce-gateway
    AUTH__JWT_JWKS_URL=https://login.example.com/.well-known/jwks.json and the like."""

    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # The identity provider's signing keys: a URL (fetched, kept jwks_cache_seconds, fetched
    # again at once for a key id it does not hold: key rotation) or a file (read again when
    # it changes).
    jwt_jwks_url: str | None = None
    jwt_jwks_file: str | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    # Where the token carries its roles (a list, or a space-separated string), its scopes
    # (pii:read) and, for a store associate, its store.
    jwt_roles_claim: str = "roles"
    jwt_scopes_claim: str = "scope"
    jwt_location_claim: str = "location_id"
    # A STOREFRONT token carrying this claim is a customer's own: it reads their orders.
    jwt_customer_email_claim: str = "email"
    # Signs each order's access token (handed out by placeOrder); every process of one
    # deployment needs the same. Unset: a random one per process (tokens die with it).
    order_token_secret: SecretStr | None = None
    leeway_seconds: float = Field(default=30.0, ge=0)
    # A verified token is remembered this long per process (never past its exp): a key
    # dropped from the JWKS stops its tokens within it. 0: every request verified.
    jwt_cache_seconds: float = Field(default=60.0, ge=0)
    # A key found (or refused) is remembered this long per process: a revoked key stops
    # working everywhere within it.
    key_cache_seconds: float = Field(default=10.0, ge=0)

    @property
    def jwt_configured(self) -> bool:
        return bool(
            self.jwt_issuer and self.jwt_audience and (self.jwt_jwks_url or self.jwt_jwks_file)
        )


class MetricsSettings(BaseModel, frozen=True):
    """``/metrics`` (gateway.observability.scrape): open, for a scraper on the internal
    network, unless METRICS__TOKEN is set; then a scrape sends ``Authorization: Bearer``
    with it."""

    token: SecretStr | None = None


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _level_name(value: object) -> object:
    # Any case; empty (LOG_LEVEL= in a .env or a compose file) means the default.
    return (value.strip().upper() or None) if isinstance(value, str) else value


def _format_name(value: object) -> object:
    return (value.strip().lower() or None) if isinstance(value, str) else value


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_nested_delimiter="__"
    )

    host: str = "127.0.0.1"
    port: int = 8000
    # The explorer and schema introspection: off unless asked for (the demo turns both on),
    # so a production gateway does not hand its whole schema to whoever can reach it.
    graphiql: bool = False
    introspection: bool = False
    # Browser origins allowed to call /graphql (CORS); none: same-origin only.
    cors_allow_origins: list[str] = Field(default_factory=list)
    # A sandbox gateway: `serve` starts on the built-in sandbox credentials and without any
    # API key or identity provider (gateway.startup_checks); never set in production.
    sandbox: bool = False
    # How each process logs (gateway.observability.logs); unset: JSON lines for serve and
    # worker (readable text at a terminal), readable text for the demo and the simulators;
    # INFO for serve and worker, WARNING for the demo.
    log_format: Annotated[Literal["json", "console"] | None, BeforeValidator(_format_name)] = None
    log_level: Annotated[LogLevel | None, BeforeValidator(_level_name)] = None

    erp_base_url: str = "http://127.0.0.1:8101"
    erp_api_key: str = "sandbox-key"
    erp_api_secret: str = "sandbox-secret"
    # ERPNext sends naive datetimes in the site's time zone (System Settings > Time Zone).
    erp_timezone: str = "Europe/Berlin"

    woo_base_url: str = "http://127.0.0.1:8102"
    woo_consumer_key: str = "ck_sandbox"
    woo_consumer_secret: str = "cs_sandbox"
    # WooCommerce prices carry no currency: it is the store's setting (Settings > General).
    woo_currency: str = "EUR"

    square_base_url: str = "http://127.0.0.1:8103"
    square_access_token: str = "sandbox-square-token"
    square_version: str = "2025-08-20"

    # Shopify Admin GraphQL: POST {oms_base_url}/admin/api/{oms_api_version}/graphql.json
    oms_base_url: str = "http://127.0.0.1:8104"
    oms_access_token: str = "shpat_sandbox"
    oms_api_version: str = "2026-10"

    http_connect_timeout_seconds: float = 3.0
    http_read_timeout_seconds: float = 10.0
    http_max_retries: int = 2
    http_max_connections: int = 100
    http_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    request_deadline: RequestDeadlineSettings = Field(default_factory=RequestDeadlineSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: QueryLimitSettings = Field(default_factory=QueryLimitSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    persisted: PersistedSettings = Field(default_factory=PersistedSettings)
    barcodes: BarcodeSettings = Field(default_factory=BarcodeSettings)
    replenishment: ReplenishmentSettings = Field(default_factory=ReplenishmentSettings)
    cycle_counts: CycleCountSettings = Field(default_factory=CycleCountSettings)
    kpis: KpiSettings = Field(default_factory=KpiSettings)
    picking: PickingSettings = Field(default_factory=PickingSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    redis_url: str | None = None
    cache_ttl_item_seconds: int = 300
    cache_ttl_web_listing_seconds: int = 60
    cache_ttl_pos_catalog_seconds: int = 300
    cache_ttl_stock_seconds: int = 15
    cache_ttl_locations_seconds: int = 600
    cache_ttl_kits_seconds: int = 600
    # Whole-response micro-cache for identical queries (gateway/response_cache.py); 0 = off.
    response_cache_seconds: float = 1.0

    # Empty is unset, so a deployment can turn off a default path (compose.yaml: NODES_FILE=).
    nodes_file: Annotated[Path | None, BeforeValidator(_none_if_empty)] = None
    field_policy: dict[str, list[SourceSystem]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_FIELD_POLICY.items()}
    )
    low_stock_threshold: int = 5
    store_safety_stock: int = 1
    warehouse_safety_stock: int = 0
    max_page_size: int = 100
    max_radius_km: float = 20_000.0

    # postgresql://… (asyncpg) in production; SQLite is the embedded default.
    database_url: str = "sqlite+aiosqlite:///./commerce-gateway.db"
    database_pool_size: int = 10
    # Bring the schema to the newest revision at startup (as `commerce-gateway migrate`).
    migrate_on_start: bool = True
    # Run the outbox worker, the hold sweeper and the web-order import in this process.
    run_workers: bool = True

    # PostgreSQL: reserves arriving together are decided in one database call of up to this
    # many (1 = one call per reserve, still one round trip each).
    hold_batch_size: int = 64
    # PostgreSQL: how long a reserve that finds no call in flight waits for others to share
    # its call (0: it goes at once). Bigger batches cost the database less per reserve.
    hold_batch_linger_ms: float = Field(default=0.5, ge=0, le=50)
    hold_default_ttl_seconds: int = 900
    hold_max_ttl_seconds: int = 7 * 24 * 3600
    # How long a click-and-collect order waits on the shelf before it is a no-show.
    pickup_window_hours: float = 72.0
    sweep_interval_seconds: float = 5.0
    # The ERPNext customer that web and gateway orders are booked to.
    erp_customer: str = "WooCommerce Web Customer"
    # Where returned units of an order with no fulfillment node (web orders) go.
    returns_location_id: str | None = None
    # Disposition rules, first match wins; see gateway/services/returns.py for the default.
    return_rules: list[dict[str, object]] | None = None
    outbox_max_attempts: int = 8
    outbox_first_retry_seconds: float = 1.0
    outbox_lease_seconds: float = 60.0
    # Import WooCommerce web orders every this many seconds; 0 = off.
    web_order_sync_seconds: float = 30.0
    # A web order whose address cannot be located is routed as if it were at this node;
    # unset: the first warehouse (by id) that ships online orders.
    web_order_default_location_id: str | None = None
    # Webhook secrets per backend, as JSON lists: two during a rotation (new, old). A
    # backend with none configured has its webhooks refused.
    woo_webhook_secrets: list[str] = Field(default_factory=list)
    square_webhook_signature_keys: list[str] = Field(default_factory=list)
    shopify_webhook_secrets: list[str] = Field(default_factory=list)
    erp_webhook_secrets: list[str] = Field(default_factory=list)
    # The public base URL backends call (Square signs it); unset: the URL as received.
    webhook_base_url: str | None = None
    # A signed webhook stamped longer ago than this at its source (Shopify's Triggered-At,
    # Square's created_at) is refused as stale: Shopify retries for 4 hours, Square for a day.
    webhook_max_age_seconds: int = Field(default=86_400, ge=60)
    # A stock figure read this recently is as good as one an event confirmed (confidence
    # HIGH); older, within the stock cache's time to live, MEDIUM.
    fresh_seconds: float = Field(default=5.0, ge=0)
    # Ask each backend what changed since last asked, every this many seconds (0 = off): the
    # safety net that catches a dropped webhook within one period.
    delta_poll_seconds: float = Field(default=30.0, ge=0)
    # A subscriber leaving more changes than this unread is dropped (its socket closed with
    # code 4008), so a slow client never grows the gateway's memory.
    subscription_queue_limit: int = Field(default=256, ge=1)
    # The WooCommerce status a web order ready for pickup takes (WooCommerce 11.3+ on a
    # store offering local pickup); empty: the customer note alone.
    web_pickup_status: str | None = "ready-for-pickup"
    # Customer mail (SMTP). Unset host: the gateway mails nobody (WooCommerce's customer
    # notes still tell web customers).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_start_tls: bool = False
    smtp_use_tls: bool = False
    mail_from: str = "orders@northtrail.example"
    # Compare every order placed in the last ORDER_WATCH_DAYS with what each system says
    # of it, every this many seconds (0 = off).
    order_watch_seconds: float = 60.0
    order_watch_days: int = Field(default=30, ge=1)

    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    truth: TruthSettings = Field(default_factory=TruthSettings)
