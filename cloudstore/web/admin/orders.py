"""Orders: every customer's, found by order id or customer email, filtered by status and
date range, newest or oldest first, paged by cursor (`shop.order_search`; the results are the
`results` block for htmx), each with the customer's name and email; one order with its
status history; moving an order along its lifecycle (the buttons are the allowed next
statuses from `domain.orders.TRANSITIONS`; anything else is a 409 shown in place). The CSV
of what the filters select is `/admin/orders.csv` (`exports.py`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, g, request, url_for

from cloudstore.domain.errors import Conflict, ErrorCode, NotFound
from cloudstore.domain.order_search import (
    BY_EMAIL,
    BY_ORDER_ID,
    MAX_SEARCH_CHARS,
    NOTHING,
    OrderFilters,
    parse_filters,
)
from cloudstore.domain.orders import (
    CANCELLED,
    PAID,
    PENDING,
    STATUSES,
    SYSTEM_ONLY,
    TRANSITIONS,
    Order,
)
from cloudstore.shop import order_search
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
from cloudstore.web.html.template_filters import status_label
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
    if order.awaits_bank_transfer():
        steps.remove(PAID)
    return steps


# The status filter's words, where they differ from the status's own label.
FILTER_LABELS = {PENDING: "Awaiting payment"}


def filter_label(status: str) -> str:
    return FILTER_LABELS.get(status, status_label(status))


def list_url(filters: OrderFilters | None = None, cursor: str | None = None) -> str:
    return listing_url("admin.orders.index", filters.as_params() if filters else {}, cursor)


def export_url(filters: OrderFilters) -> str:
    params = filters.as_params()
    return url_for("admin.exports.orders_csv") + ("?" + urlencode(params) if params else "")


def current_url() -> str:
    return current_page("/admin/orders", list_url())


def heading(filters: OrderFilters) -> str:
    """What the list shows, in words (the results' heading and the table's caption)."""
    words = f"{filter_label(filters.status)} orders" if filters.status else "Orders"
    if filters.search_by == BY_EMAIL:
        words += f" of {filters.q}"
    elif filters.search_by == BY_ORDER_ID:
        words += f" with id {filters.q}"
    if filters.date_from and filters.date_to:
        words += f" placed {filters.date_from:%d %b %Y} to {filters.date_to:%d %b %Y}"
    elif filters.date_from:
        words += f" placed since {filters.date_from:%d %b %Y}"
    elif filters.date_to:
        words += f" placed until {filters.date_to:%d %b %Y}"
    return words


@bp.get("")
async def index():
    filters = parse_filters(request.args, lenient=True)
    # A stale or edited cursor starts from the first page.
    found = await order_search.search(
        backends(),
        filters,
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
        restart_on_bad_cursor=True,
    )
    problem = (
        None
        if filters.search_by != NOTHING
        else "Search by an order id (ORD-…) or a customer's whole email address. "
        "To find a customer by name, use Customers."
    )
    return await page(
        "admin/orders.html",
        ["results"],
        orders=found.orders,
        people=found.people,
        filters=filters,
        filtered=filters != OrderFilters(),
        statuses=STATUSES,
        heading=heading(filters),
        problem=problem,
        max_query=MAX_SEARCH_CHARS,
        next_url=list_url(filters, found.next_cursor) if found.next_cursor else None,
        first_url=list_url(filters),
        export_url=export_url(filters),
        continued=bool(found.cursor),
        here=list_url(filters, found.cursor),
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
    people = await order_search.people_of(backends(), [order])
    return await table_row(
        "admin/orders.html",
        "order_row",
        here=current_url(),
        order=order,
        people=people,
        **shown,
    )
