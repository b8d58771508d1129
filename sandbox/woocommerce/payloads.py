"""Records rendered as WooCommerce answers them: the products controller's shape (also used
for a variation found through /products?sku=) and the variations controller's shape.

Money is a string with two decimals; dates without ``_gmt`` are site-local and without an
offset; ``_links`` point at the host the client called; permalinks at the shop's own URL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.retailer import SHOP_URL
from sandbox.woocommerce.catalog import ATTRIBUTE_IDS, CATEGORY_IDS, Catalog, Record, slugify

SITE_TIMEZONE = ZoneInfo("Europe/Berlin")
API_PATH = "/wp-json/wc/v3"
_NO_SALE_DATES = {
    "date_on_sale_from": None,
    "date_on_sale_from_gmt": None,
    "date_on_sale_to": None,
    "date_on_sale_to_gmt": None,
}
_NO_DIMENSIONS = {"length": "", "width": "", "height": ""}


def money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def local_date(moment: datetime) -> str:
    return moment.astimezone(SITE_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S")


def gmt_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def permalink(catalog: Catalog, record: Record) -> str:
    if record.type != "variation":
        return f"{SHOP_URL}/product/{record.slug}/"
    parent = catalog.get(record.parent_id)
    base = permalink(catalog, parent) if parent else f"{SHOP_URL}/?p={record.id}"
    query = "&".join(
        f"attribute_{_attribute_slug(name)}={slugify(value)}" for name, value in record.attributes
    )
    return f"{base}?{query}" if query else base


def product_payload(catalog: Catalog, record: Record, api: str) -> dict[str, Any]:
    """GET /products/<id> and the items of GET /products."""
    parent = catalog.get(record.parent_id) if record.parent_id else None
    category = parent.category if parent and record.type == "variation" else record.category
    price = catalog.price(record)
    regular = None if record.type == "variable" else record.regular_price
    is_variation = record.type == "variation"
    return {
        "id": record.id,
        "name": record.name,
        "slug": record.slug,
        "permalink": permalink(catalog, record),
        **_dates(record),
        "type": record.type,
        "status": record.status,
        "featured": False,
        "catalog_visibility": "visible",
        "description": record.description,
        "short_description": "",
        "sku": record.sku,
        "price": money(price),
        "regular_price": money(regular),
        "sale_price": money(record.sale_price),
        **_NO_SALE_DATES,
        "price_html": _price_html(catalog, record),
        "on_sale": record.sale_price is not None,
        "purchasable": price is not None,
        "total_sales": record.total_sales,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        **_stock(record),
        "sold_individually": False,
        "weight": record.weight,
        "dimensions": dict(_NO_DIMENSIONS),
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": not is_variation,
        "post_password": "",
        "average_rating": "0.00",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": record.parent_id,
        "purchase_note": "",
        "categories": _categories(category),
        "brands": [],
        "tags": [],
        "images": [],
        "attributes": (
            _variation_attributes(record) if is_variation else _product_attributes(record)
        ),
        "default_attributes": [],
        "variations": [c.id for c in catalog.children(record)],
        "grouped_products": [],
        "menu_order": record.menu_order,
        "has_options": record.type == "variable",
        "global_unique_id": record.barcode,
        "meta_data": [],
        "_links": _links(record, api, f"{api}/products"),
    }


def variation_payload(catalog: Catalog, record: Record, api: str) -> dict[str, Any]:
    """GET /products/<product_id>/variations[/<id>]."""
    collection = f"{api}/products/{record.parent_id}/variations"
    return {
        "id": record.id,
        **_dates(record),
        "description": record.description,
        "permalink": permalink(catalog, record),
        "sku": record.sku,
        "global_unique_id": record.barcode,
        "price": money(record.own_price),
        "regular_price": money(record.regular_price),
        "sale_price": money(record.sale_price),
        **_NO_SALE_DATES,
        "on_sale": record.sale_price is not None,
        "status": record.status,
        "purchasable": record.own_price is not None,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": "",
        **_stock(record),
        "weight": record.weight,
        "dimensions": dict(_NO_DIMENSIONS),
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": None,
        "attributes": _variation_attributes(record),
        "menu_order": record.menu_order,
        "meta_data": [],
        "_links": _links(record, api, collection),
    }


def _dates(record: Record) -> dict[str, str]:
    return {
        "date_created": local_date(record.created),
        "date_created_gmt": gmt_date(record.created),
        "date_modified": local_date(record.modified),
        "date_modified_gmt": gmt_date(record.modified),
    }


def _stock(record: Record) -> dict[str, Any]:
    allowed = record.backorders != "no"
    backordered = record.stock_status == "onbackorder" or (
        record.manage_stock and allowed and (record.stock_quantity or 0) < 0
    )
    return {
        "manage_stock": record.manage_stock,
        "stock_quantity": record.stock_quantity if record.manage_stock else None,
        "stock_status": record.stock_status,
        "backorders": record.backorders,
        "backorders_allowed": allowed,
        "backordered": backordered,
        "low_stock_amount": record.low_stock_amount if record.manage_stock else None,
    }


def _links(record: Record, api: str, collection: str) -> dict[str, list[dict[str, str]]]:
    links = {
        "self": [{"href": f"{collection}/{record.id}"}],
        "collection": [{"href": collection}],
    }
    if record.parent_id:
        links["up"] = [{"href": f"{api}/products/{record.parent_id}"}]
    return links


def _categories(name: str) -> list[dict[str, Any]]:
    if not name:
        return []
    return [{"id": CATEGORY_IDS.get(name, 15), "name": name, "slug": slugify(name)}]


def _attribute_slug(name: str) -> str:
    return f"pa_{slugify(name)}" if name in ATTRIBUTE_IDS else slugify(name)


def _product_attributes(record: Record) -> list[dict[str, Any]]:
    return [
        {
            "id": ATTRIBUTE_IDS.get(name, 0),
            "name": name,
            "slug": _attribute_slug(name),
            "position": position,
            "visible": True,
            "variation": record.type == "variable",
            "options": values.split("|"),
        }
        for position, (name, values) in enumerate(record.attributes)
    ]


def _variation_attributes(record: Record) -> list[dict[str, Any]]:
    return [
        {
            "id": ATTRIBUTE_IDS.get(name, 0),
            "name": name,
            "slug": _attribute_slug(name),
            "option": value,
        }
        for name, value in record.attributes
    ]


def _amount_html(amount: Decimal) -> str:
    return (
        '<span class="woocommerce-Price-amount amount"><bdi>'
        f"{amount:.2f}&nbsp;"
        '<span class="woocommerce-Price-currencySymbol">&euro;</span></bdi></span>'
    )


def _price_html(catalog: Catalog, record: Record) -> str:
    prices = catalog.price_range(record)
    if prices is None:
        return ""
    low, high = prices
    if low == high:
        return _amount_html(low)
    return f"{_amount_html(low)} &ndash; {_amount_html(high)}"
