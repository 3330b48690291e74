"""Orders: reading them (a customer's own, every order for admins) and their lifecycle:
status changes by admins, cancellation by customers and admins.

Cancelling puts every line's stock back in the same transaction as the status change, and
the change is conditioned on the status we read, so two concurrent cancels restore once.
Leaving `pending` (paid, cancelled) lowers the customer's open-orders counter in that same
transaction (see `stores/orders.py`).
"""

from __future__ import annotations

from datetime import datetime

from cloudstore.backends import Backends
from cloudstore.domain.catalog import utc_now_iso
from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from cloudstore.domain.orders import (
    BY_ADMIN,
    BY_CUSTOMER,
    CANCELLED,
    PAID,
    PENDING,
    SYSTEM_ONLY,
    Order,
    OrderSummary,
    check_transition,
    history_entry,
    leaves_pending,
    restores_stock,
)
from cloudstore.domain.payments import Payment, transfer_reference
from cloudstore.shop import audit, mail
from cloudstore.stores.orders import StockMoved

ATTEMPTS = 3


def _not_found() -> NotFound:
    return NotFound("order not found", code=ErrorCode.ORDER_NOT_FOUND)


async def list_own(
    backends: Backends,
    user_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    restart_on_bad_cursor: bool = False,
) -> tuple[list[Order], str | None]:
    """A customer's orders, newest first, one page. A page's stale or edited cursor may
    start from the newest instead of failing (`restart_on_bad_cursor`)."""
    try:
        return await backends.orders.list_for_user(user_id, limit=limit, cursor=cursor)
    except InvalidInput as error:
        if not restart_on_bad_cursor or error.code != ErrorCode.INVALID_CURSOR:
            raise
        return await backends.orders.list_for_user(user_id, limit=limit)


async def count_own(
    backends: Backends, user_id: str, page: list[Order], cursor: str | None, next_cursor: str | None
) -> int:
    """How many orders the customer has in all: the page itself when it is the whole list
    (no extra read), else a count."""
    if cursor is None and next_cursor is None:
        return len(page)
    return await backends.orders.count_for_user(user_id)


async def get_own(backends: Backends, user_id: str, order_id: str) -> Order:
    """One of the customer's orders (404 for anyone else's)."""
    order = await backends.orders.get(user_id, order_id)
    if order is None:
        raise _not_found()
    return order


async def list_all(
    backends: Backends,
    *,
    status: str | None = None,
    limit: int,
    cursor: str | None = None,
    restart_on_bad_cursor: bool = False,
) -> tuple[list[Order], str | None, str | None]:
    """Every customer's orders, newest first, optionally of one status: (orders, next
    cursor, the cursor actually used — None when a bad one was dropped)."""
    try:
        orders, next_cursor = await backends.orders.list_all(
            status=status, limit=limit, cursor=cursor
        )
    except InvalidInput as error:
        if not restart_on_bad_cursor or error.code != ErrorCode.INVALID_CURSOR:
            raise
        cursor = None
        orders, next_cursor = await backends.orders.list_all(status=status, limit=limit)
    return orders, next_cursor, cursor


async def list_since(backends: Backends, since: datetime) -> list[OrderSummary]:
    """Every order placed since `since` (the dashboard's window)."""
    return await backends.orders.list_since(since)


async def find_any(backends: Backends, order_id: str) -> Order:
    """Any customer's order by id alone (admins): found on the all-orders index, then read
    consistently by its key."""
    found = await backends.orders.find(order_id)
    if found is None:
        raise _not_found()
    return await backends.orders.get(found.user_id, order_id) or found


async def change_status(
    backends: Backends,
    order: Order,
    new_status: str,
    by: str,
    by_user_id: str | None = None,
    reason: str | None = None,
    *,
    payment: Payment | None = None,
    at: str | None = None,
) -> Order:
    """Move `order` to `new_status` on behalf of `by` (one of the `ACTORS`), at `at` (now).
    `payment` is the order's payment after the change (a confirmation, a provider's event),
    written in the same conditional update."""
    check_transition(order.status, new_status)
    entry = history_entry(new_status, at or utc_now_iso(), by, by_user_id, reason)
    quantities = order.quantities() if restores_stock(new_status) else {}
    for _ in range(ATTEMPTS):
        # Restock under each product's current key: it may have changed category since.
        current = await backends.catalog.fetch_many(quantities) if quantities else {}
        restock = [
            (pid, current[pid].category, qty) for pid, qty in quantities.items() if pid in current
        ]
        try:
            # The catalog's change entry rides in the transaction (see stores/catalog.py).
            extra = (
                [backends.catalog.change_action((pid, cat) for pid, cat, _ in restock)]
                if restock
                else []
            )
            updated = await backends.orders.change_status(
                order,
                entry,
                restock,
                extra_actions=extra,
                leaves_pending=leaves_pending(order.status, new_status),
                payment=payment,
            )
        except StockMoved:
            continue
        if restock:
            backends.catalog.apply_stock_changes(
                {pid: current[pid].stock + qty for pid, _, qty in restock}
            )
        mail.notify(backends, updated)
        return updated
    raise Conflict(
        "the products in this order changed meanwhile; please try again",
        code=ErrorCode.ORDER_CHANGED,
    )


async def cancel_own_order(backends: Backends, user_id: str, order_id: str) -> Order:
    """A customer may cancel their own order while it is still pending."""
    order = await get_own(backends, user_id, order_id)
    if order.status != PENDING:
        raise Conflict(
            f"an order that is {order.status} can no longer be cancelled",
            code=ErrorCode.NOT_CANCELLABLE,
        )
    return await change_status(backends, order, CANCELLED, by=BY_CUSTOMER, by_user_id=user_id)


async def admin_set_status(
    backends: Backends,
    admin_id: str,
    order_id: str,
    new_status: str,
    reference: str | None = None,
) -> tuple[Order, Order]:
    """An admin moves an order along its lifecycle; audited with the status before/after.
    Marking a pending order paid records the payment's `reference` (required for bank
    transfers: the transfer's reference) and when. `expired` is the shop's alone (400)."""
    if new_status in SYSTEM_ONLY:
        raise InvalidInput(
            f"only the shop itself sets an order {new_status}",
            code=ErrorCode.STATUS_SYSTEM_ONLY,
            field="status",
        )
    order = await find_any(backends, order_id)
    payment, reason = None, None
    if new_status == PAID and order.status == PENDING:
        checked = transfer_reference(reference, required=order.awaits_bank_transfer())
        if order.payment is not None:
            payment = order.payment.confirmed(checked, utc_now_iso())
        elif checked:  # placed before payments were recorded: the history keeps it
            reason = f"payment reference {checked}"
    updated = await change_status(
        backends,
        order,
        new_status,
        by=BY_ADMIN,
        by_user_id=admin_id,
        reason=reason,
        payment=payment,
    )
    audit.record(
        admin_id,
        "set_order_status",
        order_id,
        {"status": order.status},
        {"status": updated.status},
    )
    return order, updated
