"""Accounts: registering, logging in and out, passwords, turning a token back into a user,
and what an operator does to an account (disable, enable, set its role)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from urllib.parse import quote

from cloudstore.auth import check_password_rules, normalize_email
from cloudstore.backends import Backends
from cloudstore.domain.accounts import MAX_NAME_LENGTH, ROLES, User, clean_name, email_key
from cloudstore.domain.errors import ErrorCode, InvalidInput, NotFound, Unauthorized
from cloudstore.shop import mail, sessions
from cloudstore.shop.sessions import Session

__all__ = ["MAX_NAME_LENGTH", "Session", "clean_name"]
INVALID_LOGIN = "invalid email or password"
WRONG_CURRENT_PASSWORD = "current_password is not this account's password"  # noqa: S105
RESET_LINK_INVALID = "this password reset link is invalid, used or expired; ask for a new one"
RESET_VALID_SECONDS = mail.RESET_VALID_HOURS * 3600
RESET_PATH = "/reset-password"


def new_user_id() -> str:
    return f"USR-{uuid.uuid4().hex[:20].upper()}"


async def register(
    backends: Backends, *, name: str, email: str, password: str, client_ip: str | None = None
) -> Session:
    """A new customer account, signed in. Attempts per client are limited (REGISTER_LIMIT).
    An email that has the key of an existing account (any case, any Unicode spelling) is
    taken."""
    name = clean_name(name)
    await backends.login_throttle.registration(client_ip)
    email = normalize_email(email)
    check_password_rules(password)
    password_hash = await backends.hasher.hash(password)
    user = await backends.users.create(new_user_id(), email, email_key(email), password_hash, name)
    mail.welcome(backends, user)
    return await sessions.start(backends, user)


async def login(
    backends: Backends, *, email: str, password: str, client_ip: str | None = None
) -> Session:
    """Same message, and about the same time, whether or not the email exists (or the
    account is disabled). Each attempt counts against the account's and the client's
    budget before the password is checked (429 with Retry-After when over either)."""
    key = email_key(email)
    attempt = await backends.login_throttle.password_attempt(key, client_ip)
    user = await backends.users.by_email_key(key)
    if not await backends.hasher.verify(password, user.password_hash if user else None):
        raise Unauthorized(INVALID_LOGIN, code=ErrorCode.INVALID_CREDENTIALS)
    assert user is not None
    if user.is_disabled:
        raise Unauthorized(INVALID_LOGIN, code=ErrorCode.INVALID_CREDENTIALS)
    await attempt.succeeded()
    return await sessions.start(backends, user)


async def logout(backends: Backends, token: str) -> None:
    """End the session `token` belongs to (an invalid or ended token: nothing to end)."""
    try:
        claims = backends.tokens.verify(token)
    except Unauthorized:
        return
    await sessions.end(backends, claims.session_id, claims.user_id)


async def logout_everywhere(backends: Backends, user_id: str) -> None:
    await sessions.end_all(backends, user_id)


async def change_password(
    backends: Backends,
    token: str,
    *,
    current_password: str,
    new_password: str,
    client_ip: str | None = None,
) -> Session:
    """Re-password the account of `token`'s session. The device asking stays signed in with
    a new session (the returned token); every other session, and the old token, end. The
    current password is a guess like any login's: it counts against the same budget."""
    claims = backends.tokens.verify(token)
    user = await sessions.user_for(backends, claims)
    assert user.email_key is not None, "a live session's account has its key"
    attempt = await backends.login_throttle.password_attempt(user.email_key, client_ip)
    if not await backends.hasher.verify(current_password, user.password_hash):
        raise InvalidInput(
            WRONG_CURRENT_PASSWORD, code=ErrorCode.WRONG_PASSWORD, field="current_password"
        )
    await attempt.succeeded()
    check_password_rules(new_password, field="new_password")
    updated = await backends.users.set_password(
        user.user_id, await backends.hasher.hash(new_password)
    )
    if updated is None:
        raise Unauthorized("the account no longer exists", code=ErrorCode.ACCOUNT_GONE)
    backends.user_cache.put(updated)
    session = await sessions.start(backends, updated)
    await sessions.end_all(backends, user.user_id, keep=session.session_id)
    return session


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_password_reset(
    backends: Backends, *, email: str, client_ip: str | None = None
) -> None:
    """Mail a one-time link (`<PUBLIC_URL>/reset-password?token=…`, valid an hour) to the
    account with this email, if there is one. The caller learns nothing either way: the
    same work is done (both throttle counters and one statement that stores a token only
    for an existing, enabled account) and the mail is queued, not sent here. Past
    RESET_LIMIT for the client: 429; past RESET_EMAIL_LIMIT for the account: nothing more
    is sent."""
    email = normalize_email(email)
    key = email_key(email)
    if not await backends.login_throttle.reset_request(key, client_ip):
        return
    token = secrets.token_urlsafe(32)
    user = await backends.password_resets.issue(_token_hash(token), key, RESET_VALID_SECONDS)
    if user is not None:
        link = f"{backends.settings.link_base}{RESET_PATH}?token={quote(token, safe='')}"
        mail.password_reset(backends, user, link)


async def check_reset_token(backends: Backends, token: str) -> User:
    """The account a reset token is for; 400 when it is invalid, used or expired."""
    user = await backends.password_resets.holder(_token_hash(token)) if token else None
    if user is None:
        raise InvalidInput(RESET_LINK_INVALID, code=ErrorCode.RESET_TOKEN_INVALID, field="token")
    return user


async def reset_password(backends: Backends, *, token: str, password: str) -> User:
    """Set a new password with a reset token: the token (and every other of the account)
    is used up, and every session of the account ends. 400 for a bad token or a password
    the rules refuse."""
    check_password_rules(password)
    await check_reset_token(backends, token)
    password_hash = await backends.hasher.hash(password)
    user = await backends.password_resets.redeem(_token_hash(token), password_hash)
    if user is None:  # used or voided meanwhile
        raise InvalidInput(RESET_LINK_INVALID, code=ErrorCode.RESET_TOKEN_INVALID, field="token")
    backends.user_cache.forget(user.user_id)
    await sessions.end_all(backends, user.user_id)
    return user


async def create_admin(backends: Backends, *, email: str, password: str, name: str | None) -> User:
    """Create an admin, or promote (and re-password, ending its sessions) an existing
    account."""
    email = normalize_email(email)
    check_password_rules(password)
    password_hash = await backends.hasher.hash(password)
    existing = await backends.users.by_email_key(email_key(email))
    if existing is None:
        return await backends.users.create(
            new_user_id(),
            email,
            email_key(email),
            password_hash,
            clean_name(name or "Administrator"),
            role="admin",
        )
    await backends.users.set_password(existing.user_id, password_hash)
    await sessions.end_all(backends, existing.user_id)
    if name:
        await update_profile(backends, existing.user_id, {"name": clean_name(name)})
    promoted = await backends.users.set_role(existing.user_id, "admin")
    assert promoted is not None
    backends.user_cache.forget(existing.user_id)
    return promoted


async def _account(backends: Backends, email: str) -> User:
    user = await backends.users.by_email_key(email_key(email))
    if user is None:
        raise NotFound(
            f"no account has the email {email.strip()}", code=ErrorCode.ACCOUNT_NOT_FOUND
        )
    return user


async def disable_user(backends: Backends, email: str) -> User:
    """`disable_account` of the account with this email (`cloudstore disable-user`)."""
    return await disable_account(backends, await _account(backends, email))


async def enable_user(backends: Backends, email: str) -> User:
    """`enable_account` of the account with this email (`cloudstore enable-user`)."""
    return await enable_account(backends, await _account(backends, email))


async def set_role(backends: Backends, email: str, role: str) -> User:
    """`set_account_role` of the account with this email (`cloudstore set-role`)."""
    _check_role(role)
    return await set_account_role(backends, await _account(backends, email), role)


async def disable_account(backends: Backends, user: User) -> User:
    """Switch an account off: its logins get the usual 401 and its sessions end (every
    worker notices within sessions.RECHECK_SECONDS)."""
    disabled = await backends.users.set_disabled(user.user_id, True)
    if disabled is None:
        raise _gone(user)
    await sessions.end_all(backends, user.user_id)
    backends.user_cache.forget(user.user_id)
    return disabled


async def enable_account(backends: Backends, user: User) -> User:
    """Switch an account back on (its ended sessions stay ended: it logs in again)."""
    enabled = await backends.users.set_disabled(user.user_id, False)
    if enabled is None:
        raise _gone(user)
    backends.user_cache.forget(user.user_id)
    return enabled


async def set_account_role(backends: Backends, user: User, role: str) -> User:
    """Make an account an admin or a customer; its sessions see the new role within
    sessions.RECHECK_SECONDS."""
    _check_role(role)
    changed = await backends.users.set_role(user.user_id, role)
    if changed is None:
        raise _gone(user)
    backends.user_cache.forget(user.user_id)
    return changed


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(
            f"role must be one of {', '.join(ROLES)}", code=ErrorCode.INVALID, field="role"
        )


def _gone(user: User) -> NotFound:
    return NotFound(
        f"the account {user.user_id} no longer exists", code=ErrorCode.ACCOUNT_NOT_FOUND
    )


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
    """The account of a token whose session is alive; 401 otherwise."""
    return await sessions.user_for(backends, backends.tokens.verify(token))
