"""The catalog (`/`) with search, category, sort and "Load more"; the product page."""

from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup
from quart import Blueprint, redirect, request, url_for

from cloudstore.domain.catalog import SORTS, CatalogIndex
from cloudstore.domain.errors import InvalidInput
from cloudstore.shop.catalog import find_product, snapshot
from cloudstore.web.pages.common import html_response, hx_target, is_htmx
from cloudstore.web.pages.fragment_cache import page_for_visitor, shared_fragment
from cloudstore.web.rendering import render, render_blocks
from cloudstore.web.session import backends

bp = Blueprint("catalog", __name__)
PAGE_SIZE = 12
MAX_QUERY = 100
SORT_LABELS = {
    "newest": "Newest",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "name": "Name: A to Z",
}
assert set(SORT_LABELS) == set(SORTS)


def catalog_filters() -> dict:
    """The shopper's filters, cleaned: unknown values fall back to the defaults."""
    args = request.args
    category = args.get("category", "").strip().lower()
    sort = args.get("sort", "newest")
    return {
        "q": " ".join(args.get("q", "").split())[:MAX_QUERY],
        "category": category if category in backends().settings.categories else "",
        "sort": sort if sort in SORTS else "newest",
    }


def catalog_url(filters: dict, cursor: str | None = None) -> str:
    """The canonical, shareable URL: defaults and empty values left out."""
    params = {k: v for k, v in filters.items() if v and not (k == "sort" and v == "newest")}
    if cursor:
        params["cursor"] = cursor
    return url_for("pages.catalog.index") + ("?" + urlencode(params) if params else "")


@bp.get("/")
async def index():
    filters = catalog_filters()
    cursor = request.args.get("cursor") or None
    catalog = await snapshot(backends())
    target = hx_target()
    block = "more" if target == "load-more" else "results"
    key = (*filters.values(), cursor, request.script_root)

    async def grid() -> Markup:
        return await shared_fragment(
            catalog,
            ("catalog", block, *key),
            lambda: render_blocks(
                "catalog.html", [block], **results_context(catalog, filters, cursor)
            ),
        )

    async def whole_page() -> str:
        return await render(
            "catalog.html", filters=filters, sort_labels=SORT_LABELS, results_html=await grid()
        )

    if target in ("load-more", "results"):
        headers = {"HX-Push-Url": catalog_url(filters)} if target == "results" else None
        return await html_response(await grid(), headers=headers)
    return await html_response(await page_for_visitor(catalog, ("catalog page", *key), whole_page))


def results_context(catalog: CatalogIndex, filters: dict, cursor: str | None) -> dict:
    """What the results block shows: one page of matches and the links around it."""
    query = {
        "category": filters["category"] or None,
        "q": filters["q"] or None,
        "sort": filters["sort"],
        "limit": PAGE_SIZE,
    }
    try:
        results = catalog.query(**query, cursor=cursor)
    except InvalidInput:  # a stale or edited cursor: start from the top
        cursor = None
        results = catalog.query(**query)
    return {
        "filters": filters,
        "results": results,
        "next_url": catalog_url(filters, results.next_cursor) if results.next_cursor else None,
        "continued": bool(cursor),
        "first_url": catalog_url(filters),
    }


@bp.get("/products/<product_id>")
async def product(product_id: str):
    catalog = await snapshot(backends())
    item = await find_product(backends(), product_id)
    # Keyed by the product's values: one fetched from DynamoDB (newer than the snapshot)
    # gets entries of its own.
    key = (item, request.script_root)

    async def panel() -> Markup:
        return await shared_fragment(
            catalog,
            ("product", *key),
            lambda: render_blocks("product.html", ["content"], product=item),
        )

    async def whole_page() -> str:
        return await render("product.html", product=item, content_html=await panel())

    if is_htmx():
        return await html_response(await panel())
    return await html_response(await page_for_visitor(catalog, ("product page", *key), whole_page))


@bp.get("/product/<product_id>")
async def product_legacy(product_id: str):
    """The spec's URL for a product page."""
    return redirect(url_for("pages.catalog.product", product_id=product_id), 301)
