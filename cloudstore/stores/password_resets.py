"""One-time password-reset links in PostgreSQL (`password_resets`, migration 0005).

Only a token's SHA-256 is stored. A token is valid while unused, unexpired, and while its
account still has the password it had when the token was made (`password_changed_at`), so
any password change voids it. Redeeming one sets the new password and uses up every token
of the account in one transaction.
"""

from __future__ import annotations

import time

import psycopg
from psycopg.rows import class_row

from cloudstore.domain.accounts import User
from cloudstore.stores.postgres import Postgres
from cloudstore.stores.users import COLUMNS

PURGE_EVERY_SECONDS = 300.0
USER_COLUMNS = ", ".join(f"u.{name}" for name in COLUMNS.split(", "))
# What makes a token usable, with `r` its row and `u` its account.
VALID = (
    "r.used_at IS NULL AND r.expires_at > now() AND u.disabled_at IS NULL "
    "AND u.password_changed_at = r.password_changed_at"
)


class PasswordResetStore:
    def __init__(self, db: Postgres) -> None:
        self.db = db
        self._next_purge = 0.0

    async def issue(self, token_hash: str, email_key: str, valid_seconds: int) -> User | None:
        """Store a token for the enabled account with this email key and return the account;
        None (and nothing stored) when there is none. One statement either way, so an
        unknown email costs what a known one does."""
        user = await self.db.fetchone(
            f"WITH account AS (SELECT * FROM users u WHERE u.email_key = %s "
            f"AND u.disabled_at IS NULL), "
            f"issued AS (INSERT INTO password_resets "
            f"(token_hash, user_id, password_changed_at, expires_at) "
            f"SELECT %s, user_id, password_changed_at, now() + make_interval(secs => %s) "
            f"FROM account RETURNING user_id) "
            f"SELECT {USER_COLUMNS} FROM account u JOIN issued i ON i.user_id = u.user_id",
            (email_key, token_hash, valid_seconds),
            row_factory=class_row(User),
        )
        await self._purge_now_and_then()
        return user

    async def holder(self, token_hash: str) -> User | None:
        """The account a valid token belongs to, or None."""
        return await self.db.fetchone(
            f"SELECT {USER_COLUMNS} FROM password_resets r JOIN users u "
            f"ON u.user_id = r.user_id WHERE r.token_hash = %s AND {VALID}",
            (token_hash,),
            row_factory=class_row(User),
        )

    async def redeem(self, token_hash: str, password_hash: str) -> User | None:
        """Use the token: the account gets `password_hash` and every token it has is used
        up, atomically. None when the token is not (or no longer) valid."""

        async def work(conn: psycopg.AsyncConnection) -> User | None:
            cursor = await conn.execute(
                f"UPDATE password_resets r SET used_at = now() FROM users u "
                f"WHERE r.token_hash = %s AND u.user_id = r.user_id AND {VALID} "
                f"RETURNING r.user_id",
                (token_hash,),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            (user_id,) = row
            await conn.execute(
                "UPDATE password_resets SET used_at = now() WHERE user_id = %s AND used_at IS NULL",
                (user_id,),
            )
            async with conn.cursor(row_factory=class_row(User)) as cur:
                await cur.execute(
                    f"UPDATE users SET password_hash = %s, password_changed_at = now(), "
                    f"updated_at = now() WHERE user_id = %s RETURNING {COLUMNS}",
                    (password_hash, user_id),
                )
                return await cur.fetchone()

        return await self.db.in_transaction(work)

    async def purge_expired(self) -> int:
        """Delete tokens a day after they expired or were used."""
        row = await self.db.fetchone(
            "WITH gone AS (DELETE FROM password_resets WHERE expires_at < now() - interval "
            "'1 day' OR used_at < now() - interval '1 day' RETURNING 1) SELECT count(*) FROM gone"
        )
        return int(row[0]) if row else 0

    async def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY_SECONDS
            await self.purge_expired()
