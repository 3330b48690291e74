"""Passwords (bcrypt, always off the event loop) and session tokens (JWT, HS256).

A token names its server-side session in the `sid` claim; tokens without one (issued before
sessions lived in PostgreSQL) are refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import bcrypt
import jwt

from cloudstore.domain.errors import ErrorCode, InvalidInput, Unauthorized

_T = TypeVar("_T")

MIN_PASSWORD_LENGTH = 6
MAX_EMAIL_LENGTH = 254  # RFC 5321
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises past it
EMAIL_PATTERN = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,185}\.[^@\s.\x00]{2,63}$")
ALGORITHM = "HS256"
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
HASH_THREAD_NICENESS = 10  # relative to the worker; 10 gets about a tenth of a busy CPU


def normalize_email(email: str) -> str:
    """The email as typed (without surrounding spaces), if it is a valid address. Its
    identity for lookups is `domain.accounts.email_key`."""
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise InvalidInput(
            "email is not a valid email address", code=ErrorCode.INVALID, field="email"
        )
    return email


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"{field} must be at least {MIN_PASSWORD_LENGTH} characters",
            code=ErrorCode.INVALID,
            field=field,
        )
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput(
            f"{field} must be at most {MAX_PASSWORD_BYTES} bytes",
            code=ErrorCode.TOO_LONG,
            field=field,
        )


class PasswordHasher:
    """bcrypt in its own threads, at most `concurrency` at a time, so a login flood cannot
    take every thread or the event loop from the rest of the shop.

    The hashing threads run at a lower CPU priority (`HASH_THREAD_NICENESS`): a login can
    wait a few hundred milliseconds, a page view should not. On an idle machine hashing
    still gets every cycle; on a busy one the event loops go first."""

    def __init__(self, concurrency: int = 2, rounds: int = 12) -> None:
        self._gate = asyncio.Semaphore(concurrency)
        self._threads = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="bcrypt", initializer=_lower_priority
        )
        self.rounds = rounds
        # Checked against when the email is unknown, so both cases take the same time.
        self._dummy = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds)).decode()

    async def _run(self, function: Callable[..., _T], *args: Any) -> _T:
        async with self._gate:
            return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    async def hash(self, password: str) -> str:
        hashed = await self._run(bcrypt.hashpw, password.encode(), bcrypt.gensalt(self.rounds))
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        candidate = password.encode()[:MAX_PASSWORD_BYTES]
        ok = await self._run(bcrypt.checkpw, candidate, (hashed or self._dummy).encode())
        return ok and hashed is not None

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    """Raise this thread's niceness (Linux applies it per thread; elsewhere a no-op)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    email: str
    role: str
    issued_at: datetime
    session_id: str


class TokenService:
    def __init__(self, secret: str, expiry_hours: int) -> None:
        self.secret = secret
        self.expiry = timedelta(hours=expiry_hours)

    def issue(
        self, user_id: str, email: str, role: str, session_id: str, expires_at: datetime
    ) -> str:
        """A token for the session `session_id`, ending when the session does."""
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "sid": session_id,
            "email": email,
            "role": role,
            "iat": now,
            "exp": expires_at,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token has expired", code=ErrorCode.TOKEN_INVALID) from None
        except jwt.PyJWTError:
            raise Unauthorized("token is invalid", code=ErrorCode.TOKEN_INVALID) from None
        if "sid" not in claims:
            raise Unauthorized(
                "token is from before server-side sessions; please log in again",
                code=ErrorCode.TOKEN_INVALID,
            )
        session_id = claims["sid"]
        if not isinstance(session_id, str) or not SESSION_ID_PATTERN.match(session_id):
            raise Unauthorized("token is invalid", code=ErrorCode.TOKEN_INVALID)
        return TokenClaims(
            user_id=str(claims["sub"]),
            email=str(claims.get("email", "")),
            role=str(claims.get("role", "customer")),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            session_id=session_id,
        )

    @property
    def expires_at(self) -> datetime:
        """When a session started now ends (its tokens' `exp`)."""
        return datetime.now(UTC) + self.expiry

    @property
    def max_age_seconds(self) -> int:
        return int(self.expiry.total_seconds())
