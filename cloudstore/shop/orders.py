"""The order lifecycle: status changes by admins, cancellation by customers and admins.

Cancelling puts every line's stock back in the same transaction as the status change, and
the change is conditioned on the status we read, so two concurrent cancels restore once.
"""

from __future__ import annotations

from cloudstore.backends import Backends
from cloudstore.domain.catalog import utc_now_iso
from cloudstore.domain.errors import Conflict, NotFound
from cloudstore.domain.orders import CANCELLED, PENDING, check_transition, history_entry
from cloudstore.stores.orders import StockMoved

ATTEMPTS = 3


async def change_status(backends: Backends, order: dict, new_status: str, by: str) -> dict:
    check_transition(order["status"], new_status)
    entry = history_entry(new_status, utc_now_iso(), by)
    quantities = {}
    if new_status == CANCELLED:
        for item in order.get("items", []):
            pid = item["product_id"]
            quantities[pid] = quantities.get(pid, 0) + int(item["quantity"])
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
                order, new_status, entry, restock, extra_actions=extra
            )
        except StockMoved:
            continue
        if restock:
            backends.catalog.apply_stock_changes(
                {pid: current[pid].stock + qty for pid, _, qty in restock}
            )
        return updated
    raise Conflict("the products in this order changed meanwhile; please try again")


async def cancel_own_order(backends: Backends, user_id: str, order_id: str) -> dict:
    """A customer may cancel their own order while it is still pending."""
    order = await backends.orders.get(user_id, order_id)
    if order is None:
        raise NotFound("order not found")
    if order["status"] != PENDING:
        raise Conflict(f"an order that is {order['status']} can no longer be cancelled")
    return await change_status(backends, order, CANCELLED, by=user_id)


async def admin_set_status(
    backends: Backends, admin_id: str, order_id: str, new_status: str
) -> tuple[dict, dict]:
    order = await backends.orders.find(order_id)
    if order is None:
        raise NotFound("order not found")
    return order, await change_status(backends, order, new_status, by=admin_id)
