"""ErpPort over ERPNext's Frappe REST API (``/api/resource/<DocType>``).

Request budget: every read is chunked by SKU (at most ``chunk_size`` codes in one ``in``
filter, and a URL kept well under proxies' 8 KB request-line limit), so the number of requests
grows with the chunks, never with the SKUs. Per chunk, ``items_by_sku`` costs four lists (Item,
Item Price, Item Barcode, Item Tax); ``stock``, ``kits``, ``deliveries`` and
``stock_movements`` one each. Lists always send ``limit_page_length`` and page ordered by a
unique column (see rest.FrappeRest).

Child rows for many parents: a child doctype is listed on its own with ``parent=<parent
doctype>`` (frappe.client.get_list checks read permission on that parent) and a ``parent in
[...]`` filter; Product Bundles instead select child columns in the parent list
(```tabProduct Bundle Item`.`item_code```), a LEFT JOIN, because the parent's ``disabled``
flag has to filter the same request.

Frappe sends numbers as JSON floats and datetimes as naive strings in the site's time zone:
money becomes Decimal via ``str()``, quantities whole numbers rounded to the safe side, and
datetimes aware UTC.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import httpx

from adapters.erpnext.orders import ErpNextOrders
from adapters.erpnext.wire import (
    BACKEND,
    decimal,
    plain,
    site_time_to_utc,
    sku_chunks,
    whole,
)
from adapters.http import build_client
from adapters.resilience.policy import BackendPolicy
from gateway.config import Settings
from gateway.domain import (
    BackendLocation,
    ItemMaster,
    ItemSupply,
    Kit,
    KitComponent,
    Money,
    Sale,
    SourceSystem,
    StockReading,
)
from gateway.domain.cycle_counts import StockMovement
from gateway.errors import BackendUnavailable
from gateway.ports import Clock

SELLING_PRICE_LIST = "Standard Selling"
T = TypeVar("T")

# fmt: off
ITEM_FIELDS = [
    "name", "item_code", "item_name", "item_group", "description", "stock_uom", "is_stock_item",
    "disabled", "has_variants", "variant_of", "valuation_rate", "modified",
]
LEDGER_FIELDS = ["item_code", "warehouse", "posting_date", "posting_time", "actual_qty"]
MOVEMENT_FIELDS = [*LEDGER_FIELDS, "voucher_type", "qty_after_transaction"]
SUPPLY_FIELDS = ["name", "lead_time_days", "min_order_qty", "purchase_uom"]
BIN_FIELDS = [
    "name", "item_code", "warehouse", "actual_qty", "reserved_qty", "reserved_stock",
    "ordered_qty", "modified",
]
PRICE_FIELDS = ["name", "item_code", "price_list_rate", "currency", "valid_from", "valid_upto"]
WAREHOUSE_FIELDS = [
    "name", "warehouse_name", "is_group", "disabled", "warehouse_type", "address_line_1",
    "address_line_2", "city", "pin",
]
# fmt: on


def build_erpnext_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one ERPNext client of the app, authenticated with the integration user's token."""
    headers = {
        "Authorization": f"token {settings.erp_api_key}:{settings.erp_api_secret}",
        "Accept": "application/json",
    }
    return build_client(
        settings, settings.erp_base_url, backend=BACKEND, headers=headers, transport=transport
    )


class ErpNextAdapter(ErpNextOrders):
    """ErpPort (reads), and ErpOrdersPort (Sales Orders, receipts) from ErpNextOrders."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timezone: str = "Europe/Berlin",
        max_retries: int = 2,
        currency: str = "EUR",
        clock: Clock | None = None,
        page_size: int = 500,
        chunk_size: int = 200,
        concurrency: int = 8,
        company: str | None = None,
        policy: BackendPolicy | None = None,
    ) -> None:
        super().__init__(
            client,
            timezone=timezone,
            max_retries=max_retries,
            page_size=page_size,
            company=company,
            policy=policy,
        )
        # valuation_rate is in the company's currency, which no Item field states.
        self._currency = currency
        self._clock = clock
        self._chunk_size = chunk_size
        self._concurrency = concurrency

    # --- ErpPort -------------------------------------------------------------------------

    async def items_by_sku(self, skus: Sequence[str]) -> dict[str, ItemMaster]:
        rows = await self._per_chunk(
            skus,
            lambda chunk: self._all("Item", ITEM_FIELDS, [["name", "in", chunk]]),
        )
        return {item.sku: item for item in await self._items(rows)}

    async def list_items(
        self, *, offset: int, limit: int, search: str | None = None, category: str | None = None
    ) -> list[ItemMaster]:
        if limit <= 0:  # limit_page_length 0 would mean "everything" to Frappe
            return []
        filters: list[list[Any]] = [["disabled", "=", 0], ["has_variants", "=", 0]]
        if category:
            filters.append(["item_group", "=", category])
        or_filters = None
        if search:
            pattern = f"%{search}%"
            or_filters = [["item_code", "like", pattern], ["item_name", "like", pattern]]
        rows = await self._page(
            "Item", ITEM_FIELDS, filters, or_filters=or_filters, start=offset, length=limit
        )
        return await self._items(rows)

    async def sku_for_barcode(self, barcode: str) -> str | None:
        # A filter on a child table joins it: [child doctype, field, operator, value].
        rows = await self._page(
            "Item", ["name"], [["Item Barcode", "barcode", "=", barcode]], start=0, length=1
        )
        return str(rows[0]["name"]) if rows else None

    async def warehouses(self) -> list[BackendLocation]:
        rows = await self._all(
            "Warehouse",
            WAREHOUSE_FIELDS,
            # warehouse_type is usually NULL; Frappe's ifnull() keeps those rows for "!=".
            [["is_group", "=", 0], ["disabled", "=", 0], ["warehouse_type", "!=", "Transit"]],
        )
        # Checked again here: a site's custom permission query or an old version that ignores
        # a filter must not turn a group or transit warehouse into a fulfillment node.
        return [
            _location(row)
            for row in rows
            if not row.get("is_group")
            and not row.get("disabled")
            and row.get("warehouse_type") != "Transit"
        ]

    async def stock(self, skus: Sequence[str]) -> list[StockReading]:
        rows = await self._per_chunk(
            skus, lambda chunk: self._all("Bin", BIN_FIELDS, [["item_code", "in", chunk]])
        )
        return [self._reading(row) for row in rows]

    async def stock_moved_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(SKU, modified) of the Bins modified after ``since``: the delta poll behind the
        Bin and Stock Ledger Entry webhooks. Frappe compares in the site's time zone."""
        site = since.astimezone(self._tz).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = await self._all(
            "Bin", ["item_code", "modified"], [["modified", ">", site]], order_by="modified asc"
        )
        found: list[tuple[str, datetime]] = []
        for row in rows:
            stamp = self._utc(row.get("modified"))
            if isinstance(row.get("item_code"), str) and stamp is not None:
                found.append((row["item_code"], stamp))
        return found

    async def deliveries(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[Sale]:
        """What these warehouses delivered of these SKUs since then: the Stock Ledger
        Entries of submitted, uncancelled Delivery Notes (units leaving: actual_qty < 0),
        posted on or after the site's date of ``since`` and kept if posted after it."""
        if not skus or not warehouse_refs:
            return []
        delivery_notes: list[list[Any]] = [
            ["voucher_type", "=", "Delivery Note"],
            ["actual_qty", "<", 0],
        ]
        rows = await self._ledger(LEDGER_FIELDS, skus, warehouse_refs, since, delivery_notes)
        delivered = []
        for row in rows:
            moment = self._utc(f"{row.get('posting_date')} {_wall_time(row.get('posting_time'))}")
            units = whole(-(decimal(row.get("actual_qty")) or Decimal(0)), ROUND_HALF_UP)
            if moment is not None and moment > since and units > 0:
                delivered.append(Sale(str(row["item_code"]), str(row["warehouse"]), moment, units))
        return delivered

    async def stock_movements(
        self, skus: Sequence[str], warehouse_refs: Sequence[str], since: datetime
    ) -> list[StockMovement]:
        """Every non-cancelled Stock Ledger Entry of these SKUs in these warehouses posted
        after ``since`` (any voucher type), oldest first: actual_qty as a signed unit delta;
        a Stock Reconciliation's entry also carries its qty_after_transaction, the figure
        it set, as ``counted``. Listed as deliveries() lists them: from the site's date of
        ``since``, each kept if posted after it."""
        if not skus or not warehouse_refs:
            return []
        rows = await self._ledger(MOVEMENT_FIELDS, skus, warehouse_refs, since)
        moved = []
        for row in rows:
            moment = self._utc(f"{row.get('posting_date')} {_wall_time(row.get('posting_time'))}")
            if moment is None or moment <= since:
                continue
            counted = None
            if row.get("voucher_type") == "Stock Reconciliation":
                counted = whole(row.get("qty_after_transaction"), ROUND_HALF_UP)
            moved.append(
                StockMovement(
                    sku=str(row["item_code"]),
                    location_ref=str(row["warehouse"]),
                    at=moment,
                    units=whole(row.get("actual_qty"), ROUND_HALF_UP),
                    counted=counted,
                )
            )
        moved.sort(key=lambda movement: movement.at)  # stable: chunks, then the site's order
        return moved

    async def _ledger(
        self,
        fields: list[str],
        skus: Sequence[str],
        warehouse_refs: Sequence[str],
        since: datetime,
        filters: list[list[Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Uncancelled Stock Ledger Entries of these SKUs in these warehouses posted on or
        after the site's date of ``since``, oldest first (the caller keeps those after it)."""
        since_date = since.astimezone(self._tz).date().isoformat()
        return await self._per_chunk(
            skus,
            lambda chunk: self._all(
                "Stock Ledger Entry",
                fields,
                [
                    ["item_code", "in", chunk],
                    ["warehouse", "in", list(dict.fromkeys(warehouse_refs))],
                    ["is_cancelled", "=", 0],
                    ["posting_date", ">=", since_date],
                    *(filters or []),
                ],
                order_by="posting_date asc, posting_time asc, creation asc, name asc",
            ),
        )

    async def kits(self, skus: Sequence[str]) -> dict[str, Kit]:
        fields = [
            "name",
            "new_item_code",
            "`tabProduct Bundle Item`.`item_code` as component",
            "`tabProduct Bundle Item`.`qty` as component_qty",
        ]
        order_by = "`tabProduct Bundle`.`name` asc, `tabProduct Bundle Item`.`idx` asc"
        rows = await self._per_chunk(
            skus,
            lambda chunk: self._all(
                "Product Bundle",
                fields,
                [["new_item_code", "in", chunk], ["disabled", "=", 0]],
                order_by=order_by,
            ),
        )
        components: dict[str, list[KitComponent]] = defaultdict(list)
        for row in rows:
            if row.get("component"):  # a bundle without rows still yields one joined row
                quantity = whole(row.get("component_qty"), ROUND_CEILING)
                components[str(row["new_item_code"])].append(
                    KitComponent(str(row["component"]), quantity)
                )
        return {sku: Kit(sku, tuple(parts)) for sku, parts in components.items()}

    # --- mapping -------------------------------------------------------------------------

    async def supply(self, skus: Sequence[str]) -> dict[str, ItemSupply]:
        """The Item's lead_time_days and min_order_qty (0 is ERPNext's "not set"), its
        purchase UOM's conversion factor (the case), and its first Item Supplier."""
        rows, uoms, suppliers = await asyncio.gather(
            self._per_chunk(
                skus,
                lambda chunk: self._all("Item", SUPPLY_FIELDS, [["name", "in", chunk]]),
            ),
            self._children(skus, "UOM Conversion Detail", ["uom", "conversion_factor"]),
            self._children(skus, "Item Supplier", ["supplier"]),
        )
        factor: dict[tuple[str, str], Decimal] = {}
        for row in uoms:
            value = decimal(row.get("conversion_factor"))
            if row.get("uom") and value:
                factor[(str(row["parent"]), str(row["uom"]))] = value
        supplier_of: dict[str, str] = {}
        for row in suppliers:
            if row.get("supplier"):
                supplier_of.setdefault(str(row["parent"]), str(row["supplier"]))
        found: dict[str, ItemSupply] = {}
        for row in rows:
            sku = str(row["name"])
            lead = whole(row.get("lead_time_days"), ROUND_CEILING)
            minimum = whole(row.get("min_order_qty"), ROUND_CEILING)
            case = factor.get((sku, str(row.get("purchase_uom") or "")))
            found[sku] = ItemSupply(
                lead_time_days=lead or None,
                min_order_qty=minimum or None,
                case_size=whole(case, ROUND_CEILING) if case else None,
                supplier=supplier_of.get(sku),
            )
        return found

    async def _items(self, rows: list[dict[str, Any]]) -> list[ItemMaster]:
        """Item rows plus their selling price, barcodes and tax category."""
        codes = [str(row["name"]) for row in rows]
        prices, barcodes, taxes = await asyncio.gather(
            self._per_chunk(
                codes,
                lambda chunk: self._all(
                    "Item Price",
                    PRICE_FIELDS,
                    [["price_list", "=", SELLING_PRICE_LIST], ["item_code", "in", chunk]],
                ),
            ),
            self._children(codes, "Item Barcode", ["barcode"]),
            self._children(codes, "Item Tax", ["tax_category"]),
        )
        today = (self._clock.now() if self._clock else datetime.now(UTC)).astimezone(self._tz)
        price_of = _current_prices(prices, today.date())
        barcodes_of: dict[str, list[str]] = defaultdict(list)
        for row in barcodes:
            if row.get("barcode"):
                barcodes_of[str(row["parent"])].append(str(row["barcode"]))
        tax_of: dict[str, str] = {}
        for row in taxes:
            if row.get("tax_category"):
                tax_of.setdefault(str(row["parent"]), str(row["tax_category"]))
        return [
            self._item(row, price_of.get(code), tuple(barcodes_of[code]), tax_of.get(code))
            for row, code in zip(rows, codes, strict=True)
        ]

    def _item(
        self,
        row: dict[str, Any],
        price: Money | None,
        barcodes: tuple[str, ...],
        tax_category: str | None,
    ) -> ItemMaster:
        sku = str(row.get("item_code") or row["name"])
        valuation = decimal(row.get("valuation_rate"))
        return ItemMaster(
            sku=sku,
            name=str(row.get("item_name") or sku),
            category=row.get("item_group") or None,
            barcodes=barcodes,
            # Templates and bundles carry valuation_rate 0: no cost known, not a free item.
            cost=Money(valuation, self._currency) if valuation else None,
            list_price=price,
            tax_category=tax_category,
            variant_of=row.get("variant_of") or None,
            is_stock_item=bool(row.get("is_stock_item", 1)),
            disabled=bool(row.get("disabled", 0)),
            description=plain(row.get("description")),
            modified=self._utc(row.get("modified")),
        )

    def _reading(self, row: dict[str, Any]) -> StockReading:
        # Stock Reservation Entries are made for Sales Orders already in reserved_qty, so the
        # larger of the two is what is held (projected_qty subtracts only reserved_qty).
        reserved = max(
            decimal(row.get("reserved_qty")) or Decimal(0),
            decimal(row.get("reserved_stock")) or Decimal(0),
        )
        as_of = self._utc(row.get("modified"))
        if as_of is None:
            raise BackendUnavailable(f"Bin {row.get('name')} has no modified time", backend=BACKEND)
        return StockReading(
            sku=str(row["item_code"]),
            source=SourceSystem.ERP,
            location_ref=str(row["warehouse"]),
            # Fractions round to the safe side: less on hand and incoming, more reserved.
            on_hand=whole(row.get("actual_qty"), ROUND_FLOOR),
            reserved=whole(reserved, ROUND_CEILING),
            as_of=as_of,
            incoming=whole(row.get("ordered_qty"), ROUND_FLOOR),
        )

    def _utc(self, value: Any) -> datetime | None:
        return site_time_to_utc(value, self._tz)

    # --- requests ------------------------------------------------------------------------

    async def _children(
        self, parents: Sequence[str], doctype: str, fields: list[str]
    ) -> list[dict[str, Any]]:
        return await self._per_chunk(
            parents,
            lambda chunk: self._all(
                doctype,
                ["parent", *fields],
                [["parent", "in", chunk]],
                order_by="parent asc, idx asc",
                parent="Item",
            ),
        )

    async def _per_chunk(
        self, skus: Sequence[str], load: Callable[[list[str]], Awaitable[list[dict[str, Any]]]]
    ) -> list[dict[str, Any]]:
        chunks = list(sku_chunks(list(dict.fromkeys(skus)), self._chunk_size))
        pages = await self._bounded([load(chunk) for chunk in chunks])
        return [row for page in pages for row in page]

    async def _bounded(self, calls: list[Awaitable[T]]) -> list[T]:
        # A 50,000-SKU read must not open hundreds of requests at once.
        gate = asyncio.Semaphore(self._concurrency)

        async def run(call: Awaitable[T]) -> T:
            async with gate:
                return await call

        return list(await asyncio.gather(*(run(c) for c in calls)))


def _current_prices(rows: list[dict[str, Any]], today: date) -> dict[str, Money]:
    """Per item, the price valid today, the latest-starting one winning (as ERPNext picks)."""
    best: dict[str, tuple[str, Money]] = {}
    for row in rows:
        valid_from = str(row.get("valid_from") or "")
        valid_upto = str(row.get("valid_upto") or "")
        if (valid_from and valid_from > today.isoformat()) or (
            valid_upto and valid_upto < today.isoformat()
        ):
            continue
        rate = decimal(row.get("price_list_rate"))
        currency = row.get("currency")
        if rate is None or not currency:
            continue
        code = str(row["item_code"])
        if code not in best or valid_from > best[code][0]:
            best[code] = (valid_from, Money(rate, str(currency)))
    return {code: money for code, (_, money) in best.items()}


def _wall_time(value: Any) -> str:
    """A Time field as an ISO time: Frappe sends ``str(timedelta)``, "9:05:00" at times."""
    text = str(value or "00:00:00")
    return f"0{text}" if text.find(":") == 1 else text


def _location(row: dict[str, Any]) -> BackendLocation:
    parts = [row.get(k) for k in ("address_line_1", "address_line_2", "pin", "city")]
    address = ", ".join(str(p) for p in parts if p) or None
    return BackendLocation(
        source=SourceSystem.ERP,
        ref=str(row["name"]),
        name=str(row.get("warehouse_name") or row["name"]),
        active=True,
        address=address,
        kind=row.get("warehouse_type") or None,
    )
