"""Catalog grids and product panels are rendered once per snapshot and shared: each visitor
still gets their own CSRF token, and a catalog change shows on the next page."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from cloudstore.shop.catalog import adjust_stock, create_product, update_product
from cloudstore.web.pages.common import NOTICE_COOKIE, csrf_token
from cloudstore.web.pages.fragment_cache import TOKEN_PLACEHOLDER, shared_fragment
from tests.helpers.pages import TOKEN, htmx, sign_up, text

CARD_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def page_token(body: str) -> str:
    return TOKEN.search(body.replace("&#34;", '"')).group(1)


@pytest.mark.parametrize("path", ["/", "/?q=storage", "/products/PROD-EC2-T3MEDIUM"])
async def test_each_anonymous_visitor_gets_their_own_token_in_a_shared_page(app, seeded, path):
    first, second = app.test_client(), app.test_client()
    bodies = [await text(await client.get(path)) for client in (first, second)]
    tokens = [page_token(body) for body in bodies]
    assert tokens[0] != tokens[1]
    for body, token in zip(bodies, tokens, strict=True):
        assert set(CARD_TOKEN.findall(body)) == {token}
        assert TOKEN_PLACEHOLDER not in body


async def test_a_signed_in_visitor_never_gets_the_anonymous_page(app, seeded):
    anonymous, shopper = app.test_client(), app.test_client()
    assert "Log in" in await text(await anonymous.get("/"))  # now cached for anonymous visitors
    await sign_up(shopper, name="Sari Dewi")
    body = await text(await shopper.get("/"))
    assert "Log out" in body and "Log in" not in body
    assert set(CARD_TOKEN.findall(body)) == {page_token(body)}
    assert "Log out" not in await text(await anonymous.get("/"))


async def test_a_pending_notice_is_shown_on_a_catalog_page(client, seeded):
    await client.get("/")  # the anonymous page, cached
    notice = quote(json.dumps({"kind": "success", "text": "See you soon"}))
    body = await text(await client.get("/", headers={"Cookie": f"{NOTICE_COOKIE}={notice}"}))
    assert "See you soon" in body


async def test_search_fragment_carries_the_visitors_token(client, seeded):
    token = page_token(await text(await client.get("/")))
    headers = {**htmx(token), "HX-Target": "results"}
    body = await text(await client.get("/?q=storage", headers=headers))
    assert set(CARD_TOKEN.findall(body)) == {token}


async def test_a_stock_change_shows_on_the_next_catalog_page(client, backends, seeded):
    assert "In stock" in await text(await client.get("/?q=t3.medium"))
    product = await backends.catalog.fetch("PROD-EC2-T3MEDIUM")
    await adjust_stock(backends, "PROD-EC2-T3MEDIUM", 3 - product.stock)
    assert "Only 3 left" in await text(await client.get("/?q=t3.medium"))


async def test_a_price_change_shows_on_the_next_product_page(client, backends, seeded):
    assert "Rp 650.000" in await text(await client.get("/products/PROD-EC2-T3MEDIUM"))
    await update_product(backends, "PROD-EC2-T3MEDIUM", {"price": 700000})
    body = await text(await client.get("/products/PROD-EC2-T3MEDIUM"))
    assert "Rp 700.000" in body and "Rp 650.000" not in body


async def test_a_new_product_shows_on_the_next_catalog_page(client, backends, seeded):
    assert "18 products" in await text(await client.get("/"))
    await create_product(
        backends, {"name": "Fresh Instance", "price": 1000, "category": "compute", "stock": 4}
    )
    body = await text(await client.get("/"))
    assert "19 products" in body and "Fresh Instance" in body


async def test_shared_html_holding_a_visitors_real_token_is_refused(app):
    async with app.test_request_context("/"):
        token = csrf_token()

        async def leaky() -> str:  # e.g. a token read before the placeholder was set
            return f'<input value="{token}">'

        with pytest.raises(RuntimeError, match="CSRF token reached shared HTML"):
            await shared_fragment(object(), "leaky", leaky)
