"""Orders: time-sortable ids, statuses and the transitions between them."""

from __future__ import annotations

from ulid import ULID

from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput

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


def history_entry(status: str, at: str, by: str) -> dict[str, str]:
    return {"status": status, "at": at, "by": by}


def new_order_id() -> str:
    """`ORD-` + a ULID: lexical order is creation order, so a Query can go newest first."""
    return f"{ORDER_PREFIX}{ULID()}"


def leaves_pending(current: str, new: str) -> bool:
    """An order stops counting against the customer's open-orders limit (paid, cancelled,
    or any later exit from pending)."""
    return current == PENDING and new != PENDING
