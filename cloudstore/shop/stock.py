"""Stock changes by admins (with or without other field edits): exact, idempotent, settled.

Each change is one DynamoDB transaction: the product's new values conditioned on the stock
we read (so the audit's before/after are exact; a sale in between makes it re-read and try
again), the idempotency key's record (the admin's `Idempotency-Key`, or one the server
makes) and the catalog's change entry. A retry with the same key gets the earlier result
(the product as it is now); the same key with another request is a 422. When the answer is
lost, the write is settled as a checkout is (`shop/checkout.py`): the change happened, or
the answer is a 503 certain that nothing was written. The write gets BACKEND_TIMEOUT, the
settling at most as long again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ulid import ULID

from cloudstore.backends import Backends
from cloudstore.domain import idempotency
from cloudstore.domain.catalog import Product, utc_now_iso
from cloudstore.domain.errors import (
    BackendUnavailable,
    Conflict,
    DomainError,
    ErrorCode,
    UnclearOutcome,
)
from cloudstore.domain.idempotency import KeyRecord
from cloudstore.stores.idempotency import KeyTaken

# Reads a product as DynamoDB has it now (NotFound when it is gone).
ProductReader = Callable[[Backends, str], Awaitable[Product]]

# A concurrent sale of the same product makes the write refuse; re-read and retry this often.
ATTEMPTS = 8
SYSTEM = "#system"  # the records of writes without an acting user (the CLI)
NOT_WRITTEN = "the database did not answer in time; the stock was not changed, please try again"
UNKNOWN = (
    "the database did not confirm in time whether the stock changed; send the same request "
    "with the same Idempotency-Key to find out, or reload the product"
)


@dataclass(frozen=True, slots=True)
class StockWrite:
    before: Product
    after: Product
    replayed: bool = False

    @property
    def changed_fields(self) -> list[str]:
        """The edited fields that changed, and the stock."""
        edited = ("name", "description", "category", "price", "image_url", "image")
        names = [n for n in edited if getattr(self.before, n) != getattr(self.after, n)]
        return [*names, "stock"]


async def write(
    backends: Backends,
    fetch: ProductReader,
    product_id: str,
    changes: Mapping[str, object],
    stock_delta: int,
    *,
    by: str | None,
    idempotency_key: str | None,
) -> StockWrite:
    """Apply `changes` and add `stock_delta`. `fetch` reads the product as DynamoDB has it
    (404 if gone)."""
    user = by or SYSTEM
    fingerprint = idempotency.fingerprint(
        "stock",
        {
            "product_id": product_id,
            "delta": stock_delta,
            "changes": {k: str(v) for k, v in changes.items()},
        },
    )
    record_key = idempotency_key or idempotency.server_key()
    budget = backends.settings.backend_timeout
    for _ in range(ATTEMPTS):
        attempt = f"STOCK-{ULID()}"
        try:
            current = await fetch(backends, product_id)
            updated = backends.catalog.with_stock_change(current, dict(changes), stock_delta)
            record = backends.idempotency.put_action(
                user, record_key, fingerprint, attempt, utc_now_iso(), {"product_id": product_id}
            )
            await backends.catalog.update_stock(current, updated, record, budget=budget)
            return StockWrite(current, updated)
        except KeyTaken:
            replay = await _replay(backends, fetch, user, record_key, fingerprint, product_id)
            if replay is not None:
                return replay
        except UnclearOutcome:
            settled = await _settle(backends, user, record_key, fingerprint, attempt, budget)
            if settled is None:
                raise BackendUnavailable("DynamoDB", NOT_WRITTEN) from None
            if settled.points_to == attempt:
                return StockWrite(current, updated)
            # A concurrent request with the same key did it first: that is our answer.
            idempotency.replayable(settled, fingerprint)
            product = await fetch(backends, product_id)
            return StockWrite(product, product, replayed=True)
        except DomainError as error:
            # The same key's earlier request may have made this one impossible (stock gone):
            # it is replayed, and another request under that key is a 422, whatever failed.
            if idempotency_key:
                replay = await _replay(backends, fetch, user, record_key, fingerprint, product_id)
                if replay is not None:
                    return replay
            if error.code != ErrorCode.PRODUCT_CHANGED:
                raise
    raise Conflict(
        "the product keeps changing; reload it and try again", code=ErrorCode.PRODUCT_CHANGED
    )


async def _replay(
    backends: Backends, fetch: ProductReader, user: str, key: str, fingerprint: str, product_id: str
) -> StockWrite | None:
    record = await backends.idempotency.find(user, key)
    if not idempotency.replayable(record, fingerprint):
        return None
    product = await fetch(backends, product_id)
    return StockWrite(product, product, replayed=True)


async def _settle(
    backends: Backends, user: str, key: str, fingerprint: str, attempt: str, budget: float
) -> KeyRecord | None:
    """None when `attempt` is certain never to be written; else the key's record. No answer
    in time is a 503 that says the outcome is unknown."""
    try:
        return await backends.idempotency.settle(
            user, key, fingerprint, attempt, utc_now_iso(), budget=budget
        )
    except BackendUnavailable:
        raise BackendUnavailable("DynamoDB", UNKNOWN) from None
