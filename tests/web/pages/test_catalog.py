"""The catalog and product pages: full pages, htmx fragments, and the no-JS forms."""

from __future__ import annotations

import re

from tests.helpers.pages import htmx, is_fragment, text


async def test_catalog_page_lists_products_with_idr_prices_and_stock(client, seeded):
    response = await client.get("/")
    body = await text(response)
    assert response.status_code == 200
    assert response.headers["Vary"] == "HX-Request"
    assert "<html" in body and 'id="results"' in body
    assert "18 products" in body
    assert re.search(r"Rp \d{1,3}(\.\d{3})+ <span class=\"ppn\">\+ PPN 11%<", body)
    assert "Rp 650.000" in await text(await client.get("/?q=t3.medium"))
    assert "In stock" in body
    assert 'name="htmx-config"' in body


async def test_search_fragment_has_no_layout_and_pushes_a_clean_url(client, seeded):
    headers = {**htmx(), "HX-Target": "results"}
    response = await client.get("/?q=postgresql&category=&sort=newest", headers=headers)
    body = await text(response)
    assert is_fragment(body)
    assert 'id="results"' in body and "PostgreSQL" in body
    assert response.headers["HX-Push-Url"] == "/?q=postgresql"
    assert response.headers["Vary"] == "HX-Request"


async def test_no_js_get_form_filters_server_side(client, seeded):
    response = await client.get("/?q=amazon&category=database&sort=price_asc")
    body = await text(response)
    assert "<html" in body
    assert 'option value="database" selected' in body
    assert 'value="amazon"' in body
    assert "Amazon RDS" in body or "Aurora" in body
    assert "EC2" not in body.split('id="results"')[1]  # compute is filtered out


async def test_unknown_category_and_sort_fall_back_to_all(client, seeded):
    body = await text(await client.get("/?category=toys&sort=random"))
    assert "18 products" in body


def _attribute(html: str, name: str) -> str:
    value = html.split('id="load-more"')[1].split(f'{name}="')[1].split('"')[0]
    return value.replace("&amp;", "&")


async def test_load_more_uses_the_cursor_and_returns_only_items(client, seeded):
    first = await text(await client.get("/"))
    assert 'id="load-more"' in first
    more_url = _attribute(first, "hx-get")
    response = await client.get(more_url, headers={**htmx(), "HX-Target": "load-more"})
    body = await text(response)
    assert is_fragment(body)
    assert body.count('class="product-card') == 6  # 18 products, 12 per page
    assert 'id="load-more"' not in body


async def test_load_more_puts_the_pages_loaded_in_the_address_bar(client, seeded):
    """So that Back (or a reload, or no JavaScript) rebuilds the whole list loaded."""
    first = await text(await client.get("/?category=&sort=price_asc"))
    assert _attribute(first, "hx-push-url") == "/?sort=price_asc&pages=2"
    assert _attribute(first, "href") == "/?sort=price_asc&pages=2"
    again = await text(await client.get("/?sort=price_asc&pages=2"))
    assert "<html" in again and again.count('class="product-card') == 18
    assert (await client.get("/?pages=999")).status_code == 200  # bounded, never an error


async def test_product_page_and_fragment(client, seeded):
    response = await client.get("/products/PROD-EC2-T3MEDIUM")
    body = await text(response)
    assert response.status_code == 200
    assert "<h1>Amazon EC2 t3.medium Instance</h1>" in body
    assert "Add to cart" in body and "Rp 650.000" in body
    fragment = await text(await client.get("/products/PROD-EC2-T3MEDIUM", headers=htmx()))
    assert is_fragment(fragment) and "Amazon EC2 t3.medium Instance" in fragment


async def test_unknown_product_is_a_styled_404_page(client, seeded):
    response = await client.get("/products/PROD-NOPE")
    body = await text(response)
    assert response.status_code == 404
    assert "<html" in body and "Back to the shop" in body and "site-header" in body


async def test_spec_product_url_redirects(client, seeded):
    response = await client.get("/product/PROD-EC2-T3MEDIUM")
    assert response.status_code == 301
    assert response.headers["Location"] == "/products/PROD-EC2-T3MEDIUM"


async def test_product_text_is_escaped(client, backends, seeded):
    from cloudstore.shop.catalog import create_product

    product = await create_product(
        backends,
        {"name": "<script>alert(1)</script>", "price": 1000, "category": "compute", "stock": 1},
    )
    body = await text(await client.get(f"/products/{product.product_id}"))
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def test_history_restore_gets_the_full_page(client, seeded):
    headers = {**htmx(), "HX-History-Restore-Request": "true", "HX-Target": "results"}
    body = await text(await client.get("/?q=s3", headers=headers))
    assert "<html" in body
