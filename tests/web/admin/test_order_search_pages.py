"""/admin/orders: customers by name and email, search by order id or email, status and date
filters, sort, cursor pages, htmx results, and /admin/orders.csv."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from cloudstore.shop.catalog import load_products
from tests.helpers import place_order, register, unique_email
from tests.helpers.pages import as_admin, htmx, is_fragment, text
from tests.helpers.shared_app import app, settings  # noqa: F401 - one app per module

SHOP_TZ = ZoneInfo("Asia/Jakarta")  # the default SHOP_TIMEZONE


@pytest.fixture(scope="module", autouse=True)
async def seeded(app, seed_products):
    await load_products(app.extensions["cloudstore"], seed_products)


async def buyer(app, name: str = "Sari Dewi") -> tuple[object, str, str]:
    client = app.test_client()
    email = unique_email("buyer")
    token = await register(client, name=name, email=email)
    return client, token, email


def wib_today() -> str:
    return datetime.now(SHOP_TZ).date().isoformat()


async def test_the_list_shows_each_customers_name_and_email_linked_to_their_page(
    app, client, backends
):
    shopper, token, email = await buyer(app, name="Rina <b>Kusuma</b>")
    order = await place_order(shopper, token, quantity=1)
    await as_admin(client, backends)
    body = await text(await client.get("/admin/orders", query_string={"q": email}))
    assert order["order_id"] in body
    assert f'href="/admin/customers/{order["user_id"]}"' in body
    assert "Rina &lt;b&gt;Kusuma&lt;/b&gt;" in body and email in body


async def test_the_order_page_and_its_history_name_the_customer(app, client, backends):
    shopper, token, email = await buyer(app, name="Agus Salim")
    order = await place_order(shopper, token, quantity=1)
    await shopper.post(
        f"/api/orders/{order['order_id']}/cancel", headers={"Authorization": f"Bearer {token}"}
    )
    await as_admin(client, backends)
    body = await text(await client.get(f"/admin/orders/{order['order_id']}"))
    assert f'<a href="/admin/customers/{order["user_id"]}">Agus Salim</a>' in body
    assert email in body and "(the customer)" in body


async def test_search_by_email_lists_only_that_customers_orders(app, client, backends):
    shopper, token, email = await buyer(app)
    other, other_token, _ = await buyer(app)
    mine = await place_order(shopper, token, quantity=1)
    theirs = await place_order(other, other_token, quantity=1)
    await as_admin(client, backends)
    body = await text(await client.get("/admin/orders", query_string={"q": email}))
    assert mine["order_id"] in body and theirs["order_id"] not in body
    assert f"Orders of {email}" in body


async def test_search_by_order_id_shows_that_order(app, client, backends):
    shopper, token, _ = await buyer(app)
    order = await place_order(shopper, token, quantity=1)
    await as_admin(client, backends)
    body = await text(await client.get("/admin/orders", query_string={"q": order["order_id"]}))
    assert order["order_id"] in body and "with id" in body


async def test_text_that_is_neither_an_id_nor_an_email_says_what_to_search_by(
    app, client, backends
):
    await as_admin(client, backends)
    response = await client.get("/admin/orders", query_string={"q": "Sari"})
    body = await text(response)
    assert response.status_code == 200
    assert "Search by an order id" in body and "order-line" not in body


async def test_status_and_date_filters_and_sort_apply_together(app, client, backends):
    shopper, token, email = await buyer(app)
    first = await place_order(shopper, token, quantity=1)
    second = await place_order(shopper, token, quantity=1)
    third = await place_order(shopper, token, quantity=1)
    admin_token = await as_admin(client, backends)
    for order in (first, third):
        confirmed = await client.post(
            f"/admin/orders/{order['order_id']}/payment",
            form={"reference": "TRF-1"},
            headers=htmx(admin_token, current=f"/admin/orders/{order['order_id']}"),
        )
        assert confirmed.status_code == 200, await text(confirmed)
    query = {"q": email, "status": "paid", "from": wib_today(), "to": wib_today()}
    newest = await text(await client.get("/admin/orders", query_string=query))
    assert second["order_id"] not in newest
    assert newest.index(third["order_id"]) < newest.index(first["order_id"])
    oldest = await text(await client.get("/admin/orders", query_string={**query, "sort": "oldest"}))
    assert oldest.index(first["order_id"]) < oldest.index(third["order_id"])
    yesterday = (datetime.now(SHOP_TZ) - timedelta(days=1)).date().isoformat()
    before = {**query, "from": "", "to": yesterday}
    none = await text(await client.get("/admin/orders", query_string=before))
    assert first["order_id"] not in none


async def test_the_status_filter_offers_every_status_and_calls_pending_awaiting_payment(
    client, backends
):
    await as_admin(client, backends)
    body = await text(await client.get("/admin/orders"))
    options = re.findall(r'<option value="([a-z]+)"[^>]*>([^<]+)</option>', body)
    statuses = dict(o for o in options if o[0] not in ("newest", "oldest"))
    from cloudstore.domain.orders import STATUSES

    assert list(statuses) == list(STATUSES)
    assert statuses["pending"] == "Awaiting payment"


async def test_pages_follow_the_cursor_and_keep_the_filters(app, client, backends, monkeypatch):
    from cloudstore.web.admin import orders as admin_orders

    monkeypatch.setattr(admin_orders, "PAGE_SIZE", 2)
    shopper, token, email = await buyer(app)
    placed = [(await place_order(shopper, token, quantity=1))["order_id"] for _ in range(3)]
    await as_admin(client, backends)
    first = await text(await client.get("/admin/orders", query_string={"q": email}))
    more = re.search(
        r'<nav class="pager"[^>]*><a class="button button-secondary" href="([^"]+)"', first
    )
    assert more, first
    next_url = unescape(more.group(1))
    assert "q=" in next_url and "cursor=" in next_url
    second = await text(await client.get(next_url))
    assert placed[0] in second and placed[2] not in second
    assert "Back to the first page" in second


async def test_htmx_search_answers_with_the_results_only(app, client, backends):
    shopper, token, email = await buyer(app)
    order = await place_order(shopper, token, quantity=1)
    admin_token = await as_admin(client, backends)
    response = await client.get(
        "/admin/orders", query_string={"q": email}, headers=htmx(admin_token)
    )
    body = await text(response)
    assert is_fragment(body) and body.strip().startswith('<section id="order-results"')
    assert order["order_id"] in body and response.headers["Vary"] == "HX-Request"


async def test_the_export_link_carries_the_filters(client, backends):
    await as_admin(client, backends)
    body = await text(
        await client.get(
            "/admin/orders", query_string={"status": "paid", "from": "2026-01-01", "sort": "oldest"}
        )
    )
    link = re.search(r'href="(/admin/orders\.csv[^"]*)"', body)
    assert link and unescape(link.group(1)) == (
        "/admin/orders.csv?status=paid&from=2026-01-01&sort=oldest"
    )


async def test_the_csv_download_has_the_filtered_orders(app, client, backends):
    shopper, token, email = await buyer(app, name="+Tono")
    order = await place_order(shopper, token, quantity=2)
    await as_admin(client, backends)
    response = await client.get("/admin/orders.csv", query_string={"q": email})
    raw = await response.get_data()
    assert response.status_code == 200 and raw.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["order_id"] for r in rows] == [order["order_id"]]
    assert rows[0]["customer_name"] == "'+Tono" and rows[0]["total_amount"].isdigit()


async def test_the_csv_download_is_for_admins_only(app):
    shopper, token, _ = await buyer(app)
    shopper.set_cookie("localhost", "cs_session", token)
    response = await shopper.get("/admin/orders.csv")
    assert response.status_code == 403
    anonymous = await app.test_client().get("/admin/orders.csv")
    assert anonymous.status_code == 303


async def test_a_status_change_in_a_row_keeps_the_customers_name(app, client, backends, caplog):
    shopper, token, _ = await buyer(app, name="Wati Row")
    order = await place_order(shopper, token, quantity=1)
    admin_token = await as_admin(client, backends)
    with caplog.at_level(logging.INFO, logger="cloudstore.audit"):
        reply = await client.post(
            f"/admin/orders/{order['order_id']}/status",
            form={"status": "cancelled"},
            headers={
                **htmx(admin_token, current="/admin/orders"),
                "HX-Target": f"order-{order['order_id']}",
            },
        )
    body = await text(reply)
    assert reply.status_code == 200 and "Wati Row" in body
