"""The pages' CSRF token is bound to the session (issue 11, item 8): HMAC of the session id
when signed in, of a random pre-session value otherwise; it changes at login and logout,
and a cookie/field pair an attacker picks is refused. Over HTTPS our cookies are `__Host-`."""

from __future__ import annotations

import re

from tests.helpers import PASSWORD, unique_email
from tests.helpers.pages import csrf_token, htmx, login, sign_up, text

EC2 = "PROD-EC2-T3MEDIUM"
PLANTED = "p" * 43
HTTPS = {"X-Forwarded-Proto": "https"}  # from 127.0.0.1, the trusted proxy by default
LOCAL = {"client": ("127.0.0.1", 4000)}


async def add_to_cart(client, token: str):
    return await client.post(
        "/cart/items", form={"product_id": EC2, "quantity": "1"}, headers=htmx(token, cart=[])
    )


async def test_a_planted_csrf_cookie_with_the_same_value_in_the_form_is_a_403(client, seeded):
    client.set_cookie("localhost", "cs_csrf", PLANTED)
    assert (await add_to_cart(client, PLANTED)).status_code == 403


async def test_the_token_our_page_hands_out_is_accepted(client, seeded):
    assert (await add_to_cart(client, await csrf_token(client))).status_code == 200


async def test_the_pre_session_cookie_is_not_the_token(client):
    token = await csrf_token(client)
    cookie = client.cookie_jar  # the browser's cs_csrf value never appears in the page
    values = [c.value for c in cookie if c.name == "cs_csrf"]
    assert values and token not in values


async def test_the_token_changes_at_login(client, seeded):
    email = await sign_up(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    before = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": email, "password": PASSWORD, "next": "/"},
        headers=htmx(before),
    )
    assert response.headers["HX-Redirect"] == "/"
    after = await csrf_token(client)
    assert after != before
    assert (await add_to_cart(client, before)).status_code == 403


async def test_the_token_changes_at_logout(client, seeded):
    await sign_up(client)
    signed_in = await csrf_token(client)
    await client.post("/logout", headers=htmx(signed_in))
    assert await csrf_token(client) != signed_in
    assert (await add_to_cart(client, signed_in)).status_code == 403


async def test_a_pre_login_token_stops_working_after_login(client, seeded):
    anonymous = await csrf_token(client)
    await sign_up(client)
    assert (await add_to_cart(client, anonymous)).status_code == 403


async def test_over_https_the_session_cookie_has_the_host_prefix(client, seeded):
    email = unique_email()
    page = await text(await client.get("/register", headers=HTTPS, scope_base=LOCAL))
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    response = await client.post(
        "/register",
        form={"name": "Sari", "email": email, "password": PASSWORD, "next": "/"},
        headers={**HTTPS, "X-CSRF-Token": token},
        scope_base=LOCAL,
    )
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("__Host-cs_session="))
    assert "Secure" in session and "Path=/" in session and "Domain" not in session


async def test_over_https_the_csrf_cookie_has_the_host_prefix(client):
    response = await client.get("/register", headers=HTTPS, scope_base=LOCAL)
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Host-cs_csrf=") and "Secure" in c for c in cookies)


async def test_over_https_a_session_cookie_without_the_prefix_is_ignored(client, seeded):
    email = await sign_up(client)
    token = await login(client, email, PASSWORD)
    response = await client.get(
        "/profile", headers={**HTTPS, "Cookie": f"cs_session={token}"}, scope_base=LOCAL
    )
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


async def test_over_http_cookies_have_no_prefix(client):
    response = await client.get("/register")
    assert not any(c.startswith("__Host-") for c in response.headers.getlist("Set-Cookie"))
