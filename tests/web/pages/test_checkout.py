"""Checkout in the browser: login first, the server's summary, stock and double submits."""

from __future__ import annotations

import html
import re

from cloudstore.domain.cart import CartLine
from cloudstore.shop.catalog import update_product
from tests.helpers import ADDRESS
from tests.helpers.pages import csrf_token, htmx, is_fragment, sign_up, text

EC2 = "PROD-EC2-T3MEDIUM"  # Rp 650.000


async def signed_in_with_cart(client, backends, lines):
    email = await sign_up(client)
    user = await backends.users.by_email(email)
    await backends.carts.save(user.user_id, lines)
    return user


def idempotency_key(body: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', body).group(1)


def shown(body: str) -> dict:
    """The hidden fields the page's form posts: its key and the summary it showed."""
    seen = html.unescape(re.search(r'name="seen" value="([^"]*)"', body).group(1))
    return {"idempotency_key": idempotency_key(body), "seen": seen}


async def test_checkout_redirects_to_login_and_back(client, seeded):
    response = await client.get("/checkout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Fcheckout"
    login = await text(await client.get(response.headers["Location"]))
    assert 'name="next" value="/checkout"' in login


async def test_checkout_page_prefills_and_summarises(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 2)])
    await backends.users.update_profile(user.user_id, phone="+62 811 222 333", address="Jl. A 1")
    backends.user_cache.forget(user.user_id)
    body = await text(await client.get("/checkout"))
    assert 'value="+62 811 222 333"' in body and 'value="Jl. A 1"' in body
    assert "Rp 1.443.000" in body and "Place order" in body
    assert 'hx-disabled-elt="#place-order"' in body
    assert idempotency_key(body)
    fragment = await text(await client.get("/checkout", headers=htmx()))
    assert is_fragment(fragment) and 'id="checkout-main"' in fragment


async def test_place_order_then_confirmation_and_history(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 2)])
    page = await text(await client.get("/checkout"))
    token = await csrf_token(client)
    response = await client.post(
        "/checkout",
        form={**ADDRESS, **shown(page), "save_address": "on"},
        headers=htmx(token),
    )
    location = response.headers["HX-Redirect"]
    assert location.startswith("/orders/ORD-")
    confirmation = await text(await client.get(location))
    assert "Thank you! Your order is placed." in confirmation
    assert "Rp 1.443.000" in confirmation and "Jl. Sudirman No. 1" in confirmation
    assert (await backends.catalog.fetch(EC2)).stock == 118
    assert await backends.carts.get(user.user_id) == []
    saved = await backends.users.by_id(user.user_id)
    assert saved.address == ADDRESS["address"] and saved.postal_code == ADDRESS["postal_code"]


async def test_double_submit_with_the_same_key_places_one_order(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 1)])
    page = await text(await client.get("/checkout"))
    token = await csrf_token(client)
    form = {**ADDRESS, **shown(page)}
    first = await client.post("/checkout", form=form, headers=htmx(token))
    second = await client.post("/checkout", form=form, headers=htmx(token))
    assert first.headers["HX-Redirect"] == second.headers["HX-Redirect"]
    orders, _ = await backends.orders.list_for_user(user.user_id)
    assert len(orders) == 1
    assert (await backends.catalog.fetch(EC2)).stock == 119


async def test_out_of_stock_is_shown_in_the_page_with_the_updated_summary(client, backends, seeded):
    await signed_in_with_cart(client, backends, [CartLine(EC2, 3)])
    key = idempotency_key(await text(await client.get("/checkout")))
    await update_product(backends, EC2, {"stock": 2})
    token = await csrf_token(client)
    response = await client.post(
        "/checkout", form={**ADDRESS, "idempotency_key": key}, headers=htmx(token)
    )
    body = await text(response)
    assert response.status_code == 409 and is_fragment(body)
    assert "Your cart changed" in body
    assert "Only 2 left of Amazon EC2 t3.medium Instance" in body
    assert "Rp 2.164.500" in body  # 3 × 650.000 + 11%: the summary as it stands
    assert 'value="Jl. Sudirman No. 1"' in body  # the form keeps what was typed
    assert idempotency_key(body) != key


async def test_shipping_errors_are_inline(client, backends, seeded):
    await signed_in_with_cart(client, backends, [CartLine(EC2, 1)])
    token = await csrf_token(client)
    response = await client.post(
        "/checkout",
        form={"name": "Budi", "phone": "abc", "idempotency_key": "k1"},
        headers=htmx(token),
    )
    body = await text(response)
    assert response.status_code == 422
    for name in ("phone", "address", "city", "postal_code"):
        assert f'id="e-{name}"' in body


async def test_empty_cart_checkout_says_so(client, backends, seeded):
    await signed_in_with_cart(client, backends, [])
    body = await text(await client.get("/checkout"))
    assert "Your cart is empty" in body and "Place order" not in body


async def test_orders_are_listed_newest_first(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 1)])
    token = await csrf_token(client)
    ids = []
    for _ in range(3):
        await backends.carts.save(user.user_id, [CartLine(EC2, 1)])
        page = await text(await client.get("/checkout"))
        response = await client.post(
            "/checkout", form={**ADDRESS, **shown(page)}, headers=htmx(token)
        )
        ids.append(response.headers["HX-Redirect"].rsplit("/", 1)[1])
    body = await text(await client.get("/orders"))
    positions = [body.index(order_id) for order_id in ids]
    assert positions == sorted(positions, reverse=True)
    fragment = await text(await client.get("/orders", headers=htmx()))
    assert is_fragment(fragment) and ids[0] in fragment


async def test_someone_elses_order_is_a_404_page(client, backends, seeded):
    await sign_up(client)
    response = await client.get("/orders/ORD-01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert response.status_code == 404 and "<html" in await text(response)


async def test_a_price_raised_after_the_page_was_shown_places_no_order_and_says_so(
    client, backends, seeded
):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 2)])
    page = await text(await client.get("/checkout"))
    await update_product(backends, EC2, {"price": 700000})
    token = await csrf_token(client)
    response = await client.post("/checkout", form={**ADDRESS, **shown(page)}, headers=htmx(token))
    body = await text(response)
    assert response.status_code == 409
    assert "Your order was not placed" in body
    assert "the price went from Rp 650.000 to Rp 700.000" in body
    assert "The total went from Rp 1.443.000 to Rp 1.554.000" in body
    orders, _ = await backends.orders.list_for_user(user.user_id)
    assert orders == []
    assert (await backends.catalog.fetch(EC2)).stock == 120


async def test_after_a_change_the_page_places_the_order_it_now_shows(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 2)])
    page = await text(await client.get("/checkout"))
    await update_product(backends, EC2, {"price": 700000})
    token = await csrf_token(client)
    refused = await client.post("/checkout", form={**ADDRESS, **shown(page)}, headers=htmx(token))
    placed = await client.post(
        "/checkout", form={**ADDRESS, **shown(await text(refused))}, headers=htmx(token)
    )
    assert placed.headers["HX-Redirect"].startswith("/orders/ORD-")
    orders, _ = await backends.orders.list_for_user(user.user_id)
    assert orders[0].total_amount == 1554000


async def test_a_line_added_in_another_tab_is_named_and_no_order_is_placed(
    client, backends, seeded
):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 1)])
    page = await text(await client.get("/checkout"))
    await backends.carts.save(user.user_id, [CartLine(EC2, 1), CartLine("PROD-LAMBDA-10M", 3)])
    token = await csrf_token(client)
    response = await client.post("/checkout", form={**ADDRESS, **shown(page)}, headers=htmx(token))
    assert response.status_code == 409
    assert "(× 3) was added to your cart" in await text(response)
    orders, _ = await backends.orders.list_for_user(user.user_id)
    assert orders == []


async def test_a_form_without_the_summary_it_showed_places_no_order(client, backends, seeded):
    user = await signed_in_with_cart(client, backends, [CartLine(EC2, 1)])
    page = await text(await client.get("/checkout"))
    token = await csrf_token(client)
    form = {**ADDRESS, "idempotency_key": idempotency_key(page)}
    response = await client.post("/checkout", form=form, headers=htmx(token))
    assert response.status_code == 409
    orders, _ = await backends.orders.list_for_user(user.user_id)
    assert orders == []
