"""Orders: every customer's, newest first, by status, paged by cursor; one order with its
status history; moving an order along its lifecycle (the buttons are the allowed next
statuses from `domain.orders.TRANSITIONS`; anything else is a 409 shown in place)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, g, request, url_for

from cloudstore.domain.errors import Conflict, ErrorCode, NotFound
from cloudstore.domain.orders import (
    CANCELLED,
    PAID,
    PENDING,
    STATUSES,
    SYSTEM_ONLY,
    TRANSITIONS,
    Order,
)
from cloudstore.domain.payments import BANK_TRANSFER
from cloudstore.shop import orders as order_use_cases
from cloudstore.shop.orders import admin_set_status
from cloudstore.web.admin import payments
from cloudstore.web.admin.common import back_to, table_row
from cloudstore.web.html.listing import listing_url
from cloudstore.web.html.responses import (
    current_page,
    go,
    hx_target,
    notify,
    page,
)
from cloudstore.web.session import backends

bp = Blueprint("orders", __name__, url_prefix="/orders")
PAGE_SIZE = 20
ACTION_LABELS = {
    "paid": "Mark paid",
    "shipped": "Mark shipped",
    "delivered": "Mark delivered",
    "cancelled": "Cancel order",
}


def next_statuses(order: Order) -> list[str]:
    """The statuses an order may move to next by a plain button, in lifecycle order. A bank
    transfer is marked paid with its reference (the order page's "Confirm payment")."""
    allowed = TRANSITIONS.get(order.status, frozenset())
    steps = [s for s in STATUSES if s in allowed and s not in SYSTEM_ONLY]
    if needs_transfer_reference(order):
        steps.remove(PAID)
    return steps


def needs_transfer_reference(order: Order) -> bool:
    return (
        order.status == PENDING
        and order.payment is not None
        and order.payment.provider == BANK_TRANSFER
    )


def list_url(status: str = "", cursor: str | None = None) -> str:
    return listing_url("admin.orders.index", {"status": status}, cursor)


def current_url() -> str:
    return current_page("/admin/orders", list_url())


@bp.get("")
async def index():
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    cursor = request.args.get("cursor") or None
    # A stale or edited cursor starts from the newest.
    orders, next_cursor, cursor = await order_use_cases.list_all(
        backends(),
        status=status or None,
        limit=PAGE_SIZE,
        cursor=cursor,
        restart_on_bad_cursor=True,
    )
    return await page(
        "admin/orders.html",
        orders=orders,
        status_filter=status,
        statuses=STATUSES,
        next_url=list_url(status, next_cursor) if next_cursor else None,
        first_url=list_url(status),
        continued=bool(cursor),
        here=list_url(status, cursor),
        message=None,
    )


async def load(order_id: str) -> Order:
    """Found by id alone on the all-orders index, then read consistently by its key."""
    try:
        return await order_use_cases.find_any(backends(), order_id)
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None


@bp.get("/<order_id>")
async def detail(order_id: str):
    order = await load(order_id)
    return await payments.order_page(order, here=current_url())


@bp.post("/<order_id>/status")
async def set_status(order_id: str):
    data = await request.form
    new_status = str(data.get("status", ""))
    back = back_to(data, url_for("admin.orders.detail", order_id=order_id))
    in_row = hx_target() == f"order-{order_id}"
    try:
        _, after = await admin_set_status(backends(), g.user.user_id, order_id, new_status)
    except Conflict as error:
        current = await load(order_id)
        message = (
            f"This order is now {current.status}: it cannot become {new_status}."
            if current.status != new_status
            else f"This order is already {new_status}."
        )
        if error.code == ErrorCode.ORDER_CHANGED:
            message = "The order or its products changed meanwhile. Please try again."
        if in_row:
            return await _row(current, message=message, status=409)
        return notify(go(back), message, "error")
    text = f"Order {order_id} is now {after.status}."
    if after.status == CANCELLED:
        text += " Its stock is back in the catalog."
    if in_row:
        return await _row(after, toast={"kind": "success", "text": text})
    return notify(go(back), text)


async def _row(order: Order, **shown: Any):
    return await table_row(
        "admin/orders.html", "order_row", here=current_url(), order=order, **shown
    )
