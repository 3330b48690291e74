"""Whole-table work on the Products table: the parallel Scan that loads a snapshot, and the
plan of a bulk load (which products to create, replace, move or leave alone)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cloudstore.domain.catalog import Product
from cloudstore.stores.dynamo import Dynamo, to_value
from cloudstore.stores.product_items import product_from_item, product_item

SCAN_SEGMENTS = 4


async def scan_products(dynamo: Dynamo, table: str) -> list[Product]:
    """Every product in the table (not the change entries), read in parallel segments."""

    async def segment(number: int) -> list[Product]:
        found: list[Product] = []
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Segment": number,
            "TotalSegments": SCAN_SEGMENTS,
        }
        while True:
            page = await dynamo.call("scan", bulk=True, **kwargs)
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


@dataclass(slots=True)
class LoadCounts:
    """What a bulk load did: products created, replaced, and left alone (they existed)."""

    created: int = 0
    replaced: int = 0
    left_alone: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.replaced} replaced, {self.left_alone} left alone"


def plan_load(
    existing: dict[str, Product], products: Iterable[Product], *, overwrite: bool
) -> tuple[LoadCounts, list[dict]]:
    """The BatchWriteItem requests that load `products` over `existing`, and what they do.

    A product whose id exists is left untouched, unless `overwrite`: then every field is
    replaced, stock included (its `created_at` is kept when the product has none), and one
    filed under another category is deleted there, so a product never exists twice."""
    counts = LoadCounts()
    writes: list[Product] = []
    deletes: list[Product] = []
    for product in {p.product_id: p for p in products}.values():
        current = existing.get(product.product_id)
        if not product.created_at:  # none given: a new product's is now
            created = current.created_at if current and overwrite else product.updated_at
            product = product.with_changes(created_at=created)
        if current is None:
            counts.created += 1
        elif not overwrite:
            counts.left_alone += 1
            continue
        else:
            counts.replaced += 1
            if current.category != product.category:
                deletes.append(current)
        writes.append(product)
    requests = [
        {
            "DeleteRequest": {
                "Key": {"product_id": to_value(p.product_id), "category": to_value(p.category)}
            }
        }
        for p in deletes
    ] + [{"PutRequest": {"Item": product_item(p)}} for p in writes]
    return counts, requests
