"""Two instances of the shop on one PostgreSQL (issue 11, items 2 and 3): they share one
throttle budget, and a session ended on one is ended on the other. While PostgreSQL is down
an instance trusts what it last knew of a session for at most 15 minutes, and writes the
logouts it made meanwhile once PostgreSQL is back."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import jwt
import pytest

from cloudstore import create_app
from cloudstore.stores.sessions import RECHECK_SECONDS, TRUST_WHILE_DOWN
from tests.helpers import PASSWORD, bearer, register, unique_email

pgserver = pytest.importorskip("pgserver")
ADDRESS = ("198.51.100.23", 4000)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def verify_status(client, token: str) -> int:
    return (await client.get("/api/auth/verify", headers=bearer(token))).status_code


async def test_two_instances_share_one_failed_login_budget(settings):
    shared = settings.with_overrides(login_limit="10/hour")
    first, second = create_app(shared), create_app(shared)
    async with first.test_app(), second.test_app():
        email = unique_email()
        await register(first.test_client(), email=email)
        clients = [first.test_client(), second.test_client()]
        statuses = []
        for attempt in range(11):
            response = await clients[attempt % 2].post(
                "/api/auth/login",
                json={"email": email, "password": "wrong-pass"},
                scope_base={"client": ADDRESS},
            )
            statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429]


async def test_logout_all_on_one_instance_ends_the_sessions_another_knows(settings):
    clock = Clock()
    first, second = create_app(settings), create_app(settings)
    async with first.test_app(), second.test_app():
        second.extensions["cloudstore"].session_cache.clock = clock
        token = await register(first.test_client())
        assert await verify_status(second.test_client(), token) == 200
        await first.test_client().post("/api/auth/logout-all", headers=bearer(token))
        clock.now += RECHECK_SECONDS
        assert await verify_status(second.test_client(), token) == 401


@pytest.fixture
def own_postgres():
    # pgserver runs PostgreSQL as its own OS user: the data dir must be reachable by it.
    parent = Path(tempfile.mkdtemp(prefix="cloudstore-pg-"))
    parent.chmod(0o755)
    server = pgserver.get_server(parent / "pg", cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(parent, ignore_errors=True)


@asynccontextmanager
async def shop_on(settings, url: str, clock: Clock):
    app = create_app(settings.with_overrides(database_url=url))
    async with app.test_app():
        app.extensions["cloudstore"].session_cache.clock = clock
        yield app, app.test_client()


async def until_ok(client, token: str) -> int:
    """PostgreSQL is back: the pool reconnects within a few tries."""
    status = 0
    for _ in range(30):
        status = await verify_status(client, token)
        if status != 503:
            break
        await asyncio.sleep(0.5)
    return status


async def test_while_postgres_is_down_sessions_are_trusted_for_at_most_15_minutes(
    settings, own_postgres
):
    clock = Clock()
    async with shop_on(settings, own_postgres.get_uri(), clock) as (_app, client):
        email = unique_email()
        token = await register(client, email=email)
        assert await verify_status(client, token) == 200
        pgdata = own_postgres.pgdata
        own_postgres.cleanup()  # stops the server
        clock.now += RECHECK_SECONDS
        trusted = await verify_status(client, token)
        clock.now += TRUST_WHILE_DOWN
        too_old = await verify_status(client, token)
        restarted = pgserver.get_server(pgdata, cleanup_mode="stop")
        try:
            back = await until_ok(client, token)
        finally:
            restarted.cleanup()
    assert (trusted, too_old, back) == (200, 503, 200)


async def test_a_logout_while_postgres_is_down_is_written_when_it_returns(settings, own_postgres):
    clock = Clock()
    async with shop_on(settings, own_postgres.get_uri(), clock) as (app, client):
        email = unique_email()
        gone = await register(client, email=email)
        kept = (
            await (
                await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            ).get_json()
        )["token"]
        for token in (gone, kept):
            assert await verify_status(client, token) == 200
        pgdata = own_postgres.pgdata
        own_postgres.cleanup()
        clock.now += RECHECK_SECONDS
        logout = await client.post("/api/auth/logout", headers=bearer(gone))
        refused_at_once = await verify_status(client, gone)
        restarted = pgserver.get_server(pgdata, cleanup_mode="stop")
        try:
            clock.now += RECHECK_SECONDS
            assert await until_ok(client, kept) == 200
            sid = jwt.decode(gone, options={"verify_signature": False})["sid"]
            for _ in range(30):  # written in the background once PostgreSQL answers
                row = await app.extensions["cloudstore"].postgres.fetchone(
                    "SELECT revoked_at IS NOT NULL FROM sessions WHERE session_id = %s", (sid,)
                )
                if row == (True,):
                    break
                await asyncio.sleep(0.2)
        finally:
            restarted.cleanup()
    assert (logout.status_code, refused_at_once, row) == (204, 401, (True,))
