"""Catalog answers are computed once per snapshot and shared: each visitor still gets their own
CSRF token, nothing about one visitor reaches another, and a catalog change shows on the next
page."""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from jinja2 import ChoiceLoader, DictLoader
from quart import g

from cloudstore.shop.catalog import adjust_stock, create_product, update_product
from cloudstore.web.html.catalog_answers import (
    EXTENSION_KEY,
    TOKEN_PLACEHOLDER,
    CatalogQuery,
    SharedHtml,
    SharedRenderError,
    shared_html,
)
from cloudstore.web.html.csrf import csrf_token
from cloudstore.web.html.rendering import render, sync_environment
from cloudstore.web.html.responses import NOTICE_COOKIE
from tests.helpers.pages import TOKEN, htmx, sign_up, text

CARD_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
# Everything a page knows about its visitor, as a template inside a cached block might use it.
VISITOR_PROBE = (
    "{% if user.is_admin %}admin-only {% endif %}"
    "[{{ user.name if user }}][{{ cart.item_count if cart }}][{{ notice.text if notice }}]"
)
NOTICE = quote(json.dumps({"kind": "info", "text": "Welcome back, Ratna"}))


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


@pytest.fixture
def probe(app, monkeypatch) -> dict[str, str]:
    """Templates of the test's own (name -> source), found before the app's."""
    templates: dict[str, str] = {}
    environment = sync_environment(app)
    loader = ChoiceLoader([DictLoader(templates), environment.loader])
    monkeypatch.setattr(environment, "loader", loader)
    return templates


@asynccontextmanager
async def admin_visit(app):
    """A request from a signed-in admin with a cart and a notice to show."""
    async with app.test_request_context("/", headers={"Cookie": f"{NOTICE_COOKIE}={NOTICE}"}):
        g.user = SimpleNamespace(name="Ratna Admin", is_admin=True)
        g.cart = SimpleNamespace(item_count=4242)
        yield


async def test_the_probe_shows_the_visitor_in_a_page_of_their_own(app, probe):
    probe["shared/probe.html"] = VISITOR_PROBE
    async with admin_visit(app):
        html = await render("shared/probe.html")
    assert html == "admin-only [Ratna Admin][4242][Welcome back, Ratna]"


async def test_a_user_specific_value_cannot_reach_shared_html(app, probe):
    probe["shared/probe.html"] = VISITOR_PROBE
    async with admin_visit(app):
        key = SharedHtml.here("shared/probe.html", CatalogQuery())
        html = await shared_html(object(), key, dict)
    assert html == "[][][]"


@pytest.mark.parametrize("source", ["{{ g.user }}", "{{ request.cookies }}", "{{ session.x }}"])
async def test_shared_html_may_not_read_the_request(app, probe, source):
    probe["shared/probe.html"] = source
    async with admin_visit(app):
        key = SharedHtml.here("shared/probe.html", CatalogQuery())
        with pytest.raises(SharedRenderError, match="shared HTML may not read"):
            await shared_html(object(), key, dict)


async def test_shared_html_holding_a_visitors_real_token_is_refused(app, probe):
    probe["shared/leaky.html"] = '<input value="{{ leaked }}">'  # e.g. a token read too early
    async with app.test_request_context("/"):
        token = csrf_token()
        key = SharedHtml.here("shared/leaky.html", CatalogQuery())
        with pytest.raises(SharedRenderError, match="CSRF token reached shared HTML"):
            await shared_html(object(), key, lambda: {"leaked": token})


@pytest.mark.parametrize(
    ("first", "second", "cache"),
    [
        ("/?q=storage&sort=name", "/?sort=name&q=storage", "html"),
        ("/api/products?limit=5&sort=name", "/api/products?sort=name&limit=5", "json"),
    ],
)
async def test_the_same_question_in_another_order_is_answered_from_one_entry(
    app, client, seeded, first, second, cache
):
    await client.get(first)
    entries = getattr(app.extensions[EXTENSION_KEY], cache)
    kept = len(entries)
    await client.get(second)
    assert len(entries) == kept
