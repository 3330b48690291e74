"""Checkout: the shipping form, the server's summary, placing the order once."""

from __future__ import annotations

import uuid

from quart import Blueprint, request, url_for

from cloudstore.domain.accounts import User
from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.pricing import Quote
from cloudstore.money import format_idr
from cloudstore.shop import accounts, carts
from cloudstore.shop.checkout import page_summary, place_from_page
from cloudstore.web.html.responses import go, login_url, notify, page
from cloudstore.web.pages import forms
from cloudstore.web.pages.cartview import fresh_quote
from cloudstore.web.session import backends, current_user

bp = Blueprint("checkout", __name__, url_prefix="/checkout")
MAX_KEY = 255
CART_CHANGED = "Your cart changed since you last saw it. Please check the updated summary."
ALERTS = {
    ErrorCode.OUT_OF_STOCK: CART_CHANGED,
    ErrorCode.PRICE_CHANGED: CART_CHANGED,
    ErrorCode.TOTAL_MISMATCH: CART_CHANGED,
    ErrorCode.CART_EMPTY: "Your cart is empty.",
    ErrorCode.PRODUCT_NOT_FOUND: (
        "Some items in your cart are no longer sold. Please review your cart."
    ),
    ErrorCode.ORDER_NOT_AS_SEEN: CART_CHANGED,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: CART_CHANGED,
}
NOT_AS_SEEN = (
    "Your order was not placed: it changed since the page showed it. "
    "Please check the updated summary."
)


def change_notes(changes: list[dict]) -> list[str]:
    """Each difference between the page the shopper saw and the order now, as a sentence."""
    notes = []
    for change in changes:
        name, before, after = change["name"] or "An item", change["before"], change["after"]
        match change["kind"]:
            case "price":
                notes.append(
                    f"{name}: the price went from {format_idr(before)} to {format_idr(after)}."
                )
            case "quantity":
                notes.append(f"{name}: the quantity went from {before} to {after}.")
            case "removed":
                notes.append(f"{name} is no longer in your cart.")
            case "added":
                notes.append(f"{name} (× {after}) was added to your cart.")
            case "tax":
                notes.append(f"The tax went from {format_idr(before)} to {format_idr(after)}.")
            case "total":
                notes.append(f"The total went from {format_idr(before)} to {format_idr(after)}.")
    return notes


def prefilled(user: User) -> dict[str, str]:
    values = {name: getattr(user, name) or "" for name in forms.ADDRESS_FIELDS}
    return values


def problems(quote: Quote) -> list[str]:
    notes = []
    for line in quote.short_lines:
        if line.product.stock == 0:
            notes.append(f"{line.product.name} is sold out. Remove it to continue.")
        else:
            notes.append(
                f"Only {line.product.stock} left of {line.product.name} "
                f"(your cart has {line.quantity}). Lower the quantity to continue."
            )
    if quote.missing:
        notes.append("Some items are no longer sold and were left out.")
    return notes


async def _render(
    user: User,
    form: forms.Form,
    *,
    status: int = 200,
    alert: str | None = None,
    changes: list[str] | None = None,
):
    quote = await fresh_quote(await carts.saved_lines(backends(), user.user_id))
    return await page(
        "checkout.html",
        ["checkout_main"],
        status=status,
        form=form,
        summary=quote,
        seen=page_summary(quote),
        problems=problems(quote),
        alert=alert,
        changes=changes or [],
        idempotency_key=str(uuid.uuid4()),
    )


@bp.get("")
async def view():
    user = await current_user(required=False)
    if user is None:
        return notify(go(login_url()), "Log in or create an account to check out.", "info")
    return await _render(user, forms.Form(values=prefilled(user)))


@bp.post("")
async def place():
    user = await current_user(required=False)
    if user is None:
        return notify(go(login_url(url_for("pages.checkout.view"))), "Please log in again.", "info")
    data = await request.form
    form = forms.address_form(data, required=True)
    form.values["save_address"] = "on" if data.get("save_address") else ""
    if not form.ok:
        return await _render(user, form, status=422)
    key = str(data.get("idempotency_key", "")).strip()[:MAX_KEY] or None
    address = {name: value for name, value in form.values.items() if name != "save_address"}
    try:
        placed = await place_from_page(
            backends(),
            user_id=user.user_id,
            shipping_address={k: v for k, v in address.items() if v},
            seen=str(data.get("seen", "")),
            idempotency_key=key,
        )
    except (Conflict, NotFound, InvalidInput) as error:
        if "changes" in error.details:
            notes = change_notes(error.details["changes"])
            return await _render(user, form, status=409, alert=NOT_AS_SEEN, changes=notes)
        alert = ALERTS.get(error.code) or error.sentence()
        return await _render(user, form, status=409, alert=alert)
    if form.values["save_address"]:
        await accounts.update_profile(
            backends(), user.user_id, {k: v or None for k, v in address.items()}
        )
    order = placed.order
    text = "Thank you! Your order is placed." if not placed.replayed else "Your order is placed."
    # A provider with a payment page of its own (Midtrans): the order page sends them on.
    target = url_for("pages.orders.detail", order_id=order.order_id)
    if order.payment and order.payment.redirect_url:
        target += "?pay=now"
    return notify(go(target), text)
