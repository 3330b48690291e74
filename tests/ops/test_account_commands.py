"""`cloudstore disable-user`, `enable-user` and `set-role` as an operator runs them against a
running shop's database: each reaches the shop's live sessions within the re-check time."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cloudstore.cli import main
from cloudstore.stores.sessions import RECHECK_SECONDS
from tests.helpers import (
    BACKEND_VARIABLES,
    PASSWORD,
    admin_token,
    bearer,
    register,
    unique_email,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(backends) -> Clock:
    """The running shop's session clock, moved by hand (no test waits for real seconds)."""
    clock = Clock()
    backends.session_cache.clock = clock
    return clock


@pytest.fixture
def cloudstore(settings, monkeypatch, capsys, tmp_path):
    """`cloudstore ARGS` in this process, with the running shop's backends and secret."""
    for name in BACKEND_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSTORE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", settings.dynamodb_endpoint)
    monkeypatch.setenv("DYNAMODB_PRODUCTS_TABLE", settings.products_table)
    monkeypatch.setenv("DYNAMODB_ORDERS_TABLE", settings.orders_table)
    monkeypatch.setenv("DYNAMODB_CART_TABLE", settings.cart_table)
    monkeypatch.setenv("JWT_SECRET_KEY", settings.jwt_secret_key)
    monkeypatch.setenv("CLOUDSTORE_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)  # no stray .env file
    assert os.environ["CLOUDSTORE_DATABASE_URL"]

    async def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


async def signed_up(client) -> tuple[str, str]:
    email = unique_email()
    return await register(client, email=email), email


async def verify_status(client, token: str) -> int:
    return (await client.get("/api/auth/verify", headers=bearer(token))).status_code


async def test_disable_user_ends_the_live_sessions_within_the_recheck(client, cloudstore, clock):
    token, email = await signed_up(client)
    assert await verify_status(client, token) == 200
    code, out, _ = await cloudstore("disable-user", "--email", email)
    assert (code, f"{email} is disabled" in out) == (0, True)
    clock.now += RECHECK_SECONDS
    assert await verify_status(client, token) == 401


async def test_a_disabled_account_gets_the_usual_401_at_login(client, cloudstore):
    _, email = await signed_up(client)
    await cloudstore("disable-user", "--email", email)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 401


async def test_enable_user_lets_the_account_log_in_again(client, cloudstore):
    _, email = await signed_up(client)
    await cloudstore("disable-user", "--email", email)
    code, _, _ = await cloudstore("enable-user", "--email", email)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert (code, response.status_code) == (0, 200)


async def test_set_role_admin_reaches_a_live_session_within_the_recheck(client, cloudstore, clock):
    token, email = await signed_up(client)
    assert (await client.get("/api/admin/orders", headers=bearer(token))).status_code == 403
    code, out, _ = await cloudstore("set-role", "--email", email, "admin")
    clock.now += RECHECK_SECONDS
    assert (code, "is now an admin" in out) == (0, True)
    assert (await client.get("/api/admin/orders", headers=bearer(token))).status_code == 200


async def test_set_role_customer_takes_admin_away_within_the_recheck(
    app, client, cloudstore, clock
):
    token = await admin_token(app)
    email = (await (await client.get("/api/auth/verify", headers=bearer(token))).get_json())[
        "user"
    ]["email"]
    await cloudstore("set-role", "--email", email, "customer")
    clock.now += RECHECK_SECONDS
    assert (await client.get("/api/admin/orders", headers=bearer(token))).status_code == 403


async def test_an_unknown_email_exits_2_saying_so(cloudstore):
    email = unique_email("nobody")
    code, _, err = await cloudstore("disable-user", "--email", email)
    assert (code, err) == (2, f"cloudstore disable-user: no account has the email {email}\n")


async def test_set_role_refuses_a_role_that_does_not_exist(cloudstore):
    with pytest.raises(SystemExit):
        await cloudstore("set-role", "--email", unique_email(), "owner")


def test_the_commands_are_listed_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for command in ("disable-user --email", "enable-user --email", "set-role --email"):
        assert f"cloudstore {command}" in readme
