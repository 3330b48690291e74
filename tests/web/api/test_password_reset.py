"""Forgot password through the API: `POST /api/auth/password-reset` mails a one-time link
(always 202), `POST /api/auth/password-reset/confirm` sets the new password with it."""

from __future__ import annotations

import hashlib

import pytest

from cloudstore import create_app
from tests.helpers import bearer, make_settings, register, unique_email
from tests.helpers.mail import reset_token_for, sent_mail

NEW = "sandi-baru-1"


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path):
    return make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path / "data",
        reset_limit="3/hour",
        reset_email_limit="2/hour",
        public_url="https://shop.example.com",
    )


async def account(client) -> tuple[str, str]:
    email = unique_email()
    return await register(client, email=email), email


async def ask(client, email: str, headers: dict | None = None):
    return await client.post("/api/auth/password-reset", json={"email": email}, headers=headers)


async def confirm(client, token: str, password: str = NEW):
    return await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def login_status(client, email: str, password: str) -> int:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    return response.status_code


async def test_a_known_and_an_unknown_email_get_the_same_202(client):
    _, email = await account(client)
    known = await ask(client, email)
    unknown = await ask(client, unique_email("nobody"))
    assert known.status_code == unknown.status_code == 202
    assert await known.get_json() == await unknown.get_json()


async def test_only_a_known_email_is_mailed_a_link(app, client):
    _, email = await account(client)
    nobody = unique_email("nobody")
    await ask(client, email)
    await ask(client, nobody)
    assert await sent_mail(app, to=nobody) == []
    link_mails = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
    assert len(link_mails) == 1


async def test_the_link_points_at_public_url_with_the_token_as_a_query_parameter(app, client):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    (mail,) = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
    text = mail.get_body(("plain",)).get_content()
    assert f"https://shop.example.com/reset-password?token={token}" in text
    assert len(token) >= 43  # 32 random bytes, URL-safe base64


async def test_the_link_from_the_outbox_sets_the_new_password(app, client):
    _, email = await account(client)
    await ask(client, email)
    response = await confirm(client, await reset_token_for(app, email))
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert await login_status(client, email, NEW) == 200
    assert await login_status(client, email, "rahasia1") == 401


async def test_the_email_is_found_in_any_spelling(app, client):
    _, email = await account(client)
    await ask(client, email.upper())
    assert await reset_token_for(app, email)


async def test_a_link_works_once(app, client):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    assert (await confirm(client, token)).status_code == 200
    again = await confirm(client, token, "another-one")
    assert again.status_code == 400
    assert (await again.get_json())["success"] is False
    assert await login_status(client, email, NEW) == 200


async def test_a_reset_ends_every_session_of_the_account(app, client):
    token, email = await account(client)
    await ask(client, email)
    await confirm(client, await reset_token_for(app, email))
    assert (await client.get("/api/auth/verify", headers=bearer(token))).status_code == 401


async def test_using_one_link_voids_the_others(app, client):
    _, email = await account(client)
    await ask(client, email)
    first = await reset_token_for(app, email)
    await ask(client, email)
    second = await reset_token_for(app, email)
    assert first != second
    assert (await confirm(client, second)).status_code == 200
    assert (await confirm(client, first, "another-one")).status_code == 400


async def test_a_password_change_voids_an_earlier_link(app, client):
    token, email = await account(client)
    await ask(client, email)
    link_token = await reset_token_for(app, email)
    changed = await client.put(
        "/api/user/password",
        json={"current_password": "rahasia1", "new_password": "changed-1"},
        headers=bearer(token),
    )
    assert changed.status_code == 200
    assert (await confirm(client, link_token)).status_code == 400
    assert await login_status(client, email, "changed-1") == 200


async def test_an_expired_link_is_400(app, client, backends):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    await backends.postgres.fetchone(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        (hashlib.sha256(token.encode()).hexdigest(),),
    )
    assert (await confirm(client, token)).status_code == 400
    assert await login_status(client, email, "rahasia1") == 200


async def test_links_are_valid_for_one_hour(app, client, backends):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    row = await backends.postgres.fetchone(
        "SELECT extract(epoch FROM expires_at - created_at) FROM password_resets "
        "WHERE token_hash = %s",
        (hashlib.sha256(token.encode()).hexdigest(),),
    )
    assert round(float(row[0])) == 3600


async def test_only_the_tokens_hash_is_stored(app, client, backends):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    rows = await backends.postgres.fetchone(
        "SELECT count(*) FILTER (WHERE token_hash = %s), "
        "count(*) FILTER (WHERE position(%s in password_resets::text) > 0) FROM password_resets",
        (hashlib.sha256(token.encode()).hexdigest(), token),
    )
    assert rows == (1, 0)


async def test_an_unknown_token_is_400(client):
    response = await confirm(client, "x" * 43)
    assert response.status_code == 400
    assert (await response.get_json())["success"] is False


async def test_a_too_short_password_is_400_and_the_link_still_works(app, client):
    _, email = await account(client)
    await ask(client, email)
    token = await reset_token_for(app, email)
    short = await confirm(client, token, "abc")
    assert short.status_code == 400
    assert "password" in (await short.get_json())["error"]
    assert (await confirm(client, token)).status_code == 200


async def test_a_disabled_account_is_mailed_nothing(app, client, backends):
    from cloudstore.shop.accounts import disable_user

    _, email = await account(client)
    await disable_user(backends, email)
    assert (await ask(client, email)).status_code == 202
    assert [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])] == []


async def test_past_the_client_limit_the_answer_is_429(client):
    statuses = [(await ask(client, unique_email())).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


async def test_past_the_email_limit_the_answer_is_202_and_nothing_more_is_sent(app, client):
    _, email = await account(client)
    other_client = {"X-Forwarded-For": "198.51.100.7"}  # not trusted: the same client
    statuses = [(await ask(client, email, other_client)).status_code for _ in range(3)]
    assert statuses == [202, 202, 202]
    links = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
    assert len(links) == 2


async def test_a_bad_email_is_400(client):
    response = await ask(client, "not-an-email")
    assert response.status_code == 400


async def test_the_same_work_is_done_for_an_unknown_email(settings, client, backends):
    """Both throttle counters and the one storing statement run either way."""
    _, email = await account(client)
    before = await backends.postgres.fetchone("SELECT count(*) FROM login_attempts")
    await ask(client, email)
    await ask(client, unique_email("nobody"))
    after = await backends.postgres.fetchone("SELECT count(*) FROM login_attempts")
    assert after[0] - before[0] == 4


async def test_outbox_is_the_default_and_needs_no_public_url(postgres_url, dynamodb, tmp_path):
    settings = make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data")
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        _, email = await account(client)
        await ask(client, email)
        token = await reset_token_for(app, email)
        (mail,) = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
        assert f"http://localhost:5000/reset-password?token={token}" in (
            mail.get_body(("plain",)).get_content()
        )
