"""The catalog's change log: small entries in the Products table that tell every worker which
products changed, so each can patch its in-memory snapshot (see `stores/catalog.py`).

An entry lives in partition `#CHANGES` under sort key `<UTC time>#<random>` and holds the
(product id, category) pairs a write touched; a bulk load writes one marked `full`. Entries
older than `CHANGE_RETENTION_SECONDS` are deleted by `ChangeLog.delete_expired`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cloudstore.domain.catalog import utc_now_iso
from cloudstore.stores.dynamo import Dynamo

CHANGES_PARTITION = "#CHANGES"
# A transaction commits within its deadline of being stamped; read entries this far back.
CHANGE_OVERLAP_SECONDS = 10.0
# Entries older than this are deleted; a worker that has not polled for longer reloads.
CHANGE_RETENTION_SECONDS = 120.0
# How often a worker deletes expired change entries (every one of them, a page at a time).
PRUNE_SECONDS = 20.0
# Keys read per Query page while pruning; deleted 25 at a time (BatchWriteItem's limit).
PRUNE_PAGE = 500
PRUNE_CONCURRENCY = 4

ProductKeys = Iterable[tuple[str, str | None]]
# (sort key, stamp, [(product_id, category)])
ChangeEntry = tuple[str, str, list[tuple[str, str | None]]]


def change_stamp(moment: float) -> str:
    """A wall-clock time as the sort keys spell it (UTC, milliseconds, `Z`)."""
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


async def write_batch(
    dynamo: Dynamo, table: str, batch: list[dict], gate: asyncio.Semaphore
) -> None:
    """One BatchWriteItem, retrying what DynamoDB left unprocessed."""
    request: dict[str, Any] | None = {table: batch}
    async with gate:
        while request:
            reply = await dynamo.call("batch_write_item", bulk=True, RequestItems=request)
            request = reply.get("UnprocessedItems") or None


class ChangeLog:
    """Writes, reads and prunes the change entries of one Products table."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self.dynamo = dynamo
        self.table = table

    def item(self, keys: ProductKeys, *, full: bool = False) -> dict:
        """A change entry naming (product_id, category) pairs, ready for PutItem or for a
        `Put` inside a transaction."""
        item: dict[str, dict[str, Any]] = {
            "product_id": {"S": CHANGES_PARTITION},
            "category": {"S": f"{utc_now_iso()}#{secrets.token_hex(6)}"},
            "products": {"S": json.dumps(sorted(set(keys), key=lambda k: (k[0], k[1] or "")))},
        }
        if full:
            item["full"] = {"BOOL": True}
        return item

    def action(self, keys: ProductKeys) -> dict:
        """The change entry as one action of a TransactWriteItems."""
        return {"Put": {"TableName": self.table, "Item": self.item(keys)}}

    async def record(self, keys: ProductKeys, *, full: bool = False) -> None:
        await self.dynamo.call("put_item", TableName=self.table, Item=self.item(keys, full=full))

    async def read_since(self, since: str, reloaded_at: float) -> list[ChangeEntry] | None:
        """Change entries stamped after `since`, or None when the worker should reload
        everything instead (more than one page of them, an unreadable one, or a bulk load
        stamped after its last full reload started at `reloaded_at`)."""
        reply = await self.dynamo.call(
            "query",
            TableName=self.table,
            KeyConditionExpression="product_id = :p AND category > :since",
            ExpressionAttributeValues={
                ":p": {"S": CHANGES_PARTITION},
                ":since": {"S": since},
            },
            ConsistentRead=True,
        )
        if "LastEvaluatedKey" in reply:
            return None
        entries = []
        for item in reply.get("Items", []):
            key = item["category"]["S"]
            if "full" in item:
                # A bulk load: reload, unless our last reload started after it was stamped.
                if key.partition("#")[0] >= change_stamp(reloaded_at):
                    return None
                continue
            try:
                products = [(str(pid), cat) for pid, cat in json.loads(item["products"]["S"])]
            except (KeyError, ValueError, TypeError):
                return None
            entries.append((key, key.partition("#")[0], products))
        return entries

    async def delete_expired(self) -> int:
        """Delete every change entry older than the retention window; returns how many.

        Keys are read a page at a time (each Query starts again from the oldest entry, as
        the previous page is gone) and deleted 25 per BatchWriteItem, a few in parallel.
        Deleting an entry another worker deleted first is harmless."""
        cutoff = change_stamp(time.time() - CHANGE_RETENTION_SECONDS)
        gate = asyncio.Semaphore(PRUNE_CONCURRENCY)
        deleted = 0
        while True:
            reply = await self.dynamo.call(
                "query",
                TableName=self.table,
                KeyConditionExpression="product_id = :p AND category < :cutoff",
                ExpressionAttributeValues={
                    ":p": {"S": CHANGES_PARTITION},
                    ":cutoff": {"S": cutoff},
                },
                ProjectionExpression="product_id, category",
                ConsistentRead=True,
                Limit=PRUNE_PAGE,
            )
            keys = reply.get("Items", [])
            batches = [keys[i : i + 25] for i in range(0, len(keys), 25)]
            await asyncio.gather(
                *(
                    write_batch(
                        self.dynamo, self.table, [{"DeleteRequest": {"Key": k}} for k in b], gate
                    )
                    for b in batches
                )
            )
            deleted += len(keys)
            if len(keys) < PRUNE_PAGE:
                return deleted
