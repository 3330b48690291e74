"""The order as a value: its API shape, its status moves, what a cancellation puts back."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import Product
from cloudstore.domain.checkout import plan_checkout
from cloudstore.domain.orders import (
    CANCELLED,
    PENDING,
    Order,
    ShippingAddress,
    history_entry,
)

ADDRESS = {
    "name": "Budi Santoso",
    "phone": "+62 812 3456 7890",
    "address": "Jl. Sudirman No. 1",
    "city": "Jakarta",
    "postal_code": "10220",
}


def product(product_id: str, price: int) -> Product:
    return Product(
        product_id=product_id,
        category="compute",
        name=f"Product {product_id}",
        description="",
        price=Decimal(price),
        image_url=f"/img/{product_id}.png",
        stock=10,
        created_at="2024-01-01T00:00:00.000Z",
    )


def placed(idempotency_key: str | None = None) -> Order:
    plan = plan_checkout(
        user_id="USR-1",
        lines=[CartLine("A", 2), CartLine("B", 1)],
        products={"A": product("A", 1000), "B": product("B", 250)},
        shipping_address=ADDRESS,
        tax_rate=Decimal("0.11"),
        idempotency_key=idempotency_key,
    )
    return plan.order("IDR")


def test_a_placed_order_as_dict_has_the_api_fields_in_order():
    assert list(placed().as_dict()) == [
        "user_id",
        "order_id",
        "items",
        "subtotal",
        "tax",
        "tax_rate",
        "total_amount",
        "currency",
        "shipping_address",
        "status",
        "status_history",
        "created_at",
        "updated_at",
        "expires_at",
        "payment",
    ]


def test_a_placed_order_is_pending_and_priced_by_the_quote():
    order = placed().as_dict()
    assert order["items"] == [
        {
            "product_id": "A",
            "name": "Product A",
            "category": "compute",
            "image_url": "/img/A.png",
            "price": Decimal(1000),
            "quantity": 2,
            "line_total": Decimal(2000),
        },
        {
            "product_id": "B",
            "name": "Product B",
            "category": "compute",
            "image_url": "/img/B.png",
            "price": Decimal(250),
            "quantity": 1,
            "line_total": Decimal(250),
        },
    ]
    assert (order["subtotal"], order["tax"], order["total_amount"]) == (2250, 248, 2498)
    assert order["status_history"] == [
        {"status": PENDING, "at": order["created_at"], "by": "customer", "by_user_id": "USR-1"}
    ]


def test_the_idempotency_key_is_shown_only_when_the_client_sent_one():
    assert placed("key-1").as_dict()["idempotency_key"] == "key-1"
    assert "idempotency_key" not in placed().as_dict()


def test_an_address_without_a_state_has_no_state_key():
    assert ShippingAddress.from_mapping(ADDRESS).as_dict() == ADDRESS


def test_an_address_keeps_its_state():
    address = {**ADDRESS, "state": "DKI Jakarta"}
    assert ShippingAddress.from_mapping(address).as_dict() == address


def test_moving_an_order_appends_to_its_history():
    order = placed()
    entry = history_entry(CANCELLED, "2025-01-01T00:00:00.000Z", "USR-1")
    moved = order.moved(entry)
    assert (moved.status, moved.updated_at) == (CANCELLED, entry.at)
    assert moved.status_history == (*order.status_history, entry)


def test_quantities_sum_each_product_over_its_lines():
    order = placed()
    doubled = replace(order, items=order.items + order.items[:1])
    assert doubled.quantities() == {"A": 4, "B": 1}
