"""The anonymous cart of a visitor without JavaScript: a signed cookie (web/pages/cookie_cart.py),
kept by "Add to cart", shown on every page, merged into the saved cart at sign-in."""

from __future__ import annotations

import base64

from tests.helpers import PASSWORD, unique_email
from tests.helpers.pages import csrf_token, htmx, text

EC2 = "PROD-EC2-T3MEDIUM"
LAMBDA = "PROD-LAMBDA-10M"


def cart_cookie(client) -> str | None:
    for cookie in client.cookie_jar:
        if cookie.name == "cs_cart":
            return cookie.value
    return None


async def add(client, token: str, product_id: str, quantity: str = "1"):
    return await client.post(
        "/cart/items",
        form={"product_id": product_id, "quantity": quantity, "csrf_token": token},
    )


async def test_without_javascript_add_to_cart_keeps_the_item_in_a_signed_cookie(client, seeded):
    token = await csrf_token(client)
    response = await add(client, token, EC2, "2")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert cart_cookie(client)
    await add(client, token, LAMBDA)
    page = await text(await client.get("/cart"))
    assert "Amazon EC2 t3.medium Instance" in page and "AWS Lambda" in page
    assert 'class="count-badge">3<' in page
    catalog = await text(await client.get("/"))  # personal now: the header counts the cart
    assert 'class="count-badge">3<' in catalog


async def test_a_forged_or_oversized_cookie_is_an_empty_cart(client, seeded):
    token = await csrf_token(client)
    await add(client, token, EC2)
    value = cart_cookie(client)
    payload, signature = value.split(".")
    forged = base64.urlsafe_b64encode(f'[["{EC2}",99]]'.encode()).decode().rstrip("=")
    for bad in (f"{forged}.{signature}", f"{payload}.{'0' * 64}", "x" * 3500, "garbage"):
        client.set_cookie("localhost", "cs_cart", bad)
        page = await text(await client.get("/cart"))
        assert "Your cart is empty" in page, bad[:40]


async def test_changing_a_line_without_javascript_updates_the_cookie(client, seeded):
    token = await csrf_token(client)
    await add(client, token, EC2, "2")
    response = await client.post(f"/cart/items/{EC2}", form={"quantity": "0", "csrf_token": token})
    assert response.status_code == 303
    assert cart_cookie(client) is None  # an empty cart leaves no cookie
    assert "Your cart is empty" in await text(await client.get("/cart"))


async def test_signing_up_without_javascript_merges_the_cookie_cart(client, seeded):
    token = await csrf_token(client)
    await add(client, token, LAMBDA, "3")
    response = await client.post(
        "/register",
        form={
            "name": "Sari",
            "email": unique_email("nojs"),
            "password": PASSWORD,
            "next": "/checkout",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/checkout"
    assert cart_cookie(client) is None
    checkout = await text(await client.get("/checkout"))
    assert "AWS Lambda" in checkout and "Added 3 items from this browser" in checkout


async def test_with_javascript_the_script_takes_the_cookie_cart_over(client, seeded):
    token = await csrf_token(client)
    await add(client, token, LAMBDA)
    response = await client.post(
        "/cart/items", form={"product_id": EC2, "quantity": "1"}, headers=htmx(token)
    )
    assert '"product_id": "PROD-LAMBDA-10M"' in response.headers["HX-Trigger"]
    assert cart_cookie(client) is None
