"""Orders awaiting payment, as the admin's dashboard counts them: every pending order (a
Query on the orders-by-status index, page by page; never a Scan), and how many of them
expire within a day (or are past their time and wait for the expiry sweep)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloudstore.backends import Backends
from cloudstore.domain.orders import PENDING, Order

PAGE = 100
SOON = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AwaitingPayment:
    count: int
    expiring_soon: int


def deadline(order: Order) -> str | None:
    """When the order stops waiting for its payment (ISO UTC), if it has a payment window."""
    if order.payment is not None and order.payment.expires_at:
        return order.payment.expires_at
    return order.expires_at


def _moment(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def expires_within(order: Order, now: datetime, within: timedelta = SOON) -> bool:
    due = deadline(order)
    moment = _moment(due) if due else None
    return moment is not None and moment <= now + within


async def awaiting_payment(backends: Backends, now: datetime | None = None) -> AwaitingPayment:
    now = now or datetime.now(UTC)
    count = soon = 0
    cursor: str | None = None
    while True:
        orders, cursor = await backends.orders.list_all(status=PENDING, limit=PAGE, cursor=cursor)
        count += len(orders)
        soon += sum(1 for order in orders if expires_within(order, now))
        if not cursor:
            return AwaitingPayment(count=count, expiring_soon=soon)
