"""The anonymous cart of a visitor without JavaScript: a signed cookie.

With JavaScript the browser keeps an anonymous cart in localStorage (static/js/cart.js);
without it, "Add to cart" would have nowhere to keep the item. The server keeps it instead,
in the `cs_cart` cookie: `<payload>.<signature>`, the payload the lines as compact JSON in
URL-safe base64, the signature HMAC-SHA256 of it under the app's secret, so a visitor can
neither forge lines nor grow the cookie past MAX_COOKIE_CHARS. What the cookie says is still
untrusted input: it goes through the same rules as the localStorage copy
(`shop.carts.parse_lines`, `domain.cart.normalize`, at most MAX_LINES). Signing in merges it
into the saved cart, like the localStorage copy, and the cookie goes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from quart import current_app, request
from quart.typing import ResponseTypes

from cloudstore.domain.cart import MAX_LINES, CartLine, normalize
from cloudstore.domain.client_text import bounded_json
from cloudstore.domain.errors import InvalidInput
from cloudstore.shop import carts
from cloudstore.web.cookies import CART_COOKIE, cookie_name, read_cookie

# Well under a browser's 4096 bytes per cookie; 50 lines of the usual ids fit.
MAX_COOKIE_CHARS = 3000
MAX_AGE = 60 * 60 * 24 * 30
PURPOSE = b"no-js-cart:"


def _signature(payload: str) -> str:
    secret = current_app.extensions["cloudstore"].tokens.secret.encode()
    return hmac.new(secret, PURPOSE + payload.encode(), hashlib.sha256).hexdigest()


def encode(lines: list[CartLine]) -> str:
    compact = json.dumps(
        [[line.product_id, line.quantity] for line in lines], separators=(",", ":")
    )
    payload = base64.urlsafe_b64encode(compact.encode()).decode().rstrip("=")
    return f"{payload}.{_signature(payload)}"


def decode(value: str) -> list[CartLine]:
    """The lines of a cookie value; a forged, oversized or malformed one is an empty cart."""
    if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
        return []
    payload, signature = value.split(".")
    if not hmac.compare_digest(signature, _signature(payload)):
        return []
    try:
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        pairs = bounded_json(text, max_chars=MAX_COOKIE_CHARS, name="cart")
        if not isinstance(pairs, list):
            return []
        items = [
            {"product_id": pair[0], "quantity": pair[1]}
            for pair in pairs
            if isinstance(pair, list) and len(pair) == 2
        ]
        return normalize(carts.parse_lines(items))[:MAX_LINES]
    except (ValueError, binascii.Error, UnicodeDecodeError, InvalidInput):
        return []


def present() -> bool:
    return cookie_name(CART_COOKIE) in request.cookies


def cookie_lines() -> list[CartLine]:
    return decode(read_cookie(CART_COOKIE) or "")


def fits(lines: list[CartLine]) -> bool:
    """Whether the cookie can hold these lines."""
    return len(encode(lines)) <= MAX_COOKIE_CHARS


def keep(response: ResponseTypes, lines: list[CartLine]) -> ResponseTypes:
    """Keep `lines` in the cookie (an empty cart removes it)."""
    if not lines:
        return forget(response)
    response.set_cookie(
        cookie_name(CART_COOKIE),
        encode(lines),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path="/",
    )
    return response


def forget(response: ResponseTypes) -> ResponseTypes:
    if present():
        response.delete_cookie(cookie_name(CART_COOKIE), path="/", secure=request.is_secure)
    return response
