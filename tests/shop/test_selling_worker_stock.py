"""The worker that sells stock shows the stock its sales left, at once, even when several
checkouts on it sold the same product concurrently (each planned on a read that the others
made stale). The catalog refresher is off here (CATALOG_REFRESH_SECONDS=0), so nothing but
the checkouts themselves can move the figure."""

from __future__ import annotations

import asyncio

from tests.helpers import ADDRESS, bearer, register

LAMBDA = "PROD-LAMBDA-10M"  # 200 in stock


async def shown_stock(client, product_id: str = LAMBDA) -> int:
    reply = await client.get(f"/api/products/{product_id}")
    return (await reply.get_json())["data"]["stock"]


async def checkout(client, token: str, quantity: int = 1) -> int:
    reply = await client.post(
        "/api/orders",
        json={
            "items": [{"product_id": LAMBDA, "quantity": quantity}],
            "shipping_address": dict(ADDRESS),
        },
        headers=bearer(token),
    )
    return reply.status_code


async def test_concurrent_checkouts_on_one_worker_show_the_stock_they_left(app, backends, seeded):
    client = app.test_client()
    tokens = [await register(client) for _ in range(8)]
    assert await shown_stock(client) == 200
    statuses = await asyncio.gather(*(checkout(client, token) for token in tokens))
    assert statuses == [201] * 8
    truth = (await backends.catalog.fetch(LAMBDA)).stock
    assert truth == 192
    assert await shown_stock(client) == truth


async def test_a_sold_out_product_shows_zero_on_the_worker_that_sold_it(app, backends, seeded):
    client = app.test_client()
    admin = backends.catalog
    product = await admin.fetch(LAMBDA)
    await admin.adjust_stock(product, 3 - product.stock)
    tokens = [await register(client) for _ in range(6)]
    statuses = await asyncio.gather(*(checkout(client, token) for token in tokens))
    assert statuses.count(201) == 3
    assert (await admin.fetch(LAMBDA)).stock == 0
    assert await shown_stock(client) == 0
