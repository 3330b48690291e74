"""Orders as DynamoDB items, and back.

Pure functions (no I/O): `OrderStore` reads and writes what these build. An order item is
the order's `as_dict()` plus `order_list`, the constant that puts it in the all-orders
index; the customer's pending-orders counter lives in the same table but is not an order.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cloudstore.domain.orders import (
    Order,
    OrderLine,
    OrderSummary,
    ShippingAddress,
    StatusChange,
)
from cloudstore.domain.payments import Payment
from cloudstore.stores.dynamo import from_item, to_item

# Every order item holds this in `order_list`, the all-orders GSI's partition key.
ORDER_LIST = "ALL"


def order_item(order: Order) -> dict[str, dict]:
    return to_item({**order.stored(), "order_list": ORDER_LIST})


def order_from_item(item: dict) -> Order:
    values = from_item(item)
    created_at = str(values.get("created_at", ""))
    return Order(
        user_id=values["user_id"],
        order_id=values["order_id"],
        items=tuple(_line(line) for line in values.get("items", [])),
        subtotal=_money(values.get("subtotal")),
        tax=_money(values.get("tax")),
        tax_rate=Decimal(values.get("tax_rate", 0)),
        total_amount=_money(values.get("total_amount")),
        currency=str(values.get("currency", "")),
        shipping_address=ShippingAddress.from_mapping(values.get("shipping_address", {})),
        status=values["status"],
        status_history=tuple(
            StatusChange.from_stored(entry, values["user_id"])
            for entry in values.get("status_history", [])
        ),
        created_at=created_at,
        updated_at=str(values.get("updated_at", created_at)),
        idempotency_key=values.get("idempotency_key"),
        expires_at=values.get("expires_at"),
        payment=Payment.from_stored(values["payment"]) if values.get("payment") else None,
    )


def summary_from_item(item: dict) -> OrderSummary:
    """An order read with only the summary's attributes (see `OrderStore.list_since`)."""
    values = from_item(item)
    return OrderSummary(
        order_id=values["order_id"],
        user_id=values["user_id"],
        created_at=str(values.get("created_at", "")),
        status=values["status"],
        total_amount=_money(values.get("total_amount")),
    )


def _line(values: Mapping[str, Any]) -> OrderLine:
    return OrderLine(
        product_id=values["product_id"],
        name=values.get("name", ""),
        category=values.get("category", ""),
        image_url=values.get("image_url", ""),
        price=_money(values.get("price")),
        quantity=int(values.get("quantity", 0)),
        line_total=_money(values.get("line_total")),
    )


def _money(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)
