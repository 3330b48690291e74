"""The admin console (/admin): who may see it, products (create, inline edit, stock, delete,
low stock), orders through their lifecycle, the dashboard's numbers and chart, escaping,
and one audit line per admin write."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest

from cloudstore.domain.orders import OrderSummary
from cloudstore.web.admin import chart
from cloudstore.web.admin import products as admin_products
from tests.helpers import bearer, register
from tests.helpers import place_order as place
from tests.helpers.pages import as_admin, csrf_token, htmx, is_fragment, text

LAMBDA = "PROD-LAMBDA-10M"
HOSTILE = "<script>alert(1)</script><b>x</b>"
SAMPLE = {
    "product_id": LAMBDA,
    "order_id": "ORD-01J00000000000000000000000",
    "user_id": "USR-NOBODY",
}


# --- helpers --------------------------------------------------------------------------------


async def as_customer(app) -> tuple:
    client = app.test_client()
    token = await register(client)
    client.set_cookie("localhost", "cs_session", token)
    return client, token


def row_headers(token: str, target: str, current: str = "/admin/products") -> dict:
    return {**htmx(token, current=current), "HX-Target": target}


async def stock_of(client, product_id: str) -> int:
    body = await (await client.get(f"/api/products/{product_id}")).get_json()
    return body["data"]["stock"]


def audit_records(caplog) -> list:
    return [r for r in caplog.records if r.name == "cloudstore.audit"]


def admin_rules(app) -> list[tuple[str, str]]:
    """Every admin route and method, with sample values for its parameters."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", SAMPLE[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


async def create_via_form(client, token: str, **fields) -> str:
    form = {"name": "Widget", "category": "compute", "price": "150000", "stock": "3"}
    form.update(fields)
    response = await client.post("/admin/products", form=form, headers=htmx(token))
    assert response.status_code == 200, await text(response)
    assert response.headers["HX-Redirect"] == "/admin/products"
    snapshot = await client.app.extensions["cloudstore"].catalog.index()
    matches = [p for p in snapshot.query(q=form["name"], limit=50).items if p.name == form["name"]]
    assert len(matches) == 1
    return matches[0].product_id


# --- who may enter -----------------------------------------------------------------------------


async def test_every_admin_route_admits_only_admins(app, client, backends, seeded):
    rules = admin_rules(app)
    assert len(rules) >= 14, rules  # new routes join the matrix by themselves
    assert ("GET", "/admin") in rules
    assert ("POST", f"/admin/orders/{SAMPLE['order_id']}/status") in rules

    anonymous = app.test_client()
    anon_token = await csrf_token(anonymous)
    customer, _ = await as_customer(app)
    customer_token = await csrf_token(customer)
    admin_token = await as_admin(client, backends)

    problems = []
    for method, path in rules:
        headers = {"X-CSRF-Token": anon_token}
        reply = await anonymous.open(path, method=method, headers=headers)
        location = reply.headers.get("Location", "")
        if reply.status_code != 303 or not location.startswith("/login?next="):
            problems.append(("anonymous", method, path, reply.status_code, location))
        reply = await customer.open(path, method=method, headers={"X-CSRF-Token": customer_token})
        body = await text(reply)
        if reply.status_code != 403 or "That is not allowed" not in body:
            problems.append(("customer", method, path, reply.status_code))
        reply = await client.open(path, method=method, headers={"X-CSRF-Token": admin_token})
        denied = reply.status_code in (401, 403) or "/login" in reply.headers.get("Location", "")
        if denied or reply.status_code >= 500:
            problems.append(("admin", method, path, reply.status_code))
        if method == "GET" and "<id>" not in path and reply.status_code not in (200, 303, 404):
            problems.append(("admin page", method, path, reply.status_code))
    assert not problems, problems


async def test_anonymous_goes_to_login_and_comes_back(client, seeded):
    response = await client.get("/admin/products?low=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=" + quote("/admin/products?low=1", safe="")
    hx = await client.post("/admin/products", headers=htmx(current="/admin/products/new"))
    assert hx.headers["HX-Redirect"] == "/login?next=%2Fadmin%2Fproducts%2Fnew"


async def test_customer_gets_the_sites_403_page(app, seeded):
    customer, _ = await as_customer(app)
    response = await customer.get("/admin")
    body = await text(response)
    assert response.status_code == 403
    assert "<html" in body and "site-header" in body and "administrators only" in body


async def test_admin_writes_need_the_csrf_token(client, backends, seeded):
    await as_admin(client, backends)
    response = await client.post(f"/admin/products/{LAMBDA}/stock", form={"delta": "1"})
    assert response.status_code == 403
    assert await stock_of(client, LAMBDA) == seeded[LAMBDA]["stock"]


async def test_the_header_links_to_admin_for_admins_only(app, client, backends, seeded):
    customer, _ = await as_customer(app)
    assert 'href="/admin"' not in await text(await customer.get("/"))
    assert 'href="/admin"' not in await text(await app.test_client().get("/"))
    await as_admin(client, backends)
    assert 'href="/admin"' in await text(await client.get("/"))


# --- products ----------------------------------------------------------------------------------


async def test_create_shows_each_validation_error_beside_its_field(client, backends, seeded):
    token = await as_admin(client, backends)
    form = {"name": "", "category": "toys", "price": "12.5", "stock": "-1", "image_url": "x"}
    response = await client.post("/admin/products", form=form, headers=htmx(token))
    body = await text(response)
    assert response.status_code == 422
    assert is_fragment(body) and 'id="create-form"' in body
    for field in ("name", "category", "price", "stock", "image_url"):
        assert f'id="f-e-{field}"' in body, field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', body), field
    assert "Enter a product name." in body and "Choose a category." in body
    assert "whole number of rupiah" in body
    # Without JavaScript: the whole page, the same messages, what was typed kept.
    full = await client.post("/admin/products", form={**form, "name": "Kept", "csrf_token": token})
    page = await text(full)
    assert full.status_code == 422 and "<html" in page and 'value="Kept"' in page


async def test_create_then_listed_in_admin_and_in_the_catalog(client, backends, seeded, caplog):
    token = await as_admin(client, backends)
    assert "Create product" in await text(await client.get("/admin/products/new"))
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        product_id = await create_via_form(
            client, token, name="Quantum Cache", price="1.250.000", stock="7"
        )
    records = audit_records(caplog)
    assert len(records) == 1
    assert records[0].audit["action"] == "create_product"
    assert records[0].audit["target"] == product_id
    assert records[0].audit["after"]["price"] == Decimal(1250000)
    listing = await text(await client.get("/admin/products?q=quantum"))
    assert "Quantum Cache" in listing and "Rp 1.250.000" in listing
    assert "Quantum Cache" in await text(await client.get("/?q=quantum"))


async def test_products_table_searches_filters_and_pages(client, backends, seeded, monkeypatch):
    await as_admin(client, backends)
    monkeypatch.setattr(admin_products, "PAGE_SIZE", 5)
    first = await text(await client.get("/admin/products"))
    assert "18 products" in first and first.count('class="product-row') == 5
    next_url = re.search(r'href="(/admin/products\?cursor=[^"]+)"', first).group(1)
    second = await client.get(
        next_url.replace("&amp;", "&"), headers={**htmx(), "HX-Target": "product-results"}
    )
    body = await text(second)
    assert is_fragment(body) and body.count('class="product-row') == 5
    assert not set(re.findall(r'<tr id="product-([^"]+)"', body)) & set(
        re.findall(r'<tr id="product-([^"]+)"', first)
    )
    storage = await text(await client.get("/admin/products?category=storage"))
    assert "in Storage" in storage and "Compute" not in storage.split('id="product-results"')[1]
    search = await client.get(
        "/admin/products?q=postgresql&category=&sort=newest",
        headers={**htmx(), "HX-Target": "product-results"},
    )
    assert search.headers["HX-Push-Url"] == "/admin/products?q=postgresql"
    assert "PostgreSQL" in await text(search)
    # A stale cursor starts from the top instead of failing.
    assert (await client.get("/admin/products?cursor=bogus")).status_code == 200


async def test_edit_row_fragment_then_save_swaps_the_row_back(client, backends, seeded, caplog):
    token = await as_admin(client, backends)
    target = f"product-{LAMBDA}"
    edit = await client.get(f"/admin/products/{LAMBDA}/edit", headers=row_headers(token, target))
    body = await text(edit)
    assert is_fragment(body)
    assert body.strip().startswith("<tr") and body.strip().endswith("</tr>")
    assert f'hx-put="/admin/products/{LAMBDA}"' in body and 'name="csrf_token"' in body
    # Without htmx the same URL is a page holding the form.
    assert "<html" in await text(await client.get(f"/admin/products/{LAMBDA}/edit"))

    bad = await client.put(
        f"/admin/products/{LAMBDA}",
        form={"name": "", "category": "compute", "price": "abc"},
        headers=row_headers(token, target),
    )
    bad_body = await text(bad)
    assert bad.status_code == 422 and bad_body.strip().startswith("<tr")
    assert "Enter a product name." in bad_body and "price must be a number" in bad_body.lower()

    form = {
        "name": "AWS Lambda (renamed)",
        "category": "compute",
        "price": "99000",
        "image_url": seeded[LAMBDA]["image_url"],
        "description": seeded[LAMBDA]["description"],
    }
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        saved = await client.put(
            f"/admin/products/{LAMBDA}", form=form, headers=row_headers(token, target)
        )
    saved_body = await text(saved)
    assert saved.status_code == 200
    assert saved_body.strip().startswith(f'<tr id="{target}"')
    assert "AWS Lambda (renamed)" in saved_body and "Rp 99.000" in saved_body
    assert 'hx-swap-oob="innerHTML"' in saved_body  # the toast
    records = audit_records(caplog)
    assert len(records) == 1
    assert records[0].audit["action"] == "update_product"
    assert records[0].audit["before"]["price"] == Decimal(seeded[LAMBDA]["price"])
    assert records[0].audit["after"] == {"name": "AWS Lambda (renamed)", "price": Decimal(99000)}
    cancel = await client.get(f"/admin/products/{LAMBDA}/row", headers=row_headers(token, target))
    assert (await text(cancel)).strip().startswith("<tr")


async def test_edit_can_change_stock_atomically_but_never_below_zero(client, backends, seeded):
    token = await as_admin(client, backends)
    target = f"product-{LAMBDA}"
    before = await stock_of(client, LAMBDA)
    form = {"name": seeded[LAMBDA]["name"], "category": "compute", "price": "1"}
    ok = await client.put(
        f"/admin/products/{LAMBDA}",
        form={**form, "stock_delta": "10"},
        headers=row_headers(token, target),
    )
    assert ok.status_code == 200 and await stock_of(client, LAMBDA) == before + 10
    refused = await client.put(
        f"/admin/products/{LAMBDA}",
        form={**form, "stock_delta": str(-(before + 11))},
        headers=row_headers(token, target),
    )
    assert refused.status_code == 409
    assert "cannot go below zero" in await text(refused)
    assert await stock_of(client, LAMBDA) == before + 10


async def test_stock_buttons_add_and_remove_and_stop_at_zero(client, backends, seeded, caplog):
    token = await as_admin(client, backends)
    product_id = await create_via_form(client, token, name="Last Unit", stock="1")
    target = f"product-{product_id}"
    url = f"/admin/products/{product_id}/stock"
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        down = await client.post(url, form={"delta": "-1"}, headers=row_headers(token, target))
        body = await text(down)
        assert down.status_code == 200 and body.strip().startswith("<tr")
        assert re.search(r"data-stock>0<", body) and "Sold out" in body
        assert 'aria-label="One less “Last Unit” in stock" disabled' in body
        assert len(audit_records(caplog)) == 1
        assert audit_records(caplog)[0].audit["before"] == {"stock": 1}
        assert audit_records(caplog)[0].audit["after"] == {"stock": 0}

        again = await client.post(url, form={"delta": "-1"}, headers=row_headers(token, target))
        again_body = await text(again)
        assert again.status_code == 409
        assert 'role="alert"' in again_body and "cannot go below zero" in again_body
        assert re.search(r"data-stock>0<", again_body)
        assert len(audit_records(caplog)) == 1  # a refused change writes nothing

        up = await client.post(url, form={"delta": "1"}, headers=row_headers(token, target))
        assert re.search(r"data-stock>1<", await text(up))
        assert len(audit_records(caplog)) == 2
    assert await stock_of(client, product_id) == 1


async def test_stock_buttons_without_javascript_redirect_back(client, backends, seeded):
    token = await as_admin(client, backends)
    before = await stock_of(client, LAMBDA)
    response = await client.post(
        f"/admin/products/{LAMBDA}/stock",
        form={"delta": "1", "csrf_token": token, "next": "/admin/products?q=lambda"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/products?q=lambda"
    assert await stock_of(client, LAMBDA) == before + 1
    page = await text(await client.get("/admin/products?q=lambda"))
    assert f"is now {before + 1}" in page  # the notice
    # `next` never leaves the admin area.
    away = await client.post(
        f"/admin/products/{LAMBDA}/stock",
        form={"delta": "1", "csrf_token": token, "next": "//evil.example/"},
    )
    assert away.headers["Location"] == "/admin/products"


async def test_delete_asks_first_then_removes_the_product(client, backends, seeded, caplog):
    token = await as_admin(client, backends)
    product_id = await create_via_form(client, token, name="Short Lived")
    confirm = await text(await client.get(f"/admin/products/{product_id}/delete"))
    assert "Delete this product?" in confirm and "Short Lived" in confirm
    assert f'action="/admin/products/{product_id}/delete"' in confirm
    listing = await text(await client.get("/admin/products?q=short"))
    assert 'hx-confirm="Delete “Short Lived”? This cannot be undone."' in listing
    assert f'hx-delete="/admin/products/{product_id}"' in listing
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        response = await client.post(
            f"/admin/products/{product_id}/delete", form={"csrf_token": token}
        )
    assert response.status_code == 303
    assert len(audit_records(caplog)) == 1
    assert audit_records(caplog)[0].audit["before"]["name"] == "Short Lived"
    assert (await client.get(f"/api/products/{product_id}")).status_code == 404

    other = await create_via_form(client, token, name="Swiped Away")
    target = f"product-{other}"
    gone = await client.delete(f"/admin/products/{other}", headers=row_headers(token, target))
    body = await text(gone)
    assert gone.status_code == 200
    assert "<tr" not in body and "Deleted “Swiped Away”." in body
    assert (await client.get(f"/api/products/{other}")).status_code == 404


async def test_low_stock_view_lists_only_products_at_or_under_the_threshold(
    client, backends, seeded
):
    token = await as_admin(client, backends)
    low = await create_via_form(client, token, name="Nearly Gone", stock="5")
    high = await create_via_form(client, token, name="Plenty Left", stock="6")
    body = await text(await client.get("/admin/products?low=1"))
    assert f'id="product-{low}"' in body and f'id="product-{high}"' not in body
    threshold = backends.settings.low_stock_threshold
    snapshot = await backends.catalog.index()
    expected = {p.product_id for p in snapshot.query(limit=1000).items if p.stock <= threshold}
    assert set(re.findall(r'<tr id="product-([^"]+)"', body)) == expected
    assert "5 or fewer" in body


# --- orders --------------------------------------------------------------------------------


async def test_orders_view_filters_by_status_and_moves_an_order_to_delivered(
    app, client, backends, seeded, caplog
):
    customer, customer_token = await as_customer(app)
    first = await place(customer, customer_token)
    second = await place(customer, customer_token, quantity=1)
    token = await as_admin(client, backends)
    listing = await text(await client.get("/admin/orders"))
    assert listing.index(second["order_id"]) < listing.index(first["order_id"])  # newest first
    assert first["user_id"] in listing and "Rp " in listing
    assert "Confirm payment" in listing and "Cancel order" in listing
    assert "Mark paid" not in listing and "Mark shipped" not in listing

    order_id = first["order_id"]
    target = f"order-{order_id}"
    headers = row_headers(token, target, current="/admin/orders")
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        confirmed = await client.post(
            f"/admin/orders/{order_id}/payment",
            form={"reference": "TRF-1"},
            headers=headers,
        )
        assert confirmed.status_code in (200, 303), await text(confirmed)
        for status, offered in (
            ("shipped", "Mark delivered"),
            ("delivered", "No further steps"),
        ):
            reply = await client.post(
                f"/admin/orders/{order_id}/status", form={"status": status}, headers=headers
            )
            body = await text(reply)
            assert reply.status_code == 200, body
            assert body.strip().startswith(f'<tr id="{target}"') and offered in body
    assert [r.audit["after"]["status"] for r in audit_records(caplog)] == [
        "paid",
        "shipped",
        "delivered",
    ]

    delivered = await text(await client.get("/admin/orders?status=delivered"))
    assert order_id in delivered and second["order_id"] not in delivered
    pending = await text(await client.get("/admin/orders?status=pending"))
    assert second["order_id"] in pending and order_id not in pending

    # Not allowed from here: a 409, shown in the row, nothing written.
    refused = await client.post(
        f"/admin/orders/{order_id}/status", form={"status": "cancelled"}, headers=headers
    )
    body = await text(refused)
    assert refused.status_code == 409 and 'role="alert"' in body
    assert "cannot become cancelled" in body and "Delivered" in body

    detail = await text(await client.get(f"/admin/orders/{order_id}"))
    assert "Status history" in detail
    for status in ("Pending", "Paid", "Shipped", "Delivered"):
        assert f'status-{status.lower()}">{status}<' in detail
    assert "(the customer)" in detail


async def test_admin_cancel_from_the_order_page_restores_stock(app, client, backends, seeded):
    customer, customer_token = await as_customer(app)
    before = await stock_of(client, LAMBDA)
    order = await place(customer, customer_token, quantity=3)
    assert await stock_of(client, LAMBDA) == before - 3
    token = await as_admin(client, backends)
    url = f"/admin/orders/{order['order_id']}"
    page = await text(await client.get(url))
    assert 'hx-confirm="Cancel order' in page
    response = await client.post(
        url + "/status", form={"status": "cancelled", "csrf_token": token, "next": url}
    )
    assert response.status_code == 303 and response.headers["Location"] == url
    assert await stock_of(client, LAMBDA) == before
    after = await text(await client.get(url))
    assert "Its stock is back in the catalog." in after and "No further steps" in after


async def test_unknown_order_is_a_404_page(client, backends, seeded):
    await as_admin(client, backends)
    response = await client.get("/admin/orders/ORD-NOPE")
    assert response.status_code == 404 and "<html" in await text(response)


# --- dashboard ---------------------------------------------------------------------------------


async def test_dashboard_counts_todays_orders_and_revenue(app, client, backends, seeded):
    customer, customer_token = await as_customer(app)
    kept = await place(customer, customer_token, quantity=2)
    other = await place(customer, customer_token, quantity=1)
    cancelled = await customer.post(
        f"/api/orders/{other['order_id']}/cancel", headers=bearer(customer_token)
    )
    assert cancelled.status_code == 200
    await as_admin(client, backends)

    calls = []
    backends.dynamo.client.meta.events.register(
        "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.split(".")[-1])
    )
    body = await text(await client.get("/admin"))
    assert "Scan" not in calls and "Query" in calls

    total = Decimal(str(kept["total_amount"]))
    assert re.search(r'id="orders-today">1<', body)
    assert f'id="revenue-today">{format_idr(total)}<' in body
    assert "1 more cancelled" in body
    svg = body.split('<svg class="sales-chart sales-chart-wide"')[1].split("</svg>")[0]
    assert svg.count("<rect") == chart.DAYS
    assert 'role="img"' in svg and '<desc id="chart-wide-desc">' in svg
    assert body.count('<svg class="sales-chart ') == 2  # and a narrow drawing for phones
    today = chart.shop_today()
    assert f"<title>{today:%a %d %b}: 1 order, {format_idr(total)} (1 cancelled)</title>" in svg
    assert "Show the figures as a table" in body
    assert kept["order_id"] in body  # latest orders


def format_idr(amount) -> str:
    from cloudstore.money import format_idr as fmt

    return fmt(amount)


# --- escaping and the page rules ---------------------------------------------------------------


async def test_product_html_is_shown_as_text_everywhere_in_admin(app, client, backends, seeded):
    token = await as_admin(client, backends)
    product_id = await create_via_form(client, token, name=HOSTILE, description=HOSTILE, stock="2")
    customer, customer_token = await as_customer(app)
    order = await place(customer, customer_token, product_id=product_id, quantity=1)
    target = f"product-{product_id}"
    pages = [
        await client.get("/admin/products"),
        await client.get("/admin/products?low=1"),
        await client.get(f"/admin/products/{product_id}/edit"),
        await client.get(f"/admin/products/{product_id}/edit", headers=row_headers(token, target)),
        await client.get(f"/admin/products/{product_id}/delete"),
        await client.post(
            f"/admin/products/{product_id}/stock",
            form={"delta": "1"},
            headers=row_headers(token, target),
        ),
        await client.get(f"/admin/orders/{order['order_id']}"),
        await client.get("/admin"),
    ]
    for response in pages:
        body = await text(response)
        assert "<script>alert(1)" not in body and "<b>x</b>" not in body, response
    listing = await text(pages[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in listing
    assert "&lt;script&gt;" in await text(pages[6])


async def test_admin_pages_use_no_inline_style_or_script(app, client, backends, seeded):
    customer, customer_token = await as_customer(app)
    order = await place(customer, customer_token)
    await as_admin(client, backends)
    for path in (
        "/admin",
        "/admin/products",
        "/admin/products?low=1",
        "/admin/products/new",
        f"/admin/products/{LAMBDA}/edit",
        f"/admin/products/{LAMBDA}/delete",
        "/admin/orders",
        f"/admin/orders/{order['order_id']}",
    ):
        response = await client.get(path)
        body = await text(response)
        assert response.status_code == 200, path
        assert " style=" not in body, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert not re.search(r"<[^>]*\son[a-z]+=", body), path  # no inline handlers
        assert response.headers["Cache-Control"] == "no-store"


# --- the chart's arithmetic ------------------------------------------------------------------


def test_daily_sales_buckets_by_jakarta_day_and_leaves_cancelled_out():
    today = date(2025, 3, 14)
    orders = [
        OrderSummary(f"ORD-{n}", "USR-1", created_at, status, Decimal(total))
        for n, (created_at, status, total) in enumerate(
            [
                # 23:30 UTC on the 13th is 06:30 on the 14th in Jakarta.
                ("2025-03-13T23:30:00.000Z", "paid", 1000),
                ("2025-03-13T16:59:59.000Z", "pending", 500),
                ("2025-03-14T01:00:00.000Z", "cancelled", 9999),
                ("2025-02-01T00:00:00.000Z", "paid", 7),
            ]
        )
    ]
    days = chart.daily_sales(orders, today, 14)
    assert len(days) == 14 and days[0].day == date(2025, 3, 1) and days[-1].day == today
    assert (days[-1].orders, days[-1].revenue, days[-1].cancelled) == (1, Decimal(1000), 1)
    assert (days[-2].orders, days[-2].revenue) == (1, Decimal(500))
    start = chart.window_start(today, 14)
    assert start.astimezone(UTC) == datetime(2025, 2, 28, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1_000_000), (1, 1), (7, 10), (1300, 2000), (2_400_000, 2_500_000), (4_100_000, 5_000_000)],
)
def test_chart_scale_is_a_round_number(value, top):
    assert chart.nice_ceiling(Decimal(value)) == top


def test_chart_bars_fit_the_drawing_and_label_in_rupiah():
    days = [chart.DaySales(date(2025, 3, n + 1), n, Decimal(n * 100_000)) for n in range(14)]
    drawn = chart.bar_chart(days, date(2025, 3, 14))
    assert len(drawn.bars) == 14 and drawn.bars[-1].today
    tallest = drawn.bars[-1]
    assert tallest.y >= chart.WIDE.top - 0.01 and tallest.y + tallest.height == drawn.baseline
    assert drawn.bars[0].height == 0
    assert all(
        b.x >= chart.WIDE.left and b.x + b.width <= chart.WIDE.width - chart.WIDE.right
        for b in drawn.bars
    )
    labels = [line.label for line in drawn.grid]
    assert labels == ["0", "Rp 500 rb", "Rp 1 jt", "Rp 1,5 jt", "Rp 2 jt"]
    assert chart.compact_idr(Decimal(650_000)) == "Rp 650 rb"
