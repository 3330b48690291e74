"""Order history (newest first) and one order, which is also the confirmation page."""

from __future__ import annotations

from quart import Blueprint, request

from cloudstore.domain.errors import InvalidInput, NotFound
from cloudstore.web.html.responses import go, login_url, page
from cloudstore.web.session import backends, current_user

bp = Blueprint("orders", __name__, url_prefix="/orders")
PAGE_SIZE = 20


@bp.get("")
async def history():
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    cursor = request.args.get("cursor") or None
    try:
        orders, next_cursor = await backends().orders.list_for_user(
            user.user_id, limit=PAGE_SIZE, cursor=cursor
        )
    except InvalidInput:
        orders, next_cursor = await backends().orders.list_for_user(user.user_id, limit=PAGE_SIZE)
    return await page("orders.html", ["content"], orders=orders, next_cursor=next_cursor)


@bp.get("/<order_id>")
async def detail(order_id: str):
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    order = await backends().orders.get(user.user_id, order_id)
    if order is None:
        raise NotFound("We could not find that order.")
    return await page("order.html", ["content"], order=order)
