"""The process's psycopg connection pool and the users schema.

The pool opens without waiting, so the shop starts (and serves the catalog) while
PostgreSQL is down; each use is bounded in time and a failure becomes BackendUnavailable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from cloudstore.domain.errors import BackendUnavailable

log = logging.getLogger(__name__)

SCHEMA_LOCK_ID = 0x0C10D5  # any constant: serialises schema setup across workers

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id       VARCHAR(50) PRIMARY KEY,
    email         VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    name          VARCHAR(255) NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE users ADD COLUMN IF NOT EXISTS role VARCHAR(20) NOT NULL DEFAULT 'customer';
ALTER TABLE users ADD COLUMN IF NOT EXISTS phone VARCHAR(50);
ALTER TABLE users ADD COLUMN IF NOT EXISTS address TEXT;
ALTER TABLE users ADD COLUMN IF NOT EXISTS city VARCHAR(120);
ALTER TABLE users ADD COLUMN IF NOT EXISTS state VARCHAR(120);
ALTER TABLE users ADD COLUMN IF NOT EXISTS postal_code VARCHAR(20);
ALTER TABLE users ADD COLUMN IF NOT EXISTS password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now();
DO $$ BEGIN
    ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('customer', 'admin'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON users (lower(email));
"""


class Postgres:
    """Holds the process's AsyncConnectionPool; open at startup, close at shutdown."""

    def __init__(self, conninfo: str, timeout: float = 3.0, max_size: int = 10) -> None:
        self.timeout = timeout
        self.schema_ready = False
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            open=False,
            timeout=timeout,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
            check=AsyncConnectionPool.check_connection,
            reconnect_timeout=0,  # keep trying forever: the app recovers when PostgreSQL returns
            name="cloudstore",
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)
        try:
            await self.ensure_schema()
        except BackendUnavailable:
            log.warning("PostgreSQL is not reachable yet; accounts answer 503 until it is")

    async def close(self) -> None:
        await self.pool.close()

    async def ensure_schema(self) -> None:
        if self.schema_ready:
            return
        async with self.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            await conn.execute(SCHEMA)
        self.schema_ready = True

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        try:
            async with self.pool.connection(timeout=self.timeout) as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError, TimeoutError, OSError) as error:
            log.warning("postgresql unavailable: %s", type(error).__name__)
            raise BackendUnavailable("PostgreSQL") from error

    async def fetchone(self, query: str, params: tuple = (), row_factory=None):
        """Run one statement under a deadline and return its first row (or None)."""

        async def go():
            if not self.schema_ready:
                await self.ensure_schema()
            cursor_args = {"row_factory": row_factory} if row_factory else {}
            async with self.connection() as conn, conn.cursor(**cursor_args) as cur:
                await cur.execute(query, params)
                return await cur.fetchone() if cur.description else None

        # On a hung server, cancelling the query can itself take seconds; answer at the
        # deadline and let the cancellation finish in the background.
        task = asyncio.ensure_future(go())
        done, _ = await asyncio.wait({task}, timeout=self.timeout * 2)
        if not done:
            task.cancel()
            task.add_done_callback(_consume_result)
            raise BackendUnavailable("PostgreSQL")
        return task.result()

    async def ping(self) -> None:
        await self.fetchone("SELECT 1")


def _consume_result(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # mark it retrieved: it was already answered with a 503
