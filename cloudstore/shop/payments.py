"""Paying for orders: the provider's payment page (Midtrans), an admin's confirmation of a
bank transfer, and a provider's notifications.

A notification moves only a `pending` order (settlement or an accepted capture → paid,
expire → expired, cancel or deny → cancelled; the last two put the stock back). One that
comes for an order no longer pending is kept in the payment's `events`, and flags the
payment `needs_review` when it contradicts the order (money for an expired order, a deny
after a settlement). Every write is conditioned on what was read (the status, and the
number of events), so concurrent notifications, sweeps and admins change an order once; a
notification seen before (same status, same transaction) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cloudstore.backends import Backends
from cloudstore.domain.catalog import utc_now_iso
from cloudstore.domain.client_text import bounded_json
from cloudstore.domain.errors import Conflict, ErrorCode, NotFound
from cloudstore.domain.orders import BY_PAYMENT_PROVIDER, PAID, PENDING, Order
from cloudstore.domain.payments import (
    BANK_TRANSFER,
    MAX_NOTIFICATION_BYTES,
    MIDTRANS,
    Notification,
    contradicts,
    transfer_reference,
)
from cloudstore.payments import GatewayUnavailable
from cloudstore.shop.orders import admin_set_status, change_status, find_any, get_own

log = logging.getLogger(__name__)

# Seconds a checkout (or an order page) waits on the provider at most; past it the order
# stands without its payment page and the order page asks again.
PROVIDER_BUDGET = 3.0
ATTEMPTS = 4

# What `handle_notification` did.
APPLIED, RECORDED, REVIEW, DUPLICATE, IGNORED = (
    "applied",
    "recorded",
    "needs_review",
    "duplicate",
    "ignored",
)


@dataclass(frozen=True, slots=True)
class NotificationResult:
    order: Order
    # APPLIED (the order's status changed), RECORDED (kept on a settled order), REVIEW
    # (kept and flagged for an admin), DUPLICATE (seen before), IGNORED (nothing to do).
    outcome: str


async def ensure_payment_link(
    backends: Backends, order: Order, *, budget: float = PROVIDER_BUDGET
) -> Order:
    """A pending Midtrans order with its payment page: made now if it has none yet (the
    checkout could not reach Midtrans), kept on the order (the first worker's wins). The
    order unchanged when there is nothing to make or Midtrans is still unreachable."""
    payment = order.payment
    if (
        order.status != PENDING
        or payment is None
        or payment.provider != MIDTRANS
        or payment.redirect_url
        or backends.payments.name != MIDTRANS
    ):
        return order
    try:
        url = await backends.payments.start(order, budget=budget)
    except GatewayUnavailable:
        return order
    if url is None:
        return order
    if await backends.orders.set_redirect_url(order, url):
        return replace(order, payment=replace(payment, redirect_url=url))
    # Another worker kept its page first, or the order moved on: read what is there.
    return await backends.orders.get(order.user_id, order.order_id) or order


async def own_order_to_pay(backends: Backends, user_id: str, order_id: str) -> Order:
    """One of the customer's orders (404 for anyone else's), with its payment page made now
    if the checkout could not reach the provider (see `ensure_payment_link`)."""
    return await ensure_payment_link(backends, await get_own(backends, user_id, order_id))


async def confirm_bank_transfer(
    backends: Backends, admin_id: str, order_id: str, reference: str
) -> Order:
    """An admin saw the transfer arrive: the pending order becomes paid, with the bank's
    `reference` (1-100 printable characters) and the time recorded on its payment. An
    order whose window passed but that the sweep has not expired yet may still be
    confirmed (the money came); an expired one may not (409: its stock went back)."""
    checked = transfer_reference(reference, required=True)
    order = await find_any(backends, order_id)
    if order.payment is not None and order.payment.provider != BANK_TRANSFER:
        raise Conflict(
            "only a bank transfer is confirmed by hand; the payment provider confirms its own",
            code=ErrorCode.INVALID_TRANSITION,
        )
    _, updated = await admin_set_status(backends, admin_id, order_id, PAID, reference=checked)
    return updated


async def handle_notification(
    backends: Backends, body: bytes | str | Mapping[str, Any]
) -> NotificationResult:
    """A provider's notification (the raw body, or its JSON): 400 if malformed, 403 if its
    signature is not the provider's, 404 for an unknown order, 409 if its amount is not the
    order's; else what it did (`NotificationResult`)."""
    values = (
        body
        if isinstance(body, Mapping)
        else bounded_json(body, max_chars=MAX_NOTIFICATION_BYTES, name="notification")
    )
    notification = backends.payments.read_notification(values)
    return await apply_notification(backends, notification)


async def apply_notification(backends: Backends, notification: Notification) -> NotificationResult:
    """Apply a verified notification (see the module's docstring)."""
    for _ in range(ATTEMPTS):
        order = await _order(backends, notification.order_id)
        if notification.amount() != order.total_amount:
            raise Conflict(
                "the notification's amount is not the order's",
                code=ErrorCode.PAYMENT_AMOUNT_MISMATCH,
            )
        outcome = notification.outcome()
        if outcome is None or order.payment is None:
            return NotificationResult(order, IGNORED)
        event = notification.event(utc_now_iso())
        if order.payment.has_event(event):
            return NotificationResult(order, DUPLICATE)
        try:
            if order.status == PENDING:
                payment = order.payment.with_event(event)
                if outcome == PAID:
                    payment = payment.confirmed(notification.transaction_id, event.at)
                updated = await change_status(
                    backends,
                    order,
                    outcome,
                    by=BY_PAYMENT_PROVIDER,
                    reason=f"{payment.provider}: {notification.transaction_status}",
                    payment=payment,
                    at=event.at,
                )
                return NotificationResult(updated, APPLIED)
        except Conflict as error:
            if error.code != ErrorCode.ORDER_CHANGED:
                raise
            continue  # a sweep, an admin or another notification moved it: read again
        review = contradicts(outcome, order.status)
        kept = replace(event, note=f"came when the order was {order.status}")
        if await backends.orders.add_payment_event(order, kept, review):
            if review:
                log.warning(
                    "payment notification %s for %s order %s needs review",
                    notification.transaction_status,
                    order.status,
                    order.order_id,
                )
            payment = order.payment.with_event(kept, review=review)
            return NotificationResult(
                replace(order, payment=payment), REVIEW if review else RECORDED
            )
    raise Conflict("the order changed meanwhile; try again", code=ErrorCode.ORDER_CHANGED)


async def _order(backends: Backends, order_id: str) -> Order:
    found = await backends.orders.find(order_id)
    order = found and await backends.orders.get(found.user_id, order_id)
    if order is None:
        raise NotFound("order not found", code=ErrorCode.ORDER_NOT_FOUND)
    return order
