"""What the HTML toolkit adds to the app (called by `create_app`): template filters, the page
context every template sees, Jinja globals (the `ui` macros among them), and after every
request the CSRF cookie and the clean-up of a shown notice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from quart import Quart, Response, g, request

from cloudstore.domain.field_messages import format_page_message
from cloudstore.web.cookies import CART_COOKIE, cookie_name
from cloudstore.web.html.csrf import CSRF_FIELD, csrf_token, persist_new_token
from cloudstore.web.html.listing import MAX_QUERY, SORT_LABELS
from cloudstore.web.html.rendering import (
    drop_flask_context_processors,
    memoise_url_for,
    template_module,
)
from cloudstore.web.html.responses import forget_shown_notice, is_htmx, pending_notice
from cloudstore.web.html.template_filters import register_filters
from cloudstore.web.session import backends, current_user

if TYPE_CHECKING:
    from cloudstore.domain.accounts import User
    from cloudstore.domain.pricing import Quote

log = logging.getLogger(__name__)
SavedCart = Callable[["User | None"], Awaitable["Quote"]]


def install_html(app: Quart, *, saved_cart: SavedCart) -> None:
    """`saved_cart` prices a signed-in visitor's saved cart for the header and drawer of a
    full page (fragments get their cart from the view)."""
    register_filters(app)
    app.context_processor(page_context(saved_cart))
    app.jinja_env.globals.update(
        csrf_token=csrf_token,
        CSRF_FIELD=CSRF_FIELD,
        SORT_LABELS=SORT_LABELS,
        MAX_QUERY=MAX_QUERY,
        tax_percent=lambda: f"{(backends().settings.tax_rate * 100).normalize():f}",
        quantity_message=lambda: format_page_message("quantity"),
    )
    memoise_url_for(app)

    @app.after_request
    async def finish(response: Response) -> Response:
        persist_new_token(response)
        forget_shown_notice(response)
        return response

    @app.before_serving
    async def ready_templates() -> None:
        # Every blueprint is registered by now; the macros see the filters and globals above.
        drop_flask_context_processors(app)
        app.jinja_env.globals["ui"] = template_module(app, "_macros.html")


def page_context(saved_cart: SavedCart):
    async def page_context() -> dict[str, Any]:
        """The visitor as pages show them: account, cart, a pending notice."""
        context: dict[str, Any] = {
            "notice": pending_notice(),
            "user": None,
            "cart": None,
            "categories": (),
            "endpoint": request.endpoint,
        }
        try:
            context["categories"] = backends().settings.categories
            user = await current_user(required=False)
            context["user"] = user
            # Fragments get their cart from the view; a full page shows the saved cart, or
            # a no-JS visitor's cookie cart (a script's cart is fetched after load).
            anonymous_cart = user is None and cookie_name(CART_COOKIE) in request.cookies
            if (user is not None or anonymous_cart) and not is_htmx() and "cart" not in g:
                g.cart = await saved_cart(user)
            context["cart"] = g.get("cart")
        except Exception:  # noqa: BLE001 - an error page must render even when backends fail
            log.debug("page context degraded on %s", request.path, exc_info=True)
        return context

    return page_context
