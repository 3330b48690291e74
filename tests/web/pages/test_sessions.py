"""The pages end sessions server-side (issue 11, item 3): logging out, logging out
everywhere from the profile page, and changing the password there."""

from __future__ import annotations

from tests.helpers import PASSWORD, bearer
from tests.helpers.pages import csrf_token, htmx, login, sign_up, text


async def session_cookie(client) -> str:
    return next(c.value for c in client.cookie_jar if c.name == "cs_session")


async def verify_status(client, token: str) -> int:
    return (await client.get("/api/auth/verify", headers=bearer(token))).status_code


async def change_password(client, current=PASSWORD, new="rahasia-baru", confirm=None):
    return await client.post(
        "/profile/password",
        form={
            "current_password": current,
            "new_password": new,
            "new_password_confirm": new if confirm is None else confirm,
        },
        headers=htmx(await csrf_token(client), current="/profile"),
    )


async def test_logging_out_ends_the_session_server_side(client):
    await sign_up(client)
    token = await session_cookie(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    assert await verify_status(client, token) == 401


async def test_the_profile_page_offers_to_log_out_everywhere(client):
    await sign_up(client)
    body = await text(await client.get("/profile"))
    assert 'action="/logout-all"' in body and "Log out everywhere" in body


async def test_log_out_everywhere_ends_every_session_of_the_account(client, app):
    email = await sign_up(client)
    elsewhere = await login(app.test_client(), email, PASSWORD)
    here = await session_cookie(client)
    response = await client.post("/logout-all", headers=htmx(await csrf_token(client)))
    assert response.headers["HX-Redirect"] == "/"
    assert [await verify_status(client, t) for t in (here, elsewhere)] == [401, 401]


async def test_the_profile_page_has_a_password_form(client):
    await sign_up(client)
    body = await text(await client.get("/profile"))
    assert 'action="/profile/password"' in body and 'name="current_password"' in body


async def test_changing_the_password_keeps_this_browser_signed_in(client):
    await sign_up(client)
    response = await change_password(client)
    assert response.headers["HX-Redirect"] == "/profile"
    assert (await client.get("/profile")).status_code == 200


async def test_changing_the_password_ends_the_other_sessions_and_the_old_cookie(client, app):
    email = await sign_up(client)
    elsewhere = await login(app.test_client(), email, PASSWORD)
    old_cookie = await session_cookie(client)
    await change_password(client)
    assert [await verify_status(client, t) for t in (old_cookie, elsewhere)] == [401, 401]


async def test_a_wrong_current_password_is_shown_beside_the_field(client):
    await sign_up(client)
    response = await change_password(client, current="not-mine")
    assert response.status_code == 422
    assert "That is not your current password." in await text(response)


async def test_a_mistyped_confirmation_changes_nothing(client):
    await sign_up(client)
    token = await session_cookie(client)
    response = await change_password(client, confirm="something-else")
    assert "The passwords do not match." in await text(response)
    assert await verify_status(client, token) == 200
