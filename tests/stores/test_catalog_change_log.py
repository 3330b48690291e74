"""The catalog change log (partition `#CHANGES`) stays bounded: every entry older than the
retention window goes at each prune, however many were written since the last one."""

from __future__ import annotations

import asyncio
import secrets
import time

from cloudstore import create_app
from cloudstore.stores import catalog as catalog_store
from cloudstore.stores.catalog_changes import (
    CHANGE_RETENTION_SECONDS,
    CHANGES_PARTITION,
    PRUNE_PAGE,
    change_stamp,
    write_batch,
)


def entry(table: str, moment: float) -> dict:
    """A change entry as the store writes it, stamped at `moment`."""
    return {
        "product_id": {"S": CHANGES_PARTITION},
        "category": {"S": f"{change_stamp(moment)}#{secrets.token_hex(6)}"},
        "products": {"S": '[["P-1", "compute"]]'},
    }


async def write_entries(backends, count: int, moment: float) -> None:
    catalog = backends.catalog
    items = [entry(catalog.table, moment) for _ in range(count)]
    gate = asyncio.Semaphore(8)
    await asyncio.gather(
        *(
            write_batch(
                catalog.dynamo,
                catalog.table,
                [{"PutRequest": {"Item": i}} for i in items[n : n + 25]],
                gate,
            )
            for n in range(0, count, 25)
        )
    )


async def change_log_size(backends) -> int:
    size, start = 0, None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        reply = await backends.dynamo.call(
            "query",
            TableName=backends.catalog.table,
            KeyConditionExpression="product_id = :p",
            ExpressionAttributeValues={":p": {"S": CHANGES_PARTITION}},
            Select="COUNT",
            **kwargs,
        )
        size += reply["Count"]
        start = reply.get("LastEvaluatedKey")
        if not start:
            return size


def expired() -> float:
    return time.time() - CHANGE_RETENTION_SECONDS - 5


async def test_one_prune_deletes_every_expired_entry_and_keeps_the_recent_ones(backends):
    await write_entries(backends, 1200, expired())
    await write_entries(backends, 30, time.time())

    deleted = await backends.catalog.delete_expired_changes()

    assert (deleted, await change_log_size(backends)) == (1200, 30)


async def test_change_log_stays_bounded_when_entries_arrive_faster_than_one_page(backends):
    sizes = []
    for _ in range(4):
        await write_entries(backends, PRUNE_PAGE + 300, expired())
        await backends.catalog.delete_expired_changes()
        sizes.append(await change_log_size(backends))

    assert sizes == [0, 0, 0, 0]


async def test_the_refresher_prunes_the_change_log_on_its_own(settings, monkeypatch):
    monkeypatch.setattr(catalog_store, "PRUNE_SECONDS", 0.0)
    app = create_app(settings.with_overrides(catalog_refresh_seconds=0.1))
    async with app.test_app():
        backends = app.extensions["cloudstore"]
        await write_entries(backends, 300, expired())
        for _ in range(100):
            if await change_log_size(backends) == 0:
                break
            await asyncio.sleep(0.1)
        assert await change_log_size(backends) == 0
