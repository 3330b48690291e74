"""Failed logins are throttled per account and per client IP."""

from __future__ import annotations

from tests.helpers import register, unique_email


async def login(client, email, password, ip="203.0.113.9"):
    return await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        scope_base={"client": (ip, 4000)},
    )


async def test_sixth_failed_login_for_an_account_is_a_429_with_retry_after(client):
    email = unique_email()
    await register(client, email=email)
    statuses = [(await login(client, email, "wrong-pass")).status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = await login(client, email, "rahasia1")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert (await blocked.get_json())["success"] is False


async def test_throttling_one_account_leaves_other_accounts_alone(client):
    victim, other = unique_email(), unique_email()
    await register(client, email=victim)
    await register(client, email=other)
    for _ in range(6):
        await login(client, victim, "wrong-pass", ip="198.51.100.1")
    response = await login(client, other, "rahasia1", ip="198.51.100.2")
    assert response.status_code == 200


async def test_one_ip_failing_across_many_accounts_is_throttled(client):
    statuses = [
        (await login(client, unique_email(), "wrong-pass", ip="192.0.2.77")).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


async def test_successful_logins_do_not_count_against_the_limit(client):
    email = unique_email()
    await register(client, email=email)
    for _ in range(8):
        assert (await login(client, email, "rahasia1")).status_code == 200
