"""Sessions live in PostgreSQL (issue 11, item 3): logging out ends them server-side, a
password change keeps only the session that made it, and an operator can disable an account
or change its role with effect on live sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from cloudstore.shop.accounts import disable_user, enable_user, set_role
from cloudstore.stores.sessions import RECHECK_SECONDS
from tests.helpers import bearer, unique_email

PASSWORD = "rahasia1"


class Clock:
    """The session cache's clock, moved by hand (no test waits for real seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(backends) -> Clock:
    clock = Clock()
    backends.session_cache.clock = clock
    return clock


async def signed_up(client, email: str | None = None) -> tuple[str, str]:
    email = email or unique_email()
    response = await client.post(
        "/api/auth/register", json={"name": "Budi", "email": email, "password": PASSWORD}
    )
    return (await response.get_json())["token"], email


async def logged_in(client, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200
    return (await response.get_json())["token"]


async def verify_status(client, token: str) -> int:
    return (await client.get("/api/auth/verify", headers=bearer(token))).status_code


async def change_password(client, token, current=PASSWORD, new="rahasia-baru"):
    return await client.put(
        "/api/user/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


# ---- the token carries its session -----------------------------------------------------------


async def test_a_token_carries_a_random_session_id(client):
    token, _ = await signed_up(client)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert len(claims["sid"]) >= 32


async def test_a_token_without_a_session_id_is_refused(client, backends):
    _, email = await signed_up(client)
    user = await backends.users.by_email(email)
    now = datetime.now(UTC)
    old_style = jwt.encode(
        {"sub": user.user_id, "email": email, "role": "customer", "iat": now,
         "exp": now + timedelta(hours=1)},
        backends.tokens.secret,
        algorithm="HS256",
    )  # fmt: skip
    response = await client.get("/api/auth/verify", headers=bearer(old_style))
    assert response.status_code == 401
    assert "log in again" in (await response.get_json())["error"]


async def test_a_signed_token_for_an_unknown_session_is_refused(client, backends):
    token, email = await signed_up(client)
    user = await backends.users.by_email(email)
    forged = backends.tokens.issue(
        user.user_id, email, "customer", "x" * 43, datetime.now(UTC) + timedelta(hours=1)
    )
    assert await verify_status(client, forged) == 401


# ---- logout ----------------------------------------------------------------------------------


async def test_logout_answers_204_and_its_token_stops_working(client):
    token, _ = await signed_up(client)
    response = await client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    assert await verify_status(client, token) == 401


async def test_logout_ends_only_the_session_of_its_token(client):
    token, email = await signed_up(client)
    other = await logged_in(client, email)
    await client.post("/api/auth/logout", headers=bearer(token))
    assert await verify_status(client, other) == 200


async def test_logout_without_a_token_is_401(client):
    assert (await client.post("/api/auth/logout")).status_code == 401


async def test_logout_all_answers_204_and_ends_every_session(client):
    token, email = await signed_up(client)
    other = await logged_in(client, email)
    response = await client.post("/api/auth/logout-all", headers=bearer(token))
    assert response.status_code == 204
    assert [await verify_status(client, t) for t in (token, other)] == [401, 401]


async def test_a_logout_on_one_instance_reaches_another_within_the_recheck(
    client, backends, clock, second_app
):
    token, _ = await signed_up(client)
    second_app.extensions["cloudstore"].session_cache.clock = clock
    other_client = second_app.test_client()
    assert await verify_status(other_client, token) == 200  # the second instance knows it
    await client.post("/api/auth/logout", headers=bearer(token))
    clock.advance(RECHECK_SECONDS)
    assert await verify_status(other_client, token) == 401


# ---- password change ---------------------------------------------------------------------------


async def test_changing_the_password_returns_a_new_token_that_works(client):
    token, _ = await signed_up(client)
    response = await change_password(client, token)
    assert response.status_code == 200
    assert await verify_status(client, (await response.get_json())["token"]) == 200


async def test_changing_the_password_ends_the_old_token(client):
    token, _ = await signed_up(client)
    await change_password(client, token)
    assert await verify_status(client, token) == 401


async def test_changing_the_password_ends_every_other_session(client):
    token, email = await signed_up(client)
    other = await logged_in(client, email)
    await change_password(client, token)
    assert await verify_status(client, other) == 401


async def test_the_new_password_logs_in_and_the_old_one_does_not(client):
    token, email = await signed_up(client)
    await change_password(client, token, new="rahasia-baru")
    old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    new = await client.post("/api/auth/login", json={"email": email, "password": "rahasia-baru"})
    assert (old.status_code, new.status_code) == (401, 200)


async def test_a_wrong_current_password_is_a_400_and_changes_nothing(client):
    token, email = await signed_up(client)
    response = await change_password(client, token, current="not-my-password")
    assert response.status_code == 400
    assert "current_password" in (await response.get_json())["error"]
    assert await verify_status(client, token) == 200


async def test_a_too_short_new_password_is_a_400(client):
    token, _ = await signed_up(client)
    assert (await change_password(client, token, new="12345")).status_code == 400


async def test_a_password_change_by_cookie_resets_the_session_cookie(client):
    token, _ = await signed_up(client)
    response = await client.put(
        "/api/user/password",
        json={"current_password": PASSWORD, "new_password": "rahasia-baru"},
        headers={"Cookie": f"cs_session={token}", "Origin": "http://localhost"},
    )
    new_token = (await response.get_json())["token"]
    assert any(
        c.startswith(f"cs_session={new_token};") for c in response.headers.getlist("Set-Cookie")
    )


# ---- what an operator does to an account -----------------------------------------------------


async def test_disabling_an_account_ends_its_sessions(client, backends):
    token, email = await signed_up(client)
    await disable_user(backends, email)
    assert await verify_status(client, token) == 401


async def test_a_disabled_account_cannot_log_in_until_enabled(client, backends):
    _, email = await signed_up(client)
    await disable_user(backends, email)
    refused = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    await enable_user(backends, email)
    allowed = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert (refused.status_code, allowed.status_code) == (401, 200)


async def test_disabling_on_another_instance_reaches_this_one_within_the_recheck(
    client, backends, clock, second_app
):
    token, email = await signed_up(client)
    assert await verify_status(client, token) == 200
    await disable_user(second_app.extensions["cloudstore"], email)
    clock.advance(RECHECK_SECONDS)
    assert await verify_status(client, token) == 401


async def test_a_new_role_reaches_a_live_session_within_the_recheck(
    client, backends, clock, second_app
):
    token, email = await signed_up(client)
    assert (await client.get("/api/admin/orders", headers=bearer(token))).status_code == 403
    await set_role(second_app.extensions["cloudstore"], email, "admin")
    clock.advance(RECHECK_SECONDS)
    assert (await client.get("/api/admin/orders", headers=bearer(token))).status_code == 200


async def test_sessions_past_their_end_are_purged(client, backends):
    token, _ = await signed_up(client)
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]
    await backends.postgres.fetchone(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE session_id = %s",
        (sid,),
    )
    assert await backends.sessions.purge_expired() >= 1
    row = await backends.postgres.fetchone(
        "SELECT count(*) FROM sessions WHERE session_id = %s", (sid,)
    )
    assert row == (0,)
