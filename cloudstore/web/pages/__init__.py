"""HTML pages and their htmx fragments.

One blueprint per area (catalog, cart, account, checkout, orders); this parent adds what all
pages share: the CSRF check on every state-changing request, the template context (user,
cart, CSRF token, a pending notice) and the `idr` filter.
"""

from __future__ import annotations

import logging
from datetime import datetime

from quart import Blueprint, g, request, url_for

from cloudstore.money import format_idr
from cloudstore.web.csrf import CSRF_FIELD
from cloudstore.web.pages import account, cart, catalog, checkout, common, orders
from cloudstore.web.pages.cartview import quote_for
from cloudstore.web.rendering import template_module
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

    @pages.app_template_filter("image")
    def image(product) -> str:
        """Only our own images: a page never asks another host for anything."""
        url = getattr(product, "image_url", None) or (
            product.get("image_url") if isinstance(product, dict) else ""
        )
        if url and url.startswith("/static/") and ".." not in url:
            return url
        return url_for("static", filename="img/placeholder.svg")

    @pages.app_template_filter("when")
    def when(iso: str) -> str:
        try:
            moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
        except ValueError:
            return str(iso)
        return moment.strftime("%d %b %Y, %H:%M UTC")

    @pages.app_template_filter("status_label")
    def status_label(status: str) -> str:
        return STATUS_LABELS.get(status, status.title())

    @pages.app_context_processor
    async def page_context() -> dict:
        context = {
            "notice": common.pending_notice(),
            "user": None,
            "cart": None,
            "categories": (),
        }
        try:
            settings = backends().settings
            context["categories"] = settings.categories
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

    # After the filters above: the macros module is compiled against them.
    @pages.record_once
    def install_globals(state) -> None:
        env = state.app.jinja_env
        env.globals.update(
            csrf_token=common.csrf_token,
            CSRF_FIELD=CSRF_FIELD,
            tax_percent=lambda: f"{(backends().settings.tax_rate * 100).normalize():f}",
        )

        @state.app.before_serving
        async def load_macros() -> None:
            env.globals["ui"] = template_module(state.app, "_macros.html")

    return pages
