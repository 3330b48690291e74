"""Bad input and outages get clear 4xx/503 envelopes: never a 500, a traceback or internals."""

from __future__ import annotations

import socket
import time

import pytest

from cloudstore import create_app
from tests.helpers import bearer, make_settings, unique_email
from tests.helpers.shared_app import admin, app, settings  # noqa: F401 - one app per module

LEAKS = ("Traceback", "psycopg", "botocore", "127.0.0.1", 'File "', "Exception")
JSON = {"Content-Type": "application/json"}
REGISTER = "/api/auth/register"


@pytest.fixture(scope="module")
def module_settings(postgres_url, dynamodb, tmp_path_factory):
    # The outage tests log warnings on purpose.
    data_dir = tmp_path_factory.mktemp("data")
    return make_settings(postgres_url, dynamodb.endpoint, data_dir, log_level="CRITICAL")


async def envelope(response, status: int) -> dict:
    """The error envelope of a response, after checking it leaks nothing."""
    text = await response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} in {text[:300]!r}"
    assert response.status_code == status, text[:300]
    assert response.content_type.startswith("application/json")
    body = await response.get_json()
    assert body["success"] is False and isinstance(body["error"], str) and body["error"]
    return body


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- bodies that are not what they should be ----------------------------------------------


async def test_malformed_json_is_a_400_without_the_parsers_message(client):
    response = await client.post(REGISTER, data=b'{"name": "Budi", "email": ', headers=JSON)
    body = await envelope(response, 400)
    assert body["error"] == "request body is not valid JSON"
    assert "Expecting" not in body["error"] and "char" not in body["error"]


async def test_non_utf8_body_is_a_400(client):
    response = await client.post(
        REGISTER, data=b'{"name": "\xff\xfe\xfa", "email": "a@b.co", "password": "x"}', headers=JSON
    )
    await envelope(response, 400)


async def test_a_json_array_instead_of_an_object_is_a_400(client):
    response = await client.post(REGISTER, json=[{"name": "Budi"}])
    body = await envelope(response, 400)
    assert "JSON object" in body["error"]


@pytest.mark.parametrize("payload", [b"", b"null", b'"text"', b"42"], ids=repr)
async def test_an_empty_or_scalar_body_is_a_400(client, payload):
    await envelope(await client.post(REGISTER, data=payload, headers=JSON), 400)


async def test_a_form_body_where_json_is_expected_is_a_400(client):
    response = await client.post(
        REGISTER,
        data=b"name=Budi&email=budi%40example.com&password=rahasia1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await envelope(response, 400)


@pytest.mark.parametrize("missing", ["name", "email", "password"])
async def test_a_missing_field_is_a_400_naming_it(client, missing):
    payload = {"name": "Budi", "email": unique_email(), "password": "rahasia1"}
    del payload[missing]
    body = await envelope(await client.post(REGISTER, json=payload), 400)
    assert missing in body["error"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", 123), ("email", ["a@b.co"]), ("password", 123456789), ("name", None)],
    ids=repr,
)
async def test_a_wrong_type_is_a_400_naming_the_field(client, field, value):
    payload = {"name": "Budi", "email": unique_email(), "password": "rahasia1", field: value}
    body = await envelope(await client.post(REGISTER, json=payload), 400)
    assert field in body["error"]


async def test_a_cart_item_of_the_wrong_shape_is_a_400_naming_its_position(client):
    response = await client.post(
        REGISTER, json={"name": "Budi", "email": unique_email(), "password": "rahasia1"}
    )
    token = (await response.get_json())["token"]
    response = await client.post(
        "/api/cart",
        json={"items": [{"product_id": "A", "quantity": 1}, "not-an-object"]},
        headers=bearer(token),
    )
    body = await envelope(response, 400)
    assert "items.1" in body["error"]


async def test_a_body_over_1_mb_is_a_413(client):
    payload = b'{"name": "' + b"a" * (1024 * 1024) + b'", "email": "a@b.co", "password": "x"}'
    body = await envelope(await client.post(REGISTER, data=payload, headers=JSON), 413)
    assert "too large" in body["error"]


async def test_deeply_nested_json_is_a_400_not_a_500(client):
    await envelope(await client.post(REGISTER, data=b"[" * 100_000, headers=JSON), 400)


async def test_deeply_nested_but_closed_json_is_a_400_not_a_500(client):
    payload = b'{"name": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    await envelope(await client.post(REGISTER, data=payload, headers=JSON), 400)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-1e309"])
async def test_non_finite_or_huge_price_is_a_400(client, admin, number):
    payload = b'{"name": "Weird", "category": "compute", "stock": 1, "price": ' + number + b"}"
    body = await envelope(
        await client.post("/api/admin/products", data=payload, headers={**JSON, **admin}), 400
    )
    assert "price" in body["error"] or "JSON" in body["error"]


async def test_nan_anywhere_in_a_body_is_a_400(client):
    payload = b'{"name": "Budi", "email": "a@b.co", "password": "rahasia1", "extra": NaN}'
    await envelope(await client.post(REGISTER, data=payload, headers=JSON), 400)


# ---- routes and methods -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/api/products/x/y/z", "/api/admin"])
async def test_unknown_api_route_is_a_404_envelope(client, path):
    await envelope(await client.get(path), 404)


async def test_wrong_method_is_a_405_envelope_with_allow(client):
    response = await client.delete("/api/products")
    await envelope(response, 405)
    assert "GET" in response.headers.get("Allow", "")


async def test_wrong_method_on_an_auth_route_is_a_405_envelope(client):
    await envelope(await client.get(REGISTER), 405)


# ---- outages ------------------------------------------------------------------------------


async def test_dynamodb_unreachable_is_a_quick_503_with_retry_after(settings):
    down = create_app(
        settings.with_overrides(dynamodb_endpoint=f"http://127.0.0.1:{closed_port()}")
    )
    async with down.test_app():
        started = time.monotonic()
        response = await down.test_client().get("/api/products")
        elapsed = time.monotonic() - started
    assert elapsed < 10
    await envelope(response, 503)
    assert response.headers.get("Retry-After")


async def test_postgres_unreachable_fails_login_with_503_but_products_still_list(settings):
    down = create_app(
        settings.with_overrides(
            database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/nowhere"
        )
    )
    async with down.test_app():
        client = down.test_client()
        started = time.monotonic()
        login = await client.post(
            "/api/auth/login", json={"email": unique_email(), "password": "rahasia1"}
        )
        elapsed = time.monotonic() - started
        products = await client.get("/api/products")
    assert elapsed < 10
    await envelope(login, 503)
    assert login.headers.get("Retry-After")
    assert products.status_code == 200
    assert (await products.get_json())["success"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 100_000, "price": 1000, "category": "compute"},
        {"name": "ok", "description": "d" * 100_000, "price": 1000, "category": "compute"},
        {
            "name": "ok",
            "price": 1000,
            "category": "compute",
            "image_url": "https://a.io/" + "p" * 5000,
        },
    ],
)
async def test_very_long_strings_are_a_400(client, admin, body):
    await envelope(await client.post("/api/admin/products", json=body, headers=admin), 400)


@pytest.mark.parametrize(
    "name",
    ["Zürich 東京 🚀", "\u202eevil\u202c", "e\u0301\u0301\u0301", "\ufeffBOM", "a\u200bb"],
)
async def test_odd_unicode_in_text_is_stored_and_returned_as_is(client, admin, name):
    response = await client.post(
        "/api/admin/products",
        json={"name": name, "price": 1000, "category": "compute"},
        headers=admin,
    )
    assert response.status_code == 201
    body = await response.get_json()
    fetched = await client.get(f"/api/products/{body['data']['product_id']}")
    assert (await fetched.get_json())["data"]["name"] == name.strip()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/admin/products", {"name": "n", "price": -1, "category": "compute"}),
        ("/api/admin/products", {"name": "n", "price": 1, "category": "compute", "stock": -5}),
        ("/api/cart", {"items": [{"product_id": "PROD-LAMBDA-10M", "quantity": -1}]}),
    ],
)
async def test_negative_numbers_are_a_400(client, admin, path, body):
    await envelope(await client.post(path, json=body, headers=admin), 400)


async def test_a_body_of_many_small_lines_is_refused_not_processed(client, admin):
    items = [{"product_id": f"P{n}", "quantity": 1} for n in range(5000)]
    await envelope(await client.post("/api/cart", json={"items": items}, headers=admin), 400)
