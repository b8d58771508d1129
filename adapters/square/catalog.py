"""Square's Locations and Catalog reads: store locations, and each SKU's ITEM_VARIATION
(id, name, store prices, shelf) found by a catalog search.

Square keys inventory by ITEM_VARIATION id, not SKU, so every stock read and write starts
here. One catalog search covers 100 SKUs (a ``set_query`` on the searchable ``sku``
attribute, with the parent ITEMs as related objects); each SKU's variation id is remembered
for a while so later calls for the same SKUs skip the search.

Square has no shelf field; a merchant keeps one as a STRING catalog custom attribute. It is
found on each variation by the attribute's name, since its key is a UUID the Dashboard gives
each account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.square.api import SquareApi, dict_of, dicts
from gateway.domain import BackendLocation, GeoPoint, Money, PosVariation, SourceSystem

SKUS_PER_SEARCH = 100
SEARCH_LIMIT = 1000
OBJECTS_PER_RETRIEVE = 1000  # BatchRetrieveCatalogObjects' cap on object_ids
MAX_REMEMBERED_SKUS = 200_000
# Square's default name for the only variation of an item; the item name says more.
_DEFAULT_VARIATION_NAME = "Regular"
# ISO 4217 minor-unit exponents that are not 2 (Square sends amounts in minor units).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}


class SquareCatalog:
    def __init__(
        self,
        api: SquareApi,
        *,
        ttl_seconds: float,
        monotonic: Callable[[], float],
        shelf_attribute: str = "Shelf",
    ) -> None:
        self._api = api
        self._shelf_attribute = shelf_attribute
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        # SKU -> (variation id, or None when Square has no such SKU; expiry). Expiry covers a
        # SKU moved to a new variation in Square; prices are never served from here.
        self._variation_ids: dict[str, tuple[str | None, float]] = {}

    async def locations(self) -> list[BackendLocation]:
        """ACTIVE, PHYSICAL locations (Square lists INACTIVE and MOBILE ones too)."""
        body = await self._api.call("GET", "/v2/locations")
        return [
            _location(raw)
            for raw in dicts(body.get("locations"))
            if raw.get("status") == "ACTIVE" and raw.get("type") == "PHYSICAL"
        ]

    async def variations_by_sku(self, skus: Sequence[str]) -> dict[str, PosVariation]:
        found: dict[str, PosVariation] = {}
        wanted = list(dict.fromkeys(skus))
        for start in range(0, len(wanted), SKUS_PER_SEARCH):
            found.update(await self._search(wanted[start : start + SKUS_PER_SEARCH]))
        return found

    async def variation_ids(
        self, skus: Sequence[str], *, recheck_unknown: bool = False
    ) -> dict[str, str]:
        """SKU -> variation id for the SKUs Square has, searching only for SKUs not
        remembered. ``recheck_unknown`` also searches again for SKUs remembered as absent:
        a write should not fail on a SKU added to Square a minute ago."""
        wanted = list(dict.fromkeys(skus))
        stale = [
            sku
            for sku, (known, vid) in ((s, self._lookup(s)) for s in wanted)
            if not known or (recheck_unknown and vid is None)
        ]
        if stale:
            await self.variations_by_sku(stale)
        ids = {sku: self._lookup(sku)[1] for sku in wanted}
        return {sku: vid for sku, vid in ids.items() if vid is not None}

    async def skus_of(self, variation_ids: Sequence[str]) -> dict[str, str]:
        """Variation id -> SKU (an inventory webhook names variations, not SKUs): one
        BatchRetrieveCatalogObjects per 1,000 ids; ids Square no longer has are left out."""
        wanted = list(dict.fromkeys(variation_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), OBJECTS_PER_RETRIEVE):
            body = {"object_ids": wanted[start : start + OBJECTS_PER_RETRIEVE]}
            answer = await self._api.call("POST", "/v2/catalog/batch-retrieve", json=body)
            for obj in dicts(answer.get("objects")):
                sku = dict_of(obj.get("item_variation_data")).get("sku")
                if obj.get("type") == "ITEM_VARIATION" and isinstance(sku, str) and sku:
                    found[str(obj.get("id"))] = sku
        return found

    def forget(self, sku: str) -> None:
        """Drop a remembered id Square no longer knows (the variation was deleted)."""
        self._variation_ids.pop(sku, None)

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
            answer = await self._api.call("POST", "/v2/catalog/search", json=body)
            variations += [
                o
                for o in dicts(answer.get("objects"))
                if o.get("type") == "ITEM_VARIATION" and not o.get("is_deleted")
            ]
            for related in dicts(answer.get("related_objects")):
                name = dict_of(related.get("item_data")).get("name")
                if related.get("type") == "ITEM" and isinstance(name, str):
                    item_names[str(related.get("id"))] = name
            cursor = answer.get("cursor")
            if not cursor:
                break
            body = {**body, "cursor": cursor}

        found = _match_skus(skus, variations, item_names, self._shelf_attribute)
        self._remember(skus, found)
        return found

    def _remember(self, skus: list[str], found: dict[str, PosVariation]) -> None:
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

    def _lookup(self, sku: str) -> tuple[bool, str | None]:
        """(known, variation id): known and None means Square has no such SKU."""
        entry = self._variation_ids.get(sku)
        if entry is None or entry[1] <= self._monotonic():
            return False, None
        return True, entry[0]


# --- mapping from wire payloads ----------------------------------------------------------------


def _location(raw: dict[str, Any]) -> BackendLocation:
    coordinates = dict_of(raw.get("coordinates"))
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
        address=_address(dict_of(raw.get("address"))),
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
    skus: list[str],
    variations: list[dict[str, Any]],
    item_names: dict[str, str],
    shelf_attribute: str,
) -> dict[str, PosVariation]:
    """Square matches SKUs case-insensitively: answer under the SKU as asked, preferring a
    variation whose SKU has the same spelling, then the first one Square returned."""
    by_folded: dict[str, list[dict[str, Any]]] = {}
    for obj in variations:
        sku = dict_of(obj.get("item_variation_data")).get("sku")
        if isinstance(sku, str):
            by_folded.setdefault(sku.casefold(), []).append(obj)
    found: dict[str, PosVariation] = {}
    for sku in skus:
        candidates = by_folded.get(sku.casefold())
        if candidates:
            exact = [o for o in candidates if o["item_variation_data"]["sku"] == sku]
            found[sku] = _variation((exact or candidates)[0], item_names, shelf_attribute)
    return found


def _variation(
    obj: dict[str, Any], item_names: dict[str, str], shelf_attribute: str
) -> PosVariation:
    data = dict_of(obj.get("item_variation_data"))
    item_id = str(data.get("item_id") or "")
    variation_name = str(data.get("name") or "")
    item_name = item_names.get(item_id)
    if item_name and variation_name and variation_name != _DEFAULT_VARIATION_NAME:
        name = f"{item_name} ({variation_name})"
    else:
        name = item_name or variation_name
    location_prices: dict[str, Money] = {}
    thresholds: dict[str, int] = {}
    for override in dicts(data.get("location_overrides")):
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
        shelf=_string_attribute(obj, shelf_attribute),
    )


def _string_attribute(obj: dict[str, Any], name: str) -> str | None:
    """The STRING custom attribute value named ``name``. The map is keyed by the definition's
    key (qualified by the defining application's id), which differs per account, so the
    seller-facing name is what a configuration can rely on."""
    for value in dict_of(obj.get("custom_attribute_values")).values():
        if not isinstance(value, dict) or value.get("name") != name:
            continue
        text = value.get("string_value")
        if value.get("type", "STRING") == "STRING" and isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _money(raw: Any) -> Money | None:
    if not isinstance(raw, dict):
        return None
    amount, currency = raw.get("amount"), raw.get("currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        return None
    return Money.from_minor(amount, currency, _EXPONENTS.get(currency, 2))
