"""Who is asking: a Bearer token (API clients) or the session cookie (the browser)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, Literal, ParamSpec, TypeVar, overload

from quart import current_app, g, request

from cloudstore.backends import Backends
from cloudstore.domain.errors import ErrorCode, Forbidden, Unauthorized
from cloudstore.shop.accounts import user_for_token
from cloudstore.stores.users import User
from cloudstore.web.html.csrf import check_cookie_api_request

SESSION_COOKIE = "cs_session"

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


def request_token() -> str | None:
    return bearer_token() or request.cookies.get(SESSION_COOKIE) or None


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
