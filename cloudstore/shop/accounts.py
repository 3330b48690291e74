"""Registering, logging in, and turning a token back into a user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cloudstore.auth import check_password_rules, normalize_email
from cloudstore.backends import Backends
from cloudstore.domain.errors import InvalidInput, Unauthorized
from cloudstore.stores.users import User

INVALID_LOGIN = "invalid email or password"
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    token: str


def new_user_id() -> str:
    return f"USR-{uuid.uuid4().hex[:20].upper()}"


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("name is required")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be at most {MAX_NAME_LENGTH} characters")
    return name


async def register(backends: Backends, *, name: str, email: str, password: str) -> Session:
    name = clean_name(name)
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
        raise Unauthorized(INVALID_LOGIN)
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
        await backends.users.update_profile(existing.user_id, name=clean_name(name))
    promoted = await backends.users.set_role(existing.user_id, "admin")
    assert promoted is not None
    return promoted


async def user_for_token(backends: Backends, token: str) -> User:
    claims = backends.tokens.verify(token)
    cache = backends.user_cache
    user = cache.get(claims.user_id)
    if user is None:
        user = await backends.users.by_id(claims.user_id)
        if user is None:
            raise Unauthorized("the account no longer exists")
        cache.put(user)
    # A password change ends every session issued before it (iat has whole seconds).
    if claims.issued_at.timestamp() < int(user.password_changed_at.timestamp()):
        raise Unauthorized("token is no longer valid; please log in again")
    return user
