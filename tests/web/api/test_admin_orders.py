"""GET /api/admin/orders with filters (order id, customer email, status, date range, sort,
cursor pages) and GET /api/admin/orders/export (the same filters as a CSV file)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ulid import ULID

from cloudstore.shop.catalog import load_products
from cloudstore.stores.order_items import order_item
from tests.helpers import ADDRESS, bearer, place_order, register, unique_email
from tests.helpers.shared_app import admin, app, settings  # noqa: F401 - one app per module

SHOP_TZ = ZoneInfo("Asia/Jakarta")  # the default SHOP_TIMEZONE
# A bank transfer becomes paid with its transfer's reference.
PAID = {"status": "paid", "reference": "TRF-1"}


@pytest.fixture(scope="module", autouse=True)
async def seeded(app, seed_products):
    await load_products(app.extensions["cloudstore"], seed_products)


@pytest.fixture
def client(app):
    return app.test_client()


async def customer(client, name: str = "Budi") -> tuple[str, str]:
    email = unique_email("buyer")
    return await register(client, name=name, email=email), email


async def backdated(app, order: dict, days: int) -> str:
    """A copy of `order` as if placed `days` ago (its id is a ULID of that moment)."""
    backends = app.extensions["cloudstore"]
    stored = await backends.orders.get(order["user_id"], order["order_id"])
    moment = datetime.now(UTC) - timedelta(days=days)
    copy = replace(
        stored,
        order_id="ORD-" + str(ULID.from_timestamp(moment.timestamp())),
        created_at=moment.isoformat(),
    )
    await backends.dynamo.call(
        "put_item", TableName=backends.settings.orders_table, Item=order_item(copy)
    )
    return copy.order_id


async def listed(client, admin, **params) -> tuple[int, dict]:
    response = await client.get("/api/admin/orders", query_string=params, headers=admin)
    return response.status_code, await response.get_json()


def ids(body: dict) -> list[str]:
    return [order["order_id"] for order in body["data"]]


def wib_day(days_ago: int = 0) -> str:
    return (datetime.now(SHOP_TZ) - timedelta(days=days_ago)).date().isoformat()


async def test_search_by_customer_email_lists_only_their_orders_newest_first(client, admin):
    token, email = await customer(client)
    other, _ = await customer(client)
    first = await place_order(client, token, quantity=1)
    second = await place_order(client, token, quantity=1)
    await place_order(client, other, quantity=1)
    status, body = await listed(client, admin, q=email.upper())
    assert status == 200
    assert ids(body) == [second["order_id"], first["order_id"]]


async def test_sort_oldest_lists_the_customers_orders_oldest_first(client, admin):
    token, email = await customer(client)
    first = await place_order(client, token, quantity=1)
    second = await place_order(client, token, quantity=1)
    _, body = await listed(client, admin, q=email, sort="oldest")
    assert ids(body) == [first["order_id"], second["order_id"]]


async def test_search_by_order_id_finds_that_one_order(client, admin):
    token, _ = await customer(client)
    order = await place_order(client, token, quantity=1)
    _, body = await listed(client, admin, q=order["order_id"].lower())
    assert ids(body) == [order["order_id"]] and body["next_cursor"] is None


async def test_an_unknown_email_or_order_id_finds_nothing(client, admin):
    for q in (unique_email("nobody"), "ORD-" + str(ULID())):
        status, body = await listed(client, admin, q=q)
        assert (status, body["data"], body["count"]) == (200, [], 0)


async def test_status_filter_with_email_keeps_only_that_status(client, admin):
    token, email = await customer(client)
    paid = await place_order(client, token, quantity=1)
    pending = await place_order(client, token, quantity=1)
    moved = await client.post(
        f"/api/admin/orders/{paid['order_id']}/status", json=PAID, headers=admin
    )
    assert moved.status_code == 200
    _, body = await listed(client, admin, q=email, status="paid")
    assert ids(body) == [paid["order_id"]]
    _, body = await listed(client, admin, q=email, status="pending")
    assert ids(body) == [pending["order_id"]]


async def test_status_filter_over_every_order_uses_the_status_index(client, admin):
    token, _ = await customer(client)
    order = await place_order(client, token, quantity=1)
    await client.post(
        f"/api/admin/orders/{order['order_id']}/status",
        json={"status": "cancelled"},
        headers=admin,
    )
    _, body = await listed(client, admin, status="cancelled", limit=100)
    assert order["order_id"] in ids(body)
    assert {o["status"] for o in body["data"]} == {"cancelled"}


async def test_date_range_keeps_the_orders_placed_on_those_days(client, admin, app):
    token, email = await customer(client)
    today = await place_order(client, token, quantity=1)
    last_week = await backdated(app, today, days=7)
    last_month = await backdated(app, today, days=30)
    _, body = await listed(client, admin, q=email, **{"from": wib_day(8), "to": wib_day(6)})
    assert ids(body) == [last_week]
    _, body = await listed(client, admin, q=email, **{"from": wib_day(7)})
    assert ids(body) == [today["order_id"], last_week]
    _, body = await listed(client, admin, q=email, to=wib_day(1))
    assert ids(body) == [last_week, last_month]
    # Over every customer's orders (the time index) too.
    _, body = await listed(client, admin, limit=100, **{"from": wib_day(30), "to": wib_day(30)})
    assert last_month in ids(body) and today["order_id"] not in ids(body)


async def test_an_order_id_outside_the_date_range_is_not_found(client, admin, app):
    token, _ = await customer(client)
    order = await place_order(client, token, quantity=1)
    _, body = await listed(client, admin, q=order["order_id"], to=wib_day(1))
    assert body["data"] == []


async def test_cursor_pages_walk_the_customers_orders_without_repeats(client, admin):
    token, email = await customer(client)
    placed = [(await place_order(client, token, quantity=1))["order_id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params = {"q": email, "limit": 2, **({"cursor": cursor} if cursor else {})}
        _, body = await listed(client, admin, **params)
        seen += ids(body)
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == placed[::-1]


async def test_cursor_pages_over_every_order_follow_the_sort(client, admin):
    token, _ = await customer(client)
    for _ in range(3):
        await place_order(client, token, quantity=1)
    _, first = await listed(client, admin, sort="oldest", limit=2)
    _, second = await listed(client, admin, sort="oldest", limit=2, cursor=first["next_cursor"])
    order = ids(first) + ids(second)
    assert order == sorted(order) and len(set(order)) == 4


async def test_a_cursor_from_other_filters_is_a_400(client, admin):
    token, email = await customer(client)
    for _ in range(2):
        await place_order(client, token, quantity=1)
    _, page = await listed(client, admin, q=email, limit=1)
    status, body = await listed(client, admin, limit=1, cursor=page["next_cursor"])
    assert status == 400 and body["success"] is False
    status, _ = await listed(
        client, admin, q=email, limit=1, cursor=page["next_cursor"], to="2000-01-01"
    )
    assert status == 400


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"q": "Budi"}, "q"),
        ({"q": "x" * 300}, "q"),
        ({"from": "01/02/2026"}, "from"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "to"),
        ({"sort": "price"}, "sort"),
        ({"status": "lost"}, "status"),
    ],
)
async def test_malformed_filters_are_a_400_envelope(client, admin, params, word):
    status, body = await listed(client, admin, **params)
    assert status == 400 and body["success"] is False
    assert word in body["error"]


async def test_customers_cannot_list_or_export(client):
    token, _ = await customer(client)
    for path in ("/api/admin/orders", "/api/admin/orders/export"):
        response = await client.get(path, headers=bearer(token))
        assert response.status_code == 403


# --- the CSV export ----------------------------------------------------------------------


async def export(client, admin, **params):
    response = await client.get("/api/admin/orders/export", query_string=params, headers=admin)
    return response, await response.get_data()


async def test_export_is_utf8_csv_with_a_bom_and_one_row_per_order(client, admin):
    token, email = await customer(client, name="Sári Déwi")
    orders = [await place_order(client, token, quantity=q) for q in (1, 2)]
    response, raw = await export(client, admin, q=email)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="orders.csv"'
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["order_id"] for row in rows] == [o["order_id"] for o in orders[::-1]]
    assert rows[0]["customer_name"] == "Sári Déwi" and rows[0]["customer_email"] == email
    assert rows[0]["units"] == "2" and rows[0]["status"] == "pending"


async def test_export_amounts_are_bare_whole_rupiah_integers(client, admin):
    token, email = await customer(client)
    order = await place_order(client, token, quantity=3)
    _, raw = await export(client, admin, q=email)
    row = next(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    for column in ("subtotal", "tax", "total_amount"):
        assert row[column].isdigit(), row[column]
        assert int(row[column]) == order[column]


async def test_export_prefixes_cells_a_spreadsheet_would_run(client, admin):
    token, email = await customer(client, name='=HYPERLINK("http://evil","x")')
    response = await client.post(
        "/api/orders",
        json={
            "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}],
            "shipping_address": {**ADDRESS, "name": "@SUM(1+1)", "city": "-2+3"},
        },
        headers=bearer(token),
    )
    assert response.status_code == 201
    _, raw = await export(client, admin, q=email)
    row = next(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["customer_name"] == '\'=HYPERLINK("http://evil","x")'
    assert row["ship_to_name"] == "'@SUM(1+1)"
    assert row["ship_to_city"] == "'-2+3"
    assert row["ship_to_phone"] == "'" + ADDRESS["phone"]


async def test_export_keeps_to_the_filters_and_names_the_file_after_them(client, admin):
    token, email = await customer(client)
    paid = await place_order(client, token, quantity=1)
    await place_order(client, token, quantity=1)
    await client.post(f"/api/admin/orders/{paid['order_id']}/status", json=PAID, headers=admin)
    response, raw = await export(client, admin, q=email, status="paid", **{"from": wib_day()})
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["order_id"] for row in rows] == [paid["order_id"]]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="orders-paid-from-{wib_day()}.csv"'
    )


async def test_export_of_nothing_is_just_the_header(client, admin):
    _, raw = await export(client, admin, q=unique_email("nobody"))
    assert raw.decode("utf-8-sig").splitlines() == [raw.decode("utf-8-sig").splitlines()[0]]
    assert raw.decode("utf-8-sig").startswith("order_id,placed_at,status,")


async def test_export_stops_at_its_bound(client, admin, app, monkeypatch):
    from cloudstore.shop import order_search

    token, email = await customer(client)
    for _ in range(3):
        await place_order(client, token, quantity=1)
    monkeypatch.setattr(order_search, "EXPORT_PAGE", 1)
    original = order_search.export_csv

    def bounded(backends, filters, **_):
        return original(backends, filters, max_rows=2)

    monkeypatch.setattr(order_search, "export_csv", bounded)
    _, raw = await export(client, admin, q=email)
    assert len(raw.decode("utf-8-sig").splitlines()) == 1 + 2


async def test_export_refuses_malformed_filters_with_a_400(client, admin):
    response, _ = await export(client, admin, to="tomorrow")
    assert response.status_code == 400
