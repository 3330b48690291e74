"""Placing an order: fresh prices and stock from DynamoDB, the plan, the transaction — and,
when the transaction's answer is lost, finding out whether it happened.

Every checkout is written with an idempotency record (the client's key, or one the server
makes), so an unclear outcome is settled (`stores/idempotency.py`) instead of passed on:
the answer is the order (201), or an error that is certain nothing was written. The write
gets BACKEND_TIMEOUT seconds, settling at most as long again.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

from cloudstore.backends import Backends
from cloudstore.domain import idempotency
from cloudstore.domain import seen as seen_quote
from cloudstore.domain.cart import CartLine, normalize
from cloudstore.domain.checkout import (
    CheckoutPlan,
    NotAsSeen,
    OutOfStock,
    PriceChanged,
    TooManyPendingOrders,
    plan_checkout,
)
from cloudstore.domain.errors import BackendUnavailable, DomainError, UnclearOutcome
from cloudstore.domain.idempotency import KeyRecord
from cloudstore.domain.orders import Order
from cloudstore.domain.pricing import Quote
from cloudstore.shop import mail
from cloudstore.shop.carts import saved_lines
from cloudstore.shop.payments import ensure_payment_link
from cloudstore.stores.catalog import StockRead
from cloudstore.stores.orders import KeyTaken, PlacedOrder, StockMoved

# Stock or a price can move between our read and the transaction; re-plan this many times.
PLAN_ATTEMPTS = 3
UNKNOWN = (
    "the database did not confirm in time whether your order was placed; check your orders "
    "before ordering again"
)
UNKNOWN_WITH_KEY = (
    "the database did not confirm in time whether your order was placed; send the same "
    "request with the same Idempotency-Key to find out"
)
NOT_WRITTEN = "the database did not answer in time; your order was not placed, please try again"


def checkout_fingerprint(
    lines: list[CartLine],
    shipping_address: dict[str, str],
    client_total: Decimal | None,
    seen: seen_quote.SeenQuote | None,
) -> str:
    """What the client asked for: the lines (or, from the page, what the page showed), the
    address and the total it expects."""
    request: dict[str, object] = {
        "lines": sorted((line.product_id, line.quantity) for line in normalize(lines)),
        "shipping_address": {k: str(v) for k, v in shipping_address.items()},
        "total": None if client_total is None else str(client_total),
    }
    if seen is not None:
        request = {**request, "lines": None, "seen": seen.request()}
    return idempotency.fingerprint("checkout", request)


async def place_order(
    backends: Backends,
    *,
    user_id: str,
    lines: list[CartLine],
    shipping_address: dict[str, Any],
    client_total: Decimal | None = None,
    idempotency_key: str | None = None,
    seen: seen_quote.SeenQuote | None = None,
) -> PlacedOrder:
    """One consistent read (BatchGetItem) and one transaction on the happy path. `seen` is
    what the checkout page showed (the order must be exactly that)."""
    settings = backends.settings
    fingerprint = checkout_fingerprint(lines, shipping_address, client_total, seen)
    record_key = idempotency_key or idempotency.server_key()
    # Products the page showed but the cart lost are read too: the page names them.
    wanted = [line.product_id for line in lines] + [
        line.product_id for line in (seen.lines if seen else ())
    ]
    for _ in range(PLAN_ATTEMPTS):
        read = backends.catalog.stock_read(wanted)
        products = await backends.catalog.fetch_many(wanted)
        try:
            plan = plan_checkout(
                user_id=user_id,
                lines=lines,
                products=products,
                shipping_address=shipping_address,
                tax_rate=settings.tax_rate,
                record_key=record_key,
                fingerprint=fingerprint,
                max_pending=settings.max_pending_orders,
                client_total=client_total,
                idempotency_key=idempotency_key,
                seen=seen,
                payment_provider=settings.payment_provider,
                bank_accounts=settings.bank_accounts,
                payment_window=settings.payment_window_seconds,
            )
        except DomainError:
            # A retry of an order that went through gets that order, even if the stock it
            # took is gone now; the same key with another request is a 422 here too.
            if idempotency_key:
                replay = await _replay(backends, user_id, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            raise
        try:
            placed = await _write(backends, plan)
        except StockMoved:
            continue
        if placed is None:
            continue  # only voided attempts under this key: plan again with a new order id
        if not placed.replayed:
            await _show_stock_sold(backends, read, plan)
        # Midtrans: its payment page, if it answers within a few seconds (else the order
        # page asks again); the order stands either way.
        order = await ensure_payment_link(backends, placed.order)
        if not placed.replayed:
            mail.notify(backends, order)
        return placed if order is placed.order else replace(placed, order=order)
    raise PriceChanged("prices or stock changed while placing the order; please review it")


async def _show_stock_sold(backends: Backends, read: StockRead, plan: CheckoutPlan) -> None:
    """This worker's catalog shows at once the stock the sale left, even when other checkouts
    on this worker sold the same products concurrently (`CatalogStore.record_sale`)."""
    await backends.catalog.record_sale(
        read,
        {line.product.product_id: line.product.stock - line.quantity for line in plan.quote.lines},
    )


async def _write(backends: Backends, plan: CheckoutPlan) -> PlacedOrder | None:
    """The transaction, and what it turned out to be: our order, an earlier order under the
    same key (replayed), or None when the key's record holds only abandoned attempts."""
    budget = backends.settings.backend_timeout
    # The catalog's change entry rides in the transaction: other workers see the stock
    # move within seconds, at no extra request.
    change = backends.catalog.change_action(
        (line.product.product_id, line.product.category) for line in plan.quote.lines
    )
    try:
        return await backends.orders.place(
            plan, backends.settings.currency, extra_actions=[change], budget=budget
        )
    except KeyTaken:
        # botocore may have sent our transaction twice: the record may be our own.
        record = await backends.idempotency.find(plan.user_id, plan.record_key)
        return await _resolve(backends, plan, record)
    except UnclearOutcome:
        return await _settle(backends, plan, budget)


async def _resolve(
    backends: Backends, plan: CheckoutPlan, record: KeyRecord | None, budget: float | None = None
) -> PlacedOrder | None:
    """What the key's `record` says of `plan`: its own order, an earlier request's order
    (replayed; 422 if that request differed), or None (nothing placed under the key)."""
    if record is not None and record.points_to == plan.order_id:
        return PlacedOrder(order=_placed_order(backends, plan), replayed=False)
    if not idempotency.replayable(record, plan.fingerprint):
        return None
    assert record is not None and record.points_to is not None
    order = await backends.orders.get(plan.user_id, record.points_to, budget=budget)
    return PlacedOrder(order=order, replayed=True) if order else None


async def _replay(
    backends: Backends, user_id: str, key: str, fingerprint: str
) -> PlacedOrder | None:
    """The order an earlier request with this key placed; 422 if that request differed."""
    record = await backends.idempotency.find(user_id, key)
    if not idempotency.replayable(record, fingerprint):
        return None
    assert record is not None and record.points_to is not None
    order = await backends.orders.get(user_id, record.points_to)
    return PlacedOrder(order=order, replayed=True) if order else None


async def _settle(backends: Backends, plan: CheckoutPlan, budget: float) -> PlacedOrder | None:
    """The transaction's answer was lost: fence it, then answer with what is certain —
    within `budget` seconds in all."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    unknown = UNKNOWN_WITH_KEY if plan.idempotency_key else UNKNOWN
    try:
        record = await backends.idempotency.settle(
            plan.user_id,
            plan.record_key,
            plan.fingerprint,
            plan.order_id,
            plan.created_at,
            budget=budget,
        )
        if record is None:
            raise BackendUnavailable("DynamoDB", NOT_WRITTEN)
        placed = await _resolve(backends, plan, record, deadline - loop.time())
    except BackendUnavailable as error:
        if error.message and not isinstance(error, UnclearOutcome):
            raise
        raise BackendUnavailable("DynamoDB", unknown) from None
    if placed is None:
        raise BackendUnavailable("DynamoDB", unknown)
    return placed


def _placed_order(backends: Backends, plan: CheckoutPlan) -> Order:
    return plan.order(backends.settings.currency)


async def place_from_page(
    backends: Backends,
    *,
    user_id: str,
    shipping_address: dict[str, str],
    seen: str | None,
    idempotency_key: str | None,
) -> PlacedOrder:
    """The checkout page's order: the saved cart, placed only if it is exactly what the page
    showed (`seen`, the form's copy of its summary); else NotAsSeen lists what changed."""
    shown = seen_quote.parse(seen)
    lines = await saved_lines(backends, user_id)
    return await place_order(
        backends,
        user_id=user_id,
        lines=lines,
        shipping_address=shipping_address,
        client_total=shown.total,
        idempotency_key=idempotency_key,
        seen=shown,
    )


def page_summary(quote: Quote) -> str:
    """What the checkout form carries of the summary it shows (see `domain.seen`)."""
    return seen_quote.encode(quote)


__all__ = [
    "NotAsSeen",
    "OutOfStock",
    "PriceChanged",
    "TooManyPendingOrders",
    "page_summary",
    "place_from_page",
    "place_order",
]
