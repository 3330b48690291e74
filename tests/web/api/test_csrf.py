"""/api calls that ride the browser's session cookie must prove they come from our pages."""

from __future__ import annotations

from tests.helpers import bearer, register
from tests.helpers.pages import csrf_token

CART = {"items": [{"product_id": "PROD-LAMBDA-10M", "quantity": 1}]}
TOKEN = "t" * 40


async def test_cookie_authenticated_api_post_from_another_site_is_a_403(client, seeded):
    token = await register(client)
    response = await client.post(
        "/api/cart",
        json=CART,
        headers={"Cookie": f"cs_session={token}", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert (await response.get_json())["success"] is False


async def test_cookie_authenticated_api_post_without_origin_or_token_is_a_403(client, seeded):
    token = await register(client)
    response = await client.post("/api/cart", json=CART, headers={"Cookie": f"cs_session={token}"})
    assert response.status_code == 403


async def test_cookie_authenticated_api_post_from_our_own_origin_is_allowed(client, seeded):
    token = await register(client)
    response = await client.post(
        "/api/cart",
        json=CART,
        headers={"Cookie": f"cs_session={token}", "Origin": "http://localhost"},
    )
    assert response.status_code == 200


async def test_cookie_authenticated_api_post_with_the_csrf_token_is_allowed(client, seeded):
    client.set_cookie("localhost", "cs_session", await register(client))
    page_token = await csrf_token(client)  # what our page hands this session
    response = await client.post("/api/cart", json=CART, headers={"X-CSRF-Token": page_token})
    assert response.status_code == 200


async def test_an_attacker_chosen_matching_cookie_and_header_pair_is_a_403(client, seeded):
    # Issue 11, item 8: a planted cs_csrf cookie with the same value in the header.
    token = await register(client)
    response = await client.post(
        "/api/cart",
        json=CART,
        headers={"Cookie": f"cs_session={token}; cs_csrf={TOKEN}", "X-CSRF-Token": TOKEN},
    )
    assert response.status_code == 403


async def test_the_csrf_token_of_another_session_is_a_403(client, seeded):
    client.set_cookie("localhost", "cs_session", await register(client))
    other_sessions_token = await csrf_token(client)
    client.set_cookie("localhost", "cs_session", await register(client))
    response = await client.post(
        "/api/cart", json=CART, headers={"X-CSRF-Token": other_sessions_token}
    )
    assert response.status_code == 403


async def test_bearer_api_calls_need_no_csrf_token(client, seeded):
    token = await register(client)
    response = await client.post("/api/cart", json=CART, headers=bearer(token))
    assert response.status_code == 200


async def test_cookie_authenticated_reads_need_no_csrf_token(client, seeded):
    token = await register(client)
    response = await client.get("/api/cart", headers={"Cookie": f"cs_session={token}"})
    assert response.status_code == 200
