"""User accounts in PostgreSQL."""

from __future__ import annotations

import time

import psycopg
from psycopg.rows import class_row

from cloudstore.domain.accounts import User, email_key
from cloudstore.domain.errors import Conflict, ErrorCode
from cloudstore.stores.postgres import Postgres

PROFILE_FIELDS = ("name", "phone", "address", "city", "state", "postal_code")


COLUMNS = ", ".join(User.__dataclass_fields__)


class EmailTaken(Conflict):
    default_code = ErrorCode.EMAIL_TAKEN


class UserStore:
    def __init__(self, db: Postgres) -> None:
        self.db = db

    async def _one(self, query: str, params: tuple) -> User | None:
        return await self.db.fetchone(query, params, row_factory=class_row(User))

    async def create(
        self,
        user_id: str,
        email: str,
        email_key: str,
        password_hash: str,
        name: str,
        role: str = "customer",
    ) -> User:
        try:
            user = await self._one(
                f"INSERT INTO users (user_id, email, email_key, password_hash, name, role) "
                f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
                (user_id, email, email_key, password_hash, name, role),
            )
        except psycopg.errors.UniqueViolation:
            raise EmailTaken("an account with this email already exists") from None
        assert user is not None
        return user

    async def by_email_key(self, email_key: str) -> User | None:
        """The account whose canonical email is `email_key` (see domain.accounts)."""
        return await self._one(f"SELECT {COLUMNS} FROM users WHERE email_key = %s", (email_key,))

    async def by_email(self, email: str) -> User | None:
        """The account for an email in any spelling that has its canonical key."""
        return await self.by_email_key(email_key(email))

    async def by_id(self, user_id: str) -> User | None:
        return await self._one(f"SELECT {COLUMNS} FROM users WHERE user_id = %s", (user_id,))

    async def update_profile(self, user_id: str, **fields: str | None) -> User | None:
        changes = {k: v for k, v in fields.items() if k in PROFILE_FIELDS}
        if not changes:
            return await self.by_id(user_id)
        assignments = ", ".join(f"{column} = %s" for column in changes)
        return await self._one(
            f"UPDATE users SET {assignments}, updated_at = now() "
            f"WHERE user_id = %s RETURNING {COLUMNS}",
            (*changes.values(), user_id),
        )

    async def set_role(self, user_id: str, role: str) -> User | None:
        return await self._one(
            f"UPDATE users SET role = %s, updated_at = now() "
            f"WHERE user_id = %s RETURNING {COLUMNS}",
            (role, user_id),
        )

    async def set_disabled(self, user_id: str, disabled: bool) -> User | None:
        return await self._one(
            f"UPDATE users SET disabled_at = CASE WHEN %s THEN coalesce(disabled_at, now()) END, "
            f"updated_at = now() WHERE user_id = %s RETURNING {COLUMNS}",
            (disabled, user_id),
        )

    async def set_password(self, user_id: str, password_hash: str) -> User | None:
        return await self._one(
            f"UPDATE users SET password_hash = %s, password_changed_at = now(), "
            f"updated_at = now() WHERE user_id = %s RETURNING {COLUMNS}",
            (password_hash, user_id),
        )


class UserCache:
    """A few seconds of memory for token → user lookups, so an authenticated page view does
    not always cost a PostgreSQL round trip."""

    def __init__(self, ttl_seconds: float = 2.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, User]] = {}

    def get(self, user_id: str) -> User | None:
        entry = self._entries.get(user_id)
        if entry and entry[0] > time.monotonic():
            return entry[1]
        return None

    def put(self, user: User) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[user.user_id] = (time.monotonic() + self.ttl, user)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)
