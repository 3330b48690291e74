"""Placing an order: fresh prices and stock from DynamoDB, the plan, the transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cloudstore.backends import Backends
from cloudstore.domain.cart import CartLine
from cloudstore.domain.checkout import OutOfStock, PriceChanged, plan_checkout
from cloudstore.domain.errors import DomainError
from cloudstore.stores.orders import PlacedOrder, StockMoved

# Stock or a price can move between our read and the transaction; re-plan this many times.
PLAN_ATTEMPTS = 3


async def place_order(
    backends: Backends,
    *,
    user_id: str,
    lines: list[CartLine],
    shipping_address: dict[str, Any],
    client_total: Decimal | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """One consistent read (BatchGetItem) and one transaction on the happy path."""
    settings = backends.settings
    for _ in range(PLAN_ATTEMPTS):
        products = await backends.catalog.fetch_many(line.product_id for line in lines)
        try:
            plan = plan_checkout(
                user_id=user_id,
                lines=lines,
                products=products,
                shipping_address=shipping_address,
                tax_rate=settings.tax_rate,
                client_total=client_total,
                idempotency_key=idempotency_key,
            )
        except DomainError:
            # A retry of an order that went through must get that order, even if the stock
            # it took is gone now.
            if idempotency_key:
                replay = await backends.orders.find_by_idempotency_key(user_id, idempotency_key)
                if replay is not None:
                    return PlacedOrder(order=replay[0], replayed=True)
            raise
        try:
            # The catalog's change entry rides in the transaction: other workers see the
            # stock move within seconds, at no extra request.
            change = backends.catalog.change_action(
                (line.product.product_id, line.product.category) for line in plan.quote.lines
            )
            placed = await backends.orders.place(plan, settings.currency, extra_actions=[change])
        except StockMoved:
            continue
        if not placed.replayed:
            backends.catalog.apply_stock_changes(
                {
                    line.product.product_id: line.product.stock - line.quantity
                    for line in plan.quote.lines
                }
            )
        return placed
    raise PriceChanged("prices or stock changed while placing the order; please review it")


__all__ = ["OutOfStock", "PriceChanged", "place_order"]
