"""Registering, logging in and out, and the profile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import Blueprint, redirect, request, url_for

from cloudstore.domain.cart import MergeResult
from cloudstore.domain.errors import DomainError, ErrorCode
from cloudstore.shop import accounts, carts
from cloudstore.shop.catalog import snapshot
from cloudstore.web.html.responses import (
    clear_session_cookie,
    go,
    is_htmx,
    login_url,
    notify,
    page,
    safe_next,
    set_session_cookie,
)
from cloudstore.web.pages import cookie_cart, forms
from cloudstore.web.pages.cartview import browser_lines
from cloudstore.web.session import backends, cookie_token, current_user

bp = Blueprint("account", __name__)


def _next() -> str:
    return safe_next(request.args.get("next"))


async def _merge_message(user_id: str) -> str | None:
    """Merge the browser's cart (sent by cart.js) into the saved one; say what happened."""
    local = browser_lines()
    if not local:
        return None
    result: MergeResult = await carts.merge_into_saved(backends(), user_id, local)
    index = await snapshot(backends())

    def name(product_id: str) -> str:
        product = index.get(product_id)
        return product.name if product else product_id

    parts = []
    if result.added:
        units = sum(line.quantity for line in result.added)
        names = ", ".join(name(line.product_id) for line in result.added)
        parts.append(
            f"Added {units} item{'s' if units != 1 else ''} from this browser "
            f"to your saved cart: {names}."
        )
    if result.capped:
        parts.append(f"Limited by stock: {', '.join(name(p) for p in result.capped)}.")
    if result.dropped:
        parts.append(f"No longer available: {', '.join(name(p) for p in result.dropped)}.")
    return " ".join(parts) or None


async def _signed_in(session: accounts.Session, greeting: str, next_path: str):
    merged = await _merge_message(session.user.user_id)
    response = go(next_path)
    cookie_cart.forget(response)  # a no-JS visitor's cart is in the saved cart now
    set_session_cookie(response, session.token)
    return notify(response, f"{greeting} {merged}" if merged else greeting)


async def _blank_form(template: str):
    """The empty login or register form; a visitor already signed in goes on to `next`."""
    if await current_user(required=False):
        return redirect(_next())
    return await page(template, ["content"], form=forms.Form(), next=_next())


async def _submit_form(
    template: str,
    block: str,
    parse: Callable[[Any], forms.Form],
    attempt: Callable[..., Awaitable[accounts.Session]],
    greeting: str,
):
    """Post the login or register form: `attempt` (the account service, called with the
    form's values, the password and the client's address) signs in, greeted by name (`{}`
    in `greeting`), or the form shows again with what went wrong."""
    data = await request.form
    next_path = safe_next(data.get("next"))
    form = parse(data)
    if form.ok:
        try:
            session = await attempt(
                backends(),
                **form.values,
                password=data.get("password", ""),
                client_ip=request.remote_addr,
            )
        except DomainError as error:
            if error.code == ErrorCode.EMAIL_TAKEN:
                form.errors["email"] = "An account with this email already exists. Log in instead?"
            else:
                form.message = _refusal(error)
        else:
            return await _signed_in(session, greeting.format(session.user.name), next_path)
    return await page(template, [block], status=422, form=form, next=next_path)


def _refusal(error: DomainError) -> str:
    """What the login or register form says when the account service refuses."""
    if error.code == ErrorCode.INVALID_CREDENTIALS:
        return "That email and password do not match an account."
    if error.code == ErrorCode.TOO_MANY_ATTEMPTS:
        wait = getattr(error, "retry_after", 60)
        return f"Too many attempts. Please wait {wait} seconds and try again."
    if error.status in (400, 409):
        return error.sentence()
    raise error


@bp.get("/login")
async def login():
    return await _blank_form("login.html")


@bp.post("/login")
async def login_post():
    return await _submit_form(
        "login.html", "login_form", forms.login_form, accounts.login, "Welcome back, {}."
    )


@bp.get("/register")
async def register():
    return await _blank_form("register.html")


@bp.post("/register")
async def register_post():
    return await _submit_form(
        "register.html",
        "register_form",
        forms.register_form,
        accounts.register,
        "Welcome to Cloud Store, {}.",
    )


@bp.get("/auth")
async def auth_legacy():
    """The spec's combined login/register page."""
    return redirect(url_for("pages.account.login"), 301)


def _signed_out(message: str):
    """Back to the catalog without the session cookie, saying so."""
    response = go(url_for("pages.catalog.index"))
    clear_session_cookie(response)
    return notify(response, message, "info")


@bp.post("/logout")
async def logout():
    """End this browser's session (server-side too). The saved cart stays in the Cart
    table; the browser copy was cleared at login."""
    token = cookie_token()
    if token:
        await accounts.logout(backends(), token)
    return _signed_out("You are logged out. Your cart is saved for next time.")


@bp.post("/logout-all")
async def logout_all():
    """Log out everywhere: every session of this account ends, this browser's too."""
    user = await current_user(required=False)
    if user is None:
        return go(login_url(url_for("pages.account.profile")))
    await accounts.logout_everywhere(backends(), user.user_id)
    return _signed_out("You are logged out on every device.")


@bp.post("/profile/password")
async def password_post():
    """Change the password: this browser stays signed in (a new session), others end."""
    user = await current_user(required=False)
    if user is None:
        return go(login_url(url_for("pages.account.profile")))
    data = await request.form
    form = forms.password_change_form(data)
    if form.ok:
        try:
            session = await accounts.change_password(
                backends(),
                cookie_token() or "",
                current_password=str(data.get("current_password", "")),
                new_password=str(data.get("new_password", "")),
                client_ip=request.remote_addr,
            )
        except DomainError as error:
            if error.code == ErrorCode.WRONG_PASSWORD:
                form.errors["current_password"] = "That is not your current password."  # noqa: S105
            else:
                form.message = _refusal(error)
        else:
            # A full page load: the page's CSRF token belongs to the new session.
            response = go(url_for("pages.account.profile"))
            set_session_cookie(response, session.token)
            return notify(response, "Your password is changed. Other devices are logged out.")
    return await page(
        "profile.html",
        ["password_form"],
        status=422,
        form=_profile_form(user),
        password_form=form,
    )


def _profile_form(user) -> forms.Form:
    return forms.Form(values={name: getattr(user, name) or "" for name in forms.ADDRESS_FIELDS})


@bp.get("/profile")
async def profile():
    user = await current_user(required=False)
    if user is None:
        return go(login_url())
    return await page(
        "profile.html", ["content"], form=_profile_form(user), password_form=forms.Form()
    )


@bp.post("/profile")
async def profile_post():
    user = await current_user(required=False)
    if user is None:
        return go(login_url(url_for("pages.account.profile")))
    form = forms.address_form(await request.form, required=False)
    if not form.ok:
        return await page(
            "profile.html", ["profile_form"], status=422, form=form, password_form=forms.Form()
        )
    await accounts.update_profile(
        backends(), user.user_id, {name: value or None for name, value in form.values.items()}
    )
    toast = {"kind": "success", "text": "Your profile is saved."}
    if is_htmx():
        return await page(
            "profile.html",
            ["profile_form", "toasts_oob"],
            form=form,
            toast=toast,
            password_form=forms.Form(),
        )
    return notify(go(url_for("pages.account.profile")), toast["text"])


# --- Forgot password --------------------------------------------------------------------------

# The reset page's address holds the token: no request from it may carry that address on.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}
MAX_TOKEN_CHARS = 128


@bp.get("/forgot-password")
async def forgot_password():
    return await page("forgot_password.html", ["content"], form=forms.Form(), sent=False)


@bp.post("/forgot-password")
async def forgot_password_post():
    """Mail a reset link; the answer is the same whether or not the email has an account."""
    form = forms.reset_request_form(await request.form)
    if form.ok:
        try:
            await accounts.request_password_reset(
                backends(), email=form.values["email"], client_ip=request.remote_addr
            )
        except DomainError as error:
            form.message = _refusal(error)
        else:
            return await page("forgot_password.html", ["forgot_form"], form=form, sent=True)
    return await page("forgot_password.html", ["forgot_form"], status=422, form=form, sent=False)


async def _reset_page(token: str, form: forms.Form, *, valid: bool, status: int = 200):
    return await page(
        "reset_password.html",
        ["reset_form"] if request.method == "POST" else ["content"],
        status=status,
        headers=NO_REFERRER,
        form=form,
        token=token,
        valid=valid,
    )


async def _token_valid(token: str) -> bool:
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    try:
        await accounts.check_reset_token(backends(), token)
    except DomainError as error:
        if error.code != ErrorCode.RESET_TOKEN_INVALID:
            raise
        return False
    return True


@bp.get("/reset-password")
async def reset_password():
    """The form for a new password, from the link in the reset mail (`?token=`)."""
    token = request.args.get("token", "")
    return await _reset_page(token, forms.Form(), valid=await _token_valid(token))


@bp.post("/reset-password")
async def reset_password_post():
    data = await request.form
    token = str(data.get("token", ""))[:MAX_TOKEN_CHARS]
    form = forms.password_reset_form(data)
    if not form.ok:
        return await _reset_page(token, form, valid=True, status=422)
    try:
        await accounts.reset_password(backends(), token=token, password=str(data["password"]))
    except DomainError as error:
        if error.code == ErrorCode.RESET_TOKEN_INVALID:
            return await _reset_page(token, form, valid=False, status=422)
        if error.status != 400:
            raise
        form.errors["password"] = error.sentence()
        return await _reset_page(token, form, valid=True, status=422)
    response = go(url_for("pages.account.login"))
    return notify(response, "Your password is changed. Log in with your new password.")
