"""The catalog (`/`) with search, category, sort and "Load more"; the product page."""

from __future__ import annotations

from dataclasses import replace

from markupsafe import Markup
from quart import Blueprint, redirect, request, url_for

from cloudstore.domain.catalog import CatalogIndex
from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.numbers import whole_number
from cloudstore.shop.catalog import find_product, snapshot
from cloudstore.web.html.catalog_answers import (
    CatalogQuery,
    SharedHtml,
    page_for_visitor,
    shared_html,
)
from cloudstore.web.html.listing import catalog_filters, listing_url
from cloudstore.web.html.responses import html_response, hx_target, is_htmx
from cloudstore.web.session import backends

bp = Blueprint("catalog", __name__)
PAGE_SIZE = 12
MAX_PAGES = 20  # a Back rebuilds at most this many pages at once
GRID = "shared/catalog_results.html"  # the results, the same HTML for everyone
PANEL = "shared/product_panel.html"  # a product's details, likewise


def catalog_url(filters: dict, cursor: str | None = None) -> str:
    return listing_url("pages.catalog.index", filters, cursor)


def pages_loaded() -> int:
    """The `pages` parameter: how many pages "Load more" has shown (1 to MAX_PAGES)."""
    try:
        return whole_number(
            request.args.get("pages", "1"), name="pages", minimum=1, maximum=MAX_PAGES
        )
    except InvalidInput:
        return 1


def pages_url(filters: dict, pages: int) -> str:
    """The listing's first `pages` pages at once: what "Load more" puts in the address bar."""
    url = catalog_url(filters)
    return url if pages <= 1 else f"{url}{'&' if '?' in url else '?'}pages={pages}"


@bp.get("/")
async def index():
    filters = catalog_filters()
    cursor = request.args.get("cursor") or None
    catalog = await snapshot(backends())
    target = hx_target()
    pages = pages_loaded()
    if cursor or target == "results":
        query = CatalogQuery.of(filters, PAGE_SIZE, cursor, pages)
    else:  # a whole page (Back or a reload after "Load more") shows every page loaded
        query = CatalogQuery.of(filters, PAGE_SIZE * pages, None, pages)

    async def grid(block: str | None = None) -> Markup:
        key = SharedHtml.here(GRID, query, block)
        return await shared_html(catalog, key, lambda: results_context(catalog, filters, query))

    async def page_data() -> dict:
        return {"filters": filters, "results_html": await grid()}

    if target == "load-more":
        return await html_response(await grid("more"))
    if target == "results":
        headers = {"HX-Push-Url": catalog_url(filters)}
        return await html_response(await grid(), headers=headers)
    page = await page_for_visitor(catalog, SharedHtml.here("catalog.html", query), page_data)
    return await html_response(page)


def results_context(catalog: CatalogIndex, filters: dict, query: CatalogQuery) -> dict:
    """What the results show: one page of matches and the links around it."""
    try:
        results = query.run(catalog)
    except InvalidInput:  # a stale or edited cursor: start from the top
        query = replace(query, cursor=None)
        results = query.run(catalog)
    following = query.pages + 1
    next_url = more_url = None
    if results.next_cursor:
        more_url = catalog_url(filters, results.next_cursor)
        # "Load more" fetches the next page (htmx) and puts "the first N pages" in the
        # address bar, so Back to this listing rebuilds it (and the browser its scroll).
        next_url = pages_url(filters, following) if following <= MAX_PAGES else more_url
        more_url += f"&pages={min(following, MAX_PAGES)}"
    return {
        "filters": filters,
        "results": results,
        "next_url": next_url,
        "more_url": more_url,
        "push_url": next_url if following <= MAX_PAGES else "false",
        "continued": bool(query.cursor),
        "first_url": catalog_url(filters),
    }


@bp.get("/products/<product_id>")
async def product(product_id: str):
    catalog = await snapshot(backends())
    item = await find_product(backends(), product_id)

    async def panel() -> Markup:
        return await shared_html(catalog, SharedHtml.here(PANEL, item), lambda: {"product": item})

    async def page_data() -> dict:
        return {"product": item, "panel_html": await panel()}

    if is_htmx():
        return await html_response(await panel())
    page = await page_for_visitor(catalog, SharedHtml.here("product.html", item), page_data)
    return await html_response(page)


@bp.get("/product/<product_id>")
async def product_legacy(product_id: str):
    """The spec's URL for a product page."""
    return redirect(url_for("pages.catalog.product", product_id=product_id), 301)
