"""Helpers for the page tests: a browser-like session (CSRF token, htmx headers)."""

from __future__ import annotations

import json
import re

from cloudstore.shop.accounts import create_admin
from tests.helpers import ADMIN_PASSWORD, PASSWORD, unique_email

TOKEN = re.compile(r'"X-CSRF-Token": "([A-Za-z0-9_-]+)"')


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def csrf_token(client) -> str:
    """What a page gives the browser: the token in <body hx-headers> (cookie set alongside)."""
    body = await text(await client.get("/cart"))
    match = TOKEN.search(body.replace("&#34;", '"'))
    assert match, "no CSRF token in the page"
    return match.group(1)


def htmx(token: str | None = None, cart: list[dict] | None = None, current: str = "/") -> dict:
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://localhost{current}"}
    if token:
        headers["X-CSRF-Token"] = token
    if cart is not None:
        headers["X-Cart"] = json.dumps(cart)
    return headers


async def sign_up(client, *, name="Sari Dewi", email=None, password=PASSWORD, cart=None):
    """Register through the page (as htmx does); returns the email."""
    email = email or unique_email("page")
    token = await csrf_token(client)
    response = await client.post(
        "/register",
        form={"name": name, "email": email, "password": password, "next": "/"},
        headers=htmx(token, cart),
    )
    assert response.status_code == 200, await text(response)
    assert response.headers["HX-Redirect"] == "/"
    return email


def is_fragment(body: str) -> bool:
    return "<html" not in body and "<body" not in body


async def login(client, email: str, password: str) -> str:
    """Log in through the API and keep the session cookie, as the login page does."""
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    token = (await response.get_json())["token"]
    client.set_cookie("localhost", "cs_session", token)
    return token


async def as_admin(client, backends) -> str:
    """Make `client` an admin's browser; returns its CSRF token."""
    email = unique_email("admin")
    await create_admin(backends, email=email, password=ADMIN_PASSWORD, name="Admin")
    token = await login(client, email, ADMIN_PASSWORD)
    assert token
    return await csrf_token(client)
