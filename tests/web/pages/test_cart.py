"""The cart: the browser's copy before login, the Cart table after, and the merge between."""

from __future__ import annotations

import json

from cloudstore.domain.cart import CartLine
from tests.helpers.pages import csrf_token, htmx, is_fragment, sign_up, text

EC2 = "PROD-EC2-T3MEDIUM"  # Rp 650.000, stock 120


async def test_anonymous_add_returns_oob_swaps_and_the_cart_to_store(client, seeded):
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items",
        form={"product_id": EC2, "quantity": "2"},
        headers=htmx(token, cart=[]),
    )
    body = await text(response)
    assert response.status_code == 200 and is_fragment(body)
    assert 'id="cart-count"' in body and 'hx-swap-oob="innerHTML"' in body
    assert 'id="cart-drawer-body"' in body and "Amazon EC2 t3.medium Instance" in body
    assert "Added 2 × Amazon EC2 t3.medium Instance" in body
    event = json.loads(response.headers["HX-Trigger"])["cs:cart-store"]
    assert event == {"items": [{"product_id": EC2, "quantity": 2}]}


async def test_anonymous_add_builds_on_the_cart_the_browser_sent(client, seeded):
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items",
        form={"product_id": EC2, "quantity": "1"},
        headers=htmx(
            token, cart=[{"product_id": EC2, "quantity": 3}, {"product_id": "GONE", "quantity": 1}]
        ),
    )
    event = json.loads(response.headers["HX-Trigger"])["cs:cart-store"]
    assert event == {"items": [{"product_id": EC2, "quantity": 4}]}


async def test_cart_page_prices_lines_with_tax(client, seeded):
    cart = [{"product_id": EC2, "quantity": 2}]
    body = await text(await client.get("/cart", headers=htmx(cart=cart)))
    assert is_fragment(body) and 'id="cart-panel"' in body
    assert "Rp 1.300.000" in body  # subtotal and line total
    assert "Rp 143.000" in body  # 11% PPN
    assert "Rp 1.443.000" in body  # total
    full = await text(await client.get("/cart"))
    assert "<html" in full and "Your cart is empty" in full  # the browser fetches its copy


async def test_lines_above_stock_are_flagged(client, seeded, backends):
    from cloudstore.shop.catalog import update_product

    await update_product(backends, EC2, {"stock": 1})
    body = await text(
        await client.get("/cart", headers=htmx(cart=[{"product_id": EC2, "quantity": 3}]))
    )
    assert "Only 1 in stock" in body and "is-short" in body


async def test_malformed_browser_cart_counts_as_empty(client, seeded):
    headers = {**htmx(), "X-Cart": "{not json"}
    body = await text(await client.get("/cart", headers=headers))
    assert "Your cart is empty" in body


async def test_change_from_the_cart_page_also_swaps_the_panel(client, seeded):
    token = await csrf_token(client)
    cart = [{"product_id": EC2, "quantity": 2}]
    response = await client.post(
        f"/cart/items/{EC2}", form={"quantity": "5"}, headers=htmx(token, cart, current="/cart")
    )
    body = await text(response)
    assert 'id="cart-panel" class="cart-panel" hx-swap-oob="true"' in body
    assert json.loads(response.headers["HX-Trigger"])["cs:cart-store"]["items"][0]["quantity"] == 5
    removed = await client.post(
        f"/cart/items/{EC2}", form={"quantity": "0"}, headers=htmx(token, cart, current="/cart")
    )
    assert json.loads(removed.headers["HX-Trigger"])["cs:cart-store"] == {"items": []}


async def test_register_merges_the_browser_cart_into_the_saved_cart(client, backends, seeded):
    email = await sign_up(client, cart=[{"product_id": EC2, "quantity": 2}])
    user = await backends.users.by_email(email)
    saved = await backends.carts.get(user.user_id)
    assert [(line.product_id, line.quantity) for line in saved] == [(EC2, 2)]
    page = await text(await client.get("/"))
    assert "Added 2 items from this browser to your saved cart" in page
    assert 'data-cart-mode="server"' in page  # cart.js clears its copy
    assert '<span class="count-badge">2</span>' in page


async def test_login_merges_adding_quantities_to_the_saved_cart(client, backends, seeded):
    email = await sign_up(client)
    user = await backends.users.by_email(email)
    await backends.carts.save(user.user_id, [CartLine(EC2, 1)])
    token = await csrf_token(client)
    await client.post("/logout", headers=htmx(token))
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": email, "password": "rahasia1", "next": "/checkout"},
        headers=htmx(token, cart=[{"product_id": EC2, "quantity": 3}]),
    )
    assert response.headers["HX-Redirect"] == "/checkout"
    saved = await backends.carts.get(user.user_id)
    assert [(line.product_id, line.quantity) for line in saved] == [(EC2, 4)]


async def test_logged_in_changes_are_saved_to_the_cart_table(client, backends, seeded):
    email = await sign_up(client)
    user = await backends.users.by_email(email)
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items", form={"product_id": EC2, "quantity": "3"}, headers=htmx(token)
    )
    assert "HX-Trigger" not in response.headers  # nothing for the browser to keep
    assert [(li.product_id, li.quantity) for li in await backends.carts.get(user.user_id)] == [
        (EC2, 3)
    ]
    await client.post(f"/cart/items/{EC2}", form={"quantity": "0"}, headers=htmx(token))
    assert await backends.carts.get(user.user_id) == []


async def test_logout_keeps_the_saved_cart(client, backends, seeded):
    email = await sign_up(client, cart=[{"product_id": EC2, "quantity": 1}])
    user = await backends.users.by_email(email)
    token = await csrf_token(client)
    response = await client.post("/logout", headers=htmx(token))
    assert response.headers["HX-Redirect"] == "/"
    assert "cs_session=;" in response.headers["Set-Cookie"] or "Max-Age=0" in " ".join(
        response.headers.getlist("Set-Cookie")
    )
    assert len(await backends.carts.get(user.user_id)) == 1
    page = await text(await client.get("/"))
    assert 'data-cart-mode="local"' in page


async def test_no_js_logged_in_add_redirects_to_the_cart(client, backends, seeded):
    await sign_up(client)
    token = await csrf_token(client)
    response = await client.post(
        "/cart/items", form={"product_id": EC2, "quantity": "1", "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert "Amazon EC2 t3.medium Instance" in await text(await client.get("/cart"))


async def test_cross_site_post_without_csrf_token_is_refused(client, backends, seeded):
    await sign_up(client)
    for path, form in [
        ("/cart/items", {"product_id": EC2, "quantity": "1"}),
        ("/logout", {}),
        ("/profile", {"name": "Mallory"}),
        ("/checkout", {"name": "x"}),
    ]:
        response = await client.post(path, form=form)
        assert response.status_code == 403, path
        assert "expired" in await text(response)
    wrong = await client.post("/logout", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403


async def test_api_bearer_calls_need_no_csrf_token(client, customer_token, seeded):
    from tests.helpers import bearer

    response = await client.post(
        "/api/cart",
        json={"items": [{"product_id": EC2, "quantity": 1}]},
        headers=bearer(customer_token),
    )
    assert response.status_code == 200
