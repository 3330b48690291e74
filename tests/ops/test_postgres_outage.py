"""PostgreSQL down: signed-in shoppers go on shopping (browse, cart, checkout all live in
DynamoDB; who they are is what the worker last learnt of their session, at most 15 minutes
old), while logins and registrations answer 503; all recovers by itself when it returns.

PostgreSQL "goes down" by cutting a TCP proxy in front of the session's server
(`tests.helpers.proxy.CutProxy`): connections drop, new ones are refused. The server itself
(maybe the machine's shared one) is never touched."""

from __future__ import annotations

import asyncio
import time

import jwt
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cloudstore.stores.sessions import RECHECK_SECONDS, TRUST_WHILE_DOWN
from tests.helpers import ADDRESS, PASSWORD, bearer, register, unique_email
from tests.helpers.proxy import CutProxy

LAMBDA = "PROD-LAMBDA-10M"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def postgres_proxy(postgres_url):
    parts = conninfo_to_dict(postgres_url)
    port = int(parts["port"]) if parts.get("port") else None
    proxy = await CutProxy(str(parts.get("host") or "127.0.0.1"), port).start()
    yield proxy
    await proxy.cut()


@pytest.fixture
def settings(settings, postgres_url, postgres_proxy):
    url = make_conninfo(postgres_url, host="127.0.0.1", port=str(postgres_proxy.port))
    return settings.with_overrides(database_url=url)


@pytest.fixture
def clock(backends) -> Clock:
    clock = Clock()
    backends.session_cache.clock = clock
    return clock


async def until(check, tries: int = 60) -> bool:
    for _ in range(tries):
        if await check():
            return True
        await asyncio.sleep(0.5)
    return False


async def status_of(call) -> int:
    return (await call).status_code


async def test_signed_in_shoppers_browse_fill_their_cart_and_check_out_while_postgres_is_down(
    app, seeded, clock, postgres_proxy
):
    client = app.test_client()
    token = await register(client)
    headers = bearer(token)
    assert await status_of(client.get("/api/auth/verify", headers=headers)) == 200
    await postgres_proxy.cut()
    clock.now += RECHECK_SECONDS  # what the worker knows is due for a re-check
    cart = {"items": [{"product_id": LAMBDA, "quantity": 2}]}
    statuses = {
        "verify": await status_of(client.get("/api/auth/verify", headers=headers)),
        "catalog page": await status_of(client.get("/", headers=headers)),
        "product page": await status_of(client.get(f"/products/{LAMBDA}", headers=headers)),
        "add to cart": await status_of(client.post("/api/cart", json=cart, headers=headers)),
        "cart": await status_of(client.get("/api/cart", headers=headers)),
        "cart page": await status_of(client.get("/cart", headers=headers)),
        "checkout page": await status_of(client.get("/checkout", headers=headers)),
        "checkout": await status_of(
            client.post(
                "/api/orders",
                json={
                    "items": [{"product_id": LAMBDA, "quantity": 2}],
                    "shipping_address": dict(ADDRESS),
                },
                headers=headers,
            )
        ),
        "orders page": await status_of(client.get("/orders", headers=headers)),
    }
    assert statuses == {
        "verify": 200,
        "catalog page": 200,
        "product page": 200,
        "add to cart": 200,
        "cart": 200,
        "cart page": 200,
        "checkout page": 200,
        "checkout": 201,
        "orders page": 200,
    }


async def test_once_postgres_is_known_down_signed_in_requests_do_not_wait_for_it(
    app, settings, clock, postgres_proxy
):
    """A bound, not a benchmark: each of these would otherwise wait BACKEND_TIMEOUT or more
    for a connection before falling back on what the worker knows."""
    client = app.test_client()
    token = await register(client)
    assert await status_of(client.get("/api/cart", headers=bearer(token))) == 200
    await postgres_proxy.cut()
    clock.now += RECHECK_SECONDS
    assert await status_of(client.get("/api/cart", headers=bearer(token))) == 200  # waits
    started = time.monotonic()
    statuses = []
    for _ in range(5):
        clock.now += RECHECK_SECONDS
        statuses.append(await status_of(client.get("/api/cart", headers=bearer(token))))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 5
    assert elapsed < settings.backend_timeout, elapsed


async def test_logins_and_registrations_answer_503_while_postgres_is_down(app, postgres_proxy):
    client = app.test_client()
    email = unique_email()
    await register(client, email=email)
    await postgres_proxy.cut()
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    registration = await client.post(
        "/api/auth/register",
        json={"name": "Budi", "email": unique_email(), "password": PASSWORD},
    )
    assert (login.status_code, registration.status_code) == (503, 503)


async def test_a_session_older_than_15_minutes_is_not_trusted_while_postgres_is_down(
    app, clock, postgres_proxy
):
    client = app.test_client()
    token = await register(client)
    assert await status_of(client.get("/api/cart", headers=bearer(token))) == 200
    await postgres_proxy.cut()
    clock.now += TRUST_WHILE_DOWN + RECHECK_SECONDS
    assert await status_of(client.get("/api/cart", headers=bearer(token))) == 503


async def test_everything_recovers_by_itself_when_postgres_returns(app, clock, postgres_proxy):
    client = app.test_client()
    email = unique_email()
    token = await register(client, email=email)
    assert await status_of(client.get("/api/auth/verify", headers=bearer(token))) == 200
    await postgres_proxy.cut()
    clock.now += RECHECK_SECONDS
    assert await status_of(client.get("/api/cart", headers=bearer(token))) == 200
    await postgres_proxy.restore()

    async def logs_in() -> bool:
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        return login.status_code == 200

    assert await until(logs_in)


async def test_a_revocation_is_checked_again_as_soon_as_postgres_answers(
    app, clock, postgres_proxy, postgres_url
):
    """The memory of a session stands in for PostgreSQL only while it does not answer: a
    session ended meanwhile (on another instance, say) is refused once it answers again."""
    client = app.test_client()
    token = await register(client)
    headers = bearer(token)
    assert await status_of(client.get("/api/auth/verify", headers=headers)) == 200
    await postgres_proxy.cut()
    clock.now += RECHECK_SECONDS
    assert await status_of(client.get("/api/auth/verify", headers=headers)) == 200
    await postgres_proxy.restore()
    # Ended elsewhere: straight in the table, as another instance's logout would be.
    session_id = jwt.decode(token, options={"verify_signature": False})["sid"]
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE session_id = %s", (session_id,)
        )

    async def refused() -> bool:
        clock.now += RECHECK_SECONDS
        return await status_of(client.get("/api/auth/verify", headers=headers)) == 401

    assert await until(refused)
