"""Forgot password in the browser: the login page links `/forgot-password`, which mails a
link; the link opens `/reset-password?token=…`, whose form sets the new password."""

from __future__ import annotations

import json
import logging

import pytest

from cloudstore import create_app
from tests.helpers import PASSWORD, make_settings, unique_email
from tests.helpers.mail import reset_link, reset_token_for, sent_mail
from tests.helpers.pages import csrf_token, htmx, login, sign_up, text

NEW = "sandi-baru-1"


@pytest.fixture
def settings(postgres_url, dynamodb, tmp_path):
    """Each test's own app, allowing two reset requests per client an hour."""
    return make_settings(postgres_url, dynamodb.endpoint, tmp_path / "data", reset_limit="2/hour")


async def ask_for_link(client, email: str):
    token = await csrf_token(client)
    return await client.post("/forgot-password", form={"email": email}, headers=htmx(token))


async def set_password(client, token: str, password=NEW, confirm=None):
    csrf = await csrf_token(client)
    return await client.post(
        "/reset-password",
        form={"token": token, "password": password, "password_confirm": confirm or password},
        headers=htmx(csrf),
    )


async def new_account(app) -> str:
    """An account made in another browser, so this one stays signed out."""
    return await sign_up(app.test_client())


async def test_the_login_page_links_the_forgot_password_page(client):
    body = await text(await client.get("/login"))
    assert 'href="/forgot-password"' in body
    assert (await client.get("/forgot-password")).status_code == 200


async def test_asking_for_a_link_says_the_same_for_a_known_and_an_unknown_email(app, client):
    email, nobody = await new_account(app), unique_email("nobody")
    known = await ask_for_link(client, email)
    unknown = await ask_for_link(client, nobody)
    assert known.status_code == unknown.status_code == 200
    assert "is on its way" in await text(known)
    assert (await text(known)).replace(email, "E") == (await text(unknown)).replace(nobody, "E")


async def test_a_bad_email_is_shown_beside_the_field(client):
    response = await ask_for_link(client, "not-an-email")
    assert response.status_code == 422
    assert "field-error" in await text(response)


async def test_the_link_from_the_mail_opens_a_form_that_sets_the_password(app, client):
    email = await new_account(app)
    await ask_for_link(client, email)
    (mail,) = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
    path = reset_link(mail).removeprefix("http://localhost:5000")
    page = await client.get(path)
    assert page.status_code == 200
    assert 'name="password"' in await text(page)
    response = await set_password(client, await reset_token_for(app, email))
    assert response.headers["HX-Redirect"] == "/login"
    check = app.test_client()
    assert await login(check, email, NEW)


async def test_the_reset_page_sends_no_referrer(app, client):
    email = await new_account(app)
    await ask_for_link(client, email)
    page = await client.get(f"/reset-password?token={await reset_token_for(app, email)}")
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_a_used_link_shows_that_it_is_no_longer_valid(app, client):
    email = await new_account(app)
    await ask_for_link(client, email)
    token = await reset_token_for(app, email)
    await set_password(client, token)
    page = await client.get(f"/reset-password?token={token}")
    body = await text(page)
    assert "invalid, used or expired" in body and 'name="password"' not in body
    again = await set_password(client, token, "another-one")
    assert again.status_code == 422 and "invalid, used or expired" in await text(again)


async def test_a_mistyped_confirmation_keeps_the_link(app, client):
    email = await new_account(app)
    await ask_for_link(client, email)
    token = await reset_token_for(app, email)
    response = await set_password(client, token, confirm="something-else")
    assert response.status_code == 422
    assert "The passwords do not match." in await text(response)
    assert (await set_password(client, token)).headers["HX-Redirect"] == "/login"


async def test_a_reset_logs_out_every_browser_of_the_account(app, client):
    email = await new_account(app)
    signed_in = app.test_client()
    await login(signed_in, email, PASSWORD)
    assert (await signed_in.get("/profile")).status_code == 200
    await ask_for_link(client, email)
    await set_password(client, await reset_token_for(app, email))
    assert (await signed_in.get("/profile")).status_code == 303


async def test_the_apps_request_log_has_the_reset_path_without_its_token(app, client, caplog):
    email = await new_account(app)
    await ask_for_link(client, email)
    token = await reset_token_for(app, email)
    with caplog.at_level(logging.INFO, logger="cloudstore.request"):
        await client.get(f"/reset-password?token={token}")
        await set_password(client, token)
    lines = [r for r in caplog.records if r.name == "cloudstore.request"]
    assert {(r.method, r.path) for r in lines} >= {
        ("GET", "/reset-password"),
        ("POST", "/reset-password"),
    }
    assert all(token not in json.dumps(vars(r), default=str) for r in caplog.records)


async def test_too_many_requests_from_one_browser_are_refused_politely(client):
    for _ in range(2):
        assert (await ask_for_link(client, unique_email())).status_code == 200
    response = await ask_for_link(client, unique_email())
    assert response.status_code == 422
    assert "Too many attempts" in await text(response)


async def test_the_form_without_javascript_works_too(postgres_url, dynamodb, tmp_path):
    app = create_app(make_settings(postgres_url, dynamodb.endpoint, tmp_path / "d2"))
    async with app.test_app():
        client = app.test_client()
        email = await new_account(app)
        csrf = await csrf_token(client)
        await client.post("/forgot-password", form={"email": email, "csrf_token": csrf})
        token = await reset_token_for(app, email)
        response = await client.post(
            "/reset-password",
            form={"token": token, "password": NEW, "password_confirm": NEW, "csrf_token": csrf},
        )
        assert response.status_code == 303 and response.headers["Location"] == "/login"
