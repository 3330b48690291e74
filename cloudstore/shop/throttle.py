"""Throttling password guesses and registrations, with counters every worker and instance
shares (`stores/throttle.py`, a PostgreSQL table).

Every password check is one attempt, counted BEFORE the password is verified: per account
(its `email_key`, so no spelling of an address gets a budget of its own) under `LOGIN_LIMIT`,
and per client address under `LOGIN_IP_LIMIT` (by default the same as `LOGIN_LIMIT`). Over
either limit the answer is a 429 with Retry-After and no verification starts, however many
requests arrive at once. A right password gives its attempt back, so only failures use up
the budget. Registrations count per client address under `REGISTER_LIMIT`, each attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudstore.domain.errors import DomainError, ErrorCode
from cloudstore.settings import RateLimit
from cloudstore.stores.throttle import AttemptCounters

TOO_MANY_LOGINS = "too many failed login attempts; try again later"
TOO_MANY_REGISTRATIONS = "too many new accounts from this address; try again later"
TOO_MANY_RESETS = "too many password reset requests from this address; try again later"


class TooManyAttempts(DomainError):
    status = 429
    default_code = ErrorCode.TOO_MANY_ATTEMPTS

    def __init__(self, retry_after: int, message: str = TOO_MANY_LOGINS) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class PasswordAttempt:
    """Attempts counted for one password check; `succeeded()` gives them back."""

    counters: AttemptCounters
    attempt_ids: list[int] = field(default_factory=list)

    async def succeeded(self) -> None:
        for attempt_id in self.attempt_ids:
            await self.counters.refund(attempt_id)
        self.attempt_ids.clear()


class LoginThrottle:
    def __init__(
        self,
        counters: AttemptCounters,
        per_account: RateLimit,
        per_client: RateLimit,
        registrations_per_client: RateLimit | None,
        resets_per_client: RateLimit | None = None,
        resets_per_account: RateLimit | None = None,
    ) -> None:
        self.counters = counters
        self.per_account = per_account
        self.per_client = per_client
        self.registrations_per_client = registrations_per_client
        self.resets_per_client = resets_per_client
        self.resets_per_account = resets_per_account

    async def password_attempt(self, account_key: str, client_ip: str | None) -> PasswordAttempt:
        """Count one password check for this account and client, or raise TooManyAttempts
        (giving back what was counted) when either is over its limit."""
        attempt = PasswordAttempt(self.counters)
        limits = [(f"login-account|{account_key}", self.per_account)]
        if client_ip:
            limits.append((f"login-client|{client_ip}", self.per_client))
        for name, limit in limits:
            hit = await self.counters.hit(name, limit.count, limit.seconds)
            if not hit.allowed:
                await attempt.succeeded()  # nothing is checked: uncount what was counted
                raise TooManyAttempts(hit.retry_after)
            if hit.attempt_id is not None:
                attempt.attempt_ids.append(hit.attempt_id)
        return attempt

    async def registration(self, client_ip: str | None) -> None:
        """Count a registration attempt from `client_ip`; raise once it is over the limit."""
        limit = self.registrations_per_client
        if limit is None or not client_ip:
            return
        hit = await self.counters.hit(f"register-client|{client_ip}", limit.count, limit.seconds)
        if not hit.allowed:
            raise TooManyAttempts(hit.retry_after, TOO_MANY_REGISTRATIONS)

    async def reset_request(self, account_key: str, client_ip: str | None) -> bool:
        """Count a password-reset request: TooManyAttempts (429) past RESET_LIMIT for the
        client; False (send nothing, answer as usual) past RESET_EMAIL_LIMIT for the account.
        Both counters are hit on every request, whether or not the account exists."""
        client_limit, account_limit = self.resets_per_client, self.resets_per_account
        if client_limit is not None and client_ip:
            hit = await self.counters.hit(
                f"reset-client|{client_ip}", client_limit.count, client_limit.seconds
            )
            if not hit.allowed:
                raise TooManyAttempts(hit.retry_after, TOO_MANY_RESETS)
        if account_limit is None:
            return True
        hit = await self.counters.hit(
            f"reset-account|{account_key}", account_limit.count, account_limit.seconds
        )
        return hit.allowed
