"""With the local DynamoDB's disk full, the app answers an order with a 503 (not a 201 that
is then lost) and its readiness probe fails; both recover without a restart."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from cloudstore import create_app
from cloudstore.localdynamo import LocalDynamo
from cloudstore.shop.catalog import load_products
from tests.helpers import ADDRESS, bearer, register
from tests.helpers.localdynamo import fill, wait_for

ORDER = {
    "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
    "shipping_address": dict(ADDRESS),
}


@asynccontextmanager
async def running(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app, app.extensions["cloudstore"]


async def test_a_full_disk_gives_503_for_orders_and_readiness_then_recovers(
    settings, small_disk: Path, start: Callable[..., LocalDynamo], seed_products
) -> None:
    local = start(small_disk / "dynamo.json")
    async with running(settings.with_overrides(dynamodb_endpoint=local.endpoint)) as (app, be):
        await load_products(be, seed_products)
        client = app.test_client()
        headers = bearer(await register(client))
        assert (await client.get("/health/ready")).status_code == 200
        filler = fill(small_disk)
        while (
            placed := await client.post("/api/orders", json=ORDER, headers=headers)
        ).status_code == 201:
            pass  # the last partly filled block of the journal still takes a few

        assert placed.status_code == 503
        assert (await placed.get_json())["success"] is False
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert (await ready.get_json())["checks"]["dynamodb"] == "unavailable"

        filler.unlink()
        wait_for(lambda: "writable again" in local.stderr_tail(), timeout=15, what="recovery")
        assert (await client.get("/health/ready")).status_code == 200
        assert (await client.post("/api/orders", json=ORDER, headers=headers)).status_code == 201
