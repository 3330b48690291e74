"""An Idempotency-Key's record holds a fingerprint of its request: the same key with a
different request is a 422 in every path (after a planning error too), and the same request
replays its result (even when it could not be made again now)."""

from __future__ import annotations

from tests.helpers import ADDRESS, bearer

LAMBDA = "PROD-LAMBDA-10M"  # 200 in stock


def order_body(*lines, **extra) -> dict:
    return {
        "items": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        "shipping_address": dict(ADDRESS),
        **extra,
    }


async def place(client, token, body, key):
    return await client.post(
        "/api/orders", json=body, headers={**bearer(token), "Idempotency-Key": key}
    )


async def test_a_reused_key_with_an_unknown_product_is_a_422_not_a_replay(
    client, seeded, customer_token
):
    await place(client, customer_token, order_body((LAMBDA, 1)), "k-unknown")
    response = await place(client, customer_token, order_body(("PROD-NOPE", 1)), "k-unknown")
    assert response.status_code == 422
    assert "Idempotent-Replayed" not in response.headers


async def test_a_reused_key_for_more_than_the_stock_is_a_422_not_a_replay(
    client, backends, seeded, customer_token
):
    await place(client, customer_token, order_body((LAMBDA, 1)), "k-stock")
    await backends.catalog.adjust_stock(await backends.catalog.fetch(LAMBDA), -194)  # 5 left
    response = await place(client, customer_token, order_body((LAMBDA, 6)), "k-stock")
    assert response.status_code == 422


async def test_a_reused_key_with_a_wrong_total_is_a_422_not_a_replay(
    client, seeded, customer_token
):
    await place(client, customer_token, order_body((LAMBDA, 1)), "k-total")
    body = order_body((LAMBDA, 1), total_amount=1)
    response = await place(client, customer_token, body, "k-total")
    assert response.status_code == 422


async def test_a_reused_key_with_another_address_is_a_422(client, seeded, customer_token):
    await place(client, customer_token, order_body((LAMBDA, 1)), "k-address")
    body = order_body((LAMBDA, 1))
    body["shipping_address"]["city"] = "Bandung"
    response = await place(client, customer_token, body, "k-address")
    assert response.status_code == 422


async def test_the_same_request_replays_even_when_its_stock_is_gone_now(
    client, backends, seeded, customer_token
):
    first = await place(client, customer_token, order_body((LAMBDA, 90)), "k-gone")
    await backends.catalog.adjust_stock(await backends.catalog.fetch(LAMBDA), -100)  # 10 left
    again = await place(client, customer_token, order_body((LAMBDA, 90)), "k-gone")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.get_json())["data"] == (await first.get_json())["data"]


async def stock_change(client, token, delta, key):
    return await client.post(
        f"/api/admin/products/{LAMBDA}/stock",
        json={"delta": delta},
        headers={**bearer(token), "Idempotency-Key": key},
    )


async def test_a_stock_change_retried_with_its_key_is_applied_once(
    client, backends, seeded, admin_token
):
    first = await stock_change(client, admin_token, -5, "s-once")
    again = await stock_change(client, admin_token, -5, "s-once")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await backends.catalog.fetch(LAMBDA)).stock == 195


async def test_a_stock_change_key_reused_for_another_delta_is_a_422(
    client, backends, seeded, admin_token
):
    await stock_change(client, admin_token, -5, "s-other")
    response = await stock_change(client, admin_token, 7, "s-other")
    assert response.status_code == 422
    assert (await backends.catalog.fetch(LAMBDA)).stock == 195


async def test_a_stock_change_key_reused_below_zero_is_a_422_not_a_409(client, seeded, admin_token):
    await stock_change(client, admin_token, -5, "s-below")
    response = await stock_change(client, admin_token, -10_000, "s-below")
    assert response.status_code == 422


async def test_a_stock_change_replays_even_when_it_could_not_be_made_again(
    client, backends, seeded, admin_token
):
    await stock_change(client, admin_token, -200, "s-empty")  # the whole stock
    again = await stock_change(client, admin_token, -200, "s-empty")
    assert again.status_code == 200
    assert (await backends.catalog.fetch(LAMBDA)).stock == 0
