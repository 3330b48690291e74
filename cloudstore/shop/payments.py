"""STAND-IN written by the `orderpages` helper so the order pages run before the payments
work lands: the integrator keeps the `payments` helper's module instead of this one.

Only the two signatures the pages call, implemented minimally: confirming a bank transfer
moves the order to paid on behalf of the admin (the reference rides in the history entry's
reason; the returned order's payment carries it too, but it is NOT stored on the payment),
and `ensure_payment_link` returns the order as it is (no provider is reached).
"""

from __future__ import annotations

from dataclasses import replace

from cloudstore.backends import Backends
from cloudstore.domain.catalog import utc_now_iso
from cloudstore.domain.errors import Conflict, ErrorCode
from cloudstore.domain.orders import BY_ADMIN, PAID, Order
from cloudstore.domain.payments import BANK_TRANSFER
from cloudstore.domain.text import single_line
from cloudstore.shop import audit
from cloudstore.shop.orders import change_status, find_any

MAX_REFERENCE = 100


async def confirm_bank_transfer(
    backends: Backends, admin_id: str, order_id: str, reference: str
) -> Order:
    """An admin saw the transfer arrive: the pending order becomes paid."""
    reference = single_line(reference, "reference", max_length=MAX_REFERENCE)
    order = await find_any(backends, order_id)
    if order.payment is not None and order.payment.provider != BANK_TRANSFER:
        raise Conflict(
            "only a bank transfer is confirmed by hand", code=ErrorCode.INVALID_TRANSITION
        )
    updated = await change_status(
        backends,
        order,
        PAID,
        by=BY_ADMIN,
        by_user_id=admin_id,
        reason=f"bank transfer confirmed, reference {reference}",
    )
    audit.record(admin_id, "confirm_payment", order_id, {"status": order.status}, {"status": PAID})
    if updated.payment is None:
        return updated
    return replace(
        updated, payment=replace(updated.payment, reference=reference, paid_at=utc_now_iso())
    )


async def ensure_payment_link(backends: Backends, order: Order) -> Order:
    """The order with its provider's payment page link (here: as it is)."""
    return order
