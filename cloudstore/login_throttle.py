"""Throttling failed logins (per account and per client IP) and registrations (per client
IP), with the `limits` library; the limits are settings (`LOGIN_LIMIT`, `LOGIN_IP_LIMIT`,
`REGISTER_LIMIT`, each `"N/period"`).

Failed logins: only failures count; after the limit within a moving window, further
attempts get a 429 with Retry-After until the window moves on. Registrations: every attempt
counts. The counters live in this process's memory: with N workers an attacker gets at most
N times the limit, and a restart clears them; a shared store would make the limit global.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from cloudstore.domain.errors import DomainError, ErrorCode
from cloudstore.settings import DEFAULT_LOGIN_IP_LIMIT, DEFAULT_LOGIN_LIMIT, RateLimit

TOO_MANY_LOGINS = "too many failed login attempts; try again later"
TOO_MANY_REGISTRATIONS = "too many new accounts from this address; try again later"


class TooManyAttempts(DomainError):
    status = 429
    default_code = ErrorCode.TOO_MANY_ATTEMPTS

    def __init__(self, retry_after: int, message: str = TOO_MANY_LOGINS) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _item(limit: RateLimit) -> limits.RateLimitItem:
    return limits.RateLimitItemPerSecond(limit.count, limit.seconds)


class LoginThrottle:
    def __init__(
        self,
        per_account: RateLimit = DEFAULT_LOGIN_LIMIT,
        per_ip: RateLimit = DEFAULT_LOGIN_IP_LIMIT,
        registrations_per_ip: RateLimit | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._account = _item(per_account)
        self._ip = _item(per_ip)
        self._register = _item(registrations_per_ip) if registrations_per_ip else None

    def _keys(
        self, email: str, client_ip: str | None
    ) -> Iterator[tuple[limits.RateLimitItem, str, str]]:
        yield self._account, "account", email.strip().lower()
        if client_ip:
            yield self._ip, "ip", client_ip

    async def _retry_after(self, item: limits.RateLimitItem, *keys: str) -> int:
        stats = await self._limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self, email: str, client_ip: str | None) -> None:
        """Raise TooManyAttempts if this account or IP used up its failures."""
        for item, kind, key in self._keys(email, client_ip):
            if not await self._limiter.test(item, kind, key):
                raise TooManyAttempts(await self._retry_after(item, kind, key))

    async def failed(self, email: str, client_ip: str | None) -> None:
        for item, kind, key in self._keys(email, client_ip):
            await self._limiter.hit(item, kind, key)

    async def registration(self, client_ip: str | None) -> None:
        """Count a registration attempt from `client_ip`; raise once it is over the limit."""
        if self._register is None or not client_ip:
            return
        if not await self._limiter.hit(self._register, "register", client_ip):
            retry_after = await self._retry_after(self._register, "register", client_ip)
            raise TooManyAttempts(retry_after, TOO_MANY_REGISTRATIONS)
