"""Unpaid orders expire: a `pending` order past its `expires_at` becomes `expired` (by the
system, "payment window passed"), its stock goes back and the customer's pending-orders
counter drops, exactly as a cancellation does.

Every worker of every instance sweeps every ORDER_SWEEP_SECONDS (with jitter, so they do
not all sweep at once). A sweep reads candidates with Queries on the orders-by-status index
(pending orders placed more than the shortest possible window ago: ids below the ULID of
that moment; never a Scan), checks each order's own `expires_at`, and moves it with the
status change conditioned on `pending`: when two sweeps (or a sweep and a payment) race,
one wins and the other finds the order moved, so stock is restored once.

A Midtrans order is first checked with Midtrans (its Core API status): a payment that
arrived but whose notification has not, is applied instead of the expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta

from ulid import ULID

from cloudstore.backends import Backends
from cloudstore.domain.errors import BackendUnavailable, DomainError, ErrorCode
from cloudstore.domain.orders import BY_SYSTEM, EXPIRED, ORDER_PREFIX, PAID, Order
from cloudstore.domain.payments import (
    EXPIRY_REASON,
    MIDTRANS,
    MIN_PAYMENT_WINDOW_SECONDS,
    window_passed,
)
from cloudstore.payments import GatewayUnavailable
from cloudstore.shop.orders import change_status
from cloudstore.shop.payments import PROVIDER_BUDGET, apply_notification

log = logging.getLogger(__name__)


def placed_before_id(moment: datetime) -> str:
    """The smallest order id a ULID made at `moment` could have: every order placed
    earlier sorts below it."""
    return ORDER_PREFIX + str(ULID.from_timestamp(moment.timestamp()))[:10] + "0" * 16


async def sweep_expired(backends: Backends, now: datetime | None = None) -> int:
    """Expire every pending order whose payment window has passed at `now` (default: the
    current time); the number this sweep expired (others may have raced it to some)."""
    now = now or datetime.now(UTC)
    before = placed_before_id(now - timedelta(seconds=MIN_PAYMENT_WINDOW_SECONDS))
    expired = 0
    async for order in backends.orders.pending_placed_before(before):
        if not window_passed(order.expires_at, now):
            continue
        try:
            if await _paid_meanwhile(backends, order):
                continue
            await change_status(backends, order, EXPIRED, by=BY_SYSTEM, reason=EXPIRY_REASON)
            expired += 1
        except DomainError as error:
            if error.code not in (ErrorCode.ORDER_CHANGED, ErrorCode.INVALID_TRANSITION):
                log.warning("order %s not expired: %s", order.order_id, error.message)
            # Else another sweep, a payment or a cancel moved it first.
        except BackendUnavailable:
            log.warning("order %s not expired: DynamoDB unavailable", order.order_id)
    return expired


async def _paid_meanwhile(backends: Backends, order: Order) -> bool:
    """A Midtrans order Midtrans says was paid: the payment is applied (True). Midtrans
    unreachable or saying anything else: False (the order expires; a late notification is
    kept for review)."""
    if order.payment is None or order.payment.provider != MIDTRANS:
        return False
    if backends.payments.name != MIDTRANS:
        return False
    try:
        state = await backends.payments.status(order.order_id, budget=PROVIDER_BUDGET)
    except GatewayUnavailable:
        return False
    if state is None or state.outcome() != PAID:
        return False
    try:
        await apply_notification(backends, state)
    except DomainError as error:
        log.warning("order %s: Midtrans's status not applied: %s", order.order_id, error.message)
        return False
    return True


async def keep_sweeping(backends: Backends, interval: float) -> None:
    """Sweep every `interval` seconds (±50% jitter) until cancelled; errors are logged."""
    while True:
        await asyncio.sleep(interval * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
        try:
            count = await sweep_expired(backends)
        except (BackendUnavailable, OSError) as error:
            log.warning("expiry sweep skipped: %s", type(error).__name__)
        except Exception:
            log.exception("expiry sweep failed")
        else:
            if count:
                log.info("expiry sweep: %d unpaid orders expired", count)


def start_sweeper(backends: Backends) -> asyncio.Task[None] | None:
    """The background sweep of this process (none when ORDER_SWEEP_SECONDS is 0)."""
    interval = backends.settings.order_sweep_seconds
    if interval <= 0:
        return None
    return asyncio.create_task(keep_sweeping(backends, interval), name="order-expiry-sweep")


async def stop_sweeper(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
