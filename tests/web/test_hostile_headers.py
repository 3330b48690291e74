"""Headers, cookies and query parameters are the client's to write (issue 11, item 6): each is
parsed defensively (`domain.client_text`, `domain.numbers`) and either ignored or refused
with a 4xx, never a 500, and never copied into a response header HTTP would refuse.

The named tests each plant one value that crashed a page before; the fuzz test then throws
hostile values at every GET route of the pages and the API, as anonymous, customer and
admin. It is deterministic (derandomized, a bounded number of examples) so CI is stable."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import ADDRESS, admin_headers, bearer, register
from tests.helpers.pages import csrf_token, htmx, login, sign_up

FUZZ_EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "150"))
NESTED = "[" * 3000 + "]" * 3000
PRODUCT = "PROD-LAMBDA-10M"
# What HTTP (h11, behind hypercorn) accepts as a header value: no NUL, no CR/LF/VT/FF.
FIELD_VALUE = re.compile(rb"[^\x00\r\n\x0b\x0c]*")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def unsendable_headers(response) -> list[tuple[str, str]]:
    """Response headers a real server could not send (the client would see a 500)."""
    return [
        (name, value)
        for name, value in response.headers.items()
        if not FIELD_VALUE.fullmatch(value.encode("utf-8", "surrogatepass"))
    ]


@pytest.fixture(scope="module")
async def catalog(module_app, seed_products):
    from cloudstore.shop.catalog import load_products

    await load_products(module_app.extensions["cloudstore"], seed_products)


@pytest.fixture(scope="module")
async def customer(module_app, catalog) -> dict:
    """A customer with one order (so order pages have something to show)."""
    headers = bearer(await register(module_app.test_client()))
    body = {"items": [{"product_id": PRODUCT, "quantity": 1}], "shipping_address": ADDRESS}
    response = await module_app.test_client().post("/api/orders", json=body, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    order_id = (await response.get_json())["data"]["order_id"]
    return {"headers": headers, "order_id": order_id}


@pytest.fixture(scope="module")
async def admin(module_app) -> dict:
    return await admin_headers(module_app)


# --- each hole that was found, as its own test ----------------------------------------------


async def test_deeply_nested_cart_header_counts_as_an_empty_cart(module_app, catalog):
    response = await module_app.test_client().get("/cart", headers={"X-Cart": NESTED})
    assert response.status_code == 200


async def test_deeply_nested_cart_header_is_ignored_when_changing_the_cart(module_app, catalog):
    client = module_app.test_client()
    headers = {**htmx(await csrf_token(client), current="/cart"), "X-Cart": NESTED}
    response = await client.post(
        "/cart/items", form={"product_id": PRODUCT, "quantity": "1"}, headers=headers
    )
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/", "/cart", "/login", f"/products/{PRODUCT}"])
async def test_planted_deeply_nested_notice_cookie_is_ignored_on_every_page(
    module_app, catalog, path
):
    client = module_app.test_client()
    response = await client.get(path, headers={"Cookie": f"cs_notice={quote(NESTED[:3000])}"})
    assert response.status_code == 200


async def test_planted_notice_cookie_that_is_not_an_object_is_ignored(module_app, catalog):
    client = module_app.test_client()
    response = await client.get("/", headers={"Cookie": "cs_notice=%5B1%2C2%5D"})
    assert response.status_code == 200


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x0c", "\x7f", "\x85", "\u2028"])
async def test_control_characters_in_next_never_reach_the_location_header(
    module_app, catalog, character
):
    client = module_app.test_client()
    await login(client, *await _new_customer(client))
    response = await client.get("/login?" + urlencode({"next": f"/orders{character}x"}))
    assert response.headers["Location"] == "/"


async def test_control_characters_in_a_forms_next_never_reach_hx_redirect(module_app, catalog):
    client = module_app.test_client()
    email = await sign_up(client)
    client = module_app.test_client()
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": email, "password": "rahasia1", "next": "/orders\x0bx"},
        headers=htmx(token),
    )
    assert response.headers["HX-Redirect"] == "/"


@pytest.mark.parametrize("path", ["/admin/orders", "/admin/orders?status=pending"])
async def test_deeply_nested_admin_orders_cursor_starts_from_the_newest(module_app, admin, path):
    separator = "&" if "?" in path else "?"
    response = await module_app.test_client().get(
        f"{path}{separator}cursor={b64(NESTED)}", headers=admin
    )
    assert response.status_code == 200


async def test_deeply_nested_admin_products_cursor_starts_from_the_first(
    module_app, admin, catalog
):
    response = await module_app.test_client().get(
        f"/admin/products?cursor={b64(NESTED)}", headers=admin
    )
    assert response.status_code == 200


async def test_deeply_nested_catalog_cursor_starts_from_the_first(module_app, catalog):
    response = await module_app.test_client().get(f"/?cursor={b64(NESTED)}")
    assert response.status_code == 200


async def test_admin_orders_cursor_of_another_index_is_refused(module_app, admin, customer):
    key = {"user_id": "u", "order_id": customer["order_id"], "order_list": "ALL"}
    response = await module_app.test_client().get(
        f"/api/admin/orders?status=pending&cursor={b64(json.dumps(key))}", headers=admin
    )
    assert response.status_code == 400


async def test_admin_orders_cursor_without_its_index_key_is_refused(module_app, admin, customer):
    key = {"order_id": customer["order_id"]}
    response = await module_app.test_client().get(
        f"/api/admin/orders?cursor={b64(json.dumps(key))}", headers=admin
    )
    assert response.status_code == 400


async def test_unparseable_hx_current_url_is_ignored(module_app, catalog):
    client = module_app.test_client()
    headers = {**htmx(await csrf_token(client)), "HX-Current-URL": "http://[broken"}
    response = await client.post(
        "/cart/items", form={"product_id": PRODUCT, "quantity": "1"}, headers=headers
    )
    assert response.status_code == 200


async def test_unparseable_hx_current_url_on_an_admin_page_is_ignored(module_app, admin, customer):
    headers = {**admin, "HX-Request": "true", "HX-Current-URL": "http://[broken"}
    response = await module_app.test_client().get(
        f"/admin/orders/{customer['order_id']}", headers=headers
    )
    assert response.status_code == 200


async def test_unparseable_origin_is_not_same_origin(module_app, catalog):
    client = module_app.test_client()
    await login(client, *await _new_customer(client))
    response = await client.post(
        "/api/cart", json={"items": []}, headers={"Origin": "http://[broken"}
    )
    assert response.status_code == 403


async def test_non_ascii_csrf_token_is_refused(module_app, catalog):
    client = module_app.test_client()
    await csrf_token(client)  # the cookie, so the sent token is compared with it
    response = await client.post(
        "/cart/items",
        form={"product_id": PRODUCT, "quantity": "1", "csrf_token": "é" * 43},
    )
    assert response.status_code == 403


async def _new_customer(client) -> tuple[str, str]:
    from tests.helpers import PASSWORD, unique_email

    email = unique_email("hostile")
    await register(client, email=email)
    return email, PASSWORD


# --- the fuzz test ----------------------------------------------------------------------------

SAMPLES = [
    NESTED,
    "{" * 2000,
    b64(NESTED),
    b64('{"order_id": "ORD-x"}'),
    b64('["newest", "PROD-X", "x"]'),
    b64("ORD-\x00"),
    '[{"product_id": "PROD-LAMBDA-10M", "quantity": 1e999999999}]',
    '[{"product_id": "PROD-LAMBDA-10M", "quantity": ' + "9" * 5000 + "}]",
    '{"kind": "error", "text": {"nested": [1, 2]}}',
    "NaN",
    "http://[broken",
    "http://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/orders\x0bx",
    "/\x00",
    "%00%ff%",
    "9" * 5000,
    "1e999999999",
    "-1",
    "Bearer " + "x" * 3000,
    "Bearer a.b.c",
    "é€\u2028",
    "a" * 9000,
    "",
]
QUERY_NAMES = ["cursor", "next", "q", "sort", "category", "status", "limit", "low", "v"]
HEADER_NAMES = [
    "X-Cart",
    "HX-Current-URL",
    "HX-Target",
    "X-Request-ID",
    "Idempotency-Key",
    "Authorization",
    "Origin",
    "X-CSRF-Token",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
]
COOKIE_NAMES = ["cs_notice", "cs_session", "cs_csrf"]
# Characters a client can put in a header: anything but NUL, CR, LF, VT and FF (h11).
header_text = st.text(
    st.characters(min_codepoint=1, max_codepoint=255, exclude_characters="\t\n\x0b\x0c\r"),
    max_size=60,
)
header_value = st.one_of(
    st.sampled_from([s for s in SAMPLES if FIELD_VALUE.fullmatch(s.encode())]), header_text
)
query_value = st.one_of(st.sampled_from(SAMPLES), st.text(max_size=60))
cookie_value = st.one_of(
    st.sampled_from([quote(s[:3500], safe="") for s in SAMPLES]),
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";,"), max_size=60
    ),
)


def get_routes(app, samples: dict[str, str]) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if set(rule.arguments) - set(samples):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", samples[name])
        paths.append(path)
    return sorted(set(paths))


async def test_hostile_headers_cookies_and_query_parameters_never_cause_a_server_error(
    module_app, catalog, customer, admin
):
    samples = {"product_id": PRODUCT, "order_id": customer["order_id"]}
    routes = get_routes(module_app, samples)
    assert any(path.startswith("/api/") for path in routes)
    assert any(path.startswith("/admin") for path in routes)
    identities = [{}, customer["headers"], admin]
    client = module_app.test_client()
    loop = asyncio.get_running_loop()
    failures: list[tuple] = []

    async def probe(path: str, who: int, htmx_request: bool, params, headers, cookies, raw):
        query = urlencode(params)
        if raw:
            query = f"{query}&{raw}" if query else raw
        sent = {**headers, **identities[who]}
        if htmx_request:
            sent["HX-Request"] = "true"
        if cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        response = await client.get(f"{path}?{query}" if query else path, headers=sent)
        return response.status_code, unsendable_headers(response)

    @settings(
        derandomize=True,
        database=None,
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path=st.sampled_from(routes),
        who=st.integers(0, len(identities) - 1),
        htmx_request=st.booleans(),
        params=st.dictionaries(st.sampled_from(QUERY_NAMES), query_value, max_size=3),
        headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_value, max_size=3),
        cookies=st.dictionaries(st.sampled_from(COOKIE_NAMES), cookie_value, max_size=2),
        raw=st.sampled_from(["", "cursor=%ff%fe", "next=%2F%0B", "q=%00", "%", "a=%e2%80"]),
    )
    def check(path, who, htmx_request, params, headers, cookies, raw):
        status, bad = asyncio.run_coroutine_threadsafe(
            probe(path, who, htmx_request, params, headers, cookies, raw), loop
        ).result(timeout=60)
        if status >= 500 or bad:
            failures.append((path, who, params, headers, cookies, raw, status, bad))
        assert status < 500, (path, status)
        assert bad == [], bad

    await asyncio.to_thread(check)
    assert failures == []
