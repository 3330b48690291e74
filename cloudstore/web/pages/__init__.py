"""HTML pages and their htmx fragments.

One blueprint per area (catalog, cart, account, checkout, orders); this parent adds what all
pages share: the CSRF check on every state-changing request, the template context (user,
cart, CSRF token, a pending notice) and the `idr` filter.
"""

from __future__ import annotations

import logging

from quart import Blueprint, g, request

from cloudstore.money import format_idr
from cloudstore.web.pages import account, cart, catalog, checkout, common, orders
from cloudstore.web.pages.cartview import quote_for
from cloudstore.web.session import backends, current_user

log = logging.getLogger(__name__)
STATUS_LABELS = {
    "pending": "Pending",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}


def blueprint() -> Blueprint:
    pages = Blueprint("pages", __name__)
    for module in (catalog, cart, account, checkout, orders):
        pages.register_blueprint(module.bp)

    @pages.before_request
    async def csrf_guard() -> None:
        await common.check_csrf()

    @pages.after_app_request
    async def finish(response):
        return common.finish_response(response)

    @pages.app_template_filter("idr")
    def idr(amount) -> str:
        return format_idr(amount)

    @pages.app_template_filter("status_label")
    def status_label(status: str) -> str:
        return STATUS_LABELS.get(status, status.title())

    @pages.app_context_processor
    async def page_context() -> dict:
        context = {
            "csrf_token": common.csrf_token(),
            "csrf_field": common.CSRF_FIELD,
            "notice": common.pending_notice(),
            "user": None,
            "cart": None,
            "categories": (),
        }
        try:
            settings = backends().settings
            context["categories"] = settings.categories
            context["tax_percent"] = f"{settings.tax_rate * 100:g}"
            user = await current_user(required=False)
            context["user"] = user
            # Fragments get their cart from the view; a full page shows the saved cart (an
            # anonymous cart is in the browser, which fetches it after load).
            if user is not None and not common.is_htmx() and "cart" not in g:
                g.cart = await quote_for(user)
            context["cart"] = g.get("cart")
        except Exception:  # noqa: BLE001 - an error page must render even when backends fail
            log.debug("page context degraded on %s", request.path, exc_info=True)
        return context

    return pages
