"""Where to route a delivery to, from what an order says (pure).

In order of preference: the coordinates the order carries (a storefront's address picker or
geocoding plugin); else the centre of its postcode region, then of its town, from the
offline table of the one country shipped (gateway.geocoding.germany); else nowhere, and the
caller routes as if to its default node. ``Located.note`` says which, for the routing
explanation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from gateway.domain import GeoPoint
from gateway.domain.documents import PostalAddress
from gateway.geocoding.germany import CITY_ALIASES, REGIONS

COUNTRY = "DE"


class LocatedBy(StrEnum):
    COORDINATES = "COORDINATES"
    POSTCODE = "POSTCODE"
    CITY = "CITY"
    DEFAULT_NODE = "DEFAULT_NODE"
    PICKUP_STORE = "PICKUP_STORE"  # a local-pickup order: the store it is collected at


@dataclass(frozen=True, slots=True)
class Located:
    by: LocatedBy
    point: GeoPoint | None  # None: route as if to the default node
    note: str


def _fold(text: str) -> str:
    """Lower case, German umlauts spelled out, other accents dropped."""
    text = text.strip().lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_CITIES: dict[str, tuple[str, float, float]] = {
    _fold(name): (name, lat, lng) for name, lat, lng in REGIONS.values()
}


def _usable(point: GeoPoint | None) -> bool:
    return (
        point is not None
        and -90.0 <= point.lat <= 90.0
        and -180.0 <= point.lng <= 180.0
        and (point.lat, point.lng) != (0.0, 0.0)  # an unset pair, not the Gulf of Guinea
    )


def locate(address: PostalAddress | None) -> Located:
    if address is None:
        return Located(LocatedBy.DEFAULT_NODE, None, "no shipping address")
    if _usable(address.point):
        point = address.point
        assert point is not None
        return Located(
            LocatedBy.COORDINATES,
            point,
            f"ship-to from the order's coordinates ({point.lat:.4f}, {point.lng:.4f})",
        )
    country = address.country_code.strip().upper()
    if country != COUNTRY:
        return Located(
            LocatedBy.DEFAULT_NODE,
            None,
            f"no coordinates, and no offline table for country {country or '(none)'}",
        )
    postcode = address.postal_code.strip()
    if len(postcode) == 5 and postcode.isdigit() and postcode[:2] in REGIONS:
        name, lat, lng = REGIONS[postcode[:2]]
        return Located(
            LocatedBy.POSTCODE,
            GeoPoint(lat, lng),
            f"ship-to from postcode {postcode}: the centre of region {postcode[:2]} ({name})",
        )
    city = _fold(address.city)
    found = _CITIES.get(CITY_ALIASES.get(city, city))
    if found is not None:
        name, lat, lng = found
        return Located(LocatedBy.CITY, GeoPoint(lat, lng), f"ship-to from the town: {name}")
    return Located(
        LocatedBy.DEFAULT_NODE,
        None,
        f"postcode {postcode or '(none)'} and town {address.city or '(none)'} not in the table",
    )
