"""Products in DynamoDB, read through a per-worker in-memory snapshot.

Reads (lists, search, product pages) come from a `CatalogIndex` held in memory, so a page
view costs no DynamoDB request.

Freshness. Every write to the catalog also writes a small *change entry* in the Products
table: partition `#CHANGES`, sort key `<UTC time>#<random>`, holding the ids (and
categories) of the products it touched. Admin writes put the entry right after the write;
checkouts and cancellations put it inside their transaction (a new item with a unique key,
so thirty concurrent buyers never conflict on it). Each worker, every
`catalog_refresh_seconds`, reads the entries of the last few seconds with one Query, reads
only the changed products (one consistent BatchGetItem) and patches its snapshot. Entries
are read with an overlap window (`CHANGE_OVERLAP_SECONDS`) because a transaction commits a
little after its entry was stamped; entries already applied are remembered and skipped. A
worker falls back to a full reload (a parallel Scan) when it is too far behind (more changes
than `MAX_INCREMENTAL_CHANGES`, a bulk load, or no successful poll for longer than the
entries are kept) and, as a backstop, every `catalog_full_reload_seconds`. Workers delete
every entry older than `CHANGE_RETENTION_SECONDS` every `PRUNE_SECONDS` (all of them, a page
at a time, so the log stays bounded however fast it grows). The worker that made a change
applies it to its own snapshot at once. Checkout never trusts the snapshot: it re-reads price
and stock consistently and conditions its transaction on both.

Ordering. Reads of a product (the refresher's, a checkout's) may answer out of order, so each
carries a sequence number taken when it started, and the snapshot keeps, per product, the
number of what it shows: an older read never replaces a newer one (a refresher read that
loses so is read again next tick). A sale made here (`record_sale`) shows the stock it left
at once: the stock its own read saw minus what it sold, when no other sale of this worker
committed and nothing else was shown for the product meanwhile; otherwise the product is
read again (one consistent BatchGetItem), so concurrent checkouts on one worker never leave
it showing a figure computed from a stale read.

The log itself is `stores/catalog_changes.py`; the full Scan and a bulk load's plan are
`stores/catalog_bulk.py`.

This assumes the workers' clocks agree to within the overlap window (NTP); an entry missed
because of a skewed clock is picked up by the next full reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cloudstore.domain.catalog import CatalogIndex, Product, utc_now_iso
from cloudstore.domain.errors import (
    BackendUnavailable,
    Conflict,
    DomainError,
    ErrorCode,
    NotFound,
)
from cloudstore.stores.catalog_bulk import LoadCounts, plan_load, scan_products
from cloudstore.stores.catalog_changes import (
    CHANGE_OVERLAP_SECONDS,
    CHANGE_RETENTION_SECONDS,
    PRUNE_SECONDS,
    ChangeLog,
    ProductKeys,
    change_stamp,
    write_batch,
)
from cloudstore.stores.dynamo import Dynamo
from cloudstore.stores.idempotency import KeyTaken
from cloudstore.stores.product_items import (
    move_request,
    product_from_item,
    product_item,
    product_key,
    set_stock_request,
    update_request,
)

__all__ = ["CatalogStore", "LoadCounts", "StockRead"]

log = logging.getLogger(__name__)

# More changed products than this since the last poll: a full reload is cheaper.
MAX_INCREMENTAL_CHANGES = 500


@dataclass(frozen=True, slots=True)
class StockRead:
    """The start of a consistent read a sale is planned on: per product, how many of this
    worker's sales had committed by then, and the number of what the snapshot showed."""

    sales: dict[str, int]
    shown: dict[str, int]


class CatalogStore:
    def __init__(
        self,
        dynamo: Dynamo,
        table: str,
        refresh_seconds: float = 2.0,
        full_reload_seconds: float = 300.0,
    ) -> None:
        self.dynamo = dynamo
        self.table = table
        self.refresh_seconds = refresh_seconds
        self.full_reload_seconds = full_reload_seconds
        self.changes = ChangeLog(dynamo, table)
        self._index: CatalogIndex | None = None
        self._loaded_at = 0.0  # monotonic time of the last full reload
        self._polled_at = 0.0  # wall clock at the start of the last complete catch-up
        self._reloaded_at = 0.0  # wall clock at the start of the last full reload
        self._seen: dict[str, str] = {}  # change entries applied: sort key -> stamp
        # Workers start at different points of the prune cycle, so they rarely prune together.
        self._pruned_at = time.monotonic() - random.uniform(0, PRUNE_SECONDS)  # noqa: S311
        self._reload_lock = asyncio.Lock()
        self._refresher: asyncio.Task | None = None
        self._initial: asyncio.Task | None = None
        self.full_reloads = 0
        self.incremental_refreshes = 0
        self._reads = 0  # sequence numbers of reads and local writes, in the order they began
        self._base_seq = 0  # the last full reload's
        self._shown_seq: dict[str, int] = {}  # per product: the number of what the snapshot shows
        self._sales: dict[str, int] = {}  # per product: this worker's committed sales
        self._refetch: set[str] = set()  # read again at the next poll (a read that lost)

    # ---- the snapshot -------------------------------------------------------------------

    async def index(self) -> CatalogIndex:
        """The current snapshot; loads it on first use (503 if DynamoDB is down then)."""
        if self._index is None:
            if self._initial is not None and not self._initial.done():
                with contextlib.suppress(BackendUnavailable):
                    await asyncio.shield(self._initial)
            async with self._reload_lock:
                if self._index is None:
                    await self._reload()
        assert self._index is not None
        return self._index

    def load_in_background(self) -> None:
        """Start the first load without holding up startup: at 50,000 products a worker
        takes longer than hypercorn's startup budget to parse the Scan. Requests that
        need the catalog wait for it (`index`)."""
        if self._index is None and self._initial is None:
            self._initial = asyncio.create_task(self.reload())
            self._initial.add_done_callback(
                lambda task: task.cancelled() or task.exception()  # retrieved: no warning
            )

    async def reload(self) -> None:
        async with self._reload_lock:
            await self._reload()

    async def _reload(self) -> None:
        started = time.time()
        seq = self._next_seq()
        products = await scan_products(self.dynamo, self.table)
        self._base_seq = seq
        self._shown_seq.clear()
        self._index = CatalogIndex(
            products, version=(self._index.version + 1 if self._index else 0)
        )
        self._loaded_at = time.monotonic()
        # Entries stamped before the scan started are in it; later ones are read next poll.
        self._polled_at = self._reloaded_at = started
        self._seen.clear()
        self.full_reloads += 1
        # The snapshot lives for minutes and holds several GC-tracked objects per product. Left to
        # the cyclic GC, each full collection walks them all (~120 ms at 50,000 products, a
        # pause on whatever request is running); frozen, they are skipped. Old snapshots
        # hold no reference cycles, so reference counting still frees them.
        gc.freeze()
        log.debug("catalog loaded: %d products", len(products))

    def start_refresher(self) -> None:
        if self.refresh_seconds > 0 and self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_forever())

    async def stop_refresher(self) -> None:
        if self._initial is not None and not self._initial.done():
            self._initial.cancel()
            with contextlib.suppress(asyncio.CancelledError, BackendUnavailable):
                await self._initial
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
                if time.monotonic() - self._pruned_at >= PRUNE_SECONDS:
                    self._pruned_at = time.monotonic()
                    await self.delete_expired_changes()
            except BackendUnavailable:
                pass  # keep serving the last snapshot; try again next tick
            except Exception:
                log.exception("catalog refresh failed")

    async def refresh_if_changed(self) -> bool:
        """Catch up with the change log: patch the snapshot with the changed products, or
        reload it all when too far behind. True if the snapshot changed."""
        async with self._reload_lock:
            now = time.time()
            too_old = time.monotonic() - self._loaded_at > self.full_reload_seconds
            behind = now - self._polled_at > CHANGE_RETENTION_SECONDS - CHANGE_OVERLAP_SECONDS
            if self._index is None or too_old or behind:
                await self._reload()
                return True
            since = change_stamp(self._polled_at - CHANGE_OVERLAP_SECONDS)
            entries = await self.changes.read_since(since, self._reloaded_at)
            if entries is None:  # more than one page of changes, or a bulk load
                await self._reload()
                return True
            fresh = [
                (key, stamp, products) for key, stamp, products in entries if key not in self._seen
            ]
            hints: dict[str, str | None] = dict.fromkeys(self._refetch)
            for *_, products in sorted(fresh, key=lambda e: e[0]):
                for product_id, category in products:
                    hints[product_id] = category
            if len(hints) > MAX_INCREMENTAL_CHANGES:
                await self._reload()
                return True
            if hints:
                self._refetch.clear()
                seq = self._next_seq()
                found = await self.fetch_many(hints, categories=hints)
                removed = [pid for pid in hints if pid not in found]
                newer = self._newer(found, seq)
                self._refetch.update(pid for pid in found if pid not in newer)
                assert self._index is not None
                self._index = self._index.apply(
                    changed=[found[pid] for pid in newer],
                    removed=removed,
                    version=self._index.version + 1,
                )
                self.incremental_refreshes += 1
            for key, stamp, _products in fresh:
                self._seen[key] = stamp
            self._seen = {k: v for k, v in self._seen.items() if v > since}
            self._polled_at = now
            return bool(hints)

    def change_action(self, keys: ProductKeys) -> dict:
        """The change entry as one action of a TransactWriteItems."""
        return self.changes.action(keys)

    async def record_changes(self, keys: ProductKeys, *, full: bool = False) -> None:
        await self.changes.record(keys, full=full)

    async def delete_expired_changes(self) -> int:
        """Delete every change entry older than the retention window; returns how many."""
        return await self.changes.delete_expired()

    def _apply_locally(self, changed: Iterable[Product] = (), removed: Iterable[str] = ()) -> None:
        if self._index is None:
            return
        changed = list(changed)
        self._mark_shown((p.product_id for p in changed), self._next_seq())
        self._index = self._index.apply(changed=changed, removed=removed)

    def apply_stock_changes(self, stock_by_id: dict[str, int]) -> None:
        """Record stock moved by a checkout or cancellation in this worker's snapshot."""
        if self._index is None:
            return
        self._mark_shown(stock_by_id, self._next_seq())
        self._index = self._index.with_stock(stock_by_id)

    # ---- ordering reads, and this worker's own sales --------------------------------------

    def _next_seq(self) -> int:
        self._reads += 1
        return self._reads

    def _mark_shown(self, product_ids: Iterable[str], seq: int) -> None:
        for product_id in product_ids:
            self._shown_seq[product_id] = seq

    def _newer(self, product_ids: Iterable[str], seq: int) -> set[str]:
        """Those of `product_ids` for which a read numbered `seq` is newer than what the
        snapshot shows; they are marked as showing it."""
        newer = {pid for pid in product_ids if seq > self._shown_seq.get(pid, self._base_seq)}
        self._mark_shown(newer, seq)
        return newer

    def stock_read(self, product_ids: Iterable[str]) -> StockRead:
        """Call just before the consistent read a sale is planned on (`record_sale`)."""
        ids = list(dict.fromkeys(product_ids))
        return StockRead(
            sales={pid: self._sales.get(pid, 0) for pid in ids},
            shown={pid: self._shown_seq.get(pid, self._base_seq) for pid in ids},
        )

    async def record_sale(self, read: StockRead, stock_after: dict[str, int]) -> None:
        """A sale planned on `read` committed, leaving `stock_after` if nothing else moved the
        stock since: show that at once when it is certain (no other sale of this worker
        committed and nothing else was shown for the product since `read` began), else read those
        products again (consistently) and show what DynamoDB has now. Never raises for a
        DynamoDB failure: the sale stands, and the change log corrects the figure."""
        exact: dict[str, int] = {}
        again: list[str] = []
        for product_id, stock in stock_after.items():
            sales = self._sales[product_id] = self._sales.get(product_id, 0) + 1
            alone = sales == read.sales.get(product_id, 0) + 1
            shown = self._shown_seq.get(product_id, self._base_seq)
            if alone and shown == read.shown.get(product_id):
                exact[product_id] = stock
            else:
                again.append(product_id)
        if exact and self._index is not None:
            self._mark_shown(exact, self._next_seq())
            self._index = self._index.with_stock(exact)
        if not again:
            return
        seq = self._next_seq()
        try:
            found = await self.fetch_many(again)
        except BackendUnavailable:
            self._refetch.update(again)
            return
        newer = self._newer(found, seq)
        if newer and self._index is not None:
            self._index = self._index.with_stock({pid: found[pid].stock for pid in newer})

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

    async def fetch_many(
        self, product_ids: Iterable[str], categories: dict[str, str | None] | None = None
    ) -> dict[str, Product]:
        """Consistent reads of several products (BatchGetItem, falling back to a Query for
        ids whose category neither `categories` nor the snapshot knows)."""
        snapshot = self._index
        keys, unknown = [], []
        for product_id in dict.fromkeys(product_ids):
            category = (categories or {}).get(product_id)
            if category is None:
                known = snapshot.get(product_id) if snapshot else None
                category = known.category if known else None
            if category is None:
                unknown.append(product_id)
            else:
                keys.append({"product_id": {"S": product_id}, "category": {"S": category}})
        found: dict[str, Product] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] | None = {
                self.table: {"Keys": keys[start : start + 100], "ConsistentRead": True}
            }
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
                raise Conflict(
                    f"product {product.product_id} already exists", code=ErrorCode.PRODUCT_EXISTS
                ) from None
            raise
        self._apply_locally(changed=[product])
        await self.record_changes([(product.product_id, product.category)])
        return product

    async def update(self, current: Product, changes: dict) -> Product:
        """Apply a partial update as ONE write: an UpdateItem, or (a new category moves the
        item, the category being part of the key) one transaction conditioned on the stock
        we read, so there is never zero or two copies and no sale is lost. A refusal is
        re-read to say why: the product is gone (404), or it changed meanwhile (409)."""
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        if not changes:
            return current
        now = utc_now_iso()
        try:
            if "category" not in changes:
                request = update_request(self.table, current, changes, 0, now)
                reply = await self.dynamo.call("update_item", **request)
                updated = product_from_item(reply["Attributes"])
            else:
                updated = current.with_changes(**changes, updated_at=now)
                await self.dynamo.call(
                    "transact_write_items",
                    TransactItems=move_request(self.table, current, updated),
                )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise await self._refusal(current, 0) from None
            raise
        self._apply_locally(changed=[updated])
        await self.record_changes([(updated.product_id, updated.category)])
        return updated

    def with_stock_change(self, current: Product, changes: dict, stock_delta: int) -> Product:
        """The product `update_stock` would write (409 if the stock would go below zero)."""
        if current.stock + stock_delta < 0:
            raise self._below_zero(current)
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        return current.with_changes(
            **changes, stock=current.stock + stock_delta, updated_at=utc_now_iso()
        )

    async def update_stock(
        self, current: Product, updated: Product, record: dict, *, budget: float
    ) -> Product:
        """Write `updated` (from `with_stock_change`) as ONE transaction: the product's change
        conditioned on the stock we read (a category change moves the item), the
        idempotency key's `record` and the catalog's change entry. Raises KeyTaken (the
        key has a record), a 404/409 DomainError (gone, below zero, or changed meanwhile:
        `PRODUCT_CHANGED`, re-read and try again) or UnclearOutcome."""
        changes = {
            name: getattr(updated, name)
            for name in ("name", "description", "price", "image_url", "image")
            if getattr(updated, name) != getattr(current, name)
        }
        if updated.category != current.category:
            product_actions = move_request(self.table, current, updated)
        else:
            product_actions = [
                set_stock_request(self.table, current, changes, updated.stock, updated.updated_at)
            ]
        change = self.change_action([(updated.product_id, updated.category)])
        actions = [*product_actions, record, change]
        try:
            await self.dynamo.call(
                "transact_write_items", write=True, budget=budget, TransactItems=actions
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            if reasons[len(product_actions)] == "ConditionalCheckFailed":
                raise KeyTaken("this Idempotency-Key has a record") from None
            if "ConditionalCheckFailed" in reasons[: len(product_actions)]:
                raise await self._refusal(current, updated.stock - current.stock) from None
            if "TransactionConflict" in reasons:
                raise self._changed() from None
            raise BackendUnavailable("DynamoDB") from None
        self._apply_locally(changed=[updated])
        return updated

    @staticmethod
    def _changed() -> Conflict:
        return Conflict(
            "the product changed meanwhile; reload and try again", code=ErrorCode.PRODUCT_CHANGED
        )

    @staticmethod
    def _below_zero(product: Product) -> Conflict:
        return Conflict(
            "stock cannot go below zero", code=ErrorCode.STOCK_BELOW_ZERO, stock=product.stock
        )

    async def _refusal(self, current: Product, stock_delta: int) -> DomainError:
        fresh = await self.fetch(current.product_id)
        if fresh is None:
            return NotFound("product not found", code=ErrorCode.PRODUCT_NOT_FOUND)
        if fresh.stock + stock_delta < 0:
            return self._below_zero(fresh)
        return self._changed()

    async def delete(self, product: Product) -> None:
        try:
            await self.dynamo.call(
                "delete_item",
                TableName=self.table,
                Key=product_key(product),
                ConditionExpression="attribute_exists(product_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound("product not found", code=ErrorCode.PRODUCT_NOT_FOUND) from None
            raise
        self._apply_locally(removed=[product.product_id])
        await self.record_changes([(product.product_id, None)])

    async def adjust_stock(self, product: Product, delta: int) -> Product:
        """Atomically add `delta` to stock in one UpdateItem; refuses (409) to go below zero.
        (No idempotency record: the shop's stock changes go through `update_stock`.)"""
        try:
            request = update_request(self.table, product, {}, delta, utc_now_iso())
            reply = await self.dynamo.call("update_item", **request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise await self._refusal(product, delta) from None
            raise
        updated = product_from_item(reply["Attributes"])
        self._apply_locally(changed=[updated])
        await self.record_changes([(updated.product_id, updated.category)])
        return updated

    async def upsert_many(
        self, products: list[Product], *, overwrite: bool = False, concurrency: int = 8
    ) -> LoadCounts:
        """Load products in batches of 25 (BatchWriteItem), retrying unprocessed items.

        What exists is read first (a fresh Scan, not the snapshot). A product whose id exists
        is left untouched, unless `overwrite`: then every field is replaced, stock included
        (its `created_at` is kept when the product has none), and one filed under another
        category is moved, so a product never exists twice."""
        existing = {p.product_id: p for p in await scan_products(self.dynamo, self.table)}
        counts, requests = plan_load(existing, products, overwrite=overwrite)
        if not requests:
            return counts
        gate = asyncio.Semaphore(concurrency)
        # A moved product's delete and put touch different keys, so batches may run in any order.
        await asyncio.gather(
            *(
                write_batch(self.dynamo, self.table, requests[i : i + 25], gate)
                for i in range(0, len(requests), 25)
            )
        )
        await self.record_changes([], full=True)  # other workers reload everything
        await self.reload()
        return counts
