"""The API and the pages share one cart-line limit (stock, at most 99) and one set of rate
limits (settings in "N/period" form)."""

from __future__ import annotations

import json

import pytest

from cloudstore.shop.catalog import update_product
from tests.helpers import bearer, make_settings, register, unique_email
from tests.helpers.pages import csrf_token, htmx, text

EC2 = "PROD-EC2-T3MEDIUM"


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path):
    return make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path / "data",
        login_limit="2/minute",
        register_limit="2/hour",
        low_stock_badge=3,
    )


async def test_the_api_caps_a_cart_line_at_the_stock(client, backends, seeded):
    await update_product(backends, EC2, {"stock": 4})
    headers = bearer(await register(client))
    response = await client.post(
        "/api/cart", json={"items": [{"product_id": EC2, "quantity": 9}]}, headers=headers
    )
    assert [line["quantity"] for line in (await response.get_json())["data"]["items"]] == [4]


async def test_the_pages_cap_an_added_quantity_at_the_stock(client, backends, seeded):
    await update_product(backends, EC2, {"stock": 4})
    response = await client.post(
        "/cart/items",
        form={"product_id": EC2, "quantity": "9"},
        headers=htmx(await csrf_token(client), cart=[]),
    )
    event = json.loads(response.headers["HX-Trigger"])["cs:cart-store"]
    assert event == {"items": [{"product_id": EC2, "quantity": 4}]}


async def test_the_api_leaves_a_sold_out_product_out_of_the_cart(client, backends, seeded):
    await update_product(backends, EC2, {"stock": 0})
    headers = bearer(await register(client))
    response = await client.post(
        "/api/cart", json={"items": [{"product_id": EC2, "quantity": 1}]}, headers=headers
    )
    assert (await response.get_json())["data"]["items"] == []


async def test_the_login_limit_setting_sets_when_failures_get_a_429(client):
    email = unique_email()
    await register(client, email=email)
    body = {"email": email, "password": "wrong-pass"}
    statuses = [(await client.post("/api/auth/login", json=body)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_the_register_limit_setting_limits_new_accounts_per_client(client):
    statuses = []
    for _ in range(3):
        response = await client.post(
            "/api/auth/register",
            json={"name": "Budi", "email": unique_email(), "password": "rahasia1"},
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 429]


async def test_the_register_page_says_when_the_limit_is_reached(client):
    for _ in range(2):
        await register(client)
    response = await client.post(
        "/register",
        form={"name": "Sari", "email": unique_email(), "password": "rahasia1"},
        headers=htmx(await csrf_token(client)),
    )
    assert "Too many attempts" in await text(response)


async def test_the_storefront_badge_reads_its_own_setting(client, backends, seeded):
    await update_product(backends, EC2, {"stock": 5})
    assert "Only 5 left" not in await text(await client.get(f"/products/{EC2}"))


async def test_the_badge_shows_at_its_setting(client, backends, seeded):
    await update_product(backends, EC2, {"stock": 3})
    assert "Only 3 left" in await text(await client.get(f"/products/{EC2}"))


async def test_the_page_register_form_refuses_a_control_character_name(client):
    response = await client.post(
        "/register",
        form={"name": "Bu\x07di", "email": unique_email(), "password": "rahasia1"},
        headers=htmx(await csrf_token(client)),
    )
    assert response.status_code == 422
