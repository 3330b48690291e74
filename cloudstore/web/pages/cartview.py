"""The cart as pages see it: where its lines come from (the Cart table once logged in, the
browser's localStorage copy before), and the htmx response that follows every change.

A visitor without JavaScript keeps it in a signed cookie instead (`cookie_cart`).
The browser copy arrives in the `X-Cart` header that `static/js/cart.js` adds to htmx
requests; it is untrusted, so it goes through `shop.carts.parse_lines`. After a change the
server sends the new lines back in an `HX-Trigger` event (`cs:cart-store`) for the script to
keep, and out-of-band swaps for the header count, the drawer and (on /cart) the cart panel.
"""

from __future__ import annotations

import json

from quart import make_response, request
from quart.typing import ResponseTypes

from cloudstore.domain.accounts import User
from cloudstore.domain.cart import MAX_LINES, CartLine, normalize
from cloudstore.domain.client_text import bounded_json
from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.pricing import Quote
from cloudstore.shop import carts
from cloudstore.web.html.rendering import render_block, render_blocks
from cloudstore.web.html.responses import from_page
from cloudstore.web.pages import cookie_cart
from cloudstore.web.session import backends

CART_HEADER = "X-Cart"
MAX_HEADER_CHARS = 8000
STORE_EVENT = "cs:cart-store"


def browser_lines() -> list[CartLine]:
    """The anonymous cart: the one the script sent, else (a visitor without JavaScript) the
    signed cookie's (`cookie_cart`). Anything malformed counts as an empty cart."""
    raw = request.headers.get(CART_HEADER, "")
    if not raw:
        return cookie_cart.cookie_lines() if cookie_cart.present() else []
    try:
        items = bounded_json(raw, max_chars=MAX_HEADER_CHARS, name=CART_HEADER)
        return normalize(carts.parse_lines(items))[:MAX_LINES]
    except (ValueError, InvalidInput):
        return []


async def lines_for(user: User | None) -> list[CartLine]:
    if user is not None:
        return await carts.saved_lines(backends(), user.user_id)
    return browser_lines()


async def quote_for(user: User | None) -> Quote:
    return await carts.quote(backends(), await lines_for(user))


async def fresh_quote(lines: list[CartLine]) -> Quote:
    """Priced from DynamoDB itself (checkout shows what the transaction will see)."""
    return await carts.fresh_quote(backends(), lines)


def lines_payload(lines: list[CartLine]) -> list[dict]:
    return [{"product_id": line.product_id, "quantity": line.quantity} for line in lines]


async def cart_changed(
    user: User | None, lines: list[CartLine], toast: dict | None, *, status: int = 200
) -> ResponseTypes:
    """The answer to a cart change: out-of-band swaps only (the form itself stays)."""
    quote = await carts.quote(backends(), lines)
    # Unknown products fall out of the quote; keep only what could be priced.
    known = [CartLine(line.product.product_id, line.quantity) for line in quote.lines]
    context = {"cart": quote, "toast": toast, "oob": True, "user": user}
    body = await render_blocks("base.html", ["cart_count", "drawer_body", "toasts"], **context)
    if from_page("/cart"):
        body += await render_block("cart.html", "cart_panel", **context)
    response = await make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    if user is None:
        response.headers["HX-Trigger"] = json.dumps({STORE_EVENT: {"items": lines_payload(known)}})
        cookie_cart.forget(response)  # the script keeps the cart from now on
    return response
