"""Products in DynamoDB, read through a per-worker in-memory snapshot.

Reads (lists, search, product pages) come from a `CatalogIndex` held in memory, so a page
view costs no DynamoDB request. A background task checks one small version item every
`catalog_refresh_seconds` and reloads the snapshot (a parallel Scan) when an admin changed
the catalog; the worker that made a change applies it to its own snapshot at once. Stock
moved by checkouts is applied locally and picked up by other workers at the periodic full
reload; checkout itself always checks price and stock in DynamoDB, never in the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from decimal import Decimal

from botocore.exceptions import ClientError

from cloudstore.domain.catalog import CatalogIndex, Product, utc_now_iso
from cloudstore.domain.errors import BackendUnavailable, Conflict, NotFound
from cloudstore.stores.dynamo import Dynamo, from_item, to_item, to_value

log = logging.getLogger(__name__)

META_KEY = {"product_id": {"S": "#CATALOG"}, "category": {"S": "#META"}}
SCAN_SEGMENTS = 4
FULL_RELOAD_SECONDS = 30.0


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
    )


def product_item(product: Product) -> dict:
    return to_item(product.as_dict())


class CatalogStore:
    def __init__(self, dynamo: Dynamo, table: str, refresh_seconds: float = 2.0) -> None:
        self.dynamo = dynamo
        self.table = table
        self.refresh_seconds = refresh_seconds
        self._index: CatalogIndex | None = None
        self._loaded_at = 0.0
        self._reload_lock = asyncio.Lock()
        self._refresher: asyncio.Task | None = None

    # ---- the snapshot -------------------------------------------------------------------

    async def index(self) -> CatalogIndex:
        """The current snapshot; loads it on first use (503 if DynamoDB is down then)."""
        if self._index is None:
            await self.reload()
        assert self._index is not None
        return self._index

    async def reload(self) -> None:
        async with self._reload_lock:
            version = await self._read_version()
            products = await self._scan_all()
            self._index = CatalogIndex(products, version=version)
            self._loaded_at = time.monotonic()
            log.debug("catalog loaded: %d products, version %d", len(products), version)

    def start_refresher(self) -> None:
        if self.refresh_seconds > 0 and self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_forever())

    async def stop_refresher(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh_if_changed()
            except BackendUnavailable:
                pass  # keep serving the last snapshot; try again next tick
            except Exception:
                log.exception("catalog refresh failed")

    async def refresh_if_changed(self) -> bool:
        version = await self._read_version()
        stale = time.monotonic() - self._loaded_at > FULL_RELOAD_SECONDS
        if self._index is None or version != self._index.version or stale:
            await self.reload()
            return True
        return False

    async def _read_version(self) -> int:
        reply = await self.dynamo.call(
            "get_item", TableName=self.table, Key=META_KEY, ConsistentRead=True
        )
        item = reply.get("Item")
        return int(item["version"]["N"]) if item else 0

    async def bump_version(self) -> None:
        await self.dynamo.call(
            "update_item",
            TableName=self.table,
            Key=META_KEY,
            UpdateExpression="ADD version :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    async def _scan_all(self) -> list[Product]:
        async def segment(number: int) -> list[Product]:
            found: list[Product] = []
            kwargs = {"TableName": self.table, "Segment": number, "TotalSegments": SCAN_SEGMENTS}
            while True:
                page = await self.dynamo.call("scan", bulk=True, **kwargs)
                found.extend(
                    product_from_item(item)
                    for item in page.get("Items", [])
                    if not item["product_id"]["S"].startswith("#")
                )
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        parts = await asyncio.gather(*(segment(n) for n in range(SCAN_SEGMENTS)))
        return [product for part in parts for product in part]

    def _apply_locally(self, changed: Iterable[Product] = (), removed: Iterable[str] = ()) -> None:
        if self._index is None:
            return
        by_id = dict(self._index.by_id)
        for product_id in removed:
            by_id.pop(product_id, None)
        for product in changed:
            by_id[product.product_id] = product
        self._index = CatalogIndex(by_id.values(), version=self._index.version)

    def apply_stock_changes(self, stock_by_id: dict[str, int]) -> None:
        """Record stock moved by a checkout or cancellation in this worker's snapshot."""
        if self._index is None:
            return
        self._index = self._index.with_stock(stock_by_id)

    # ---- consistent reads, straight from DynamoDB ---------------------------------------

    async def fetch(self, product_id: str) -> Product | None:
        """Read one product by id: a Query on its partition key (the key also has category)."""
        reply = await self.dynamo.call(
            "query",
            TableName=self.table,
            KeyConditionExpression="product_id = :id",
            ExpressionAttributeValues={":id": {"S": product_id}},
            ConsistentRead=True,
        )
        items = reply.get("Items", [])
        return product_from_item(items[0]) if items else None

    async def fetch_many(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """Consistent reads of several products (BatchGetItem, falling back to a Query for
        ids the snapshot does not know the category of)."""
        snapshot = self._index
        keys, unknown = [], []
        for product_id in dict.fromkeys(product_ids):
            known = snapshot.get(product_id) if snapshot else None
            if known is None:
                unknown.append(product_id)
            else:
                keys.append({"product_id": {"S": product_id}, "category": {"S": known.category}})
        found: dict[str, Product] = {}
        for start in range(0, len(keys), 100):
            request = {self.table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                reply = await self.dynamo.call("batch_get_item", RequestItems=request)
                for item in reply.get("Responses", {}).get(self.table, []):
                    product = product_from_item(item)
                    found[product.product_id] = product
                request = reply.get("UnprocessedKeys") or None
        # Ids missing from the batch may have changed category since the snapshot was taken.
        retry = unknown + [k["product_id"]["S"] for k in keys if k["product_id"]["S"] not in found]
        fetched = await asyncio.gather(*(self.fetch(pid) for pid in retry))
        found.update({p.product_id: p for p in fetched if p is not None})
        return found

    # ---- writes -------------------------------------------------------------------------

    async def put_new(self, product: Product) -> Product:
        try:
            await self.dynamo.call(
                "put_item",
                TableName=self.table,
                Item=product_item(product),
                ConditionExpression="attribute_not_exists(product_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"product {product.product_id} already exists") from None
            raise
        self._apply_locally(changed=[product])
        await self.bump_version()
        return product

    async def update(self, current: Product, changes: dict) -> Product:
        """Apply a partial update. Only the named fields are written (an UpdateItem), so a
        concurrent checkout's stock decrement is never overwritten. A category change moves
        the item (the category is part of the key) in one transaction conditioned on the
        stock we read, so there is never zero or two copies and no sale is lost."""
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        now = utc_now_iso()
        key = {"product_id": to_value(current.product_id), "category": to_value(current.category)}
        try:
            if "category" not in changes:
                if not changes:
                    return current
                names = {f"#{field}": field for field in [*changes, "updated_at"]}
                values = {f":{field}": to_value(v) for field, v in changes.items()}
                values[":updated_at"] = to_value(now)
                reply = await self.dynamo.call(
                    "update_item",
                    TableName=self.table,
                    Key=key,
                    UpdateExpression="SET "
                    + ", ".join(f"#{f} = :{f}" for f in [*changes, "updated_at"]),
                    ConditionExpression="attribute_exists(product_id)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
                updated = product_from_item(reply["Attributes"])
            else:
                updated = current.with_changes(**changes, updated_at=now)
                await self.dynamo.call(
                    "transact_write_items",
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": self.table,
                                "Key": key,
                                "ConditionExpression": "stock = :stock",
                                "ExpressionAttributeValues": {":stock": to_value(current.stock)},
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": product_item(updated),
                                "ConditionExpression": "attribute_not_exists(product_id)",
                            }
                        },
                    ],
                )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict("the product changed meanwhile; reload and try again") from None
            raise
        self._apply_locally(changed=[updated])
        await self.bump_version()
        return updated

    async def delete(self, product: Product) -> None:
        try:
            await self.dynamo.call(
                "delete_item",
                TableName=self.table,
                Key={
                    "product_id": to_value(product.product_id),
                    "category": to_value(product.category),
                },
                ConditionExpression="attribute_exists(product_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound("product not found") from None
            raise
        self._apply_locally(removed=[product.product_id])
        await self.bump_version()

    async def adjust_stock(self, product: Product, delta: int) -> Product:
        """Atomically add `delta` to stock; refuses (409) to go below zero."""
        try:
            reply = await self.dynamo.call(
                "update_item",
                TableName=self.table,
                Key={
                    "product_id": to_value(product.product_id),
                    "category": to_value(product.category),
                },
                UpdateExpression="SET stock = stock + :delta, updated_at = :now",
                ConditionExpression="attribute_exists(product_id) AND stock >= :floor",
                ExpressionAttributeValues={
                    ":delta": to_value(delta),
                    ":floor": to_value(max(0, -delta)),
                    ":now": to_value(utc_now_iso()),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict("stock cannot go below zero", stock=product.stock) from None
            raise
        updated = product_from_item(reply["Attributes"])
        self._apply_locally(changed=[updated])
        await self.bump_version()
        return updated

    async def upsert_many(self, products: list[Product], concurrency: int = 8) -> int:
        """Load products in batches of 25 (BatchWriteItem), retrying unprocessed items.

        Upsert by product_id: an existing item filed under another category is removed, so
        a product never exists twice."""
        current = await self.index()
        moved = [
            current.by_id[p.product_id]
            for p in products
            if p.product_id in current.by_id and current.by_id[p.product_id].category != p.category
        ]
        requests = [
            {
                "DeleteRequest": {
                    "Key": {"product_id": to_value(p.product_id), "category": to_value(p.category)}
                }
            }
            for p in moved
        ] + [{"PutRequest": {"Item": product_item(p)}} for p in products]
        batches = [requests[i : i + 25] for i in range(0, len(requests), 25)]
        gate = asyncio.Semaphore(concurrency)

        async def write(batch: list[dict]) -> None:
            request = {self.table: batch}
            async with gate:
                while request:
                    reply = await self.dynamo.call(
                        "batch_write_item", bulk=True, RequestItems=request
                    )
                    request = reply.get("UnprocessedItems") or None

        # A moved product's delete and put touch different keys, so batches may run in any order.
        await asyncio.gather(*(write(b) for b in batches))
        await self.bump_version()
        await self.reload()
        return len(products)
