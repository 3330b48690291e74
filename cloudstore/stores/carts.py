"""Saved carts: one item per user in the Cart table."""

from __future__ import annotations

from cloudstore.domain.cart import CartLine
from cloudstore.domain.catalog import utc_now_iso
from cloudstore.stores.dynamo import Dynamo, from_item, to_item, to_value


class CartStore:
    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self.dynamo = dynamo
        self.table = table

    async def get(self, user_id: str) -> list[CartLine]:
        reply = await self.dynamo.call(
            "get_item",
            TableName=self.table,
            Key={"user_id": to_value(user_id)},
            ConsistentRead=True,
        )
        if "Item" not in reply:
            return []
        items = from_item(reply["Item"]).get("items", [])
        return [CartLine(str(i["product_id"]), int(i["quantity"])) for i in items]

    async def save(self, user_id: str, lines: list[CartLine]) -> None:
        if not lines:
            await self.clear(user_id)
            return
        item = {
            "user_id": user_id,
            "items": [{"product_id": line.product_id, "quantity": line.quantity} for line in lines],
            "updated_at": utc_now_iso(),
        }
        await self.dynamo.call("put_item", TableName=self.table, Item=to_item(item))

    async def clear(self, user_id: str) -> None:
        await self.dynamo.call(
            "delete_item", TableName=self.table, Key={"user_id": to_value(user_id)}
        )
