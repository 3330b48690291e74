"""The process's psycopg connection pool, and its schema kept current by the migrations.

The pool opens without waiting, so the shop starts (and serves the catalog) while
PostgreSQL is down; each use is bounded in time and a failure becomes BackendUnavailable.
Once a use finds PostgreSQL not answering, `down` is set and a probe (`SELECT 1` every
`PROBE_SECONDS`) runs until it answers again, which clears it: callers with something to
fall back on (the session check, `shop/sessions.py`) need not wait for it meanwhile.
Pending migrations are applied at startup, or at the first use once PostgreSQL answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from cloudstore.domain.errors import BackendUnavailable
from cloudstore.stores.migrations import (
    MIGRATIONS_DIR,
    Applied,
    Migration,
    MigrationError,
    apply_migrations,
    discover,
    pending_migrations,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
PROBE_SECONDS = 0.5


class Postgres:
    """Holds the process's AsyncConnectionPool; open at startup, close at shutdown."""

    def __init__(
        self,
        conninfo: str,
        timeout: float = 3.0,
        max_size: int = 10,
        migrations_dir: Path = MIGRATIONS_DIR,
    ) -> None:
        self.conninfo = conninfo
        self.timeout = timeout
        self.migrations_dir = migrations_dir
        self.schema_ready = False
        # The last use found PostgreSQL not answering; `_probe` runs until it answers.
        self.down = False
        self._probe: asyncio.Task[None] | None = None
        self._migrating: asyncio.Future | None = None
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
        if self._migrating is not None and not self._migrating.done():
            self._migrating.cancel()
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        await self.pool.close()

    async def ensure_schema(self) -> None:
        """Apply pending migrations once per process. Concurrent callers share one run, and
        a caller that gives up (a request's deadline) does not cancel it."""
        if self.schema_ready:
            return
        if self._migrating is None or self._migrating.done():
            self._migrating = asyncio.ensure_future(self.migrate())
            self._migrating.add_done_callback(_consume_result)
        await asyncio.shield(self._migrating)

    async def migrate(self) -> list[Applied]:
        """Apply the pending migrations now; returns what was applied."""
        migrations = await asyncio.to_thread(discover, self.migrations_dir)
        async with self._own_connection() as conn:
            applied = await apply_migrations(conn, migrations)
        self.schema_ready = True
        return applied

    async def pending_migrations(self) -> list[Migration]:
        """The migrations `migrate` would apply; changes nothing."""
        migrations = await asyncio.to_thread(discover, self.migrations_dir)
        async with self._own_connection() as conn:
            return await pending_migrations(conn, migrations)

    @asynccontextmanager
    async def _own_connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection outside the pool for the migration lock: the lock belongs to its
        session, so closing it releases the lock whatever happened."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, connect_timeout=max(1, int(self.timeout))
            )
        except (psycopg.OperationalError, TimeoutError, OSError) as error:
            log.warning("postgresql unavailable: %s", type(error).__name__)
            raise BackendUnavailable("PostgreSQL") from error
        try:
            async with conn:
                yield conn
        except psycopg.OperationalError as error:
            log.warning("postgresql unavailable: %s", type(error).__name__)
            raise BackendUnavailable("PostgreSQL") from error

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        try:
            async with self.pool.connection(timeout=self.timeout) as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError, TimeoutError, OSError) as error:
            log.warning("postgresql unavailable: %s", type(error).__name__)
            raise BackendUnavailable("PostgreSQL") from error

    async def fetchone(
        self, query: str, params: tuple[Any, ...] = (), row_factory: Any = None
    ) -> Any:
        """Run one statement under a deadline and return its first row (or None)."""

        async def statement(conn: psycopg.AsyncConnection):
            cursor_args = {"row_factory": row_factory} if row_factory else {}
            async with conn.cursor(**cursor_args) as cur:
                await cur.execute(query, params)
                return await cur.fetchone() if cur.description else None

        return await self._bounded(statement, transaction=False)

    async def fetchall(
        self, query: str, params: tuple[Any, ...] = (), row_factory: Any = None
    ) -> list[Any]:
        """Run one statement under a deadline and return all its rows."""

        async def statement(conn: psycopg.AsyncConnection):
            cursor_args = {"row_factory": row_factory} if row_factory else {}
            async with conn.cursor(**cursor_args) as cur:
                await cur.execute(query, params)
                return await cur.fetchall() if cur.description else []

        return await self._bounded(statement, transaction=False)

    async def in_transaction(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """`await work(conn)` inside one transaction, under the same deadline as a statement."""
        return await self._bounded(work, transaction=True)

    async def _bounded(self, work, *, transaction: bool):
        async def go():
            if not self.schema_ready:
                try:
                    await self.ensure_schema()
                except MigrationError as error:
                    log.error("PostgreSQL migrations refused: %s", error)
                    raise BackendUnavailable("PostgreSQL") from error
            async with self.connection() as conn:
                if not transaction:
                    return await work(conn)
                async with conn.transaction():
                    return await work(conn)

        # On a hung server, cancelling the query can itself take seconds; answer at the
        # deadline and let the cancellation finish in the background.
        task = asyncio.ensure_future(go())
        done, _ = await asyncio.wait({task}, timeout=self.timeout * 2)
        if not done:
            task.cancel()
            task.add_done_callback(_consume_result)
            self._went_down()
            raise BackendUnavailable("PostgreSQL")
        try:
            result = task.result()
        except BackendUnavailable as error:
            if isinstance(error.__cause__, MigrationError):
                self.down = False  # it answers, and refuses our schema: no outage
            else:
                self._went_down()
            raise
        except psycopg.Error:
            self.down = False  # it answered (with an error of the statement's own)
            raise
        self.down = False
        return result

    def _went_down(self) -> None:
        self.down = True
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._probe_until_up())

    async def _probe_until_up(self) -> None:
        while self.down:
            await asyncio.sleep(PROBE_SECONDS)
            with contextlib.suppress(BackendUnavailable):
                await self.ping()

    async def ping(self) -> None:
        await self.fetchone("SELECT 1")


def _consume_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # mark it retrieved: its callers were already answered
