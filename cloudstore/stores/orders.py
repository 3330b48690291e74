"""Orders in DynamoDB, and checkout as one TransactWriteItems.

The transaction holds, for each line, a stock decrement conditioned on enough stock and an
unchanged price; the idempotency key's record (`stores/idempotency.py`); the order Put
(attribute_not_exists); the customer's pending-orders counter, raised by one and
conditioned on being under the limit; and the cart Delete. Either all of it happens or none.

The counter is one item per customer (sort key `COUNTER#pending_orders`, out of the order
listing): `pending` (open orders) and `since` (the id of the first order it counted). Every
status change out of `pending` lowers it in that change's own transaction. Orders placed
before the counter existed (ids below `since`) were never counted and do not lower it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from botocore.exceptions import ClientError
from ulid import ULID

from cloudstore.domain.checkout import CheckoutPlan, too_many_pending
from cloudstore.domain.client_text import MAX_CURSOR_CHARS, bounded_json, unpadded_base64
from cloudstore.domain.errors import BackendUnavailable, Conflict, ErrorCode, InvalidInput
from cloudstore.domain.orders import ORDER_PREFIX, PENDING, Order, OrderSummary, StatusChange
from cloudstore.domain.payments import Payment, PaymentEvent
from cloudstore.stores.dynamo import (
    ORDERS_BY_STATUS,
    ORDERS_BY_TIME,
    Dynamo,
    from_item,
    to_value,
)
from cloudstore.stores.idempotency import IdempotencyStore, KeyTaken
from cloudstore.stores.order_items import (
    ORDER_LIST,
    order_from_item,
    order_item,
    summary_from_item,
)

TRANSACTION_ATTEMPTS = 4
PENDING_COUNTER = "COUNTER#pending_orders"
# `payment` and `events` are fine names, but DynamoDB reserves many words: paths under the
# payment go through placeholders.
PAYMENT_NAMES = {"#pay": "payment", "#events": "events"}


class StockMoved(Conflict):
    """Stock or price of some lines changed under the transaction (or the plan is older
    than the customer's counter): re-read and re-plan."""

    default_code = ErrorCode.STOCK_MOVED


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    replayed: bool


def _reasons(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]


def _not_written() -> BackendUnavailable:
    return BackendUnavailable(
        "DynamoDB", "the database is busy; nothing was written, please try again"
    )


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
    def __init__(
        self,
        dynamo: Dynamo,
        orders_table: str,
        products_table: str,
        cart_table: str,
        keys: IdempotencyStore | None = None,
    ):
        self.dynamo = dynamo
        self.table = orders_table
        self.products_table = products_table
        self.cart_table = cart_table
        self.keys = keys or IdempotencyStore(dynamo, orders_table)

    async def place(
        self,
        plan: CheckoutPlan,
        currency: str,
        extra_actions: Sequence[dict] = (),
        *,
        budget: float,
    ) -> PlacedOrder:
        """Write the plan in one transaction within `budget` seconds. `extra_actions` go
        last (the catalog's change entry). Raises KeyTaken, StockMoved, TooManyPendingOrders,
        UnclearOutcome (no answer: it may have been written) or BackendUnavailable."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        order = plan.order(currency)
        actions: list[dict] = [
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
            for line in plan.quote.lines
        ]
        record_index = len(actions)
        actions.append(
            self.keys.put_action(
                plan.user_id, plan.record_key, plan.fingerprint, plan.order_id, plan.created_at
            )
        )
        actions.append(
            {
                "Put": {
                    "TableName": self.table,
                    # order_list puts every order (not the other items) in the GSI.
                    "Item": order_item(order),
                    "ConditionExpression": "attribute_not_exists(order_id)",
                }
            }
        )
        counter_index = len(actions)
        actions.append(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self._counter_key(plan.user_id),
                    "UpdateExpression": "ADD pending :one SET since = if_not_exists(since, :id)",
                    # `since` never passes a counted order: a plan older than the counter's
                    # first order is re-planned (its order would look uncounted).
                    "ConditionExpression": (
                        "(attribute_not_exists(pending) OR pending < :max) "
                        "AND (attribute_not_exists(since) OR since <= :id)"
                    ),
                    "ExpressionAttributeValues": {
                        ":one": to_value(1),
                        ":max": to_value(plan.max_pending),
                        ":id": to_value(plan.order_id),
                    },
                }
            }
        )
        actions.append(
            {"Delete": {"TableName": self.cart_table, "Key": {"user_id": to_value(plan.user_id)}}}
        )
        actions.extend(extra_actions)

        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                await self.dynamo.call(
                    "transact_write_items",
                    write=True,
                    budget=deadline - loop.time(),
                    TransactItems=actions,
                    # Real DynamoDB makes botocore's own retry of this call idempotent.
                    ClientRequestToken=f"{plan.order_id.removeprefix(ORDER_PREFIX)}-{attempt}",
                )
                return PlacedOrder(order=order, replayed=False)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = _reasons(error)
            failed = {i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if record_index in failed:
                raise KeyTaken("this Idempotency-Key has a record")
            short = [
                plan.quote.lines[i].product.product_id for i in sorted(failed) if i < record_index
            ]
            if short:
                raise StockMoved("stock or price changed", product_ids=short)
            if counter_index in failed:
                pending, _ = await self.pending_count(plan.user_id)
                if pending >= plan.max_pending:
                    raise too_many_pending(plan.max_pending)
                raise StockMoved("the plan is older than the pending-orders counter")
            if "TransactionConflict" not in reasons:
                raise BackendUnavailable("DynamoDB")
            # Another transaction touched the same items at the same moment: try again shortly.
            pause = random.uniform(0.01, 0.05) * (attempt + 1)  # noqa: S311
            if loop.time() + pause >= deadline:
                break
            await asyncio.sleep(pause)
        raise _not_written()

    def _counter_key(self, user_id: str) -> dict:
        return {"user_id": to_value(user_id), "order_id": to_value(PENDING_COUNTER)}

    async def pending_count(self, user_id: str) -> tuple[int, str | None]:
        """The customer's counted open orders, and the first order id the counter counted."""
        reply = await self.dynamo.call(
            "get_item",
            TableName=self.table,
            Key=self._counter_key(user_id),
            ConsistentRead=True,
        )
        values = from_item(reply.get("Item", {}))
        return int(values.get("pending", 0)), values.get("since")

    async def get(
        self, user_id: str, order_id: str, *, budget: float | None = None
    ) -> Order | None:
        if not order_id.startswith(ORDER_PREFIX):
            return None
        reply = await self.dynamo.call(
            "get_item",
            budget=budget,
            TableName=self.table,
            Key={"user_id": to_value(user_id), "order_id": to_value(order_id)},
            ConsistentRead=True,
        )
        return order_from_item(reply["Item"]) if "Item" in reply else None

    async def list_for_user(
        self, user_id: str, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Order], str | None]:
        """Newest first: order ids are ULIDs, so a reverse Query on the sort key is time order.
        A Query answers at most 1 MB: the page is filled from further Queries up to `limit`
        (a long history asked for whole arrives whole, or says where to go on)."""
        kwargs: dict = {
            "TableName": self.table,
            "KeyConditionExpression": "user_id = :u AND begins_with(order_id, :p)",
            "ExpressionAttributeValues": {":u": to_value(user_id), ":p": to_value(ORDER_PREFIX)},
            "ScanIndexForward": False,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {
                "user_id": to_value(user_id),
                "order_id": to_value(_decode_cursor(cursor)),
            }
        orders: list[Order] = []
        last = None
        while True:
            reply = await self.dynamo.call("query", Limit=limit - len(orders), **kwargs)
            orders.extend(order_from_item(item) for item in reply.get("Items", []))
            last = reply.get("LastEvaluatedKey")
            if not last or len(orders) >= limit:
                break
            kwargs["ExclusiveStartKey"] = last
        next_cursor = _encode_cursor(last["order_id"]["S"]) if last and orders else None
        return orders, next_cursor

    async def count_for_user(self, user_id: str) -> int:
        """How many orders the customer has: a COUNT Query on their partition (reads the
        keys, returns no items)."""
        kwargs: dict = {
            "TableName": self.table,
            "KeyConditionExpression": "user_id = :u AND begins_with(order_id, :p)",
            "ExpressionAttributeValues": {":u": to_value(user_id), ":p": to_value(ORDER_PREFIX)},
            "Select": "COUNT",
        }
        total = 0
        while True:
            reply = await self.dynamo.call("query", **kwargs)
            total += int(reply.get("Count", 0))
            last = reply.get("LastEvaluatedKey")
            if not last:
                return total
            kwargs["ExclusiveStartKey"] = last

    async def find(self, order_id: str) -> Order | None:
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
        return order_from_item(items[0]) if items else None

    async def list_all(
        self, status: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Order], str | None]:
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
        orders = [order_from_item(item) for item in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        return orders, (_encode_key_cursor(last) if last and orders else None)

    async def search(
        self,
        *,
        low: str,
        high: str,
        user_id: str | None = None,
        status: str | None = None,
        newest_first: bool = True,
        limit: int = 50,
        cursor: str | None = None,
        rounds: int = 5,
    ) -> tuple[list[Order], str | None]:
        """Orders with ids from `low` to `high` (a time range: ids are ULIDs), of one
        customer or of everyone, optionally of one status; one page. Never a Scan:

        - one customer: a Query on the table's own key (user_id, order_id range); a status
          is a FilterExpression over that customer's orders in the range, so up to `rounds`
          Queries fill a page;
        - a status: a Query on the orders-by-status GSI (status, order_id range);
        - otherwise: a Query on the orders-by-time GSI (the constant, order_id range).
        """
        values: dict = {":low": to_value(low), ":high": to_value(high)}
        kwargs: dict = {"TableName": self.table, "ScanIndexForward": not newest_first}
        if user_id:
            index_key = ("user_id", user_id)
            kwargs["KeyConditionExpression"] = "user_id = :u AND order_id BETWEEN :low AND :high"
            values[":u"] = to_value(user_id)
            if status:
                kwargs["FilterExpression"] = "#s = :s"
                kwargs["ExpressionAttributeNames"] = {"#s": "status"}
                values[":s"] = to_value(status)
        elif status:
            index_key = ("status", status)
            kwargs["IndexName"] = ORDERS_BY_STATUS
            kwargs["KeyConditionExpression"] = "#s = :s AND order_id BETWEEN :low AND :high"
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
            values[":s"] = to_value(status)
        else:
            index_key = ("order_list", ORDER_LIST)
            kwargs["IndexName"] = ORDERS_BY_TIME
            kwargs["KeyConditionExpression"] = (
                "order_list = :all AND order_id BETWEEN :low AND :high"
            )
            values[":all"] = to_value(ORDER_LIST)
        kwargs["ExpressionAttributeValues"] = values
        if cursor:
            start = _decode_key_cursor(cursor, index_key)
            if not low <= start["order_id"]["S"] <= high:
                raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR)
            kwargs["ExclusiveStartKey"] = start
        orders: list[Order] = []
        last = None
        for _ in range(max(rounds, 1)):
            kwargs["Limit"] = limit - len(orders)
            reply = await self.dynamo.call("query", **kwargs)
            orders.extend(order_from_item(item) for item in reply.get("Items", []))
            last = reply.get("LastEvaluatedKey")
            if not last or len(orders) >= limit:
                break
            kwargs["ExclusiveStartKey"] = last
        return orders, (_encode_key_cursor(last) if last else None)

    async def summaries_for_user(self, user_id: str) -> list[OrderSummary]:
        """Every order of one customer, only the fields a summary needs (an admin's customer
        page: how many orders, how much spent): Queries on the table's key, never a Scan."""
        kwargs: dict = {
            "TableName": self.table,
            "KeyConditionExpression": "user_id = :u AND begins_with(order_id, :p)",
            "ExpressionAttributeValues": {":u": to_value(user_id), ":p": to_value(ORDER_PREFIX)},
            "ProjectionExpression": "order_id, user_id, created_at, total_amount, #s",
            "ExpressionAttributeNames": {"#s": "status"},
        }
        summaries: list[OrderSummary] = []
        while True:
            reply = await self.dynamo.call("query", **kwargs)
            summaries.extend(summary_from_item(item) for item in reply.get("Items", []))
            last = reply.get("LastEvaluatedKey")
            if not last:
                return summaries
            kwargs["ExclusiveStartKey"] = last

    async def list_since(self, since: datetime) -> list[OrderSummary]:
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
        orders: list[OrderSummary] = []
        while True:
            reply = await self.dynamo.call("query", **kwargs)
            orders.extend(summary_from_item(item) for item in reply.get("Items", []))
            last = reply.get("LastEvaluatedKey")
            if not last:
                return orders
            kwargs["ExclusiveStartKey"] = last

    async def change_status(
        self,
        order: Order,
        entry: StatusChange,
        restock: list[tuple[str, str, int]],
        extra_actions: Sequence[dict] = (),
        *,
        leaves_pending: bool = False,
        payment: Payment | None = None,
    ) -> Order:
        """Move an order to `entry.status`, conditioned on its current status, and put stock
        back (`restock`: product_id, category, quantity) in the same transaction. An order
        that `leaves_pending` lowers the customer's pending-orders counter there too (unless
        it was placed before the counter existed). `payment` is the order's payment after
        the change: its reference, paid_at and new events are written with the status."""
        update = {
            "TableName": self.table,
            "Key": {"user_id": to_value(order.user_id), "order_id": to_value(order.order_id)},
            "UpdateExpression": (
                "SET #s = :new, updated_at = :now, "
                "status_history = list_append(status_history, :entry)"
            ),
            "ConditionExpression": "#s = :current",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":new": to_value(entry.status),
                ":now": to_value(entry.at),
                ":entry": to_value([entry.as_dict()]),
                ":current": to_value(order.status),
            },
        }
        if payment is not None and order.payment is not None:
            _add_payment_changes(update, order.payment, payment)
        counter = {
            "Update": {
                "TableName": self.table,
                "Key": self._counter_key(order.user_id),
                "UpdateExpression": "ADD pending :minus",
                "ConditionExpression": "since <= :id",
                "ExpressionAttributeValues": {
                    ":minus": to_value(-1),
                    ":id": to_value(order.order_id),
                },
            }
        }
        restocks = [
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
        counted = leaves_pending
        for attempt in range(TRANSACTION_ATTEMPTS + 1):
            actions = [{"Update": update}, *([counter] if counted else []), *restocks]
            actions.extend(extra_actions)
            try:
                await self.dynamo.call("transact_write_items", TransactItems=actions)
                break
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = _reasons(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(
                    "the order changed meanwhile; reload it and try again",
                    code=ErrorCode.ORDER_CHANGED,
                )
            if counted and reasons[1] == "ConditionalCheckFailed":
                counted = False  # placed before the counter existed: it was never counted
                continue
            if "ConditionalCheckFailed" in reasons[1:]:
                raise StockMoved("a product moved or was deleted")
            if "TransactionConflict" not in reasons:
                raise BackendUnavailable("DynamoDB")
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311
        else:
            raise BackendUnavailable("DynamoDB")
        moved = order.moved(entry)
        return moved if payment is None else replace(moved, payment=payment)

    async def add_payment_event(self, order: Order, event: PaymentEvent, review: bool) -> bool:
        """Record a provider's word on an order whose status it no longer changes (flagged
        `needs_review` when it contradicts the order). Conditioned on the status and the
        events read: False when either changed meanwhile (read again and decide again)."""
        if order.payment is None:
            return False
        values = {
            ":status": to_value(order.status),
            ":events": to_value([event.as_dict()]),
            ":count": to_value(len(order.payment.events)),
        }
        expression = "SET #pay.#events = list_append(#pay.#events, :events)"
        if review:
            expression += ", #pay.needs_review = :review"
            values[":review"] = to_value(True)
        return await self._update_if(
            order,
            expression,
            "#s = :status AND size(#pay.#events) = :count",
            values,
        )

    async def set_redirect_url(self, order: Order, url: str) -> bool:
        """Keep the provider's payment page on a pending order that has none yet; False when
        another worker kept one first or the order left pending."""
        return await self._update_if(
            order,
            "SET #pay.redirect_url = :url",
            "#s = :pending AND attribute_exists(#pay) AND attribute_not_exists(#pay.redirect_url)",
            {":url": to_value(url), ":pending": to_value(PENDING)},
        )

    async def _update_if(
        self, order: Order, expression: str, condition: str, values: dict[str, dict]
    ) -> bool:
        try:
            await self.dynamo.call(
                "update_item",
                TableName=self.table,
                Key={"user_id": to_value(order.user_id), "order_id": to_value(order.order_id)},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    name: value
                    for name, value in {"#s": "status", **PAYMENT_NAMES}.items()
                    if name in expression or name in condition
                },
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    async def pending_placed_before(self, order_id: str, page: int = 100) -> AsyncIterator[Order]:
        """Pending orders whose id is below `order_id` (placed before that id's moment),
        oldest first: Queries on the orders-by-status index, a page at a time; never a Scan."""
        kwargs: dict = {
            "TableName": self.table,
            "IndexName": ORDERS_BY_STATUS,
            "KeyConditionExpression": "#s = :pending AND order_id < :before",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":pending": to_value(PENDING),
                ":before": to_value(order_id),
            },
            "Limit": page,
        }
        while True:
            reply = await self.dynamo.call("query", **kwargs)
            for item in reply.get("Items", []):
                yield order_from_item(item)
            last = reply.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last


def _add_payment_changes(update: dict, before: Payment, after: Payment) -> None:
    """Add to a status change's `update` what changed on the payment: its proof, when it
    was paid, the review flag, and the events appended (never the whole payment, so a
    redirect link kept meanwhile stays)."""
    values = update["ExpressionAttributeValues"]
    names = update["ExpressionAttributeNames"]
    names["#pay"] = PAYMENT_NAMES["#pay"]
    sets = []
    for name in ("reference", "paid_at", "needs_review"):
        value = getattr(after, name)
        if value is not None and value != getattr(before, name):
            names[f"#pay_{name}"] = name
            sets.append(f"#pay.#pay_{name} = :pay_{name}")
            values[f":pay_{name}"] = to_value(value)
    new_events = after.events[len(before.events) :]
    if new_events:
        names["#events"] = PAYMENT_NAMES["#events"]
        sets.append("#pay.#events = list_append(#pay.#events, :pay_events)")
        values[":pay_events"] = to_value([event.as_dict() for event in new_events])
        update["ConditionExpression"] += " AND size(#pay.#events) = :pay_count"
        values[":pay_count"] = to_value(len(before.events))
    if sets:
        update["UpdateExpression"] += ", " + ", ".join(sets)
    else:
        del names["#pay"]
