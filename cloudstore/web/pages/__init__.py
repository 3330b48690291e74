"""HTML pages and their htmx fragments.

One blueprint per area (catalog, cart, account, checkout, orders); this parent adds the CSRF
check on every state-changing request. What all HTML shares (filters, page context, CSRF
cookie, rendering) is the toolkit in `web/html/`, installed by `create_app`.
"""

from __future__ import annotations

from quart import Blueprint

from cloudstore.web.html.csrf import check_csrf
from cloudstore.web.pages import account, cart, catalog, checkout, orders
from cloudstore.web.pages.cartview import quote_for as saved_cart

__all__ = ["blueprint", "saved_cart"]


def blueprint() -> Blueprint:
    pages = Blueprint("pages", __name__)
    for module in (catalog, cart, account, checkout, orders):
        pages.register_blueprint(module.bp)

    @pages.before_request
    async def csrf_guard() -> None:
        await check_csrf()

    return pages
