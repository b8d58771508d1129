"""Browsing the catalogue page by page, optionally only what is in stock near a point."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.availability import AvailabilityService, Near, select_locations
from gateway.services.catalog import CatalogService


@dataclass(frozen=True, slots=True)
class BrowseEntry:
    sku: str
    resume_offset: int  # where a caller continues after this entry


@dataclass(frozen=True, slots=True)
class BrowseResult:
    entries: list[BrowseEntry]
    has_next_page: bool
    end_offset: int  # where the next page starts


async def browse_products(
    catalog: CatalogService,
    availability: AvailabilityService,
    *,
    offset: int,
    first: int,
    search: str | None,
    category: str | None,
    in_stock_near: Near | None,
    max_pages_scanned: int = 10,
) -> BrowseResult:
    """A page of SKUs in catalogue order. With ``in_stock_near`` it keeps reading catalogue
    pages until ``first`` matches are found or ``max_pages_scanned`` is reached, so one
    request has a bounded cost; the cursor then resumes where the scan stopped."""
    if in_stock_near is None:
        page = await catalog.page(offset=offset, limit=first, search=search, category=category)
        listed = [BrowseEntry(sku, page.start_offset + i + 1) for i, sku in enumerate(page.skus)]
        return BrowseResult(listed, page.has_next_page, page.next_offset)

    nearby = [
        loc for loc, _ in select_locations(await availability.all_locations(), near=in_stock_near)
    ]
    entries: list[BrowseEntry] = []
    position = offset
    for _ in range(max_pages_scanned):
        page = await catalog.page(offset=position, limit=first, search=search, category=category)
        stock = await availability.by_node(page.skus) if page.skus else {}
        for i, sku in enumerate(page.skus):
            if any(stock[sku][loc.id].available_to_promise > 0 for loc in nearby):
                entries.append(BrowseEntry(sku, page.start_offset + i + 1))
                if len(entries) == first:
                    more = i + 1 < len(page.skus) or page.has_next_page
                    return BrowseResult(entries, more, page.start_offset + i + 1)
        position = page.next_offset
        if not page.has_next_page:
            return BrowseResult(entries, False, position)
    # Scan budget spent: say there may be more, resuming after the last item scanned.
    return BrowseResult(entries, True, position)
