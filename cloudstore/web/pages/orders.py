"""Order history (newest first) and one order, which is also the confirmation page."""

from __future__ import annotations

from quart import Blueprint, request

from cloudstore.domain.errors import ErrorCode, NotFound
from cloudstore.shop import orders as order_use_cases
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
    orders, next_cursor = await order_use_cases.list_own(
        backends(), user.user_id, limit=PAGE_SIZE, cursor=cursor, restart_on_bad_cursor=True
    )
    return await page("orders.html", ["content"], orders=orders, next_cursor=next_cursor)


@bp.get("/<order_id>")
async def detail(order_id: str):
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    try:
        order = await order_use_cases.get_own(backends(), user.user_id, order_id)
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None
    return await page("order.html", ["content"], order=order)
