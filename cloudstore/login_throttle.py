"""Failed-login throttling per account and per client IP, with the `limits` library.

Only failures count: after `FAILURES_PER_MINUTE` failed attempts for one email (or from one
IP) within a moving minute, further attempts get a 429 with Retry-After until the window
moves on. The counters live in this process's memory: with N workers an attacker gets at
most N times the limit, and a restart clears them; a shared store (e.g. limits' Redis
storage) would make the limit global.
"""

from __future__ import annotations

import math
import time

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from cloudstore.domain.errors import DomainError

FAILURES_PER_MINUTE = 5
# An IP may be a whole office behind NAT: it gets more room than one account.
IP_FAILURES_PER_MINUTE = 20


class TooManyAttempts(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed login attempts; try again later")
        self.retry_after = retry_after


class LoginThrottle:
    def __init__(
        self, per_account: int = FAILURES_PER_MINUTE, per_ip: int = IP_FAILURES_PER_MINUTE
    ) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._account = limits.RateLimitItemPerMinute(per_account)
        self._ip = limits.RateLimitItemPerMinute(per_ip)

    def _keys(self, email: str, client_ip: str | None):
        yield self._account, "account", email.strip().lower()
        if client_ip:
            yield self._ip, "ip", client_ip

    async def check(self, email: str, client_ip: str | None) -> None:
        """Raise TooManyAttempts if this account or IP used up its failures."""
        for item, kind, key in self._keys(email, client_ip):
            if not await self._limiter.test(item, kind, key):
                stats = await self._limiter.get_window_stats(item, kind, key)
                raise TooManyAttempts(max(1, math.ceil(stats.reset_time - time.time())))

    async def failed(self, email: str, client_ip: str | None) -> None:
        for item, kind, key in self._keys(email, client_ip):
            await self._limiter.hit(item, kind, key)
