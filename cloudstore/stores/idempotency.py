"""Idempotency key records in DynamoDB, and settling a write whose answer was lost.

A record lives in the user's partition of the Orders table (sort key `IDEMPOTENCY#<digest>`,
out of the order listing) and is written by a `Put` inside the transaction it guards, so it
exists exactly when that write happened. It is never changed afterwards.

Settling. When a transaction's answer is lost (budget, dropped connection), the write may
still be on its way. `settle` *fences* the attempt: an UpdateItem that adds the attempt's id
to the record's `voided` set, allowed only while no real record exists. Each attempt's `Put`
is conditioned on no record, or a record of voided attempts that does not name it (with the
same fingerprint). So after the fence either (a) it succeeded: that attempt can never commit,
nothing was written; or (b) it was refused: a real record exists, and it says which attempt
committed. A later attempt (a client's retry with the same key) is not voided and may commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from cloudstore.domain.errors import Conflict, ErrorCode
from cloudstore.domain.idempotency import KeyRecord, record_id
from cloudstore.stores.dynamo import Dynamo, from_item, to_item, to_value


class KeyTaken(Conflict):
    """A transaction's record `Put` was refused: the key already has a record. Look it up
    (`find`) to replay or refuse (422)."""

    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED


def _record(item: dict) -> KeyRecord:
    values = from_item(item)
    return KeyRecord(
        fingerprint=str(values.get("fingerprint", "")),
        points_to=values.get("points_to"),
        voided=frozenset(values.get("voided", ())),
        details=values.get("details", {}),
    )


class IdempotencyStore:
    def __init__(self, dynamo: Dynamo, orders_table: str) -> None:
        self.dynamo = dynamo
        self.table = orders_table

    def _key(self, user_id: str, key: str) -> dict:
        return {"user_id": to_value(user_id), "order_id": to_value(record_id(key))}

    def put_action(
        self,
        user_id: str,
        key: str,
        fingerprint: str,
        attempt: str,
        created_at: str,
        details: Mapping[str, Any] | None = None,
    ) -> dict:
        """The record's `Put` for a transaction; `attempt` is the id of what the write makes
        (an order id), unique to this try."""
        item: dict[str, Any] = {
            "user_id": user_id,
            "order_id": record_id(key),
            "points_to": attempt,
            "fingerprint": fingerprint,
            "created_at": created_at,
        }
        if details:
            item["details"] = dict(details)
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(item),
                "ConditionExpression": (
                    "attribute_not_exists(order_id) OR (attribute_exists(voided) "
                    "AND NOT contains(voided, :attempt) AND fingerprint = :fingerprint)"
                ),
                "ExpressionAttributeValues": {
                    ":attempt": to_value(attempt),
                    ":fingerprint": to_value(fingerprint),
                },
            }
        }

    async def find(
        self, user_id: str, key: str, *, budget: float | None = None
    ) -> KeyRecord | None:
        reply = await self.dynamo.call(
            "get_item",
            budget=budget,
            TableName=self.table,
            Key=self._key(user_id, key),
            ConsistentRead=True,
        )
        return _record(reply["Item"]) if "Item" in reply else None

    async def settle(
        self,
        user_id: str,
        key: str,
        fingerprint: str,
        attempt: str,
        created_at: str,
        *,
        budget: float,
    ) -> KeyRecord | None:
        """After a write under `key` with an unknown outcome: None when `attempt` is now
        certain never to be written; else the key's real record (whose `points_to` says which
        attempt committed). Raises BackendUnavailable when DynamoDB cannot tell us in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        try:
            await self.dynamo.call(
                "update_item",
                budget=budget,
                TableName=self.table,
                Key=self._key(user_id, key),
                UpdateExpression=(
                    "ADD voided :attempt SET fingerprint = if_not_exists(fingerprint, :fp), "
                    "created_at = if_not_exists(created_at, :now)"
                ),
                ConditionExpression="attribute_not_exists(order_id) OR attribute_exists(voided)",
                ExpressionAttributeValues={
                    ":attempt": {"SS": [attempt]},
                    ":fp": to_value(fingerprint),
                    ":now": to_value(created_at),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = error.response.get("Item")
        # A real record never changes, so reading it after the refusal is safe.
        if item:
            return _record(item)
        return await self.find(user_id, key, budget=deadline - loop.time())
