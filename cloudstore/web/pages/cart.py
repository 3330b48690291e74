"""The cart page and every change to the cart (add, set quantity, remove)."""

from __future__ import annotations

from quart import Blueprint, g, request, url_for

from cloudstore.domain.accounts import User
from cloudstore.domain.cart import CartLine
from cloudstore.domain.errors import InvalidInput
from cloudstore.domain.field_messages import format_page_message
from cloudstore.shop import carts
from cloudstore.web.html.responses import go, is_htmx, notify, page
from cloudstore.web.pages import cookie_cart, forms
from cloudstore.web.pages.cartview import browser_lines, cart_changed, lines_for, quote_for
from cloudstore.web.session import backends, current_user

bp = Blueprint("cart", __name__, url_prefix="/cart")


@bp.get("")
async def view():
    user = await current_user(required=False)
    g.cart = await quote_for(user)
    return await page("cart.html", ["cart_panel"], cart=g.cart)


@bp.get("/drawer")
async def drawer():
    """The header count and drawer for the browser's cart (fetched after page load)."""
    if not is_htmx():
        return go(url_for("pages.cart.view"))
    user = await current_user(required=False)
    return await cart_changed(user, await lines_for(user), None)


async def _done(user: User | None, lines: list[CartLine], text: str, kind: str = "success"):
    if is_htmx():
        return await cart_changed(user, lines, {"kind": kind, "text": text})
    response = go(url_for("pages.cart.view"))
    if user is None:
        # Without JavaScript the server keeps an anonymous cart, in a signed cookie.
        if not cookie_cart.fits(lines):
            lines = browser_lines()
            text, kind = "Your cart is full. Log in to keep more items.", "warning"
        cookie_cart.keep(response, lines)
    return notify(response, text, kind)


@bp.post("/items")
async def add():
    form = await request.form
    product_id = str(form.get("product_id", "")).strip()
    wanted = forms.quantity(form.get("quantity", "1"))
    user = await current_user(required=False)
    product, change = await carts.add_item(
        backends(), _user_id(user), await lines_for(user), product_id, wanted
    )
    if not change.granted:
        text = (
            f"{product.name} is sold out."
            if change.limit == 0
            else f"Your cart already holds all {change.limit} available of {product.name}."
        )
        return await _done(user, change.lines, text, "warning")
    text = f"Added {change.granted} × {product.name} to your cart."
    if change.capped:
        text += f" Only {change.limit} available."
    return await _done(user, change.lines, text, "warning" if change.capped else "success")


@bp.post("/items/<product_id>")
async def update(product_id: str):
    """Set a line's quantity (0 removes it), at most what is in stock."""
    form = await request.form
    try:
        quantity = forms.quantity(form.get("quantity", "0"), minimum=0)
    except InvalidInput:
        quantity = None
    user = await current_user(required=False)
    lines = await lines_for(user)
    if quantity is None:
        text = f"{format_page_message('quantity')} To take it out, use Remove."
        return await _done(user, lines, text, "error")
    if all(line.product_id != product_id for line in lines):
        return await _done(user, lines, "That item is no longer in your cart.", "info")
    product, change = await carts.set_quantity(
        backends(), _user_id(user), lines, product_id, quantity
    )
    name = product.name if product else "The item"
    if change.quantity == 0:
        text, kind = f"Removed {name} from your cart.", "info"
        if quantity:
            text, kind = f"{name} is sold out and was removed from your cart.", "warning"
    elif change.capped:
        text = f"Updated {name}: {change.quantity}. Only {change.limit} available."
        kind = "warning"
    else:
        text, kind = f"Updated {name}: {change.quantity}.", "success"
    return await _done(user, change.lines, text, kind)


def _user_id(user: User | None) -> str | None:
    return user.user_id if user is not None else None
