"""A write whose answer is lost is settled, not passed on: the server finds out whether the
checkout or stock change happened and answers with the truth.

A real fault stands between the app and its DynamoDB server (`tests.helpers.proxy`): the
transaction reaches the server and its answer is lost, or the request itself arrives only
after the app gave up on it."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import ADDRESS, bearer
from tests.helpers.proxy import FaultProxy

LAMBDA = "PROD-LAMBDA-10M"  # 200 in stock
# The first write of a stock change (a transaction now; an UpdateItem before).
STOCK_WRITE = ("TransactWriteItems", "UpdateItem")
TIMEOUT = 1.0
LATE = 2.5  # past BACKEND_TIMEOUT, and past the settling that follows it


@pytest.fixture
async def proxy(dynamodb):
    proxy = await FaultProxy(dynamodb.endpoint).start()
    yield proxy
    await proxy.close()


@pytest.fixture
def settings(settings, proxy):
    return settings.with_overrides(dynamodb_endpoint=proxy.endpoint, backend_timeout=TIMEOUT)


def order_body(quantity: int = 1) -> dict:
    return {
        "items": [{"product_id": LAMBDA, "quantity": quantity}],
        "shipping_address": dict(ADDRESS),
    }


async def orders_of(client, token) -> list[dict]:
    return (await (await client.get("/api/orders", headers=bearer(token))).get_json())["data"]


async def stock(backends, product_id: str = LAMBDA) -> int:
    return (await backends.catalog.fetch(product_id)).stock


async def test_a_checkout_committed_but_unanswered_is_a_201_with_the_order(
    client, backends, seeded, customer_token, proxy
):
    proxy.arm("TransactWriteItems", "late_answer", LATE)
    response = await client.post("/api/orders", json=order_body(2), headers=bearer(customer_token))
    body = await response.get_json()
    assert proxy.delivered.is_set()  # the fault did strike
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert [order["order_id"] for order in await orders_of(client, customer_token)] == [
        body["data"]["order_id"]
    ]
    assert await stock(backends) == 198


async def test_a_checkout_whose_connection_drops_after_commit_is_a_201_not_a_replay(
    client, backends, seeded, customer_token, proxy
):
    proxy.arm("TransactWriteItems", "drop_answer")
    headers = {**bearer(customer_token), "Idempotency-Key": "dropped-1"}
    response = await client.post("/api/orders", json=order_body(), headers=headers)
    assert proxy.delivered.is_set()
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert len(await orders_of(client, customer_token)) == 1
    assert await stock(backends) == 199


async def test_a_checkout_that_arrives_too_late_is_a_503_and_is_never_written(
    client, backends, seeded, customer_token, proxy
):
    proxy.arm("TransactWriteItems", "late_request", LATE)
    headers = {**bearer(customer_token), "Idempotency-Key": "late-1"}
    response = await client.post("/api/orders", json=order_body(), headers=headers)
    body = await response.get_json()
    assert response.status_code == 503
    assert "not placed" in body["error"]
    await asyncio.wait_for(proxy.delivered.wait(), LATE * 4)  # the server has seen it now
    assert await orders_of(client, customer_token) == []
    assert await stock(backends) == 200


async def test_a_retry_after_a_write_that_was_never_made_places_the_order_once(
    client, backends, seeded, customer_token, proxy
):
    proxy.arm("TransactWriteItems", "late_request", LATE)
    headers = {**bearer(customer_token), "Idempotency-Key": "late-2"}
    await client.post("/api/orders", json=order_body(), headers=headers)
    await asyncio.wait_for(proxy.delivered.wait(), LATE * 4)
    retry = await client.post("/api/orders", json=order_body(), headers=headers)
    assert retry.status_code == 201
    assert len(await orders_of(client, customer_token)) == 1
    assert await stock(backends) == 199


async def test_a_checkout_whose_outcome_cannot_be_learned_says_so(
    client, backends, seeded, customer_token, proxy
):
    proxy.arm("TransactWriteItems", "late_request", LATE)
    proxy.arm("UpdateItem", "late_request", LATE)  # the settling gets no answer either
    headers = {**bearer(customer_token), "Idempotency-Key": "unknown-1"}
    response = await client.post("/api/orders", json=order_body(), headers=headers)
    assert response.status_code == 503
    assert "same Idempotency-Key" in (await response.get_json())["error"]


async def test_a_stock_change_committed_but_unanswered_is_a_200_with_the_new_stock(
    client, backends, seeded, admin_token, proxy
):
    proxy.arm(STOCK_WRITE, "late_answer", LATE)
    response = await client.post(
        f"/api/admin/products/{LAMBDA}/stock", json={"delta": -5}, headers=bearer(admin_token)
    )
    assert response.status_code == 200
    assert (await response.get_json())["data"]["stock"] == 195
    assert await stock(backends) == 195


async def test_a_stock_change_that_arrives_too_late_is_a_503_and_is_never_applied(
    client, backends, seeded, admin_token, proxy
):
    proxy.arm(STOCK_WRITE, "late_request", LATE)
    headers = {**bearer(admin_token), "Idempotency-Key": "restock-1"}
    response = await client.post(
        f"/api/admin/products/{LAMBDA}/stock", json={"delta": 10}, headers=headers
    )
    assert response.status_code == 503
    assert "not changed" in (await response.get_json())["error"]
    await asyncio.wait_for(proxy.delivered.wait(), LATE * 4)
    assert await stock(backends) == 200
