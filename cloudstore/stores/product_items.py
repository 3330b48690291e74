"""Products as DynamoDB items, and the requests that write one product's fields.

Pure functions (no I/O): `CatalogStore` sends what these build."""

from __future__ import annotations

from decimal import Decimal

from cloudstore.domain.catalog import Product
from cloudstore.domain.images import ProductImage
from cloudstore.stores.dynamo import from_item, to_item, to_value


def product_from_item(item: dict) -> Product:
    values = from_item(item)
    return Product(
        product_id=values["product_id"],
        category=values["category"],
        name=values.get("name", ""),
        description=values.get("description", ""),
        price=Decimal(values.get("price", 0)),
        image_url=values.get("image_url", ""),
        stock=int(values.get("stock", 0)),
        created_at=values.get("created_at", ""),
        updated_at=values.get("updated_at", ""),
        image=ProductImage.from_map(values.get("image")),
    )


def product_item(product: Product) -> dict:
    return to_item(product.as_dict())


def product_key(product: Product) -> dict:
    return {"product_id": to_value(product.product_id), "category": to_value(product.category)}


def update_request(table: str, current: Product, changes: dict, stock_delta: int, now: str) -> dict:
    """One UpdateItem that sets `changes` and adds `stock_delta` to the stock, refused by
    DynamoDB if the product is gone or the stock would go below zero. Only the named
    attributes are written, so a concurrent checkout's decrement is never overwritten."""
    names = {f"#{field}": field for field in [*changes, "updated_at"]}
    values = {f":{field}": to_value(value) for field, value in changes.items()}
    values[":updated_at"] = to_value(now)
    sets = [f"#{field} = :{field}" for field in [*changes, "updated_at"]]
    condition = "attribute_exists(product_id)"
    if stock_delta:
        names["#stock"] = "stock"
        values[":delta"] = to_value(stock_delta)
        sets.append("#stock = #stock + :delta")
        if stock_delta < 0:
            values[":floor"] = to_value(-stock_delta)
            condition += " AND #stock >= :floor"
    return {
        "TableName": table,
        "Key": product_key(current),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }


def move_request(table: str, current: Product, updated: Product) -> list[dict]:
    """A category change (the category is part of the key): delete and put in one
    transaction, conditioned on the stock we read, so no sale between is lost."""
    return [
        {
            "Delete": {
                "TableName": table,
                "Key": product_key(current),
                "ConditionExpression": "stock = :stock",
                "ExpressionAttributeValues": {":stock": to_value(current.stock)},
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": product_item(updated),
                "ConditionExpression": "attribute_not_exists(product_id)",
            }
        },
    ]


def set_stock_request(table: str, current: Product, changes: dict, stock: int, now: str) -> dict:
    """A transaction's `Update` that sets `changes` and the stock to `stock`, conditioned on
    the stock being what we read (`current.stock`): the values before and after are exact,
    and a sale in between makes it refuse (then re-read and try again)."""
    names = {f"#{field}": field for field in [*changes, "updated_at", "stock"]}
    values = {f":{field}": to_value(value) for field, value in changes.items()}
    values[":updated_at"] = to_value(now)
    values[":stock"] = to_value(stock)
    values[":seen"] = to_value(current.stock)
    sets = [f"#{field} = :{field}" for field in [*changes, "updated_at", "stock"]]
    return {
        "Update": {
            "TableName": table,
            "Key": product_key(current),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "attribute_exists(product_id) AND #stock = :seen",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
