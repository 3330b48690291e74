"""Validation messages are written for a person and say what to send (issue 11, item 11):
never a regular expression or pydantic's wording, and the same words on the pages and in the
API (`domain/field_messages.py`)."""

from __future__ import annotations

import re

import pytest

from cloudstore.domain.field_messages import FORMATS
from tests.helpers import ADDRESS, admin_headers, bearer, register, unique_email
from tests.helpers.pages import csrf_token, htmx, text

LAMBDA = "PROD-LAMBDA-10M"
# pydantic's own wording, or pieces of a pattern.
INTERNALS = re.compile(
    r"should|Input |Value error|pattern|Field required|String|\^|\$|\\|\[0-9|type=|validation"
)
ORDER = {"items": [{"product_id": LAMBDA, "quantity": 1}], "shipping_address": ADDRESS}
PRODUCT = {"name": "Widget", "category": "compute", "price": 150000, "stock": 1}


def order_with(**address) -> dict:
    return {**ORDER, "shipping_address": {**ADDRESS, **address}}


CASES = [
    # (who, method, path, body, expected message)
    (
        "customer",
        "POST",
        "/api/orders",
        order_with(phone="call me"),
        "shipping_address.phone " + FORMATS["phone"],
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        order_with(postal_code="!"),
        "shipping_address.postal_code " + FORMATS["postal_code"],
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        order_with(city=""),
        "shipping_address.city must not be empty",
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        order_with(city="Jakarta\x01"),
        "shipping_address.city must not be blank or hold control characters",
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        order_with(name="x" * 300),
        "shipping_address.name must be at most 255 characters",
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        {**ORDER, "items": []},
        "items must hold at least 1 item(s)",
    ),
    (
        "customer",
        "POST",
        "/api/orders",
        {**ORDER, "total_amount": "lots"},
        "total_amount " + FORMATS["total_amount"],
    ),
    ("customer", "POST", "/api/orders", {"items": ORDER["items"]}, "shipping_address is required"),
    (
        "customer",
        "PUT",
        "/api/user/address",
        {**ADDRESS, "phone": "12"},
        "phone " + FORMATS["phone"],
    ),
    (
        "customer",
        "POST",
        "/api/cart",
        {"items": [{"product_id": LAMBDA, "quantity": 0}]},
        "items.0.quantity must be a whole number from 1 to 99",
    ),
    (
        "customer",
        "POST",
        "/api/cart",
        {"items": [{"product_id": LAMBDA, "quantity": "2"}]},
        "items.0.quantity must be a whole number from 1 to 99",
    ),
    (
        "customer",
        "POST",
        "/api/cart",
        {"items": [{"product_id": "   ", "quantity": 1}]},
        "items.0.product_id must not be empty",
    ),
    ("customer", "POST", "/api/cart", {"items": "all of them"}, "items must be a list"),
    ("customer", "POST", "/api/cart", {"items": ["x"]}, "items.0 must be an object"),
    (
        "anyone",
        "POST",
        "/api/auth/register",
        {"name": "B", "email": "not-an-email", "password": "rahasia1"},
        "email " + FORMATS["email"],
    ),
    (
        "anyone",
        "POST",
        "/api/auth/register",
        {"name": "B", "email": "a@example.com", "password": "12345"},
        "password must be at least 6 characters",
    ),
    (
        "anyone",
        "POST",
        "/api/auth/register",
        {"name": "B", "email": "a@example.com"},
        "password is required",
    ),
    (
        "anyone",
        "POST",
        "/api/auth/register",
        {"name": 5, "email": "a@example.com", "password": "rahasia1"},
        "name must be text",
    ),
    (
        "admin",
        "POST",
        "/api/admin/products",
        {**PRODUCT, "image_url": "javascript:alert(1)"},
        "image_url " + FORMATS["image_url"],
    ),
    (
        "admin",
        "POST",
        "/api/admin/products",
        {**PRODUCT, "price": "150000"},
        "price " + FORMATS["price"],
    ),
    (
        "admin",
        "POST",
        "/api/admin/products",
        {**PRODUCT, "price": -1},
        "price " + FORMATS["price"] + ", at most 1000000000000",
    ),
    (
        "admin",
        "POST",
        "/api/admin/products",
        {**PRODUCT, "stock": -1},
        "stock must be a whole number from 0 to 10000000",
    ),
    (
        "admin",
        "POST",
        f"/api/admin/products/{LAMBDA}/stock",
        {"delta": 0},
        "delta must not be zero",
    ),
    (
        "admin",
        "POST",
        "/api/admin/orders/ORD-X/status",
        {"status": "lost"},
        "status must be one of pending, paid, shipped, delivered or cancelled",
    ),
]


@pytest.fixture(scope="module")
async def headers(module_app, seed_products) -> dict:
    from cloudstore.shop.catalog import load_products

    await load_products(module_app.extensions["cloudstore"], seed_products)
    return {
        "anyone": {},
        "customer": bearer(await register(module_app.test_client())),
        "admin": await admin_headers(module_app),
    }


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "expected"), CASES, ids=[c[4][:40] for c in CASES]
)
async def test_each_validation_message_says_what_to_send_in_plain_words(
    module_app, headers, who, method, path, body, expected
):
    response = await module_app.test_client().open(
        path, method=method, json=body, headers=headers[who]
    )
    error = (await response.get_json())["error"]
    assert response.status_code == 400
    assert error == expected
    assert not INTERNALS.search(error), error


@pytest.mark.parametrize("query", [{"sort": "cheapest"}, {"limit": "0"}, {"limit": "many"}])
async def test_query_string_messages_are_plain_too(module_app, query):
    response = await module_app.test_client().get("/api/products", query_string=query)
    error = (await response.get_json())["error"]
    assert response.status_code == 400
    assert not INTERNALS.search(error), error
    assert error.startswith(next(iter(query)) + " must be ")


async def test_the_checkout_page_says_the_same_about_a_phone_as_the_api(module_app, headers):
    client = module_app.test_client()
    client.set_cookie("localhost", "cs_session", headers["customer"]["Authorization"][7:])
    token = await csrf_token(client)
    await client.post("/api/cart", json={"items": ORDER["items"]}, headers=headers["customer"])
    page = await client.post(
        "/checkout", form={**ADDRESS, "phone": "call me"}, headers=htmx(token, current="/checkout")
    )
    assert "Phone " + FORMATS["phone"] + "." in await text(page)
    api = await client.post(
        "/api/orders", json=order_with(phone="call me"), headers=headers["customer"]
    )
    assert (await api.get_json())["error"] == "shipping_address.phone " + FORMATS["phone"]


async def test_the_register_page_says_the_same_about_an_email_as_the_api(module_app):
    client = module_app.test_client()
    token = await csrf_token(client)
    page = await client.post(
        "/register",
        form={"name": "Sari", "email": "not-an-email", "password": "rahasia1", "next": "/"},
        headers=htmx(token),
    )
    assert "Email " + FORMATS["email"] + "." in await text(page)
    api = await client.post(
        "/api/auth/register",
        json={"name": "Sari", "email": "not-an-email", "password": "rahasia1"},
    )
    assert (await api.get_json())["error"] == "email " + FORMATS["email"]


async def test_the_profile_page_says_the_same_about_a_postal_code_as_the_api(module_app):
    client = module_app.test_client()
    token = await register(client, email=unique_email())
    client.set_cookie("localhost", "cs_session", token)
    csrf = await csrf_token(client)
    page = await client.post(
        "/profile", form={**ADDRESS, "postal_code": "!"}, headers=htmx(csrf, current="/profile")
    )
    assert "Postal code " + FORMATS["postal_code"] + "." in await text(page)


async def test_the_admin_form_says_the_same_about_stock_as_the_api(module_app, headers):
    from cloudstore.shop.accounts import create_admin

    client = module_app.test_client()
    email = unique_email("admin")
    await create_admin(
        module_app.extensions["cloudstore"], email=email, password="pass-word-1", name="A"
    )
    login = await client.post("/api/auth/login", json={"email": email, "password": "pass-word-1"})
    client.set_cookie("localhost", "cs_session", (await login.get_json())["token"])
    token = await csrf_token(client)
    form = {"name": "Widget", "category": "compute", "price": "150000", "stock": "-1"}
    page = await client.post("/admin/products", form=form, headers=htmx(token))
    assert "Stock must be a whole number from 0 to 10000000." in await text(page)
    api = await client.post(
        "/api/admin/products", json={**PRODUCT, "stock": -1}, headers=headers["admin"]
    )
    assert (await api.get_json())["error"] == "stock must be a whole number from 0 to 10000000"


async def test_a_missing_or_too_long_address_field_reads_the_same_on_the_page_and_the_api(
    module_app,
):
    client = module_app.test_client()
    token = await register(client, email=unique_email())
    client.set_cookie("localhost", "cs_session", token)
    csrf = await csrf_token(client)
    form = {**ADDRESS, "city": "", "state": "x" * 121}
    body = await text(
        await client.post("/profile", form=form, headers=htmx(csrf, current="/profile"))
    )
    assert "City is required." in body
    assert "State must be at most 120 characters." in body
    api = await client.put("/api/user/address", json={**ADDRESS, "city": ""}, headers=bearer(token))
    assert (await api.get_json())["error"] == "city is required"
    api = await client.put(
        "/api/user/address", json={**ADDRESS, "state": "x" * 121}, headers=bearer(token)
    )
    assert (await api.get_json())["error"] == "state must be at most 120 characters"


async def test_a_quantity_reads_the_same_on_the_page_the_script_and_the_api(module_app):
    client = module_app.test_client()
    token = await register(client, email=unique_email())
    page = await text(await client.get("/cart"))
    words = "Quantity " + FORMATS["quantity"] + "."
    assert f'data-quantity-message="{words}"' in page  # what static/js/feedback.js says
    api = await client.post(
        "/api/cart",
        json={"items": [{"product_id": LAMBDA, "quantity": 100}]},
        headers=bearer(token),
    )
    assert (await api.get_json())["error"] == "items.0.quantity " + FORMATS["quantity"]
