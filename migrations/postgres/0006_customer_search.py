"""Indexes for the admin's customer list and search (`/admin/customers?q=`).

- `users_newest`: (created_at, user_id), the list's order and its cursor.
- `users_search_trgm`: a trigram GIN index on `lower(name || ' ' || email)`, which answers the
  search's `LIKE '%q%'` (3 characters or more) without reading the whole table. It needs the
  pg_trgm extension (trusted since PostgreSQL 13: the database owner may create it). Where
  the extension is not installed (a minimal embedded build), the index is skipped and the
  returned note says so: the search still works, by reading the table.
"""

from __future__ import annotations

import psycopg


async def migrate(conn) -> str | None:
    await conn.execute(
        "CREATE INDEX IF NOT EXISTS users_newest ON users (created_at DESC, user_id DESC)"
    )
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves the rest applied
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            await conn.execute(
                "CREATE INDEX IF NOT EXISTS users_search_trgm ON users "
                "USING gin (lower(name || ' ' || email) gin_trgm_ops)"
            )
    except psycopg.Error as error:
        return f"customer search runs without a trigram index (pg_trgm: {error.sqlstate})"
    return None
