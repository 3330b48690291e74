"""Stock hoarding: a customer's open (pending) orders are capped by MAX_PENDING_ORDERS,
atomically with the checkout (a counter in the same transaction), and every way out of
`pending` frees a slot."""

from __future__ import annotations

import asyncio
import html
import re

import pytest

from cloudstore.domain.cart import CartLine
from cloudstore.settings import Settings, SettingsError
from cloudstore.shop.orders import change_status
from cloudstore.stores.dynamo import to_value
from cloudstore.stores.orders import PENDING_COUNTER
from tests.helpers import ADDRESS, bearer
from tests.helpers.pages import csrf_token, htmx, sign_up, text

LIMIT = 2
LAMBDA = "PROD-LAMBDA-10M"


@pytest.fixture
def settings(settings):
    return settings.with_overrides(max_pending_orders=LIMIT)


def hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def order_body(quantity: int = 1) -> dict:
    return {
        "items": [{"product_id": LAMBDA, "quantity": quantity}],
        "shipping_address": dict(ADDRESS),
    }


async def place(client, token, key: str | None = None):
    headers = {**bearer(token), **({"Idempotency-Key": key} if key else {})}
    return await client.post("/api/orders", json=order_body(), headers=headers)


async def test_an_order_past_the_limit_is_a_409_that_says_why(client, seeded, customer_token):
    statuses = [(await place(client, customer_token)).status_code for _ in range(LIMIT)]
    refused = await place(client, customer_token)
    body = await refused.get_json()
    assert statuses == [201] * LIMIT
    assert refused.status_code == 409
    assert body["error"].startswith(f"you already have {LIMIT} unpaid orders")


async def test_an_order_refused_by_the_limit_takes_no_stock(
    client, backends, seeded, customer_token
):
    for _ in range(LIMIT + 1):
        await place(client, customer_token)
    assert (await backends.catalog.fetch(LAMBDA)).stock == 200 - LIMIT


async def test_concurrent_checkouts_cannot_pass_the_limit(client, backends, seeded, customer_token):
    responses = await asyncio.gather(
        *(place(client, customer_token, key=f"burst-{n}") for n in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * LIMIT + [409] * (8 - LIMIT)
    assert (await backends.catalog.fetch(LAMBDA)).stock == 200 - LIMIT


async def test_cancelling_a_pending_order_frees_a_slot(client, seeded, customer_token):
    first = await (await place(client, customer_token)).get_json()
    await place(client, customer_token)
    await client.post(
        f"/api/orders/{first['data']['order_id']}/cancel", headers=bearer(customer_token)
    )
    assert (await place(client, customer_token)).status_code == 201


async def test_paying_a_pending_order_frees_a_slot(client, seeded, customer_token, admin_token):
    first = await (await place(client, customer_token)).get_json()
    await place(client, customer_token)
    await client.post(
        f"/api/admin/orders/{first['data']['order_id']}/status",
        json={"status": "paid", "reference": "TRF-1"},
        headers=bearer(admin_token),
    )
    assert (await place(client, customer_token)).status_code == 201


async def test_a_paid_order_cancelled_later_frees_no_second_slot(
    client, seeded, customer_token, admin_token
):
    orders = [(await (await place(client, customer_token)).get_json())["data"] for _ in range(2)]
    admin = bearer(admin_token)
    for status in ("paid", "cancelled"):
        await client.post(
            f"/api/admin/orders/{orders[0]['order_id']}/status",
            json={"status": status},
            headers=admin,
        )
    statuses = [(await place(client, customer_token)).status_code for _ in range(2)]
    assert statuses == [201, 409]


async def test_orders_from_before_the_counter_never_lower_it(
    client, backends, seeded, customer_token
):
    """Upgrading: orders placed before the counter existed were never counted, so their
    exit from pending leaves the counter alone (it must not go below what it counts)."""
    placed = (await (await place(client, customer_token)).get_json())["data"]
    old = await backends.orders.get(placed["user_id"], placed["order_id"])
    counter = {"user_id": to_value(old.user_id), "order_id": to_value(PENDING_COUNTER)}
    await backends.dynamo.call(
        "delete_item", TableName=backends.settings.orders_table, Key=counter
    )  # as if `old` had been placed by a version without the counter
    await place(client, customer_token)
    await place(client, customer_token)
    await change_status(backends, old, "cancelled", by="test")
    assert (await backends.orders.pending_count(old.user_id))[0] == LIMIT
    assert (await place(client, customer_token)).status_code == 409


async def test_the_checkout_page_says_the_limit_is_reached(client, backends, seeded):
    email = await sign_up(client)
    user = await backends.users.by_email(email)
    token = await csrf_token(client)
    for _ in range(LIMIT + 1):
        await backends.carts.save(user.user_id, [CartLine(LAMBDA, 1)])
        page = await text(await client.get("/checkout"))
        form = {name: hidden(page, name) for name in ("idempotency_key", "seen")}
        response = await client.post("/checkout", form={**ADDRESS, **form}, headers=htmx(token))
    assert response.status_code == 409
    assert f"You already have {LIMIT} unpaid orders" in await text(response)


def test_max_pending_orders_is_read_from_the_environment():
    assert Settings.from_env({"MAX_PENDING_ORDERS": "12"}, env_file=None).max_pending_orders == 12


def test_max_pending_orders_below_one_is_refused():
    with pytest.raises(SettingsError, match="MAX_PENDING_ORDERS"):
        Settings(max_pending_orders=0).validate()
