"""Square (the POS): store locations, store prices and store stock, over the Locations,
Catalog and Inventory APIs, implementing ``gateway.ports.PosPort``.

Stock figures. Square's sellable quantity is IN_STOCK. RESERVED_FOR_SALE units are on the
shelf but promised (read-only through the API, set by Square's own order flows), so a reading
says ``on_hand = IN_STOCK + RESERVED_FOR_SALE`` and ``reserved = RESERVED_FOR_SALE``: on hand
less reserved is Square's sellable figure again. ORDERED_FROM_VENDOR is ``incoming``. Square
quantities are decimal strings; they are rounded down, as Square's own POS app does, and a
negative IN_STOCK (an oversold store) is passed on as it is. ``as_of`` is the newest
``calculated_at`` of the states read for that SKU and store.

Call budget. Square keys inventory by ITEM_VARIATION id, not SKU. ``variations_by_sku`` costs
one catalog search per 100 SKUs (a ``set_query`` on the searchable ``sku`` attribute, with the
parent ITEMs as related objects) and remembers each SKU's variation id; ``stock`` searches only
for SKUs it has not seen, then reads all counts in one batch-retrieve per 1,000 variations,
following cursors to the end. A page of 50 SKUs costs at most one search plus one counts call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import httpx

from adapters.http import RETRYABLE_STATUSES, build_client, default_error, json_body, send
from gateway.config import Settings
from gateway.domain import (
    BackendLocation,
    GeoPoint,
    Money,
    PosVariation,
    SourceSystem,
    StockReading,
)
from gateway.errors import BackendAuthError, BackendError, BackendRejected, BackendUnavailable

BACKEND = "square"
SKUS_PER_SEARCH = 100
IDS_PER_COUNTS_CALL = 1000
COUNTS_PAGE_LIMIT = 1000
SEARCH_LIMIT = 1000
MAX_REMEMBERED_SKUS = 200_000
STOCK_STATES = ("IN_STOCK", "RESERVED_FOR_SALE", "ORDERED_FROM_VENDOR")
# Square's default name for the only variation of an item; the item name says more.
_DEFAULT_VARIATION_NAME = "Regular"
# ISO 4217 minor-unit exponents that are not 2 (Square sends amounts in minor units).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}
_FRACTION = re.compile(r"(\.\d{6})\d+")
_UNKNOWN_TIME = datetime.fromtimestamp(0, UTC)


def build_square_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one Square client: Bearer token and the pinned Square-Version on every call."""
    headers = {
        "Authorization": f"Bearer {settings.square_access_token}",
        "Square-Version": settings.square_version,
        "Accept": "application/json",
    }
    return build_client(settings, settings.square_base_url, headers=headers, transport=transport)


class SquareAdapter:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_retries: int = 2,
        variation_id_ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._max_retries = max_retries
        self._ttl = variation_id_ttl_seconds
        self._monotonic = monotonic
        # SKU -> (variation id, or None when Square has no such SKU; expiry). Expiry covers a
        # SKU moved to a new variation in Square; prices are never served from here.
        self._variation_ids: dict[str, tuple[str | None, float]] = {}

    # --- PosPort ------------------------------------------------------------------------------

    async def locations(self) -> list[BackendLocation]:
        """ACTIVE, PHYSICAL locations (Square lists INACTIVE and MOBILE ones too)."""
        body = await self._call("GET", "/v2/locations")
        return [
            _location(raw)
            for raw in _dicts(body.get("locations"))
            if raw.get("status") == "ACTIVE" and raw.get("type") == "PHYSICAL"
        ]

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        found: dict[str, PosVariation] = {}
        wanted = list(dict.fromkeys(skus))
        for start in range(0, len(wanted), SKUS_PER_SEARCH):
            found.update(await self._search(wanted[start : start + SKUS_PER_SEARCH]))
        return found

    async def stock(
        self, skus: Sequence[str], location_refs: Sequence[str] | None = None
    ) -> list[StockReading]:
        wanted = list(dict.fromkeys(skus))
        if not wanted or (location_refs is not None and not location_refs):
            return []
        unknown = [sku for sku in wanted if not self._lookup(sku)[0]]
        if unknown:
            await self.variations_by_sku(unknown)
        sku_of: dict[str, str] = {}
        for sku in wanted:
            vid = self._lookup(sku)[1]
            if vid is not None:
                sku_of.setdefault(vid, sku)
        ids = list(sku_of)
        counts: list[dict[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_COUNTS_CALL):
            counts += await self._counts(ids[start : start + IDS_PER_COUNTS_CALL], location_refs)
        return _readings(counts, sku_of, wanted)

    # --- calls --------------------------------------------------------------------------------

    async def _search(self, skus: list[str]) -> dict[str, PosVariation]:
        body: dict[str, Any] = {
            "object_types": ["ITEM_VARIATION"],
            "query": {"set_query": {"attribute_name": "sku", "attribute_values": skus}},
            "include_related_objects": True,
            "limit": SEARCH_LIMIT,
        }
        variations: list[dict[str, Any]] = []
        item_names: dict[str, str] = {}
        while True:
            answer = await self._call("POST", "/v2/catalog/search", json=body)
            variations += [
                o
                for o in _dicts(answer.get("objects"))
                if o.get("type") == "ITEM_VARIATION" and not o.get("is_deleted")
            ]
            for related in _dicts(answer.get("related_objects")):
                name = _dict(related.get("item_data")).get("name")
                if related.get("type") == "ITEM" and isinstance(name, str):
                    item_names[str(related.get("id"))] = name
            cursor = answer.get("cursor")
            if not cursor:
                break
            body = {**body, "cursor": cursor}

        found = _match_skus(skus, variations, item_names)
        now = self._monotonic()
        if len(self._variation_ids) > MAX_REMEMBERED_SKUS:
            # Unknown SKUs asked for by users could otherwise grow this without bound.
            self._variation_ids = {k: v for k, v in self._variation_ids.items() if v[1] > now}
            if len(self._variation_ids) > MAX_REMEMBERED_SKUS:
                self._variation_ids.clear()
        expires = now + self._ttl
        for sku in skus:
            hit = found.get(sku)
            self._variation_ids[sku] = (hit.variation_id if hit else None, expires)
        return found

    async def _counts(
        self, ids: list[str], location_refs: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "catalog_object_ids": ids,
            "states": list(STOCK_STATES),
            "limit": COUNTS_PAGE_LIMIT,
        }
        if location_refs is not None:
            body["location_ids"] = list(dict.fromkeys(location_refs))
        counts: list[dict[str, Any]] = []
        while True:
            answer = await self._call("POST", "/v2/inventory/counts/batch-retrieve", json=body)
            counts += _dicts(answer.get("counts"))
            cursor = answer.get("cursor")
            if not cursor:
                return counts
            body = {**body, "cursor": cursor}

    def _lookup(self, sku: str) -> tuple[bool, str | None]:
        """(known, variation id): known and None means Square has no such SKU."""
        entry = self._variation_ids.get(sku)
        if entry is None or entry[1] <= self._monotonic():
            return False, None
        return True, entry[0]

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await send(
            BACKEND,
            lambda: self._client.request(method, path, **kwargs),
            parse_error,
            max_retries=self._max_retries,
        )
        body = json_body(response)
        if not isinstance(body, dict):
            raise BackendUnavailable(
                f"{BACKEND} answered {path} with a body that is not a JSON object",
                backend=BACKEND,
                status=response.status_code,
            )
        if _dicts(body.get("errors")):
            # Bulk endpoints may answer 200 with errors in the body.
            raise parse_error(response)
        return body


# --- errors ------------------------------------------------------------------------------------


def parse_error(response: httpx.Response) -> BackendError:
    """Square's {errors: [{category, code, detail, field}]}: the first error decides."""
    body = json_body(response)
    errors = _dicts(body.get("errors")) if isinstance(body, dict) else []
    if not errors:
        return default_error(BACKEND, response)
    first = errors[0]
    status = response.status_code
    code = first.get("code") if isinstance(first.get("code"), str) else None
    category = first.get("category")
    detail = first.get("detail") or code or f"HTTP {status}"
    message = f"{BACKEND}: {detail}"
    details = {"category": category, "field": first.get("field")}
    kind: type[BackendError]
    if status in (401, 403) or category == "AUTHENTICATION_ERROR":
        kind = BackendAuthError
    elif status in RETRYABLE_STATUSES or status >= 500 or category == "RATE_LIMIT_ERROR":
        kind = BackendUnavailable
    else:
        kind = BackendRejected
    return kind(message, backend=BACKEND, status=status, backend_code=code, **details)


# --- mapping from wire payloads ----------------------------------------------------------------


def _location(raw: dict[str, Any]) -> BackendLocation:
    coordinates = _dict(raw.get("coordinates"))
    lat, lng = coordinates.get("latitude"), coordinates.get("longitude")
    point = (
        GeoPoint(float(lat), float(lng))
        if isinstance(lat, int | float) and isinstance(lng, int | float)
        else None
    )
    return BackendLocation(
        source=SourceSystem.POS,
        ref=str(raw["id"]),
        name=str(raw.get("name") or raw["id"]),
        active=raw.get("status") == "ACTIVE",
        point=point,
        address=_address(_dict(raw.get("address"))),
        timezone=raw.get("timezone"),
        kind=raw.get("type"),
    )


def _address(address: dict[str, Any]) -> str | None:
    town = " ".join(str(address[k]) for k in ("postal_code", "locality") if address.get(k))
    parts = [address.get("address_line_1"), address.get("address_line_2"), town]
    parts.append(address.get("country"))
    text = ", ".join(str(p) for p in parts if p)
    return text or None


def _match_skus(
    skus: list[str], variations: list[dict[str, Any]], item_names: dict[str, str]
) -> dict[str, PosVariation]:
    """Square matches SKUs case-insensitively: answer under the SKU as asked, preferring a
    variation whose SKU has the same spelling, then the first one Square returned."""
    by_folded: dict[str, list[dict[str, Any]]] = {}
    for obj in variations:
        sku = _dict(obj.get("item_variation_data")).get("sku")
        if isinstance(sku, str):
            by_folded.setdefault(sku.casefold(), []).append(obj)
    found: dict[str, PosVariation] = {}
    for sku in skus:
        candidates = by_folded.get(sku.casefold())
        if candidates:
            exact = [o for o in candidates if o["item_variation_data"]["sku"] == sku]
            found[sku] = _variation((exact or candidates)[0], item_names)
    return found


def _variation(obj: dict[str, Any], item_names: dict[str, str]) -> PosVariation:
    data = _dict(obj.get("item_variation_data"))
    item_id = str(data.get("item_id") or "")
    variation_name = str(data.get("name") or "")
    item_name = item_names.get(item_id)
    if item_name and variation_name and variation_name != _DEFAULT_VARIATION_NAME:
        name = f"{item_name} ({variation_name})"
    else:
        name = item_name or variation_name
    location_prices: dict[str, Money] = {}
    thresholds: dict[str, int] = {}
    for override in _dicts(data.get("location_overrides")):
        location = override.get("location_id")
        if not isinstance(location, str):
            continue
        price = _money(override.get("price_money"))
        if price is not None:
            location_prices[location] = price
        threshold = override.get("inventory_alert_threshold")
        if override.get("inventory_alert_type") == "LOW_QUANTITY" and isinstance(threshold, int):
            thresholds[location] = threshold
    return PosVariation(
        sku=str(data.get("sku")),
        variation_id=str(obj["id"]),
        item_id=item_id,
        name=name,
        price=_money(data.get("price_money")),
        location_prices=location_prices,
        low_stock_thresholds=thresholds,
    )


def _money(raw: Any) -> Money | None:
    if not isinstance(raw, dict):
        return None
    amount, currency = raw.get("amount"), raw.get("currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        return None
    return Money.from_minor(amount, currency, _EXPONENTS.get(currency, 2))


def _readings(
    counts: list[dict[str, Any]], sku_of: dict[str, str], wanted: list[str]
) -> list[StockReading]:
    quantities: dict[tuple[str, str], dict[str, Decimal]] = {}
    as_of: dict[tuple[str, str], datetime] = {}
    for count in counts:
        sku = sku_of.get(str(count.get("catalog_object_id")))
        location, state = count.get("location_id"), count.get("state")
        if sku is None or not isinstance(location, str) or state not in STOCK_STATES:
            continue
        pair = (sku, location)
        by_state = quantities.setdefault(pair, {})
        by_state[state] = by_state.get(state, Decimal(0)) + _quantity(count.get("quantity"))
        moment = _time(count.get("calculated_at"))
        if moment is not None and (pair not in as_of or moment > as_of[pair]):
            as_of[pair] = moment
    order = {sku: i for i, sku in enumerate(wanted)}
    readings = []
    for (sku, location), by_state in sorted(
        quantities.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])
    ):
        in_stock = _whole(by_state.get("IN_STOCK", Decimal(0)))
        reserved = _whole(by_state.get("RESERVED_FOR_SALE", Decimal(0)))
        readings.append(
            StockReading(
                sku=sku,
                source=SourceSystem.POS,
                location_ref=location,
                on_hand=in_stock + reserved,
                reserved=reserved,
                # Square always sends calculated_at; without one the figure's age is unknown.
                as_of=as_of.get((sku, location), _UNKNOWN_TIME),
                incoming=_whole(by_state.get("ORDERED_FROM_VENDOR", Decimal(0))),
            )
        )
    return readings


def _quantity(raw: Any) -> Decimal:
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return Decimal(0)


def _whole(quantity: Decimal) -> int:
    """Rounded down, as Square's POS shows decimal quantities (2.5 -> 2, -2.5 -> -3)."""
    return int(quantity.to_integral_value(rounding=ROUND_FLOOR))


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    text = _FRACTION.sub(r"\1", raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _dicts(raw: Any) -> list[dict[str, Any]]:
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
