"""User accounts in PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from cloudstore.domain.accounts import User, email_key
from cloudstore.domain.client_text import MAX_CURSOR_CHARS, bounded_json, unpadded_base64
from cloudstore.domain.errors import Conflict, ErrorCode, InvalidInput
from cloudstore.stores.postgres import Postgres

PROFILE_FIELDS = ("name", "phone", "address", "city", "state", "postal_code")


COLUMNS = ", ".join(User.__dataclass_fields__)
# What the admin's customer search matches `q` in (migration 0006 indexes it by trigrams
# where pg_trgm is available; without it the same query reads the table).
SEARCH_TEXT = "lower(name || ' ' || email)"


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_user_cursor(user: User) -> str:
    plain = json.dumps([user.created_at.isoformat(), user.user_id])
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def _decode_user_cursor(cursor: str) -> tuple[datetime, str]:
    value = bounded_json(
        unpadded_base64(cursor, max_chars=MAX_CURSOR_CHARS),
        max_chars=MAX_CURSOR_CHARS,
        name="cursor",
        code=ErrorCode.INVALID_CURSOR,
    )
    try:
        created, user_id = value
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR) from None
    if not isinstance(user_id, str) or not user_id or moment.tzinfo is None:
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR)
    return moment, user_id


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

    async def by_ids(self, user_ids: Iterable[str]) -> dict[str, User]:
        """The accounts of these ids (one query), by id; unknown ids are left out."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM users WHERE user_id = ANY(%s)",
            (wanted,),
            row_factory=class_row(User),
        )
        return {user.user_id: user for user in rows}

    async def search(
        self, q: str = "", *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[User], str | None]:
        """Accounts whose name or email contains `q` (any letter case), newest first, one
        page; the next page starts after the cursor (created_at, user_id)."""
        conditions = []
        params: list[object] = []
        if q:
            conditions.append(f"{SEARCH_TEXT} LIKE lower(%s)")
            params.append(_like_pattern(q))
        if cursor:
            created, user_id = _decode_user_cursor(cursor)
            conditions.append("(created_at, user_id) < (%s, %s)")
            params.extend((created, user_id))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM users {where} ORDER BY created_at DESC, user_id DESC LIMIT %s",
            (*params, limit + 1),
            row_factory=class_row(User),
        )
        more = len(rows) > limit
        users = rows[:limit]
        return users, (encode_user_cursor(users[-1]) if more and users else None)

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
