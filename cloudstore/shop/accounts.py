"""Registering, logging in, and turning a token back into a user."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cloudstore.auth import check_password_rules, normalize_email
from cloudstore.backends import Backends
from cloudstore.domain.accounts import MAX_NAME_LENGTH, clean_name
from cloudstore.domain.errors import ErrorCode, Unauthorized
from cloudstore.stores.users import User

__all__ = ["MAX_NAME_LENGTH", "clean_name"]
INVALID_LOGIN = "invalid email or password"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str


def new_user_id() -> str:
    return f"USR-{uuid.uuid4().hex[:20].upper()}"


async def register(
    backends: Backends, *, name: str, email: str, password: str, client_ip: str | None = None
) -> Session:
    """A new customer account, signed in. Attempts per client are limited (REGISTER_LIMIT)."""
    name = clean_name(name)
    await backends.login_throttle.registration(client_ip)
    email = normalize_email(email)
    check_password_rules(password)
    password_hash = await backends.hasher.hash(password)
    user = await backends.users.create(new_user_id(), email, password_hash, name)
    return Session(user, backends.tokens.issue(user.user_id, user.email, user.role))


async def login(
    backends: Backends, *, email: str, password: str, client_ip: str | None = None
) -> Session:
    """Same message, and about the same time, whether or not the email exists. Failed
    attempts are throttled per account and per client IP (429 with Retry-After)."""
    await backends.login_throttle.check(email, client_ip)
    user = await backends.users.by_email(email.strip())
    if not await backends.hasher.verify(password, user.password_hash if user else None):
        await backends.login_throttle.failed(email, client_ip)
        raise Unauthorized(INVALID_LOGIN, code=ErrorCode.INVALID_CREDENTIALS)
    assert user is not None
    return Session(user, backends.tokens.issue(user.user_id, user.email, user.role))


async def create_admin(backends: Backends, *, email: str, password: str, name: str | None) -> User:
    """Create an admin, or promote (and re-password) an existing account."""
    email = normalize_email(email)
    check_password_rules(password)
    password_hash = await backends.hasher.hash(password)
    existing = await backends.users.by_email(email)
    if existing is None:
        return await backends.users.create(
            new_user_id(), email, password_hash, clean_name(name or "Administrator"), role="admin"
        )
    await backends.users.set_password(existing.user_id, password_hash)
    if name:
        await update_profile(backends, existing.user_id, {"name": clean_name(name)})
    promoted = await backends.users.set_role(existing.user_id, "admin")
    assert promoted is not None
    backends.user_cache.forget(existing.user_id)
    return promoted


async def update_profile(
    backends: Backends, user_id: str, fields: Mapping[str, str | None]
) -> User:
    """Save profile fields (name, phone, address; None clears one) and refresh this worker's
    cached copy of the user, so the next request sees the change."""
    updated = await backends.users.update_profile(user_id, **fields)
    if updated is None:
        backends.user_cache.forget(user_id)
        raise Unauthorized("the account no longer exists", code=ErrorCode.ACCOUNT_GONE)
    backends.user_cache.put(updated)
    return updated


async def user_for_token(backends: Backends, token: str) -> User:
    claims = backends.tokens.verify(token)
    cache = backends.user_cache
    user = cache.get(claims.user_id)
    if user is None:
        user = await backends.users.by_id(claims.user_id)
        if user is None:
            raise Unauthorized("the account no longer exists", code=ErrorCode.ACCOUNT_GONE)
        cache.put(user)
    # A password change ends every session issued before it (iat has whole seconds).
    if claims.issued_at.timestamp() < int(user.password_changed_at.timestamp()):
        raise Unauthorized(
            "token is no longer valid; please log in again", code=ErrorCode.TOKEN_INVALID
        )
    return user
