"""Password guesses and registrations are throttled (issue 11, item 2): each attempt counts
before the password is checked, per account (its email key) and per client, in counters
every worker and instance shares; the defaults are 10 an hour."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cloudstore.settings import DEFAULT_LOGIN_LIMIT, DEFAULT_REGISTER_LIMIT
from tests.helpers import make_settings, unique_email

WRONG = "wrong-pass"


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path):
    """The shipped limits (10/hour each), not the raised ones other tests use."""
    return make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path / "data",
        login_limit=DEFAULT_LOGIN_LIMIT,
        register_limit=DEFAULT_REGISTER_LIMIT,
    )


def client_ip() -> str:
    """An address of this test's own (the counters outlive an app in PostgreSQL)."""
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def login(client, email, password, ip):
    return await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        scope_base={"client": (ip, 4000)},
    )


async def registered(client, email: str | None = None) -> str:
    email = email or unique_email()
    response = await client.post(
        "/api/auth/register",
        json={"name": "Budi", "email": email, "password": "rahasia1"},
        scope_base={"client": (client_ip(), 4000)},
    )
    assert response.status_code == 201
    return email


async def test_the_eleventh_failed_login_for_an_account_is_a_429_with_retry_after(client):
    email = await registered(client)
    statuses = [(await login(client, email, WRONG, client_ip())).status_code for _ in range(10)]
    assert statuses == [401] * 10
    blocked = await login(client, email, "rahasia1", client_ip())
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 3600
    assert (await blocked.get_json())["success"] is False


async def test_throttling_one_account_leaves_other_accounts_alone(client):
    victim, other = await registered(client), await registered(client)
    for _ in range(11):
        await login(client, victim, WRONG, client_ip())
    assert (await login(client, other, "rahasia1", client_ip())).status_code == 200


async def test_one_client_failing_across_many_accounts_is_throttled(client):
    ip = client_ip()
    statuses = [(await login(client, unique_email(), WRONG, ip)).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]


async def test_successful_logins_do_not_count_against_the_limit(client):
    email, ip = await registered(client), client_ip()
    for _ in range(12):
        assert (await login(client, email, "rahasia1", ip)).status_code == 200


async def test_thirty_concurrent_wrong_passwords_verify_only_the_limit(client, backends):
    email = await registered(client)
    verified = []
    verify = backends.hasher.verify

    async def counting_verify(password, hashed):
        verified.append(password)
        return await verify(password, hashed)

    backends.hasher.verify = counting_verify
    responses = await asyncio.gather(*(login(client, email, WRONG, client_ip()) for _ in range(30)))
    assert len(verified) == 10
    assert sorted(r.status_code for r in responses) == [401] * 10 + [429] * 20


@pytest.mark.parametrize(
    ("registered_as", "guessed_as"),
    [
        ("Ä{}@example.com", "ä{}@example.com"),
        ("ﬀ{}@example.com", "FF{}@EXAMPLE.COM"),
        ("ｂｕｄｉ{}@example.com", "BUDI{}@example.com"),
    ],
    ids=["umlaut-case", "ligature", "fullwidth"],
)
async def test_unicode_spellings_of_one_email_share_one_budget(client, registered_as, guessed_as):
    tag = uuid.uuid4().hex[:10]
    await registered(client, registered_as.format(tag))
    for _ in range(10):
        await login(client, guessed_as.format(tag), WRONG, client_ip())
    response = await login(client, registered_as.format(tag), "rahasia1", client_ip())
    assert response.status_code == 429


async def test_the_eleventh_registration_from_one_client_is_a_429(client):
    ip = client_ip()
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/api/auth/register",
            json={"name": "Budi", "email": unique_email(), "password": "rahasia1"},
            scope_base={"client": (ip, 4000)},
        )
        statuses.append(response.status_code)
    assert statuses == [201] * 10 + [429]


async def test_a_disabled_account_with_the_right_password_gets_the_usual_401(client, backends):
    from cloudstore.shop.accounts import disable_user

    email = await registered(client)
    await disable_user(backends, email)
    right = await login(client, email, "rahasia1", client_ip())
    unknown = await login(client, unique_email(), "rahasia1", client_ip())
    assert (right.status_code, await right.get_json()) == (401, await unknown.get_json())


async def test_attempts_past_their_window_are_purged(backends):
    counters = backends.login_throttle.counters
    name = f"test|{uuid.uuid4().hex}"
    await counters.hit(name, 5, 3600)
    await backends.postgres.fetchone(
        "UPDATE login_attempts SET expires_at = now() - interval '1 second' WHERE bucket = %s",
        (counters.bucket(name),),
    )
    assert await counters.purge_expired() >= 1
    left = await backends.postgres.fetchone(
        "SELECT count(*) FROM login_attempts WHERE bucket = %s", (counters.bucket(name),)
    )
    assert left == (0,)


async def test_the_counters_store_neither_the_email_nor_the_address(client, backends):
    email, ip = await registered(client), client_ip()
    await login(client, email, WRONG, ip)
    row = await backends.postgres.fetchone(
        "SELECT count(*) FROM login_attempts WHERE bucket LIKE %s OR bucket LIKE %s",
        (f"%{email}%", f"%{ip}%"),
    )
    assert row == (0,)
