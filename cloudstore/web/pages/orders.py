"""Order history (newest first) and one order, which is also the confirmation page: its
status in words, how to pay and the time left while it is pending, its timeline, and the
shopper's one action on it, cancelling (htmx with a confirmation, or a confirm step page
without JavaScript). An action's outcome is shown in the order panel, which takes focus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from quart import Blueprint, request, url_for

from cloudstore.domain.errors import (
    BackendUnavailable,
    Conflict,
    DomainError,
    ErrorCode,
    NotFound,
)
from cloudstore.domain.orders import (
    BY_ADMIN,
    BY_CUSTOMER,
    BY_PAYMENT_PROVIDER,
    BY_SYSTEM,
    CANCELLED,
    DELIVERED,
    EXPIRED,
    PAID,
    PENDING,
    SHIPPED,
    Order,
    StatusChange,
)
from cloudstore.domain.payments import MIDTRANS
from cloudstore.domain.shop_time import parse_utc, time_left
from cloudstore.shop import orders as order_use_cases
from cloudstore.shop import payments as payment_use_cases
from cloudstore.shop.awaiting_payment import deadline
from cloudstore.web.html.responses import go, is_htmx, login_url, page
from cloudstore.web.session import backends, current_user

bp = Blueprint("orders", __name__, url_prefix="/orders")
log = logging.getLogger(__name__)
PAGE_SIZE = 20

# Who changed the status, as the shopper reads it.
ACTOR_WORDS = {
    BY_CUSTOMER: "you",
    BY_ADMIN: "the shop",
    BY_PAYMENT_PROVIDER: "the payment provider",
    BY_SYSTEM: "the system",
}
# The outcome of an action, carried across the no-JS redirect as a word (never as text).
CANCELLED_NOW, NOT_CANCELLABLE, CHANGED = "cancelled", "not_cancellable", "changed"
OUTCOMES = (CANCELLED_NOW, NOT_CANCELLABLE, CHANGED)


def actor(entry: StatusChange) -> str:
    return ACTOR_WORDS.get(entry.by, "the shop")


def past_deadline(order: Order, now: datetime | None = None) -> bool:
    moment = parse_utc(deadline(order)) if deadline(order) else None
    return moment is not None and moment <= (now or datetime.now(UTC))


def waits_for(order: Order, now: datetime | None = None) -> str:
    """The order's status and what it waits for, in a few words (the order list)."""
    if order.payment is not None and order.payment.needs_review:
        return f"{order.status.title()} — payment being checked by the shop"
    match order.status:
        case "pending":
            left = time_left(deadline(order), now) if deadline(order) else ""
            if left:
                return f"Awaiting payment — {left} left"
            if deadline(order):
                return "Awaiting payment — time is up"
            return "Awaiting payment"
        case "paid":
            return "Paid — being prepared"
        case "shipped":
            return "Shipped — on its way"
        case "delivered":
            return "Delivered"
        case "cancelled":
            return "Cancelled"
        case "expired":
            return "Expired — not paid in time"
    return order.status.title()


def explanation(order: Order, now: datetime | None = None) -> str:
    """The order's status explained to the shopper, in a sentence or two."""
    last = order.status_history[-1] if order.status_history else None
    if order.payment is not None and order.payment.needs_review:
        return (
            "We received a payment notice for this order after it was "
            f"{order.status}. The shop is checking it and will contact you; "
            "you do not need to do anything."
        )
    if order.status == PENDING:
        if past_deadline(order, now):
            return (
                "The time to pay has passed: this order is about to expire and its items "
                "will go back on sale. If you have just paid, the shop will check it."
            )
        if not deadline(order):
            return "We are waiting for your payment."
        return (
            "We are waiting for your payment. Unpaid orders expire when the time to pay "
            "runs out, and their items go back on sale."
        )
    if order.status == PAID:
        return "Your payment has arrived. We are preparing your order for shipping."
    if order.status == SHIPPED:
        return "Your order is on its way."
    if order.status == DELIVERED:
        return "Your order was delivered. Thank you for shopping with us."
    if order.status == CANCELLED:
        who = actor(last) if last and last.status == CANCELLED else "the shop"
        text = "You cancelled this order." if who == "you" else f"The order was cancelled by {who}."
        return text + " Nothing is owed, and its items went back on sale."
    if order.status == EXPIRED:
        return (
            "This order expired: it was not paid in time, so its items went back on sale. "
            "Place a new order to buy them."
        )
    return ""


def outcome_text(code: str, order: Order) -> dict | None:
    """The message an action leaves in the order panel."""
    if code == CANCELLED_NOW and order.status == CANCELLED:
        return {"kind": "success", "text": "Your order is cancelled. Its items are back on sale."}
    if code == NOT_CANCELLABLE:
        if order.status == CANCELLED:
            return {"kind": "info", "text": "This order was already cancelled."}
        return {
            "kind": "warning",
            "text": f"This order is {order.status} now, so it can no longer be cancelled.",
        }
    if code == CHANGED:
        return {
            "kind": "warning",
            "text": "The order changed meanwhile; here it is as it is now. Please try again.",
        }
    return None


def payment_link(order: Order) -> str | None:
    """The provider's payment page, when it is an http(s) address."""
    url = order.payment.redirect_url if order.payment is not None else None
    if url and urlsplit(url).scheme in ("https", "http"):
        return url
    return None


async def _with_payment_link(order: Order) -> Order:
    """A pending Midtrans order without its payment page yet gets one now."""
    payment = order.payment
    if (
        order.status == PENDING
        and payment is not None
        and payment.provider == MIDTRANS
        and not payment.redirect_url
        and not past_deadline(order)
    ):
        try:
            return await payment_use_cases.ensure_payment_link(backends(), order)
        except (DomainError, BackendUnavailable):
            # The page still shows the order; it asks the shopper to reload in a moment.
            log.warning("no payment page for %s yet", order.order_id, exc_info=True)
    return order


def _context(order: Order, outcome: dict | None = None) -> dict:
    return {
        "order": order,
        "outcome": outcome,
        "actor": actor,
        "explanation": explanation(order),
        "deadline": deadline(order),
        "past_deadline": past_deadline(order),
        "payment_link": payment_link(order),
        "can_cancel": order.status == PENDING,
    }


async def _own(user_id: str, order_id: str) -> Order:
    try:
        return await order_use_cases.get_own(backends(), user_id, order_id)
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None


@bp.get("")
async def history():
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    cursor = request.args.get("cursor") or None
    orders, next_cursor = await order_use_cases.list_own(
        backends(), user.user_id, limit=PAGE_SIZE, cursor=cursor, restart_on_bad_cursor=True
    )
    return await page(
        "orders.html", ["content"], orders=orders, next_cursor=next_cursor, waits_for=waits_for
    )


@bp.get("/<order_id>")
async def detail(order_id: str):
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    order = await _with_payment_link(await _own(user.user_id, order_id))
    outcome = outcome_text(request.args.get("done", ""), order)
    link = payment_link(order)
    send_on_to = link if request.args.get("pay") == "now" and order.status == PENDING else None
    return await page("order.html", ["content"], **_context(order, outcome), send_on_to=send_on_to)


@bp.get("/<order_id>/cancel")
async def confirm_cancel(order_id: str):
    """The confirmation step of cancelling, for browsers without JavaScript."""
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    order = await _own(user.user_id, order_id)
    if order.status != PENDING:
        return go(_detail_url(order_id, NOT_CANCELLABLE))
    return await page("order_cancel.html", order=order)


@bp.post("/<order_id>/cancel")
async def cancel(order_id: str):
    user = await current_user(required=False)
    if user is None:
        return go(login_url(url_for("pages.orders.detail", order_id=order_id)))
    status = 200
    try:
        order = await order_use_cases.cancel_own_order(backends(), user.user_id, order_id)
        code = CANCELLED_NOW
    except NotFound:
        raise NotFound("We could not find that order.", code=ErrorCode.ORDER_NOT_FOUND) from None
    except Conflict as error:
        order = await _own(user.user_id, order_id)
        code = NOT_CANCELLABLE if error.code == ErrorCode.NOT_CANCELLABLE else CHANGED
        if code == CHANGED and order.status != PENDING:
            code = NOT_CANCELLABLE
        status = 409
    if not is_htmx():
        return go(_detail_url(order_id, code))
    return await page(
        "order.html", ["order_panel"], status=status, **_context(order, outcome_text(code, order))
    )


def _detail_url(order_id: str, outcome: str) -> str:
    """No `#fragment`: a page opened at a fragment ignores `autofocus`, and the outcome
    message is what must take focus (the browser scrolls to it)."""
    return url_for("pages.orders.detail", order_id=order_id, done=outcome)
