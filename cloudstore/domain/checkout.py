"""Checkout: turn a cart, the current catalog and a shipping address into an order plan.

The plan is what the order store writes in one DynamoDB transaction: the order, a stock
decrement per line conditioned on stock and price, the idempotency key's record, the
customer's pending-orders counter (at most `max_pending` open orders) and the cart delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cloudstore.domain.address import REQUIRED_ADDRESS_FIELDS
from cloudstore.domain.cart import MAX_LINES, CartLine, normalize
from cloudstore.domain.catalog import Product, utc_now_iso
from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.idempotency import server_key
from cloudstore.domain.orders import (
    BY_CUSTOMER,
    PENDING,
    Order,
    OrderLine,
    ShippingAddress,
    history_entry,
    new_order_id,
)
from cloudstore.domain.payments import (
    BANK_TRANSFER,
    DEFAULT_PAYMENT_WINDOW_SECONDS,
    BankAccount,
    Payment,
    window_end,
)
from cloudstore.domain.pricing import Quote, price_cart
from cloudstore.domain.seen import SeenQuote, differences

# The default of MAX_PENDING_ORDERS: open (unpaid) orders a customer may hold at once.
DEFAULT_MAX_PENDING = 5


class OutOfStock(Conflict):
    """Some lines ask for more than is in stock; `details["short"]` names them."""

    default_code = ErrorCode.OUT_OF_STOCK


class TotalMismatch(Conflict):
    """The client's total differs from the server's by a rupiah or more."""

    default_code = ErrorCode.TOTAL_MISMATCH


class PriceChanged(Conflict):
    """A price changed between pricing and the transaction."""

    default_code = ErrorCode.PRICE_CHANGED


class NotAsSeen(Conflict):
    """The order would differ from what the checkout page showed; `details["changes"]`
    lists how (see `domain.seen.Change`)."""

    default_code = ErrorCode.ORDER_NOT_AS_SEEN


class TooManyPendingOrders(Conflict):
    """The customer already has the most open (pending) orders allowed."""

    default_code = ErrorCode.TOO_MANY_PENDING_ORDERS


def too_many_pending(limit: int) -> TooManyPendingOrders:
    return TooManyPendingOrders(
        f"you already have {limit} unpaid orders; pay or cancel one before placing another",
        limit=limit,
    )


def short_lines_detail(quote: Quote) -> list[dict[str, object]]:
    return [
        {
            "product_id": line.product.product_id,
            "name": line.product.name,
            "requested": line.quantity,
            "available": line.product.stock,
        }
        for line in quote.short_lines
    ]


def quote_detail(quote: Quote) -> dict[str, Any]:
    return {"subtotal": quote.subtotal, "tax": quote.tax, "total_amount": quote.total}


@dataclass(frozen=True, slots=True)
class CheckoutPlan:
    user_id: str
    order_id: str
    quote: Quote
    shipping_address: dict[str, Any]
    created_at: str
    idempotency_key: str | None  # the client's, kept on the order
    record_key: str  # the key the record is written under: the client's, or the server's
    fingerprint: str  # of the request, kept on the record
    max_pending: int
    # How the order is paid: the provider, and (bank transfers) the accounts shown.
    payment_provider: str = BANK_TRANSFER
    bank_accounts: tuple[BankAccount, ...] = ()
    # Seconds the order may stay unpaid (PAYMENT_WINDOW_SECONDS).
    payment_window: int = DEFAULT_PAYMENT_WINDOW_SECONDS

    @property
    def expires_at(self) -> str:
        return window_end(self.created_at, self.payment_window)

    def order(self, currency: str) -> Order:
        """The order this plan places: pending, priced as the quote says."""
        return Order(
            user_id=self.user_id,
            order_id=self.order_id,
            items=tuple(OrderLine(**line.as_item()) for line in self.quote.lines),
            subtotal=self.quote.subtotal,
            tax=self.quote.tax,
            tax_rate=self.quote.tax_rate,
            total_amount=self.quote.total,
            currency=currency,
            shipping_address=ShippingAddress.from_mapping(self.shipping_address),
            status=PENDING,
            status_history=(history_entry(PENDING, self.created_at, BY_CUSTOMER, self.user_id),),
            created_at=self.created_at,
            updated_at=self.created_at,
            idempotency_key=self.idempotency_key,
            expires_at=self.expires_at,
            payment=Payment(
                provider=self.payment_provider,
                amount=self.quote.total,
                expires_at=self.expires_at,
                accounts=self.bank_accounts if self.payment_provider == BANK_TRANSFER else (),
            ),
        )


def plan_checkout(
    *,
    user_id: str,
    lines: Sequence[CartLine],
    products: Mapping[str, Product],
    shipping_address: Mapping[str, Any],
    tax_rate: Decimal,
    record_key: str | None = None,
    fingerprint: str = "",
    max_pending: int = DEFAULT_MAX_PENDING,
    client_total: Decimal | None = None,
    idempotency_key: str | None = None,
    seen: SeenQuote | None = None,
    payment_provider: str = BANK_TRANSFER,
    bank_accounts: Sequence[BankAccount] = (),
    payment_window: int = DEFAULT_PAYMENT_WINDOW_SECONDS,
) -> CheckoutPlan:
    """`seen` is what the checkout page showed: any difference from the fresh quote is a
    409 (`NotAsSeen`) listing the changes, so the page never charges what it did not show.
    `record_key` is the key the idempotency record goes under (default: the client's
    `idempotency_key`, else a new server key); `fingerprint` is the request's."""
    lines = normalize(lines)
    if not lines:
        raise InvalidInput("cart is empty", code=ErrorCode.CART_EMPTY)
    if len(lines) > MAX_LINES:
        raise InvalidInput(
            f"an order may hold at most {MAX_LINES} different products",
            code=ErrorCode.CART_TOO_LARGE,
        )
    missing = [
        field
        for field in REQUIRED_ADDRESS_FIELDS
        if not str(shipping_address.get(field, "")).strip()
    ]
    if missing:
        raise InvalidInput(
            f"shipping_address is missing: {', '.join(missing)}",
            code=ErrorCode.REQUIRED,
            field="shipping_address",
        )
    quote = price_cart(lines, products, tax_rate)
    if quote.missing:
        raise NotFound(
            f"product not found: {', '.join(quote.missing)}",
            code=ErrorCode.PRODUCT_NOT_FOUND,
            missing=quote.missing,
        )
    if seen is not None:
        names = {pid: product.name for pid, product in products.items()}
        changes = differences(seen, quote, names)
        if changes:
            raise NotAsSeen(
                "your order changed since the page showed it",
                changes=[change.as_dict() for change in changes],
                **quote_detail(quote),
            )
    if quote.short_lines:
        short_names = ", ".join(line.product.name for line in quote.short_lines)
        raise OutOfStock(
            f"not enough stock for: {short_names}",
            short=short_lines_detail(quote),
            **quote_detail(quote),
        )
    if client_total is not None and abs(client_total - quote.total) >= 1:
        raise TotalMismatch("total_amount does not match the server's total", **quote_detail(quote))
    return CheckoutPlan(
        user_id=user_id,
        order_id=new_order_id(),
        quote=quote,
        shipping_address=dict(shipping_address),
        created_at=utc_now_iso(),
        idempotency_key=idempotency_key,
        record_key=record_key or idempotency_key or server_key(),
        fingerprint=fingerprint,
        max_pending=max_pending,
        payment_provider=payment_provider,
        bank_accounts=tuple(bank_accounts),
        payment_window=payment_window,
    )
