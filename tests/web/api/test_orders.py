"""POST/GET /api/orders: server-side pricing, stock in the same transaction, idempotency."""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal

from tests.helpers import ADDRESS, bearer, register


def order_body(*lines, **extra):
    return {
        "items": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        "shipping_address": dict(ADDRESS),
        **extra,
    }


def expected_total(price: int, quantity: int) -> int:
    subtotal = Decimal(price * quantity)
    tax = (subtotal * Decimal("0.11")).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(subtotal + tax)


async def stock_of(client, product_id: str) -> int:
    body = await (await client.get(f"/api/products/{product_id}")).get_json()
    return body["data"]["stock"]


async def test_order_is_priced_by_the_server_with_tax(client, seeded, customer_token):
    response = await client.post(
        "/api/orders", json=order_body(("PROD-LAMBDA-10M", 3)), headers=bearer(customer_token)
    )
    assert response.status_code == 201
    order = (await response.get_json())["data"]
    assert order["total_amount"] == expected_total(150000, 3)
    assert order["subtotal"] == 450000 and order["tax"] == 49500
    assert order["status"] == "pending" and order["order_id"].startswith("ORD-")


async def test_order_decrements_stock(client, seeded, customer_token):
    before = await stock_of(client, "PROD-VPC-STARTER")
    await client.post(
        "/api/orders", json=order_body(("PROD-VPC-STARTER", 4)), headers=bearer(customer_token)
    )
    assert await stock_of(client, "PROD-VPC-STARTER") == before - 4


async def test_order_clears_the_saved_cart(client, seeded, customer_token):
    headers = bearer(customer_token)
    await client.post(
        "/api/cart",
        json={"items": [{"product_id": "PROD-VPC-STARTER", "quantity": 1}]},
        headers=headers,
    )
    await client.post("/api/orders", json=order_body(("PROD-VPC-STARTER", 1)), headers=headers)
    cart = await (await client.get("/api/cart", headers=headers)).get_json()
    assert cart["data"]["items"] == []


async def test_forged_total_is_a_409_with_the_server_figures_and_writes_nothing(
    client, seeded, customer_token
):
    headers = bearer(customer_token)
    before = await stock_of(client, "PROD-AURORA-ENTERPRISE")
    response = await client.post(
        "/api/orders",
        json=order_body(("PROD-AURORA-ENTERPRISE", 1), total_amount=1000),
        headers=headers,
    )
    assert response.status_code == 409
    body = await response.get_json()
    assert body["success"] is False and body["total_amount"] == expected_total(32000000, 1)
    assert await stock_of(client, "PROD-AURORA-ENTERPRISE") == before
    orders = await (await client.get("/api/orders", headers=headers)).get_json()
    assert orders["count"] == 0


async def test_matching_client_total_is_accepted(client, seeded, customer_token):
    response = await client.post(
        "/api/orders",
        json=order_body(("PROD-LAMBDA-10M", 2), total_amount=expected_total(150000, 2)),
        headers=bearer(customer_token),
    )
    assert response.status_code == 201


async def test_quantity_above_stock_is_a_409_naming_the_short_line(client, seeded, customer_token):
    response = await client.post(
        "/api/orders",
        json=order_body(("PROD-FARGATE-4VCPU", 4)),
        headers=bearer(customer_token),
    )
    assert response.status_code == 409
    body = await response.get_json()
    assert body["short"] == [
        {
            "product_id": "PROD-FARGATE-4VCPU",
            "name": seeded["PROD-FARGATE-4VCPU"]["name"],
            "requested": 4,
            "available": 3,
        }
    ]
    assert await stock_of(client, "PROD-FARGATE-4VCPU") == 3


async def test_sold_out_product_cannot_be_ordered(client, seeded, customer_token):
    response = await client.post(
        "/api/orders", json=order_body(("PROD-EFS-1TB", 1)), headers=bearer(customer_token)
    )
    assert response.status_code == 409


async def test_unknown_product_in_an_order_is_a_404(client, seeded, customer_token):
    response = await client.post(
        "/api/orders", json=order_body(("NOPE-1", 1)), headers=bearer(customer_token)
    )
    assert response.status_code == 404


async def test_missing_shipping_field_is_a_400_naming_it(client, seeded, customer_token):
    body = order_body(("PROD-LAMBDA-10M", 1))
    del body["shipping_address"]["city"]
    response = await client.post("/api/orders", json=body, headers=bearer(customer_token))
    assert response.status_code == 400
    assert "city" in (await response.get_json())["error"]


async def test_orders_need_a_login(client, seeded):
    response = await client.post("/api/orders", json=order_body(("PROD-LAMBDA-10M", 1)))
    assert response.status_code == 401


async def test_thirty_concurrent_buyers_for_five_units_make_exactly_five_orders(
    client, backends, seeded
):
    await backends.catalog.adjust_stock(await backends.catalog.fetch("PROD-EC2-T3MEDIUM"), -115)
    assert await stock_of(client, "PROD-EC2-T3MEDIUM") == 5
    tokens = await asyncio.gather(*(register(client) for _ in range(30)))

    async def buy(token):
        response = await client.post(
            "/api/orders", json=order_body(("PROD-EC2-T3MEDIUM", 1)), headers=bearer(token)
        )
        return response.status_code

    statuses = await asyncio.gather(*(buy(t) for t in tokens))
    assert statuses.count(201) == 5
    assert set(statuses) <= {201, 409}
    fresh = await backends.catalog.fetch("PROD-EC2-T3MEDIUM")
    assert fresh.stock == 0


async def test_retry_with_the_same_idempotency_key_returns_the_same_order(
    client, seeded, customer_token
):
    headers = {**bearer(customer_token), "Idempotency-Key": "checkout-42"}
    first = await client.post(
        "/api/orders", json=order_body(("PROD-VPC-STARTER", 2)), headers=headers
    )
    stock_after_first = await stock_of(client, "PROD-VPC-STARTER")
    second = await client.post(
        "/api/orders", json=order_body(("PROD-VPC-STARTER", 2)), headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert (await first.get_json())["data"] == (await second.get_json())["data"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await stock_of(client, "PROD-VPC-STARTER") == stock_after_first
    orders = await (await client.get("/api/orders", headers=bearer(customer_token))).get_json()
    assert orders["count"] == 1


async def test_concurrent_retries_with_one_key_make_one_order(client, seeded, customer_token):
    headers = {**bearer(customer_token), "Idempotency-Key": "double-click"}
    responses = await asyncio.gather(
        *(
            client.post("/api/orders", json=order_body(("PROD-LAMBDA-10M", 1)), headers=headers)
            for _ in range(5)
        )
    )
    ids = {(await r.get_json())["data"]["order_id"] for r in responses}
    assert len(ids) == 1
    orders = await (await client.get("/api/orders", headers=bearer(customer_token))).get_json()
    assert orders["count"] == 1


async def test_reusing_a_key_for_a_different_order_is_refused(client, seeded, customer_token):
    headers = {**bearer(customer_token), "Idempotency-Key": "same-key"}
    await client.post("/api/orders", json=order_body(("PROD-LAMBDA-10M", 1)), headers=headers)
    response = await client.post(
        "/api/orders", json=order_body(("PROD-VPC-STARTER", 1)), headers=headers
    )
    assert response.status_code == 422


async def test_order_history_is_newest_first(client, seeded, customer_token):
    headers = bearer(customer_token)
    placed = []
    for product_id in ("PROD-LAMBDA-10M", "PROD-VPC-STARTER", "PROD-ROUTE53-DNS"):
        response = await client.post(
            "/api/orders", json=order_body((product_id, 1)), headers=headers
        )
        placed.append((await response.get_json())["data"]["order_id"])
    body = await (await client.get("/api/orders", headers=headers)).get_json()
    assert [o["order_id"] for o in body["data"]] == placed[::-1]
    assert body["count"] == 3


async def test_order_detail_of_another_user_is_a_404(client, seeded, customer_token):
    response = await client.post(
        "/api/orders", json=order_body(("PROD-LAMBDA-10M", 1)), headers=bearer(customer_token)
    )
    order_id = (await response.get_json())["data"]["order_id"]
    mine = await client.get(f"/api/orders/{order_id}", headers=bearer(customer_token))
    assert mine.status_code == 200
    other = await register(client)
    theirs = await client.get(f"/api/orders/{order_id}", headers=bearer(other))
    assert theirs.status_code == 404


async def test_profile_shows_the_user_and_saves_an_address(client, customer_token):
    headers = bearer(customer_token)
    body = await (await client.get("/api/user/profile", headers=headers)).get_json()
    assert body["user"]["address"] is None and "password_hash" not in body["user"]
    response = await client.put(
        "/api/user/address",
        json={
            "address": "Jl. Thamrin 2",
            "city": "Jakarta",
            "postal_code": "10230",
            "phone": "0812345678",
        },
        headers=headers,
    )
    assert response.status_code == 200
    saved = (await response.get_json())["user"]["address"]
    assert saved["address"] == "Jl. Thamrin 2" and saved["city"] == "Jakarta"
