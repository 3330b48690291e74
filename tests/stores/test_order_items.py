"""Orders as DynamoDB items: what the store writes reads back as the same order."""

from __future__ import annotations

from decimal import Decimal

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import Product
from cloudstore.domain.checkout import plan_checkout
from cloudstore.domain.orders import BY_ADMIN, PAID, Order, history_entry
from cloudstore.stores.dynamo import from_item
from cloudstore.stores.order_items import (
    ORDER_LIST,
    order_from_item,
    order_item,
    summary_from_item,
)

ADDRESS = {
    "name": "Budi Santoso",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman No. 1",
    "city": "Jakarta",
    "state": "DKI Jakarta",
    "postal_code": "10220",
}


def an_order() -> Order:
    item = Product("A", "compute", "Alpha", "", Decimal(1500), "", 5, "2024-01-01T00:00:00Z")
    plan = plan_checkout(
        user_id="USR-1",
        lines=[CartLine("A", 3)],
        products={"A": item},
        shipping_address=ADDRESS,
        tax_rate=Decimal("0.11"),
        idempotency_key="key-1",
    )
    return plan.order("IDR").moved(
        history_entry(PAID, "2025-01-01T00:00:00.000Z", BY_ADMIN, "ADM-1")
    )


def test_an_order_reads_back_from_its_item_unchanged():
    order = an_order()
    assert order_from_item(order_item(order)) == order


def test_an_order_item_is_its_stored_shape_in_the_all_orders_index():
    order = an_order()
    assert from_item(order_item(order)) == {**order.stored(), "order_list": ORDER_LIST}


def test_an_order_item_keeps_the_payment_as_stored_not_as_shown():
    payment = from_item(order_item(an_order()))["payment"]
    assert "status" not in payment and "instructions" not in payment


def test_a_summary_reads_the_projected_fields():
    order = an_order()
    summary = summary_from_item(order_item(order))
    assert (summary.order_id, summary.status, summary.total_amount) == (
        order.order_id,
        PAID,
        Decimal(4995),
    )
