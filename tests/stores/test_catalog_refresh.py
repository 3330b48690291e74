"""Catalog freshness across workers: two apps ("workers") on the same tables.

A change made on worker A is in A's snapshot at once and reaches worker B through the change
log within a few refresh ticks, by reading only the changed products (no full Scan)."""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from cloudstore import create_app
from cloudstore.domain.catalog import SORTS, CatalogIndex, Product
from cloudstore.shop.accounts import create_admin
from cloudstore.shop.catalog import load_products
from tests.helpers import ADDRESS, bearer, register, unique_email

REFRESH = 0.2


@pytest.fixture
async def workers(settings, seed_products):
    """Two apps on the same tables, each with its own snapshot and refresher."""
    fast = settings.with_overrides(catalog_refresh_seconds=REFRESH)
    a, b = create_app(fast), create_app(fast)
    async with a.test_app(), b.test_app():
        await load_products(a.extensions["cloudstore"], seed_products)
        await b.extensions["cloudstore"].catalog.reload()
        yield a, b


@pytest.fixture
async def admin(workers) -> dict:
    a, _ = workers
    email = unique_email("admin")
    await create_admin(a.extensions["cloudstore"], email=email, password="admin-pass-1", name="A")
    reply = await a.test_client().post(
        "/api/auth/login", json={"email": email, "password": "admin-pass-1"}
    )
    return bearer((await reply.get_json())["token"])


# Set while a test's own request runs: tasks it starts inherit it, the refresher (started
# with the app) does not, so its polls can be told apart from the request's calls.
IN_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("in_request", default=False)


class CallCounter:
    """Counts DynamoDB requests of one app by operation (botocore's before-call event);
    with `refresher=False`, only those made inside `IN_REQUEST` (not the catalog
    refresher's polls, which tick on their own clock)."""

    def __init__(self, app, refresher: bool = True) -> None:
        self.calls: Counter[str] = Counter()
        self._refresher = refresher
        events = app.extensions["cloudstore"].dynamo.client.meta.events
        events.register("before-call.dynamodb", self._count)

    def _count(self, model, **_) -> None:
        if self._refresher or IN_REQUEST.get():
            self.calls[model.name] += 1


async def product_on(app, product_id: str) -> dict | None:
    reply = await app.test_client().get(f"/api/products/{product_id}")
    return (await reply.get_json())["data"] if reply.status_code == 200 else None


async def eventually(check, within: float = 1.5) -> float:
    """Seconds until `check()` (async) is true; fails after `within` seconds."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError("not visible in time")
        await asyncio.sleep(0.02)


async def test_admin_changes_reach_the_other_worker_without_a_full_scan(workers, admin):
    a, b = workers
    client_a = a.test_client()
    counter = CallCounter(b)

    # a price change
    reply = await client_a.put(
        "/api/admin/products/PROD-LAMBDA-10M", json={"price": 123_456}, headers=admin
    )
    assert reply.status_code == 200, await reply.get_data(as_text=True)
    assert (await product_on(a, "PROD-LAMBDA-10M"))["price"] == 123_456  # at once on A

    async def price_on_b() -> bool:
        return (await product_on(b, "PROD-LAMBDA-10M"))["price"] == 123_456

    await eventually(price_on_b)

    # a new product
    body = {
        "name": "Zeta Quantum Instance",
        "description": "brand new",
        "price": 99_000,
        "category": "compute",
        "image_url": "/static/img/ec2.svg",
        "stock": 3,
    }
    reply = await client_a.post("/api/admin/products", json=body, headers=admin)
    assert reply.status_code == 201
    new_id = (await reply.get_json())["data"]["product_id"]
    assert await product_on(a, new_id) is not None

    async def new_on_b() -> bool:
        listing = await (await b.test_client().get("/api/products?q=zeta+quantum")).get_json()
        return [p["product_id"] for p in listing["data"]] == [new_id]

    await eventually(new_on_b)

    # a category move, then a delete
    reply = await client_a.put(
        f"/api/admin/products/{new_id}", json={"category": "storage"}, headers=admin
    )
    assert reply.status_code == 200

    async def moved_on_b() -> bool:
        product = await product_on(b, new_id)
        return product is not None and product["category"] == "storage"

    await eventually(moved_on_b)
    assert (await client_a.delete(f"/api/admin/products/{new_id}", headers=admin)).status_code in (
        200,
        204,
    )
    assert await product_on(a, new_id) is None

    async def gone_on_b() -> bool:
        return await product_on(b, new_id) is None

    await eventually(gone_on_b)

    # stock set by an admin
    reply = await client_a.post(
        "/api/admin/products/PROD-VPC-STARTER/stock", json={"delta": -2}, headers=admin
    )
    stock = (await reply.get_json())["data"]["stock"]

    async def stock_on_b() -> bool:
        return (await product_on(b, "PROD-VPC-STARTER"))["stock"] == stock

    await eventually(stock_on_b)

    catalog = b.extensions["cloudstore"].catalog
    assert counter.calls["Scan"] == 0, counter.calls  # never a full reload for these
    assert catalog.incremental_refreshes >= 5
    # one Query per tick, plus a BatchGetItem (or a Query for a deleted id) per change
    assert counter.calls["BatchGetItem"] <= 6, counter.calls


async def test_a_checkout_on_one_worker_moves_stock_on_the_other(workers):
    a, b = workers
    client_a = a.test_client()
    token = await register(client_a)
    before = (await product_on(b, "PROD-LAMBDA-10M"))["stock"]
    counter = CallCounter(a, refresher=False)
    marker = IN_REQUEST.set(True)
    try:
        reply = await client_a.post(
            "/api/orders",
            json={
                "items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 2}],
                "shipping_address": dict(ADDRESS),
            },
            headers=bearer(token),
        )
    finally:
        IN_REQUEST.reset(marker)
    assert reply.status_code == 201, await reply.get_data(as_text=True)
    checkout_calls = dict(counter.calls)
    assert (await product_on(a, "PROD-LAMBDA-10M"))["stock"] == before - 2  # at once on A

    async def stock_on_b() -> bool:
        return (await product_on(b, "PROD-LAMBDA-10M"))["stock"] == before - 2

    await eventually(stock_on_b)
    # the change entry rode inside the transaction: still two requests
    assert checkout_calls == {"BatchGetItem": 1, "TransactWriteItems": 1}, checkout_calls


async def test_a_worker_far_behind_reloads_everything(workers, admin, monkeypatch):
    a, b = workers
    catalog = b.extensions["cloudstore"].catalog
    await catalog.stop_refresher()
    monkeypatch.setattr("cloudstore.stores.catalog.MAX_INCREMENTAL_CHANGES", 2)
    for pid in ("PROD-LAMBDA-10M", "PROD-VPC-STARTER", "PROD-EFS-1TB"):
        reply = await a.test_client().post(
            f"/api/admin/products/{pid}/stock", json={"delta": 1}, headers=admin
        )
        assert reply.status_code == 200, (pid, await reply.get_data(as_text=True))
    reloads = catalog.full_reloads
    assert await catalog.refresh_if_changed()
    assert catalog.full_reloads == reloads + 1


# ---- the index itself: patched snapshots equal freshly built ones ----------------------


def _product(i: int, rng: random.Random) -> Product:
    words = ["compute", "instance", "backup", "global", "cluster", "vault", "edge"]
    return Product(
        product_id=f"P{i:04d}",
        category=rng.choice(["compute", "storage", "database"]),
        name=" ".join(rng.sample(words, 2)) + f" {i}",
        description=rng.choice(["fast", "cheap", "global edge", ""]),
        price=Decimal(rng.randrange(1, 50) * 1000),
        image_url="",
        stock=rng.randrange(0, 9),
        created_at=f"2024-01-{rng.randrange(1, 28):02d}T00:00:00.000Z",
    )


def _same(left: CatalogIndex, right: CatalogIndex) -> None:
    queries = [
        {},
        {"category": "compute"},
        {"q": "inst"},
        {"q": "global edge"},
        {"q": "GLOBAL", "category": "storage"},
        {"q": "nothing-matches"},
    ]
    for sort in SORTS:
        for query in queries:
            cursor = None
            for _ in range(4):
                got = left.query(sort=sort, limit=7, cursor=cursor, **query)
                want = right.query(sort=sort, limit=7, cursor=cursor, **query)
                assert got == want, (sort, query)
                cursor = got.next_cursor
                if cursor is None:
                    break


def test_patched_index_equals_a_rebuilt_one() -> None:
    rng = random.Random(3)
    products = {p.product_id: p for p in (_product(i, rng) for i in range(300))}
    index = CatalogIndex(products.values())
    _same(index, CatalogIndex(products.values()))
    for step in range(40):
        changed, removed = [], []
        for _ in range(rng.randrange(1, 6)):
            roll = rng.random()
            pid = rng.choice(sorted(products))
            if roll < 0.3:
                changed.append(products[pid].with_changes(stock=rng.randrange(9)))
            elif roll < 0.6:
                changed.append(_product(int(pid[1:]), rng))  # price, name, category...
            elif roll < 0.8:
                removed.append(pid)
            else:
                changed.append(_product(1000 + step * 10 + len(changed), rng))
        for pid in removed:
            products.pop(pid, None)
        for product in changed:
            if product.product_id not in removed:
                products[product.product_id] = product
        index.query(q="global")  # warm the memo, which must not go stale
        index = index.apply(
            changed=[p for p in changed if p.product_id not in removed], removed=removed
        )
        if step % 3 == 0:
            index = index.with_stock({pid: 1 for pid in list(products)[:5]})
            for pid in list(products)[:5]:
                products[pid] = products[pid].with_changes(stock=1)
        _same(index, CatalogIndex(products.values()))
