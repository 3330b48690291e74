"""Server-side sessions in PostgreSQL, and each worker's short memory of them.

A session is a row keyed by a random id; tokens (Bearer or the session cookie) carry that id
in their `sid` claim. A session is alive while it is not revoked, not expired, and its
account is not disabled. What a worker remembers (`SessionCache`) is used for at most
`RECHECK_SECONDS`; while PostgreSQL is down it is trusted for at most `TRUST_WHILE_DOWN`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg.rows import dict_row

from cloudstore.domain.accounts import User
from cloudstore.stores.postgres import Postgres
from cloudstore.stores.users import COLUMNS

RECHECK_SECONDS = 2.0
TRUST_WHILE_DOWN = 15 * 60.0
PURGE_EVERY_SECONDS = 60.0
USER_COLUMNS = ", ".join(f"u.{name}" for name in COLUMNS.split(", "))


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session as PostgreSQL has it, with its account."""

    session_id: str
    user: User
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def alive(self) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > datetime.now(UTC)
            and not self.user.is_disabled
        )


class SessionStore:
    def __init__(self, db: Postgres) -> None:
        self.db = db
        self._next_purge = 0.0

    async def create(self, session_id: str, user_id: str, expires_at: datetime) -> None:
        await self.db.fetchone(
            "INSERT INTO sessions (session_id, user_id, expires_at) VALUES (%s, %s, %s)",
            (session_id, user_id, expires_at),
        )
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            await self.purge_expired()

    async def state(self, session_id: str) -> SessionState | None:
        row = await self.db.fetchone(
            f"SELECT s.session_id AS sid, s.expires_at AS session_expires_at, "
            f"s.revoked_at AS session_revoked_at, {USER_COLUMNS} "
            f"FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE s.session_id = %s",
            (session_id,),
            row_factory=dict_row,
        )
        if row is None:
            return None
        return SessionState(
            session_id=row.pop("sid"),
            expires_at=row.pop("session_expires_at"),
            revoked_at=row.pop("session_revoked_at"),
            user=User(**row),
        )

    async def revoke(self, session_id: str) -> None:
        await self.db.fetchone(
            "UPDATE sessions SET revoked_at = now() WHERE session_id = %s AND revoked_at IS NULL",
            (session_id,),
        )

    async def revoke_all(self, user_id: str, keep: str | None = None) -> int:
        """End every live session of `user_id` but `keep`; returns how many ended."""
        row = await self.db.fetchone(
            "WITH ended AS (UPDATE sessions SET revoked_at = now() "
            "WHERE user_id = %s AND revoked_at IS NULL AND session_id IS DISTINCT FROM %s "
            "RETURNING 1) SELECT count(*) FROM ended",
            (user_id, keep),
        )
        return int(row[0]) if row else 0

    async def live_count(self, user_id: str) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM sessions WHERE user_id = %s AND revoked_at IS NULL "
            "AND expires_at > now()",
            (user_id,),
        )
        return int(row[0]) if row else 0

    async def purge_expired(self) -> int:
        """Delete sessions past their end, and revoked ones after a day."""
        row = await self.db.fetchone(
            "WITH gone AS (DELETE FROM sessions WHERE expires_at < now() "
            "OR revoked_at < now() - interval '1 day' RETURNING 1) SELECT count(*) FROM gone"
        )
        return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class Revocation:
    """One session (`session_id`), or every session of `user_id` but `keep`."""

    user_id: str
    session_id: str | None = None
    keep: str | None = None


@dataclass(slots=True)
class Known:
    """What this worker last learnt of a session: alive or not, whose, and when."""

    user_id: str
    user: User | None  # None: the session is over
    checked_at: float

    def fresh(self, now: float) -> bool:
        return now - self.checked_at < RECHECK_SECONDS

    def trusted_while_down(self, now: float) -> bool:
        return now - self.checked_at <= TRUST_WHILE_DOWN


class SessionCache:
    """This worker's memory of sessions, and the revocations it could not write yet (while
    PostgreSQL was down), applied when PostgreSQL answers again."""

    def __init__(self, max_entries: int = 10_000, clock=time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._known: dict[str, Known] = {}
        self.pending: list[Revocation] = []
        self.writer: asyncio.Task[None] | None = None  # writes `pending` once PostgreSQL answers

    def get(self, session_id: str) -> Known | None:
        return self._known.get(session_id)

    def remember(self, session_id: str, user_id: str, user: User | None) -> Known:
        known = Known(user_id, user, self.clock())
        self._put(session_id, known)
        return known

    def _put(self, session_id: str, known: Known) -> None:
        """Keep at most `max_entries`: the one checked longest ago goes first."""
        self._known.pop(session_id, None)
        while len(self._known) >= self.max_entries:
            del self._known[next(iter(self._known))]
        self._known[session_id] = known

    def ended(self, session_id: str, user_id: str) -> None:
        """Known to be over now (this worker ended it): never trusted again."""
        self._put(session_id, Known(user_id, None, self.clock()))

    def all_ended(self, user_id: str, keep: str | None = None) -> None:
        for session_id, known in list(self._known.items()):
            if known.user_id == user_id and session_id != keep:
                self._known[session_id] = Known(user_id, None, self.clock())
