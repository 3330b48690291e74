"""Orders in a payment state a test needs: an order placed through the normal checkout,
rewritten with the Payment (window, provider, review flag) or without one (an order placed
before payments were recorded), straight into its stored item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cloudstore.domain.orders import Order
from cloudstore.domain.payments import BANK_TRANSFER, BankAccount, Payment, PaymentEvent
from cloudstore.stores.order_items import order_item

ACCOUNTS = (
    BankAccount("BCA", "1234567890", "PT Cloud Store"),
    BankAccount("Bank Mandiri", "0987654321", "PT Cloud Store"),
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def give_payment(
    backends,
    order_id: str,
    *,
    provider: str = BANK_TRANSFER,
    expires_in: timedelta = timedelta(hours=23, minutes=12, seconds=30),
    redirect_url: str | None = None,
    needs_review: bool = False,
    events: tuple[PaymentEvent, ...] = (),
) -> Order:
    """The order (found by id) with a payment window of `expires_in` from now."""
    found = await backends.orders.find(order_id)
    order = await backends.orders.get(found.user_id, order_id)
    expires_at = iso(datetime.now(UTC) + expires_in)
    payment = Payment(
        provider=provider,
        amount=order.total_amount,
        expires_at=expires_at,
        accounts=ACCOUNTS if provider == BANK_TRANSFER else (),
        redirect_url=redirect_url,
        needs_review=needs_review,
        events=events,
    )
    updated = replace(order, expires_at=expires_at, payment=payment)
    await backends.orders.dynamo.call(
        "put_item", TableName=backends.orders.table, Item=order_item(updated)
    )
    return updated


async def strip_payment(backends, order_id: str) -> Order:
    """The order (found by id) as an order placed before payments were recorded: no
    payment, no window."""
    found = await backends.orders.find(order_id)
    order = await backends.orders.get(found.user_id, order_id)
    updated = replace(order, expires_at=None, payment=None)
    await backends.orders.dynamo.call(
        "put_item", TableName=backends.orders.table, Item=order_item(updated)
    )
    return updated
