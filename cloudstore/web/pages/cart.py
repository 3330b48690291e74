"""The cart page and every change to the cart (add, set quantity, remove)."""

from __future__ import annotations

from quart import Blueprint, g, request, url_for

from cloudstore.domain.cart import MAX_QUANTITY, CartLine, normalize
from cloudstore.domain.errors import InvalidInput
from cloudstore.shop import carts
from cloudstore.shop.catalog import find_product
from cloudstore.stores.users import User
from cloudstore.web.html.responses import go, is_htmx, notify, page
from cloudstore.web.pages import forms
from cloudstore.web.pages.cartview import cart_changed, lines_for, quote_for
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


async def _save(user: User | None, lines: list[CartLine]) -> list[CartLine]:
    index = await backends().catalog.index()
    lines = [line for line in lines if index.get(line.product_id) is not None]
    if user is not None:
        return await carts.save(backends(), user.user_id, lines)
    return lines


async def _done(user: User | None, lines: list[CartLine], text: str, kind: str = "success"):
    if is_htmx():
        return await cart_changed(user, lines, {"kind": kind, "text": text})
    if user is None:
        # Without JavaScript the browser has nowhere to keep an anonymous cart.
        text = "Log in to keep a cart without JavaScript; your items will be saved."
        kind = "info"
    return notify(go(url_for("pages.cart.view")), text, kind)


@bp.post("/items")
async def add():
    form = await request.form
    product = await find_product(backends(), str(form.get("product_id", "")).strip())
    wanted = forms.quantity(form.get("quantity", "1"))
    user = await current_user(required=False)
    lines = await lines_for(user)
    have = sum(line.quantity for line in lines if line.product_id == product.product_id)
    limit = min(product.stock, MAX_QUANTITY)
    if have >= limit:
        text = (
            f"{product.name} is sold out."
            if product.stock == 0
            else f"Your cart already holds all {limit} available of {product.name}."
        )
        return await _done(user, lines, text, "warning")
    added = min(wanted, limit - have)
    lines = await _save(user, normalize([*lines, CartLine(product.product_id, added)]))
    text = f"Added {added} × {product.name} to your cart."
    if added < wanted:
        text += f" Only {limit} available."
    return await _done(user, lines, text, "success" if added == wanted else "warning")


@bp.post("/items/<product_id>")
async def update(product_id: str):
    """Set a line's quantity; 0 removes it."""
    form = await request.form
    try:
        quantity = forms.quantity(form.get("quantity", "0"), minimum=0)
    except InvalidInput:
        quantity = None
    user = await current_user(required=False)
    lines = await lines_for(user)
    if quantity is None:
        return await _done(user, lines, "Choose a quantity from 0 to 99.", "error")
    current = next((line for line in lines if line.product_id == product_id), None)
    if current is None:
        return await _done(user, lines, "That item is no longer in your cart.", "info")
    index = await backends().catalog.index()
    name = index.get(product_id).name if index.get(product_id) else "The item"
    lines = [
        CartLine(line.product_id, quantity) if line.product_id == product_id else line
        for line in lines
        if line.product_id != product_id or quantity > 0
    ]
    lines = await _save(user, lines)
    text = f"Removed {name} from your cart." if quantity == 0 else f"Updated {name}: {quantity}."
    return await _done(user, lines, text, "info" if quantity == 0 else "success")
