"""Orders: time-sortable ids, statuses and the transitions between them."""

from __future__ import annotations

import hashlib

from ulid import ULID

ORDER_PREFIX = "ORD-"
PENDING, PAID, SHIPPED, DELIVERED, CANCELLED = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
)
STATUSES = (PENDING, PAID, SHIPPED, DELIVERED, CANCELLED)

# The one place that says which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, CANCELLED}),
    PAID: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset(),
    CANCELLED: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def new_order_id() -> str:
    """`ORD-` + a ULID: lexical order is creation order, so a Query can go newest first."""
    return f"{ORDER_PREFIX}{ULID()}"


def idempotency_record_id(key: str) -> str:
    """The sort key of the item that remembers which order an Idempotency-Key produced.

    It lives beside the user's orders but sorts before `ORD-`, out of the order listing."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"IDEMPOTENCY#{digest}"
