"""What an admin sees of a customer besides the account: how many orders, how much spent.

Money spent is the total of the orders the customer paid for and did not get back: paid,
shipped or delivered (not pending — nothing is paid yet — and not cancelled)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cloudstore.domain.orders import DELIVERED, PAID, SHIPPED, OrderSummary

SPENT_STATUSES = frozenset({PAID, SHIPPED, DELIVERED})


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    orders: int
    spent: Decimal
    last_order_at: str | None


def customer_totals(orders: Iterable[OrderSummary]) -> CustomerTotals:
    count = 0
    spent = Decimal(0)
    last: str | None = None
    for order in orders:
        count += 1
        if order.status in SPENT_STATUSES:
            spent += order.total_amount
        if last is None or order.created_at > last:
            last = order.created_at
    return CustomerTotals(orders=count, spent=spent, last_order_at=last)
