"""/api/admin/*: only admins may write the catalog; validation, moves and atomic stock."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from tests.helpers import bearer, register
from tests.helpers.shared_app import admin, app, settings  # noqa: F401 - one app per module

# One app for the whole module: every test makes its own products, so none shares data.


@pytest.fixture(scope="module")
async def customer(app) -> dict:
    return bearer(await register(app.test_client()))


def product_body(**overrides) -> dict:
    return {
        "name": "Amazon EC2 t3.large",
        "description": "Server virtual serbaguna",
        "price": 1_250_000,
        "category": "compute",
        "image_url": "/static/img/ec2.svg",
        "stock": 10,
        **overrides,
    }


async def new_product(client, admin, **overrides) -> dict:
    response = await client.post(
        "/api/admin/products", json=product_body(**overrides), headers=admin
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return (await response.get_json())["data"]


async def product_status(client, product_id: str) -> tuple[int, dict]:
    response = await client.get(f"/api/products/{product_id}")
    return response.status_code, await response.get_json()


async def stock_of(client, product_id: str) -> int:
    status, body = await product_status(client, product_id)
    assert status == 200
    return body["data"]["stock"]


async def stored_items(backends, product_id: str) -> list[dict]:
    """Every DynamoDB item filed under this product id, whatever its category."""
    reply = await backends.dynamo.call(
        "query",
        TableName=backends.settings.products_table,
        KeyConditionExpression="product_id = :id",
        ExpressionAttributeValues={":id": {"S": product_id}},
        ConsistentRead=True,
    )
    return reply["Items"]


# ---- the guard ------------------------------------------------------------------------------


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path) for every /api/admin route, path parameters filled with an unknown id."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/admin/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "NOPE-404", rule.rule)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


async def call(client, method: str, path: str, headers: dict | None = None):
    body = None if method in ("GET", "DELETE") else {}
    return await client.open(path, method=method, json=body, headers=headers or {})


def test_the_guard_matrix_covers_every_product_route(app):
    routes = admin_routes(app)
    assert {
        ("POST", "/api/admin/products"),
        ("PUT", "/api/admin/products/NOPE-404"),
        ("DELETE", "/api/admin/products/NOPE-404"),
        ("POST", "/api/admin/products/NOPE-404/stock"),
    } <= set(routes)


async def test_every_admin_route_refuses_anonymous_callers_with_401(app, client):
    for method, path in admin_routes(app):
        response = await call(client, method, path)
        assert response.status_code == 401, (method, path)
        assert (await response.get_json())["success"] is False


async def test_every_admin_route_refuses_an_invalid_token_with_401(app, client):
    for method, path in admin_routes(app):
        response = await call(client, method, path, bearer("not.a.token"))
        assert response.status_code == 401, (method, path)


async def test_every_admin_route_refuses_customers_with_403(app, client, customer):
    for method, path in admin_routes(app):
        response = await call(client, method, path, customer)
        assert response.status_code == 403, (method, path)
        assert await response.get_json() == {"success": False, "error": "admin access required"}


async def test_every_admin_route_lets_an_admin_past_the_guard(app, client, admin):
    for method, path in admin_routes(app):
        response = await call(client, method, path, admin)
        assert response.status_code not in (401, 403, 500), (method, path)


async def test_a_customers_writes_change_nothing(client, admin, customer):
    product = await new_product(client, admin, stock=7)
    pid = product["product_id"]
    await client.put(f"/api/admin/products/{pid}", json={"price": 1}, headers=customer)
    await client.post(f"/api/admin/products/{pid}/stock", json={"delta": -7}, headers=customer)
    await client.delete(f"/api/admin/products/{pid}", headers=customer)
    status, body = await product_status(client, pid)
    assert status == 200
    assert body["data"]["price"] == product["price"] and body["data"]["stock"] == 7


async def test_admin_routes_with_admin_token_succeed(client, admin):
    pid = (await new_product(client, admin))["product_id"]
    put = await client.put(f"/api/admin/products/{pid}", json={"stock": 3}, headers=admin)
    stock = await client.post(f"/api/admin/products/{pid}/stock", json={"delta": 1}, headers=admin)
    delete = await client.delete(f"/api/admin/products/{pid}", headers=admin)
    assert (put.status_code, stock.status_code, delete.status_code) == (200, 200, 200)


# ---- create ---------------------------------------------------------------------------------


async def test_create_returns_201_with_a_generated_product_id(client, admin):
    response = await client.post(
        "/api/admin/products", json=product_body(product_id="MINE-1"), headers=admin
    )
    assert response.status_code == 201
    body = await response.get_json()
    assert body["success"] is True
    data = body["data"]
    assert data["product_id"].startswith("PROD-") and data["product_id"] != "MINE-1"
    assert data["price"] == 1_250_000 and isinstance(data["price"], int)
    assert data["stock"] == 10 and data["category"] == "compute"
    assert data["created_at"] and data["updated_at"]


async def test_created_product_appears_in_the_product_list_and_detail(client, admin):
    name = f"Brand new {uuid.uuid4().hex[:8]}"
    pid = (await new_product(client, admin, name=name))["product_id"]
    listed = await (await client.get(f"/api/products?q={name.split()[-1]}")).get_json()
    assert [p["product_id"] for p in listed["data"]] == [pid]
    status, detail = await product_status(client, pid)
    assert status == 200 and detail["data"]["name"] == name


async def test_create_normalises_the_category_letter_case(client, admin):
    assert (await new_product(client, admin, category=" Storage "))["category"] == "storage"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("price", -1),
        ("price", "abc"),
        ("price", "100"),
        ("price", 1.5),
        ("price", True),
        ("price", None),
        ("stock", 1.5),
        ("stock", "3"),
        ("stock", True),
        ("stock", -1),
        ("category", "food"),
        ("category", ""),
    ],
    ids=lambda v: repr(v),
)
async def test_create_with_an_invalid_field_is_400_and_creates_nothing(client, admin, field, value):
    before = (await (await client.get("/api/products")).get_json())["total"]
    response = await client.post(
        "/api/admin/products", json=product_body(**{field: value}), headers=admin
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert body["success"] is False and field in body["error"]
    assert (await (await client.get("/api/products")).get_json())["total"] == before


@pytest.mark.parametrize("missing", ["name", "price", "category"])
async def test_create_without_a_required_field_is_400_naming_it(client, admin, missing):
    body = product_body()
    del body[missing]
    response = await client.post("/api/admin/products", json=body, headers=admin)
    assert response.status_code == 400
    assert missing in (await response.get_json())["error"]


# ---- update ---------------------------------------------------------------------------------


async def test_put_changes_only_the_fields_it_names(client, admin):
    product = await new_product(client, admin)
    pid = product["product_id"]
    response = await client.put(f"/api/admin/products/{pid}", json={"price": 999}, headers=admin)
    assert response.status_code == 200
    updated = (await response.get_json())["data"]
    assert updated["price"] == 999
    for unchanged in ("name", "description", "category", "stock", "image_url", "created_at"):
        assert updated[unchanged] == product[unchanged], unchanged
    _, detail = await product_status(client, pid)
    assert detail["data"] == updated


async def test_put_with_an_invalid_value_is_400_and_changes_nothing(client, admin):
    product = await new_product(client, admin)
    pid = product["product_id"]
    for bad in ({"price": -5}, {"stock": "9"}, {"name": ""}, {"category": "food"}):
        response = await client.put(f"/api/admin/products/{pid}", json=bad, headers=admin)
        assert response.status_code == 400, bad
    _, detail = await product_status(client, pid)
    assert detail["data"] == product


async def test_put_changing_category_moves_the_item_leaving_exactly_one(client, admin, backends):
    product = await new_product(client, admin, category="compute", stock=6)
    pid = product["product_id"]
    response = await client.put(
        f"/api/admin/products/{pid}", json={"category": "storage"}, headers=admin
    )
    assert response.status_code == 200
    moved = (await response.get_json())["data"]
    assert moved["category"] == "storage"
    assert (moved["stock"], moved["price"], moved["created_at"]) == (
        6,
        product["price"],
        product["created_at"],
    )
    items = await stored_items(backends, pid)
    assert len(items) == 1 and items[0]["category"]["S"] == "storage"


async def test_moved_product_is_listed_under_its_new_category_only(client, admin):
    pid = (await new_product(client, admin, category="compute"))["product_id"]
    await client.put(f"/api/admin/products/{pid}", json={"category": "database"}, headers=admin)
    compute = await (await client.get("/api/products?category=compute&limit=1000")).get_json()
    database = await (await client.get("/api/products?category=database&limit=1000")).get_json()
    assert pid not in [p["product_id"] for p in compute["data"]]
    assert pid in [p["product_id"] for p in database["data"]]


async def test_put_unknown_product_is_404(client, admin):
    response = await client.put("/api/admin/products/NOPE-123", json={"price": 1}, headers=admin)
    assert response.status_code == 404
    assert await response.get_json() == {"success": False, "error": "product not found"}


# ---- delete ---------------------------------------------------------------------------------


async def test_delete_unknown_product_is_404(client, admin):
    response = await client.delete("/api/admin/products/NOPE-123", headers=admin)
    assert response.status_code == 404
    assert (await response.get_json())["success"] is False


async def test_deleted_product_is_gone_from_detail_list_and_table(client, admin, backends):
    pid = (await new_product(client, admin))["product_id"]
    response = await client.delete(f"/api/admin/products/{pid}", headers=admin)
    assert response.status_code == 200
    assert (await response.get_json())["success"] is True
    status, _ = await product_status(client, pid)
    assert status == 404
    listed = await (await client.get("/api/products?limit=1000")).get_json()
    assert pid not in [p["product_id"] for p in listed["data"]]
    assert await stored_items(backends, pid) == []


async def test_deleting_twice_is_a_404_the_second_time(client, admin):
    pid = (await new_product(client, admin))["product_id"]
    assert (await client.delete(f"/api/admin/products/{pid}", headers=admin)).status_code == 200
    assert (await client.delete(f"/api/admin/products/{pid}", headers=admin)).status_code == 404


# ---- stock ----------------------------------------------------------------------------------


async def test_stock_delta_adds_and_subtracts(client, admin):
    pid = (await new_product(client, admin, stock=10))["product_id"]
    plus = await client.post(f"/api/admin/products/{pid}/stock", json={"delta": 5}, headers=admin)
    assert plus.status_code == 200 and (await plus.get_json())["data"]["stock"] == 15
    minus = await client.post(f"/api/admin/products/{pid}/stock", json={"delta": -3}, headers=admin)
    assert minus.status_code == 200 and (await minus.get_json())["data"]["stock"] == 12
    assert await stock_of(client, pid) == 12


async def test_stock_delta_below_zero_is_409_and_leaves_stock_unchanged(client, admin, backends):
    pid = (await new_product(client, admin, stock=2))["product_id"]
    response = await client.post(
        f"/api/admin/products/{pid}/stock", json={"delta": -3}, headers=admin
    )
    assert response.status_code == 409
    assert (await response.get_json())["success"] is False
    assert await stock_of(client, pid) == 2
    assert (await backends.catalog.fetch(pid)).stock == 2


async def test_stock_delta_down_to_exactly_zero_is_allowed(client, admin):
    pid = (await new_product(client, admin, stock=2))["product_id"]
    response = await client.post(
        f"/api/admin/products/{pid}/stock", json={"delta": -2}, headers=admin
    )
    assert response.status_code == 200 and (await response.get_json())["data"]["stock"] == 0


@pytest.mark.parametrize("delta", [0, 1.5, "2", True, None], ids=repr)
async def test_stock_delta_must_be_a_non_zero_integer(client, admin, delta):
    pid = (await new_product(client, admin, stock=2))["product_id"]
    response = await client.post(
        f"/api/admin/products/{pid}/stock", json={"delta": delta}, headers=admin
    )
    assert response.status_code == 400
    assert await stock_of(client, pid) == 2


async def test_stock_delta_on_unknown_product_is_404(client, admin):
    response = await client.post(
        "/api/admin/products/NOPE-123/stock", json={"delta": 1}, headers=admin
    )
    assert response.status_code == 404


async def test_concurrent_decrements_never_take_stock_below_zero(client, admin, backends):
    pid = (await new_product(client, admin, stock=4))["product_id"]
    responses = await asyncio.gather(
        *(
            client.post(f"/api/admin/products/{pid}/stock", json={"delta": -1}, headers=admin)
            for _ in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 4 + [409] * 6
    assert (await backends.catalog.fetch(pid)).stock == 0
    # The worker's in-memory snapshot may apply the replies out of order; its refresher's
    # next tick (every CATALOG_REFRESH_SECONDS, off in tests) brings the listing in line.
    await backends.catalog.refresh_if_changed()
    assert await stock_of(client, pid) == 0
