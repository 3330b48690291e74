"""Who is asking: a Bearer token (API clients) or the session cookie (the browser)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, Literal, ParamSpec, TypeVar, overload

from quart import current_app, g, request
from quart.typing import ResponseTypes

from cloudstore.backends import Backends
from cloudstore.domain.accounts import User
from cloudstore.domain.errors import ErrorCode, Forbidden, Unauthorized
from cloudstore.shop.accounts import user_for_token
from cloudstore.web.cookies import SESSION_COOKIE, cookie_name, read_cookie
from cloudstore.web.html.csrf import check_cookie_api_request, new_pre_session_value

__all__ = ["SESSION_COOKIE"]

P = ParamSpec("P")
R = TypeVar("R")


def backends() -> Backends:
    return current_app.extensions["cloudstore"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def cookie_token() -> str | None:
    """The browser's session token (the `__Host-` cookie over HTTPS)."""
    return read_cookie(SESSION_COOKIE)


def request_token() -> str | None:
    return bearer_token() or cookie_token()


def signed_in_token() -> str:
    """The token of a request that `login_required` let through."""
    token = request_token()
    if token is None:
        raise Unauthorized("authentication required", code=ErrorCode.AUTH_REQUIRED)
    return token


@overload
async def current_user(required: Literal[True] = ...) -> User: ...
@overload
async def current_user(required: bool) -> User | None: ...


async def current_user(required: bool = True) -> User | None:
    """The authenticated user (cached on `g`); raises 401 when required and absent."""
    if "user" in g:
        if g.user is None and required:  # an earlier optional look found no one
            raise Unauthorized("authentication required", code=ErrorCode.AUTH_REQUIRED)
        return g.user
    token = request_token()
    user = None
    if token and token != bearer_token() and request.path.startswith("/api/"):
        check_cookie_api_request()  # the browser's cookie rode along: prove it is our page
    if token:
        try:
            user = await user_for_token(backends(), token)
        except Unauthorized:
            if required:
                raise
    elif required:
        raise Unauthorized("authentication required", code=ErrorCode.AUTH_REQUIRED)
    g.user = user
    return user


def login_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        await current_user(required=True)
        return await view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user = await current_user(required=True)
        if not user.is_admin:
            raise Forbidden("admin access required", code=ErrorCode.FORBIDDEN)
        return await view(*args, **kwargs)

    return wrapper


# --- the session cookie ---------------------------------------------------------------------


def rotate_csrf() -> None:
    """At login and logout: a new CSRF pre-session value, set on this response (by
    web/html/csrf.persist_new_token, after every request)."""
    g.csrf_pre_session = new_pre_session_value()
    g.pop("csrf_token", None)


def set_session_cookie(response: ResponseTypes, token: str) -> None:
    """Sign the browser in with `token`; the CSRF token changes with the session."""
    rotate_csrf()
    response.set_cookie(
        cookie_name(SESSION_COOKIE),
        token,
        max_age=backends().tokens.max_age_seconds,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path="/",
    )


def clear_session_cookie(response: ResponseTypes) -> None:
    rotate_csrf()
    response.delete_cookie(
        cookie_name(SESSION_COOKIE),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
