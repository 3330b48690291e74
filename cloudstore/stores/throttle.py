"""Attempt counters in PostgreSQL, shared by every worker and every instance.

A counter is a name (say, `login-account|<email key>`) and a moving window: `hit` counts one
attempt if fewer than `count` were counted in the last `seconds`, atomically (concurrent hits
on one counter queue on a transaction-scoped advisory lock), and says how long until the
oldest one leaves the window when it refuses. The table holds an HMAC of each name, keyed by
the JWT secret: no email or client address is stored, and instances share counters exactly
when they share the secret (which they must, to accept each other's tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

import psycopg

from cloudstore.stores.postgres import Postgres

PURGE_EVERY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Hit:
    """A counted attempt (`attempt_id`), or a refusal with the seconds until one is allowed."""

    attempt_id: int | None
    retry_after: int = 0

    @property
    def allowed(self) -> bool:
        return self.attempt_id is not None


class AttemptCounters:
    def __init__(self, db: Postgres, secret: str) -> None:
        self.db = db
        self._secret = secret.encode()
        self._next_purge = 0.0

    def bucket(self, name: str) -> str:
        return hmac.new(self._secret, name.encode(), hashlib.sha256).hexdigest()

    async def hit(self, name: str, count: int, seconds: int) -> Hit:
        bucket = self.bucket(name)
        window = f"{seconds} seconds"

        async def work(conn: psycopg.AsyncConnection) -> Hit:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (bucket,))
            cursor = await conn.execute(
                "SELECT count(*), "
                "       extract(epoch FROM min(at) + %s::interval - clock_timestamp()) "
                "FROM login_attempts WHERE bucket = %s AND at > clock_timestamp() - %s::interval",
                (window, bucket, window),
            )
            row = await cursor.fetchone()
            used, wait = row if row is not None else (0, None)
            if used >= count:
                return Hit(None, max(1, math.ceil(float(wait or 1))))
            cursor = await conn.execute(
                "INSERT INTO login_attempts (bucket, expires_at) "
                "VALUES (%s, clock_timestamp() + %s::interval) RETURNING attempt_id",
                (bucket, window),
            )
            row = await cursor.fetchone()
            assert row is not None  # INSERT ... RETURNING gives its row
            (attempt_id,) = row
            return Hit(attempt_id)

        result = await self.db.in_transaction(work)
        await self._purge_now_and_then()
        return result

    async def refund(self, attempt_id: int) -> None:
        """Uncount an attempt (a login that turned out right does not use up the budget)."""
        await self.db.fetchone("DELETE FROM login_attempts WHERE attempt_id = %s", (attempt_id,))

    async def purge_expired(self) -> int:
        """Delete the attempts that left their window; returns how many."""
        row = await self.db.fetchone(
            "WITH gone AS (DELETE FROM login_attempts WHERE expires_at < clock_timestamp() "
            "RETURNING 1) SELECT count(*) FROM gone"
        )
        return int(row[0]) if row else 0

    async def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY_SECONDS
            await self.purge_expired()
