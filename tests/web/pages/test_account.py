"""Register, log in and out, the profile: inline field errors, the session cookie."""

from __future__ import annotations

from tests.helpers import unique_email
from tests.helpers.pages import PASSWORD, csrf_token, htmx, is_fragment, sign_up, text


async def test_login_and_register_pages_render(client):
    for path, heading in (("/login", "Log in"), ("/register", "Create an account")):
        body = await text(await client.get(path))
        assert "<html" in body and heading in body
        assert 'autocomplete="email"' in body and 'name="csrf_token"' in body


async def test_spec_auth_url_redirects_to_login(client):
    response = await client.get("/auth")
    assert response.status_code == 301 and response.headers["Location"] == "/login"


async def test_register_shows_field_errors_inline(client):
    token = await csrf_token(client)
    response = await client.post(
        "/register",
        form={"name": " ", "email": "not-an-email", "password": "123"},
        headers=htmx(token),
    )
    body = await text(response)
    assert response.status_code == 422 and is_fragment(body)
    assert 'id="register-form"' in body
    assert 'id="e-name"' in body and 'id="e-email"' in body and 'id="e-password"' in body
    assert "at least 6 characters" in body
    assert 'aria-invalid="true"' in body
    assert 'value="not-an-email"' in body  # what the shopper typed stays


async def test_register_with_a_taken_email_says_so_beside_the_field(client):
    email = await sign_up(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    token = await csrf_token(client)
    response = await client.post(
        "/register",
        form={"name": "Other", "email": email, "password": PASSWORD},
        headers=htmx(token),
    )
    assert response.status_code == 422
    assert "already exists" in await text(response)


async def test_wrong_password_is_a_form_error_without_js_too(client):
    email = await sign_up(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    token = await csrf_token(client)
    response = await client.post(
        "/login", form={"email": email, "password": "wrong-pass", "csrf_token": token}
    )
    body = await text(response)
    assert response.status_code == 422 and "<html" in body
    assert "do not match an account" in body
    missing = await client.post("/login", form={"email": "", "csrf_token": token})
    assert "Enter your email address." in await text(missing)


async def test_login_sets_an_httponly_lax_session_cookie_and_goes_next(client):
    email = await sign_up(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": email, "password": PASSWORD, "next": "/orders", "csrf_token": token},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("cs_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=86400" in cookie
    assert "Secure" not in cookie  # plain http in tests


async def test_next_never_leaves_the_site(client):
    email = await sign_up(client)
    await client.post("/logout", headers=htmx(await csrf_token(client)))
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": email, "password": PASSWORD, "next": "//evil.example", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


async def test_profile_requires_login(client):
    response = await client.get("/profile")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Fprofile"


async def test_profile_save_and_inline_errors(client, backends):
    email = await sign_up(client, name="Rina")
    page = await text(await client.get("/profile"))
    assert 'value="Rina"' in page and email in page
    token = await csrf_token(client)
    bad = await client.post(
        "/profile",
        form={"name": "Rina", "phone": "call me", "address": "Jl. Merdeka 5"},
        headers=htmx(token),
    )
    body = await text(bad)
    assert bad.status_code == 422 and is_fragment(body)
    assert 'id="e-phone"' in body and 'id="e-city"' in body and 'id="e-postal_code"' in body
    good = await client.post(
        "/profile",
        form={
            "name": "Rina Putri",
            "phone": "+62 811 000 111",
            "address": "Jl. Merdeka 5",
            "city": "Bandung",
            "state": "Jawa Barat",
            "postal_code": "40111",
        },
        headers=htmx(token),
    )
    body = await text(good)
    assert good.status_code == 200 and "Your profile is saved." in body
    assert 'hx-swap-oob="innerHTML"' in body
    user = await backends.users.by_email(email)
    assert (user.name, user.city, user.postal_code) == ("Rina Putri", "Bandung", "40111")
    assert 'value="Jl. Merdeka 5"' in await text(await client.get("/profile"))


async def test_logged_in_header_shows_account_links(client):
    await sign_up(client, email=unique_email("hdr"))
    body = await text(await client.get("/"))
    assert "Log out" in body and "/orders" in body and 'data-cart-mode="server"' in body
