"""Which DynamoDB request answers each admin order query (as the README's "Admin order
queries" says): a Query on the right index or key, a GetItem for one order, never a Scan."""

from __future__ import annotations

import pytest

from cloudstore.domain.order_search import parse_filters
from cloudstore.shop import order_search
from cloudstore.shop.catalog import load_products
from tests.helpers import place_order, register, unique_email
from tests.helpers.shared_app import app, settings  # noqa: F401 - one app per module


@pytest.fixture(scope="module")
async def placed(app, seed_products) -> tuple[str, dict]:
    await load_products(app.extensions["cloudstore"], seed_products)
    client = app.test_client()
    email = unique_email("q")
    token = await register(client, email=email)
    return email, await place_order(client, token, quantity=1)


@pytest.fixture
def requests(backends):
    """The (operation, index) of every DynamoDB request made while the test runs."""
    seen: list[tuple[str, str | None]] = []

    def record(model, params, **_):
        seen.append((model.name, params.get("IndexName")))

    events = backends.dynamo.client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    yield seen
    events.unregister("before-parameter-build.dynamodb", record)


async def run(backends, **args) -> list:
    page = await order_search.search(backends, parse_filters(args), limit=10, with_people=False)
    return page.orders


async def test_every_order_and_a_date_range_query_the_time_index(backends, placed, requests):
    await run(backends)
    await run(backends, **{"from": "2020-01-01", "to": "2099-12-31"}, sort="oldest")
    assert requests == [("Query", "orders_by_time")] * 2


async def test_a_status_queries_the_status_index(backends, placed, requests):
    orders = await run(backends, status="pending", **{"from": "2020-01-01"})
    assert placed[1]["order_id"] in [o.order_id for o in orders]
    assert requests == [("Query", "orders_by_status")]


async def test_an_email_queries_the_customers_own_partition(backends, placed, requests):
    email, order = placed
    orders = await run(backends, q=email, status="pending")
    assert [o.order_id for o in orders] == [order["order_id"]]
    assert requests == [("Query", None)]


async def test_an_order_id_is_one_index_query_and_one_read(backends, placed, requests):
    _, order = placed
    orders = await run(backends, q=order["order_id"])
    assert [o.order_id for o in orders] == [order["order_id"]]
    assert requests == [("Query", "orders_by_time"), ("GetItem", None)]


async def test_the_export_reads_with_queries_only(backends, placed, requests):
    email, _ = placed
    chunks = []
    for args in ({}, {"q": email}):
        export = order_search.export_csv(backends, parse_filters(args))
        chunks += [chunk async for chunk in export]
    assert len(chunks) >= 2
    assert {operation for operation, _ in requests} == {"Query"}
