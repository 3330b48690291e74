from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme, validate_request

from cloudstore.domain.cart import CartLine
from cloudstore.shop import carts
from cloudstore.web.api.models import CartBody, CartEnvelope, ErrorOut, MessageOut
from cloudstore.web.api.serialize import cart_data
from cloudstore.web.envelope import ok
from cloudstore.web.session import backends, current_user, login_required

bp = Blueprint("cart", __name__, url_prefix="/cart")


async def _cart_response(lines: list[CartLine]):
    quote = await carts.quote(backends(), lines)
    return ok(data=cart_data(quote, backends().settings.currency))


@bp.get("")
@security_scheme([{"bearer": []}])
@login_required
@document_response(CartEnvelope, 200)
async def get_cart():
    """The saved cart, priced from the current catalog, with subtotal, tax and total."""
    user = await current_user()
    return await _cart_response(await carts.saved_lines(backends(), user.user_id))


@bp.post("")
@security_scheme([{"bearer": []}])
@login_required
@validate_request(CartBody)
@document_response(CartEnvelope, 200)
@document_response(ErrorOut, 404)
async def save_cart(data: CartBody):
    """Replace the saved cart with these lines (same product twice: quantities added). Each
    line holds at most what is in stock (as when adding from the pages); a sold-out product
    is left out."""
    user = await current_user()
    lines = [CartLine(item.product_id, item.quantity) for item in data.items]
    saved = await carts.save(backends(), user.user_id, lines)
    return await _cart_response(saved)


@bp.delete("")
@security_scheme([{"bearer": []}])
@login_required
@document_response(MessageOut, 200)
async def clear_cart():
    """Empty the saved cart."""
    user = await current_user()
    await carts.clear(backends(), user.user_id)
    return ok(message="cart cleared")
