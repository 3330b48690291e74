"""Product listings (the storefront's catalog and the admin's product table): the filter
bar's values, the sort labels both show, and the one builder of listing URLs."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from quart import request, url_for

from cloudstore.domain.catalog import SORTS
from cloudstore.web.session import backends

MAX_QUERY = 100
DEFAULT_SORT = "newest"
SORT_LABELS = {
    "newest": "Newest first",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "name": "Name: A to Z",
}
assert set(SORT_LABELS) == set(SORTS)
DEFAULTS = {"sort": DEFAULT_SORT}  # left out of URLs


def catalog_filters() -> dict:
    """The shopper's filters, cleaned: unknown values fall back to the defaults."""
    args = request.args
    category = args.get("category", "").strip().lower()
    sort = args.get("sort", DEFAULT_SORT)
    return {
        "q": " ".join(args.get("q", "").split())[:MAX_QUERY],
        "category": category if category in backends().settings.categories else "",
        "sort": sort if sort in SORTS else DEFAULT_SORT,
    }


def listing_url(endpoint: str, filters: Mapping[str, str], cursor: str | None = None) -> str:
    """The canonical, shareable URL of a listing: defaults and empty values left out."""
    params = {k: v for k, v in filters.items() if v and DEFAULTS.get(k) != v}
    if cursor:
        params["cursor"] = cursor
    return url_for(endpoint) + ("?" + urlencode(params) if params else "")
