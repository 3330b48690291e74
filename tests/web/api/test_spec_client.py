"""The spec's own client works unchanged (issue 12, item 3): these tests replay the exact
request shapes of the original Cloud Store frontend (its profile and checkout pages and its
product and order lists), which sends and reads the saved address in flat `address_*` names,
computes an unrounded float total and never pages."""

from __future__ import annotations

import pytest

from cloudstore.shop.catalog import load_products
from tests.helpers import bearer, make_settings, register

LAMBDA = "PROD-LAMBDA-10M"  # 150 000 rupiah
ODD_PRICE = {
    "name": "Odd price",
    "description": "",
    "price": 123457,
    "category": "compute",
    "image_url": "",
    "stock": 10,
}
SPEC_ADDRESS = {
    "phone": "08123456789",
    "address_street": "Jl. Sudirman No. 123",
    "address_city": "Jakarta",
    "address_state": "DKI Jakarta",
    "address_postal_code": "12345",
}


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path):
    # One customer places more orders than a page used to hold (50).
    return make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data", max_pending_orders=100)


async def save_address(client, token: str, body: dict):
    return await client.put("/api/user/address", json=body, headers=bearer(token))


async def test_the_profile_pages_flat_address_is_saved_and_read_back_flat(client, customer_token):
    response = await save_address(client, customer_token, SPEC_ADDRESS)
    assert response.status_code == 200, await response.get_data(as_text=True)
    for path in ("/api/auth/verify", "/api/user/profile"):
        user = (await (await client.get(path, headers=bearer(customer_token))).get_json())["user"]
        assert {name: user[name] for name in SPEC_ADDRESS} == SPEC_ADDRESS, path
        assert user["address"]["address"] == "Jl. Sudirman No. 123"
        assert user["address"]["postal_code"] == "12345"


async def test_empty_strings_from_the_profile_form_mean_absent(client, customer_token):
    await save_address(client, customer_token, SPEC_ADDRESS)
    form = {**SPEC_ADDRESS, "phone": "", "address_state": "", "address_city": "Bandung"}
    response = await save_address(client, customer_token, form)
    assert response.status_code == 200, await response.get_data(as_text=True)
    user = (await response.get_json())["user"]
    assert user["phone"] == "08123456789"  # not sent, so kept
    assert user["address_city"] == "Bandung"


async def test_street_city_and_postal_code_stay_required(client, customer_token):
    for name, ours in (
        ("address_street", "address"),
        ("address_city", "city"),
        ("address_postal_code", "postal_code"),
    ):
        response = await save_address(client, customer_token, {**SPEC_ADDRESS, name: ""})
        assert response.status_code == 400
        error = (await response.get_json())["error"]
        assert error.startswith(f"{ours} is required"), error


async def test_flat_names_win_over_ours_and_over_a_nested_address(client, customer_token):
    body = {
        **SPEC_ADDRESS,
        "address": {"address": "Nested 1", "city": "Nested", "postal_code": "99999"},
        "city": "Ours",
    }
    user = (await (await save_address(client, customer_token, body)).get_json())["user"]
    assert user["address_street"] == "Jl. Sudirman No. 123"
    assert user["address_city"] == "Jakarta"
    assert user["address_postal_code"] == "12345"


async def test_a_nested_address_in_our_shape_is_accepted(client, customer_token):
    nested = {"address": {"address": "Jl. A 1", "city": "Medan", "postal_code": "20111"}}
    response = await save_address(client, customer_token, nested)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["user"]["address_city"] == "Medan"


async def test_the_checkout_pages_requests_place_the_order(client, backends, customer_token):
    """Its checkout saves the address with state "-", then posts the localStorage cart
    (with name, price and image_url) and `subtotal + subtotal * 0.11` as a float."""
    headers = bearer(customer_token)
    shipping = {
        "name": "Budi",
        "phone": "08123456789",
        "address": "Jl. Sudirman No. 123",
        "city": "Jakarta",
        "postal_code": "12345",
    }
    saved = await save_address(
        client,
        customer_token,
        {
            "phone": shipping["phone"],
            "address_street": shipping["address"],
            "address_city": shipping["city"],
            "address_state": "-",
            "address_postal_code": shipping["postal_code"],
        },
    )
    assert saved.status_code == 200, await saved.get_data(as_text=True)
    await load_products(backends, [{**ODD_PRICE, "product_id": "PROD-SPEC-ODD"}])
    cart = [
        {
            "product_id": "PROD-SPEC-ODD",
            "name": ODD_PRICE["name"],
            "price": 123457,
            "image_url": "",
            "quantity": 3,
        }
    ]
    subtotal = 123457.0 * 3
    total = subtotal + subtotal * 0.11  # as JavaScript computes it: 411111.81
    assert total != round(total)
    response = await client.post(
        "/api/orders",
        json={"items": cart, "total_amount": total, "shipping_address": shipping},
        headers=headers,
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    order = (await response.get_json())["data"]
    assert order["subtotal"] == 370371 and order["tax"] == 40741
    assert order["total_amount"] == 411112  # 40741.81 rounds up
    assert order["shipping_address"]["city"] == "Jakarta"


async def test_the_product_list_without_limit_is_the_whole_catalog(client, backends, seeded):
    extra = [
        {
            "product_id": f"PROD-SPEC-{n:03d}",
            "name": f"Spec product {n}",
            "description": "",
            "price": 1000 + n,
            "category": "compute",
            "image_url": "",
            "stock": 5,
        }
        for n in range(130)
    ]
    await load_products(backends, extra)
    body = await (await client.get("/api/products")).get_json()
    assert body["total"] == len(seeded) + 130
    assert body["count"] == body["total"] == len(body["data"])
    assert body["next_cursor"] is None


async def test_a_page_can_still_be_asked_for_and_the_limit_stays_bounded(client, seeded):
    body = await (await client.get("/api/products?limit=5")).get_json()
    assert body["count"] == 5 and body["next_cursor"] and body["total"] == len(seeded)
    assert (await client.get("/api/products?limit=1001")).status_code == 400
    assert (await client.get("/api/orders?limit=1001")).status_code in (400, 401)


async def test_the_order_history_without_limit_is_the_whole_history(client, seeded):
    token = await register(client)
    headers = bearer(token)
    placed = 55
    for _ in range(placed):
        response = await client.post(
            "/api/orders",
            json={
                "items": [{"product_id": LAMBDA, "quantity": 1}],
                "shipping_address": {
                    "name": "Budi",
                    "phone": "08123456789",
                    "address": "Jl. A 1",
                    "city": "Jakarta",
                    "postal_code": "12345",
                },
            },
            headers=headers,
        )
        assert response.status_code == 201, await response.get_data(as_text=True)
    body = await (await client.get("/api/orders", headers=headers)).get_json()
    assert body["count"] == placed == len(body["data"]) == body["total"]
    assert body["next_cursor"] is None
    page = await (await client.get("/api/orders?limit=10", headers=headers)).get_json()
    assert (page["count"], page["total"]) == (10, placed) and page["next_cursor"]
    limited = await (await client.get("/api/orders?limit=1001", headers=headers)).get_json()
    assert limited["success"] is False
