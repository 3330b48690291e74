"""GET/POST/DELETE /api/cart: the saved cart, priced from the current catalog."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from cloudstore.shop.catalog import load_products, update_product
from tests.helpers import bearer, register

# One app for the whole module, the catalog loaded once; each test has its own customer (and
# so its own cart).
HALF = "CART-HALF-150"  # price 150: 11% tax is 16.5, which rounds half-up to 17
CHEAP = "CART-CHEAP-1000"
MOVING = "CART-PRICE-MOVES"
EXTRA = [
    {
        "product_id": HALF,
        "name": "Half rupiah tax",
        "description": "Harga 150",
        "price": 150,
        "category": "compute",
        "stock": 20,
    },
    {
        "product_id": CHEAP,
        "name": "Cheap thing",
        "description": "Harga 1000",
        "price": 1000,
        "category": "storage",
        "stock": 5,
    },
    {
        "product_id": MOVING,
        "name": "Price moves",
        "description": "Harga berubah",
        "price": 5000,
        "category": "networking",
        "stock": 5,
    },
]


@pytest.fixture(scope="module")
def settings(module_settings):
    return module_settings


@pytest.fixture(scope="module")
async def app(module_app, seed_products):
    await load_products(module_app.extensions["cloudstore"], seed_products + EXTRA)
    return module_app


@pytest.fixture(scope="module")
def catalog(seed_products) -> dict[str, dict]:
    return {p["product_id"]: p for p in seed_products + EXTRA}


@pytest.fixture
async def headers(client) -> dict:
    return bearer(await register(client))


def items(*lines) -> dict:
    return {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines]}


def half_up_tax(subtotal: int) -> int:
    return int((Decimal(subtotal) * Decimal("0.11")).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def get_cart(client, headers) -> dict:
    response = await client.get("/api/cart", headers=headers)
    assert response.status_code == 200
    return (await response.get_json())["data"]


async def test_a_new_customers_cart_is_empty(client, headers):
    response = await client.get("/api/cart", headers=headers)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["success"] is True
    assert body["data"]["items"] == []
    assert (body["data"]["subtotal"], body["data"]["tax"], body["data"]["total"]) == (0, 0, 0)
    assert body["data"]["item_count"] == 0 and body["data"]["currency"] == "IDR"


async def test_post_returns_lines_enriched_from_the_catalog(client, headers, catalog):
    response = await client.post(
        "/api/cart", json=items(("PROD-EC2-T3MEDIUM", 2), (CHEAP, 1)), headers=headers
    )
    assert response.status_code == 200
    cart = (await response.get_json())["data"]
    lines = {line["product_id"]: line for line in cart["items"]}
    assert list(lines) == ["PROD-EC2-T3MEDIUM", CHEAP]
    ec2 = catalog["PROD-EC2-T3MEDIUM"]
    line = lines["PROD-EC2-T3MEDIUM"]
    assert line["name"] == ec2["name"] and line["price"] == ec2["price"]
    assert line["stock"] == ec2["stock"] and line["quantity"] == 2
    assert line["line_total"] == 2 * ec2["price"]
    assert all(isinstance(line[k], int) for k in ("price", "stock", "quantity", "line_total"))


async def test_cart_totals_are_subtotal_plus_11_percent_tax(client, headers, catalog):
    cart = (
        await (
            await client.post(
                "/api/cart", json=items(("PROD-EC2-T3MEDIUM", 2), (CHEAP, 3)), headers=headers
            )
        ).get_json()
    )["data"]
    subtotal = 2 * catalog["PROD-EC2-T3MEDIUM"]["price"] + 3 * 1000
    assert cart["subtotal"] == subtotal
    assert cart["tax"] == half_up_tax(subtotal)
    assert cart["total"] == subtotal + cart["tax"]
    assert cart["item_count"] == 5


async def test_tax_rounds_half_up_to_whole_rupiah(client, headers):
    cart = (
        await (await client.post("/api/cart", json=items((HALF, 1)), headers=headers)).get_json()
    )["data"]
    assert cart["subtotal"] == 150 and cart["tax"] == 17 and cart["total"] == 167


async def test_saved_cart_is_returned_by_get(client, headers):
    posted = await client.post("/api/cart", json=items((CHEAP, 2)), headers=headers)
    assert await get_cart(client, headers) == (await posted.get_json())["data"]


async def test_post_replaces_the_saved_cart(client, headers):
    await client.post("/api/cart", json=items((CHEAP, 2)), headers=headers)
    await client.post("/api/cart", json=items((HALF, 1)), headers=headers)
    cart = await get_cart(client, headers)
    assert [(line["product_id"], line["quantity"]) for line in cart["items"]] == [(HALF, 1)]


async def test_the_same_product_twice_merges_into_one_line(client, headers):
    response = await client.post("/api/cart", json=items((HALF, 2), (HALF, 3)), headers=headers)
    assert response.status_code == 200
    cart = (await response.get_json())["data"]
    assert [(line["product_id"], line["quantity"]) for line in cart["items"]] == [(HALF, 5)]
    assert cart["subtotal"] == 750


async def test_unknown_product_is_404_and_keeps_the_saved_cart(client, headers):
    await client.post("/api/cart", json=items((CHEAP, 1)), headers=headers)
    response = await client.post(
        "/api/cart", json=items((CHEAP, 2), ("NOPE-123", 1)), headers=headers
    )
    assert response.status_code == 404
    body = await response.get_json()
    assert body["success"] is False and "NOPE-123" in body["error"]
    cart = await get_cart(client, headers)
    assert [(line["product_id"], line["quantity"]) for line in cart["items"]] == [(CHEAP, 1)]


@pytest.mark.parametrize("quantity", [0, 100, -1, 1.5, "2", True, None], ids=repr)
async def test_quantity_must_be_an_integer_from_1_to_99(client, headers, quantity):
    response = await client.post("/api/cart", json=items((CHEAP, quantity)), headers=headers)
    assert response.status_code == 400
    body = await response.get_json()
    assert body["success"] is False and "quantity" in body["error"]


async def test_quantity_99_is_accepted(client, headers):
    response = await client.post("/api/cart", json=items((HALF, 99)), headers=headers)
    assert response.status_code == 200


async def test_posting_no_items_empties_the_cart(client, headers):
    await client.post("/api/cart", json=items((CHEAP, 1)), headers=headers)
    response = await client.post("/api/cart", json={"items": []}, headers=headers)
    assert response.status_code == 200
    assert (await get_cart(client, headers))["items"] == []


async def test_delete_clears_the_cart(client, headers):
    await client.post("/api/cart", json=items((CHEAP, 1), (HALF, 2)), headers=headers)
    response = await client.delete("/api/cart", headers=headers)
    assert response.status_code == 200
    assert (await response.get_json())["success"] is True
    cart = await get_cart(client, headers)
    assert cart["items"] == [] and cart["total"] == 0


async def test_each_customer_has_their_own_cart(client, headers):
    await client.post("/api/cart", json=items((CHEAP, 1)), headers=headers)
    other = bearer(await register(client))
    assert (await get_cart(client, other))["items"] == []


async def test_cart_lines_show_the_current_price_after_a_change(client, headers, backends):
    await client.post("/api/cart", json=items((MOVING, 1)), headers=headers)
    await update_product(backends, MOVING, {"price": 123456})
    line = (await get_cart(client, headers))["items"][0]
    assert line["price"] == 123456 and line["line_total"] == 123456


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_the_cart_needs_a_logged_in_user(client, method):
    body = items((CHEAP, 1)) if method == "POST" else None
    response = await client.open("/api/cart", method=method, json=body)
    assert response.status_code == 401
    assert (await response.get_json())["success"] is False
