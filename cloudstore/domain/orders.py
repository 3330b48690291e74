"""Orders: the order itself (`Order`, its lines, its status history and where it ships),
time-sortable ids, statuses and the transitions between them.

An `Order` is what the order store reads and writes; `as_dict()` is its JSON in the API
(and the shape it is stored in). Money is Decimal, whole rupiah.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ulid import ULID

from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput
from cloudstore.domain.payments import BANK_TRANSFER, Payment

ORDER_PREFIX = "ORD-"
PENDING, PAID, SHIPPED, DELIVERED, CANCELLED, EXPIRED = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "expired",
)
STATUSES = (PENDING, PAID, SHIPPED, DELIVERED, CANCELLED, EXPIRED)

# Who changed an order's status (`StatusChange.by`); customers and admins also leave their id.
BY_CUSTOMER, BY_ADMIN, BY_SYSTEM, BY_PAYMENT_PROVIDER = (
    "customer",
    "admin",
    "system",
    "payment_provider",
)
ACTORS = (BY_CUSTOMER, BY_ADMIN, BY_SYSTEM, BY_PAYMENT_PROVIDER)

# The one place that says which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, CANCELLED, EXPIRED}),
    PAID: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset(),
    CANCELLED: frozenset(),
    EXPIRED: frozenset(),
}


# Statuses only the shop itself sets (the expiry sweep), never offered to a person.
SYSTEM_ONLY = frozenset({EXPIRED})


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, new: str) -> None:
    """Raise 400 for an unknown status and 409 for a move the lifecycle does not allow."""
    if new not in STATUSES:
        raise InvalidInput(
            f"status must be one of: {', '.join(STATUSES)}", code=ErrorCode.INVALID, field="status"
        )
    if not can_transition(current, new):
        raise Conflict(
            f"an order that is {current} cannot become {new}",
            code=ErrorCode.INVALID_TRANSITION,
            current_status=current,
        )


def history_entry(
    status: str, at: str, by: str, by_user_id: str | None = None, reason: str | None = None
) -> StatusChange:
    return StatusChange(status=status, at=at, by=by, by_user_id=by_user_id, reason=reason)


def new_order_id() -> str:
    """`ORD-` + a ULID: lexical order is creation order, so a Query can go newest first."""
    return f"{ORDER_PREFIX}{ULID()}"


def restores_stock(new: str) -> bool:
    """An order that ends unpaid (cancelled, expired) puts its stock back."""
    return new in (CANCELLED, EXPIRED)


def leaves_pending(current: str, new: str) -> bool:
    """An order stops counting against the customer's open-orders limit (paid, cancelled,
    or any later exit from pending)."""
    return current == PENDING and new != PENDING


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One product of an order, as it was priced when the order was placed."""

    product_id: str
    name: str
    category: str
    image_url: str
    price: Decimal
    quantity: int
    line_total: Decimal

    def as_dict(self) -> dict[str, object]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "category": self.category,
            "image_url": self.image_url,
            "price": self.price,
            "quantity": self.quantity,
            "line_total": self.line_total,
        }


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of an order's status history: the new status, when (ISO UTC), who (one of
    `ACTORS`; the customer's or admin's id in `by_user_id`) and why, when there is a why."""

    status: str
    at: str
    by: str
    by_user_id: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {"status": self.status, "at": self.at, "by": self.by}
        if self.by_user_id is not None:
            values["by_user_id"] = self.by_user_id
        if self.reason is not None:
            values["reason"] = self.reason
        return values

    @classmethod
    def from_stored(cls, values: Mapping[str, Any], order_user_id: str) -> StatusChange:
        """An entry as stored. Orders placed before `by` named an actor stored the acting
        user's id there: the order's own customer, or else an admin."""
        by = str(values.get("by", BY_SYSTEM))
        by_user_id = values.get("by_user_id")
        if by not in ACTORS:
            by_user_id = by
            by = BY_CUSTOMER if by == order_user_id else BY_ADMIN
        reason = values.get("reason")
        return cls(
            status=str(values["status"]),
            at=str(values["at"]),
            by=by,
            by_user_id=None if by_user_id is None else str(by_user_id),
            reason=None if reason is None else str(reason),
        )


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    """Where an order ships; `state` is the one optional field (absent, not empty, when
    the customer gave none)."""

    name: str
    phone: str
    address: str
    city: str
    postal_code: str
    state: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ShippingAddress:
        state = values.get("state")
        return cls(
            name=str(values.get("name", "")),
            phone=str(values.get("phone", "")),
            address=str(values.get("address", "")),
            city=str(values.get("city", "")),
            postal_code=str(values.get("postal_code", "")),
            state=None if state is None else str(state),
        )

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "city": self.city,
        }
        if self.state is not None:
            values["state"] = self.state
        values["postal_code"] = self.postal_code
        return values


@dataclass(frozen=True, slots=True)
class Order:
    user_id: str
    order_id: str
    items: tuple[OrderLine, ...]
    subtotal: Decimal
    tax: Decimal
    tax_rate: Decimal
    total_amount: Decimal
    currency: str
    shipping_address: ShippingAddress
    status: str
    status_history: tuple[StatusChange, ...]
    created_at: str
    updated_at: str
    # The client's Idempotency-Key, when it sent one.
    idempotency_key: str | None = None
    # When an unpaid order expires (ISO UTC), and how it is paid; None on orders placed
    # before payments existed.
    expires_at: str | None = None
    payment: Payment | None = None

    def as_dict(self) -> dict[str, object]:
        """The order in the API's JSON (and as it is stored)."""
        values: dict[str, object] = {
            "user_id": self.user_id,
            "order_id": self.order_id,
            "items": [line.as_dict() for line in self.items],
            "subtotal": self.subtotal,
            "tax": self.tax,
            "tax_rate": self.tax_rate,
            "total_amount": self.total_amount,
            "currency": self.currency,
            "shipping_address": self.shipping_address.as_dict(),
            "status": self.status,
            "status_history": [entry.as_dict() for entry in self.status_history],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.idempotency_key is not None:
            values["idempotency_key"] = self.idempotency_key
        if self.expires_at is not None:
            values["expires_at"] = self.expires_at
        if self.payment is not None:
            values["payment"] = self.payment.as_dict(self.order_id, self.status)
        return values

    def stored(self) -> dict[str, object]:
        """The order as the order store writes it (the API's JSON, with the payment as
        stored rather than as shown)."""
        values = self.as_dict()
        if self.payment is not None:
            values["payment"] = self.payment.stored()
        return values

    def moved(self, entry: StatusChange) -> Order:
        """The order after the status change `entry`."""
        return replace(
            self,
            status=entry.status,
            updated_at=entry.at,
            status_history=(*self.status_history, entry),
        )

    def awaits_bank_transfer(self) -> bool:
        """A pending order paid by bank transfer: an admin confirms it, with the transfer's
        reference (never a bare "mark paid")."""
        return (
            self.status == PENDING
            and self.payment is not None
            and self.payment.provider == BANK_TRANSFER
        )

    def quantities(self) -> dict[str, int]:
        """How many of each product the order holds (what a cancellation puts back)."""
        totals: dict[str, int] = {}
        for line in self.items:
            totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
        return totals


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """The few fields of an order that a sales summary reads (the admin dashboard)."""

    order_id: str
    user_id: str
    created_at: str
    status: str
    total_amount: Decimal
