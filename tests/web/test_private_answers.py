"""No cache keeps a private answer, and no redirect names a host the operator did not set
(issue 11, items 7 and 9). Both rules live in `web/security.py` and are checked here on every
route the app has, so a new route cannot forget them."""

from __future__ import annotations

import pytest

from cloudstore import create_app
from cloudstore.web.security import on_our_host
from tests.helpers import ADDRESS, admin_headers, bearer, make_settings, register

LAMBDA = "PROD-LAMBDA-10M"
SAMPLE = {
    "product_id": "PROD-NOT-THERE",
    "order_id": "ORD-01J00000000000000000000000",
    "user_id": "USR-NOBODY",
    "name": "0" * 40 + ".webp",  # /media/<name>: public when found; a miss is no-store
}
PUBLIC = {("GET", "/api/products"), ("GET", "/api/products/<product_id>")}
PUBLIC |= {("GET", "/api/openapi.json")}
EVIL = {"Host": "evil.example"}


@pytest.fixture(scope="module")
async def catalog(module_app, seed_products):
    from cloudstore.shop.catalog import load_products

    await load_products(module_app.extensions["cloudstore"], seed_products)


@pytest.fixture(scope="module")
async def customer(module_app) -> str:
    return await register(module_app.test_client())


def routes(app, prefix: str) -> list[tuple[str, str, str]]:
    """(method, rule, path with sample values) for every route under `prefix`."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", SAMPLE[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, path))
    return found


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


async def test_every_private_api_answer_is_no_store_and_varies_on_credentials(
    module_app, catalog, customer
):
    client = module_app.test_client()
    admin = await admin_headers(module_app)
    checked, problems = 0, []
    for method, rule, path in routes(module_app, "/api"):
        if (method, rule) in PUBLIC:
            continue
        for headers in ({}, bearer(customer), admin):
            response = await client.open(path, method=method, json={}, headers=headers)
            checked += 1
            if response.headers.get("Cache-Control") != "no-store":
                problems.append((method, path, response.status_code, "Cache-Control"))
            if not {"authorization", "cookie"} <= vary(response):
                problems.append((method, path, response.status_code, "Vary"))
    assert checked > 40
    assert problems == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/auth/register",
            {"name": "Budi", "email": "x-{}@example.com", "password": "p4ss-word"},
        ),
        ("/api/auth/login", {"email": "nobody@example.com", "password": "p4ss-word"}),
    ],
)
async def test_answers_carrying_a_token_are_no_store(module_app, path, body):
    import uuid

    body = {k: v.format(uuid.uuid4().hex) for k, v in body.items()}
    response = await module_app.test_client().post(path, json=body)
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_successful_order_and_profile_are_no_store(module_app, catalog):
    client = module_app.test_client()
    # A new account: the module's customer may have been logged out by the route sweep.
    customer = await register(client)
    order = await client.post(
        "/api/orders",
        json={"items": [{"product_id": LAMBDA, "quantity": 1}], "shipping_address": ADDRESS},
        headers=bearer(customer),
    )
    assert order.status_code == 201
    assert order.headers["Cache-Control"] == "no-store"
    profile = await client.get("/api/user/profile", headers=bearer(customer))
    assert profile.status_code == 200 and profile.headers["Cache-Control"] == "no-store"


async def test_public_catalog_reads_stay_cacheable(module_app, catalog):
    client = module_app.test_client()
    for path in ("/api/products", f"/api/products/{LAMBDA}", "/api/openapi.json"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


async def test_every_page_and_error_page_is_no_store_for_a_signed_in_visitor(
    module_app, catalog, customer
):
    client = module_app.test_client()
    client.set_cookie("localhost", "cs_session", customer)
    pages = [(m, p) for m, _, p in routes(module_app, "/") if not p.startswith(("/api", "/health"))]
    pages += [("GET", "/no-such-page"), ("GET", "/orders/ORD-NOPE"), ("POST", "/cart/items")]
    problems = []
    for method, path in pages:
        response = await client.open(path, method=method)
        if response.headers.get("Cache-Control") != "no-store":
            problems.append((method, path, response.status_code))
    assert len(pages) > 30
    assert problems == []


# ---- redirects ------------------------------------------------------------------------------

REDIRECTING = [
    "/admin//products",  # werkzeug's merge-slashes redirect, built from the Host header
    "/products//" + LAMBDA,
    "/cart//drawer",
    "/api//products",
    "/product/" + LAMBDA,
    "/auth",
    "/orders",
    "/admin",
]


@pytest.mark.parametrize("path", REDIRECTING)
async def test_no_redirect_names_the_host_the_request_claimed(module_app, path):
    response = await module_app.test_client().get(path, headers=EVIL)
    location = response.headers["Location"]
    assert 300 <= response.status_code < 400
    assert "evil.example" not in location
    assert location.startswith("/") and not location.startswith(("//", "/\\"))


async def test_no_htmx_redirect_names_the_host_the_request_claimed(module_app):
    response = await module_app.test_client().get("/orders", headers={**EVIL, "HX-Request": "true"})
    assert "evil.example" not in response.headers.get("HX-Redirect", "")
    assert response.headers.get("Location", "/").startswith("/")


async def test_a_redirect_may_name_public_url(postgres_url, dynamodb, tmp_path):
    settings = make_settings(
        postgres_url, dynamodb.endpoint, tmp_path, public_url="http://shop.example.com"
    )
    app = create_app(settings)
    async with app.test_app():
        response = await app.test_client().get(
            "/admin//products", headers={"Host": "shop.example.com"}
        )
    assert response.headers["Location"] == "http://shop.example.com/admin/products"


@pytest.mark.parametrize(
    ("location", "relative"),
    [
        ("http://evil.example/admin/products?x=1#top", "/admin/products?x=1#top"),
        ("//evil.example/path", "/path"),
        ("/\\evil.example/path", "/evil.example/path"),
        ("https://shop.example.com.evil.example/", "/"),
        ("/orders?next=%2F", "/orders?next=%2F"),
    ],
)
def test_an_absolute_location_on_another_host_becomes_relative(location, relative):
    assert on_our_host(location, "https://shop.example.com") == relative


def test_a_location_on_public_url_is_kept():
    assert on_our_host("https://shop.example.com/a", "https://shop.example.com") == (
        "https://shop.example.com/a"
    )
