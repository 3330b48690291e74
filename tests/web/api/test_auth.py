"""POST /api/auth/register, POST /api/auth/login and GET /api/auth/verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from cloudstore.shop.accounts import create_admin
from tests.helpers import bearer, unique_email
from tests.helpers.shared_app import app, settings  # noqa: F401 - one app per module

# One app for the whole module: every test works with its own unique emails.
PASSWORD = "rahasia1"


async def sign_up(client, email: str | None = None, password: str = PASSWORD, name="Budi"):
    return await client.post(
        "/api/auth/register",
        json={"name": name, "email": email or unique_email(), "password": password},
    )


async def signed_up_user(client, **kwargs) -> tuple[str, dict]:
    response = await sign_up(client, **kwargs)
    assert response.status_code == 201
    body = await response.get_json()
    return body["token"], body["user"]


def mint(secret: str, user: dict, *, issued: timedelta, expires: timedelta, **header) -> str:
    """A token shaped like the server's, with chosen times relative to now."""
    now = datetime.now(UTC)
    claims = {
        "sub": user["user_id"],
        "email": user["email"],
        "role": user["role"],
        "iat": now + issued,
        "exp": now + expires,
    }
    return jwt.encode(claims, secret, algorithm="HS256", headers=header or None)


async def verify(client, token: str | None):
    headers = bearer(token) if token is not None else {}
    return await client.get("/api/auth/verify", headers=headers)


async def assert_401(response) -> dict:
    assert response.status_code == 401
    body = await response.get_json()
    assert body["success"] is False and body["error"]
    return body


# ---- register ------------------------------------------------------------------------------


async def test_register_returns_201_with_a_token_and_the_public_user(client):
    email = unique_email("new")
    response = await sign_up(client, email=email, name="  Budi   Santoso ")
    assert response.status_code == 201
    body = await response.get_json()
    assert body["success"] is True
    assert isinstance(body["token"], str) and body["token"].count(".") == 2
    user = body["user"]
    assert user["email"] == email and user["name"] == "Budi Santoso"
    assert user["role"] == "customer" and user["user_id"]


async def test_register_never_returns_the_password_or_its_hash(client):
    response = await sign_up(client, password="rahasia-sekali")
    text = await response.get_data(as_text=True)
    assert "password" not in text and "$2b$" not in text and "rahasia-sekali" not in text


async def test_register_with_an_email_taken_in_another_letter_case_is_409(client):
    email = unique_email("Case.Mixed")
    assert (await sign_up(client, email=email)).status_code == 201
    response = await sign_up(client, email=email.upper())
    assert response.status_code == 409
    body = await response.get_json()
    assert body["success"] is False and "already" in body["error"]


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "budi@localhost", "budi@@example.com", "bu di@example.com", "@example.com"],
)
async def test_register_with_an_invalid_email_is_400(client, email):
    response = await sign_up(client, email=email)
    assert response.status_code == 400
    body = await response.get_json()
    assert body["success"] is False and "email" in body["error"]


async def test_register_with_a_password_under_6_characters_is_400(client):
    response = await sign_up(client, password="12345")
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert "password" in error and "6" in error


@pytest.mark.parametrize(
    "password",
    ["a" * 73, "é" * 37, "🔑" * 19],
    ids=["73-ascii", "74-bytes-2-byte", "76-bytes-emoji"],
)
async def test_register_with_a_password_over_72_bytes_is_400(client, password):
    response = await sign_up(client, password=password)
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert "password" in error and "72" in error


async def test_a_password_of_exactly_72_bytes_registers_and_logs_in(client):
    email, password = unique_email(), "é" * 36  # 36 characters, 72 bytes
    assert (await sign_up(client, email=email, password=password)).status_code == 201
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200


# ---- login ---------------------------------------------------------------------------------


async def test_login_with_the_right_password_returns_a_token_for_that_user(client):
    email = unique_email()
    _, user = await signed_up_user(client, email=email, password="rahasia1")
    response = await client.post("/api/auth/login", json={"email": email, "password": "rahasia1"})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["success"] is True and body["user"]["user_id"] == user["user_id"]
    verified = await (await verify(client, body["token"])).get_json()
    assert verified["user"]["user_id"] == user["user_id"]


async def test_login_email_is_case_insensitive(client):
    email = unique_email()
    await signed_up_user(client, email=email, password="rahasia1")
    response = await client.post(
        "/api/auth/login", json={"email": f"  {email.upper()} ", "password": "rahasia1"}
    )
    assert response.status_code == 200


async def test_login_with_unknown_email_and_wrong_password_give_the_same_401(client):
    email = unique_email()
    await signed_up_user(client, email=email, password="rahasia1")
    wrong_password = await client.post(
        "/api/auth/login", json={"email": email, "password": "rahasia2"}
    )
    unknown_email = await client.post(
        "/api/auth/login", json={"email": unique_email("nobody"), "password": "rahasia1"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert await wrong_password.get_json() == await unknown_email.get_json()
    assert (await wrong_password.get_json())["success"] is False


# ---- verify --------------------------------------------------------------------------------


async def test_verify_with_a_valid_token_returns_its_user(client):
    token, user = await signed_up_user(client)
    response = await verify(client, token)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["success"] is True
    assert body["user"]["user_id"] == user["user_id"] and body["user"]["email"] == user["email"]
    assert "password_hash" not in body["user"]


async def test_verify_without_a_token_is_401(client):
    await assert_401(await verify(client, None))


@pytest.mark.parametrize(
    "header",
    ["Bearer garbage", "Bearer a.b.c", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
    ids=["garbage", "three-parts", "empty", "basic-auth", "huge"],
)
async def test_verify_with_a_garbage_token_is_401(client, header):
    response = await client.get("/api/auth/verify", headers={"Authorization": header})
    await assert_401(response)


async def test_verify_with_an_expired_token_is_401(client, backends):
    _, user = await signed_up_user(client)
    token = mint(
        backends.tokens.secret, user, issued=timedelta(hours=-25), expires=timedelta(hours=-1)
    )
    body = await assert_401(await verify(client, token))
    assert "expired" in body["error"]


async def test_verify_with_an_alg_none_token_is_401(client):
    _, user = await signed_up_user(client)
    now = datetime.now(UTC)
    claims = {
        "sub": user["user_id"],
        "email": user["email"],
        "role": "admin",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    token = jwt.encode(claims, None, algorithm="none")
    await assert_401(await verify(client, token))


async def test_verify_with_a_token_signed_by_another_secret_is_401(client):
    _, user = await signed_up_user(client)
    token = mint(
        "another-secret-" + "x" * 32, user, issued=timedelta(0), expires=timedelta(hours=1)
    )
    await assert_401(await verify(client, token))


async def test_verify_with_a_token_missing_its_subject_is_401(client, backends):
    now = datetime.now(UTC)
    token = jwt.encode(
        {"iat": now, "exp": now + timedelta(hours=1)}, backends.tokens.secret, algorithm="HS256"
    )
    await assert_401(await verify(client, token))


async def test_a_token_of_a_deleted_user_is_401(client, backends):
    token, user = await signed_up_user(client)
    async with backends.postgres.connection() as conn:
        await conn.execute("DELETE FROM users WHERE user_id = %s", (user["user_id"],))
    await assert_401(await verify(client, token))


async def test_a_token_issued_before_a_password_change_is_401(client, backends):
    email = unique_email()
    _, user = await signed_up_user(client, email=email, password="rahasia1")
    old_token = mint(
        backends.tokens.secret, user, issued=timedelta(minutes=-5), expires=timedelta(hours=1)
    )
    # The one way to change a password today: `cloudstore create-admin` re-passwords an account.
    await create_admin(backends, email=email, password="rahasia-baru", name=None)
    await assert_401(await verify(client, old_token))
    login = await client.post("/api/auth/login", json={"email": email, "password": "rahasia-baru"})
    assert (await verify(client, (await login.get_json())["token"])).status_code == 200
