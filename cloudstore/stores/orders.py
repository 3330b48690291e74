"""Orders in DynamoDB, and checkout as one TransactWriteItems.

The transaction holds, for each line, a stock decrement conditioned on enough stock and an
unchanged price; the order Put (attribute_not_exists); an idempotency record when the client
sent an Idempotency-Key; and the cart Delete. Either all of it happens or none of it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError
from ulid import ULID

from cloudstore.domain.checkout import CheckoutPlan
from cloudstore.domain.client_text import MAX_CURSOR_CHARS, bounded_json, unpadded_base64
from cloudstore.domain.errors import BackendUnavailable, Conflict, ErrorCode, InvalidInput
from cloudstore.domain.orders import ORDER_PREFIX, idempotency_record_id
from cloudstore.stores.dynamo import (
    ORDERS_BY_STATUS,
    ORDERS_BY_TIME,
    Dynamo,
    from_item,
    to_item,
    to_value,
)

TRANSACTION_ATTEMPTS = 4
ORDER_LIST = "ALL"


class StockMoved(Conflict):
    """Stock or price of some lines changed under the transaction; re-read and re-plan."""

    default_code = ErrorCode.STOCK_MOVED


class IdempotencyKeyReused(Conflict):
    status = 422
    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: dict
    replayed: bool


def request_fingerprint(plan: CheckoutPlan) -> str:
    body = {
        "lines": sorted((line.product.product_id, line.quantity) for line in plan.quote.lines),
        "shipping_address": plan.shipping_address,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _order(item: dict) -> dict:
    order = from_item(item)
    order.pop("order_list", None)
    return order


def _encode_key_cursor(key: dict) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode_key_cursor(cursor: str, index_key: tuple[str, str]) -> dict:
    """The start key of the next page on the index whose partition key is `index_key`
    (name, value): exactly that index's keys, as `_encode_key_cursor` wrote them."""
    plain = bounded_json(
        unpadded_base64(cursor, max_chars=MAX_CURSOR_CHARS),
        max_chars=MAX_CURSOR_CHARS,
        name="cursor",
        code=ErrorCode.INVALID_CURSOR,
    )
    name, value = index_key
    if (
        not isinstance(plain, dict)
        or set(plain) != {"user_id", "order_id", name}
        or plain[name] != value
        or not all(isinstance(v, str) and v for v in plain.values())
        or not plain["order_id"].startswith(ORDER_PREFIX)
    ):
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR)
    return {key: {"S": text} for key, text in plain.items()}


def _encode_cursor(order_id: str) -> str:
    return base64.urlsafe_b64encode(order_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        value = unpadded_base64(cursor, max_chars=MAX_CURSOR_CHARS).decode()
    except ValueError:
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR) from None
    if not value.startswith(ORDER_PREFIX) or not value.isprintable():
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR)
    return value


class OrderStore:
    def __init__(self, dynamo: Dynamo, orders_table: str, products_table: str, cart_table: str):
        self.dynamo = dynamo
        self.table = orders_table
        self.products_table = products_table
        self.cart_table = cart_table

    async def place(
        self, plan: CheckoutPlan, currency: str, extra_actions: Sequence[dict] = ()
    ) -> PlacedOrder:
        """`extra_actions` go last in the transaction (the catalog's change entry)."""
        order = plan.order_record(currency)
        actions: list[dict] = []
        for line in plan.quote.lines:
            actions.append(
                {
                    "Update": {
                        "TableName": self.products_table,
                        "Key": {
                            "product_id": to_value(line.product.product_id),
                            "category": to_value(line.product.category),
                        },
                        "UpdateExpression": "SET stock = stock - :qty",
                        "ConditionExpression": (
                            "attribute_exists(product_id) AND stock >= :qty AND price = :price"
                        ),
                        "ExpressionAttributeValues": {
                            ":qty": to_value(line.quantity),
                            ":price": to_value(line.unit_price),
                        },
                    }
                }
            )
        record_index = None
        if plan.idempotency_key:
            order["idempotency_key"] = plan.idempotency_key
            record_index = len(actions)
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "user_id": plan.user_id,
                                "order_id": idempotency_record_id(plan.idempotency_key),
                                "points_to": plan.order_id,
                                "fingerprint": request_fingerprint(plan),
                                "created_at": plan.created_at,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(order_id)",
                    }
                }
            )
        actions.append(
            {
                "Put": {
                    "TableName": self.table,
                    # order_list puts every order (not the idempotency records) in the GSI.
                    "Item": to_item({**order, "order_list": ORDER_LIST}),
                    "ConditionExpression": "attribute_not_exists(order_id)",
                }
            }
        )
        actions.append(
            {"Delete": {"TableName": self.cart_table, "Key": {"user_id": to_value(plan.user_id)}}}
        )
        actions.extend(extra_actions)

        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                await self.dynamo.call("transact_write_items", TransactItems=actions)
                return PlacedOrder(order=order, replayed=False)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [
                    r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                ]
            if record_index is not None and reasons[record_index] == "ConditionalCheckFailed":
                replay = await self.find_by_idempotency_key(plan.user_id, plan.idempotency_key)
                if replay is not None:
                    existing, fingerprint = replay
                    if fingerprint != request_fingerprint(plan):
                        raise IdempotencyKeyReused(
                            "this Idempotency-Key was already used for a different order"
                        )
                    return PlacedOrder(order=existing, replayed=True)
            failed = [
                plan.quote.lines[i].product.product_id
                for i, code in enumerate(reasons[: len(plan.quote.lines)])
                if code == "ConditionalCheckFailed"
            ]
            if failed:
                raise StockMoved("stock or price changed", product_ids=failed)
            if "TransactionConflict" not in reasons:
                raise BackendUnavailable("DynamoDB")
            # Another transaction touched the same items at the same moment: try again shortly.
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311
        raise BackendUnavailable("DynamoDB")

    async def find_by_idempotency_key(self, user_id: str, key: str) -> tuple[dict, str] | None:
        reply = await self.dynamo.call(
            "get_item",
            TableName=self.table,
            Key={"user_id": to_value(user_id), "order_id": to_value(idempotency_record_id(key))},
            ConsistentRead=True,
        )
        if "Item" not in reply:
            return None
        record = from_item(reply["Item"])
        order = await self.get(user_id, record["points_to"])
        return (order, record.get("fingerprint", "")) if order else None

    async def get(self, user_id: str, order_id: str) -> dict | None:
        if not order_id.startswith(ORDER_PREFIX):
            return None
        reply = await self.dynamo.call(
            "get_item",
            TableName=self.table,
            Key={"user_id": to_value(user_id), "order_id": to_value(order_id)},
            ConsistentRead=True,
        )
        return _order(reply["Item"]) if "Item" in reply else None

    async def list_for_user(
        self, user_id: str, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict], str | None]:
        """Newest first: order ids are ULIDs, so a reverse Query on the sort key is time order."""
        kwargs: dict = {
            "TableName": self.table,
            "KeyConditionExpression": "user_id = :u AND begins_with(order_id, :p)",
            "ExpressionAttributeValues": {":u": to_value(user_id), ":p": to_value(ORDER_PREFIX)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {
                "user_id": to_value(user_id),
                "order_id": to_value(_decode_cursor(cursor)),
            }
        reply = await self.dynamo.call("query", **kwargs)
        orders = [_order(item) for item in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(last["order_id"]["S"]) if last and orders else None
        return orders, next_cursor

    async def find(self, order_id: str) -> dict | None:
        """Any user's order by id alone (admins): a Query on the all-orders GSI."""
        if not order_id.startswith(ORDER_PREFIX):
            return None
        reply = await self.dynamo.call(
            "query",
            TableName=self.table,
            IndexName=ORDERS_BY_TIME,
            KeyConditionExpression="order_list = :all AND order_id = :id",
            ExpressionAttributeValues={":all": to_value(ORDER_LIST), ":id": to_value(order_id)},
        )
        items = reply.get("Items", [])
        return _order(items[0]) if items else None

    async def list_all(
        self, status: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict], str | None]:
        """All customers' orders, newest first, from a GSI: one Query per page, never a Scan."""
        if status:
            kwargs: dict = {
                "IndexName": ORDERS_BY_STATUS,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": to_value(status)},
            }
        else:
            kwargs = {
                "IndexName": ORDERS_BY_TIME,
                "KeyConditionExpression": "order_list = :all",
                "ExpressionAttributeValues": {":all": to_value(ORDER_LIST)},
            }
        if cursor:
            index_key = ("status", status) if status else ("order_list", ORDER_LIST)
            kwargs["ExclusiveStartKey"] = _decode_key_cursor(cursor, index_key)
        reply = await self.dynamo.call(
            "query", TableName=self.table, ScanIndexForward=False, Limit=limit, **kwargs
        )
        orders = [_order(item) for item in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        return orders, (_encode_key_cursor(last) if last and orders else None)

    async def list_since(self, since: datetime) -> list[dict]:
        """Every order placed at or after `since`, oldest first (the admin dashboard).

        A Query on the all-orders GSI from the smallest order id of that moment (`ORD-` +
        the ULID's 10-character time prefix + the lowest random part), page by page; only
        the fields a summary needs are read. Never a Scan."""
        start = ORDER_PREFIX + str(ULID.from_timestamp(since.timestamp()))[:10] + "0" * 16
        kwargs: dict = {
            "TableName": self.table,
            "IndexName": ORDERS_BY_TIME,
            "KeyConditionExpression": "order_list = :all AND order_id >= :from",
            "ExpressionAttributeValues": {
                ":all": to_value(ORDER_LIST),
                ":from": to_value(start),
            },
            "ProjectionExpression": "order_id, user_id, created_at, total_amount, #s",
            "ExpressionAttributeNames": {"#s": "status"},
        }
        orders: list[dict] = []
        while True:
            reply = await self.dynamo.call("query", **kwargs)
            orders.extend(_order(item) for item in reply.get("Items", []))
            last = reply.get("LastEvaluatedKey")
            if not last:
                return orders
            kwargs["ExclusiveStartKey"] = last

    async def change_status(
        self,
        order: dict,
        new_status: str,
        entry: dict,
        restock: list[tuple[str, str, int]],
        extra_actions: Sequence[dict] = (),
    ) -> dict:
        """Move an order to `new_status`, conditioned on its current status, and put stock
        back (`restock`: product_id, category, quantity) in the same transaction."""
        update = {
            "TableName": self.table,
            "Key": {"user_id": to_value(order["user_id"]), "order_id": to_value(order["order_id"])},
            "UpdateExpression": (
                "SET #s = :new, updated_at = :now, "
                "status_history = list_append(status_history, :entry)"
            ),
            "ConditionExpression": "#s = :current",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":new": to_value(new_status),
                ":now": to_value(entry["at"]),
                ":entry": to_value([entry]),
                ":current": to_value(order["status"]),
            },
        }
        actions = [{"Update": update}] + [
            {
                "Update": {
                    "TableName": self.products_table,
                    "Key": {"product_id": to_value(pid), "category": to_value(category)},
                    "UpdateExpression": "ADD stock :qty",
                    "ConditionExpression": "attribute_exists(product_id)",
                    "ExpressionAttributeValues": {":qty": to_value(quantity)},
                }
            }
            for pid, category, quantity in restock
        ]
        actions.extend(extra_actions)
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                await self.dynamo.call("transact_write_items", TransactItems=actions)
                break
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [
                    r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                ]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(
                    "the order changed meanwhile; reload it and try again",
                    code=ErrorCode.ORDER_CHANGED,
                )
            if "ConditionalCheckFailed" in reasons[1:]:
                raise StockMoved("a product moved or was deleted")
            if "TransactionConflict" not in reasons:
                raise BackendUnavailable("DynamoDB")
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311
        else:
            raise BackendUnavailable("DynamoDB")
        return {
            **order,
            "status": new_status,
            "updated_at": entry["at"],
            "status_history": [*order.get("status_history", []), entry],
        }
