"""Versioned PostgreSQL migrations: numbered files in `migrations/postgres/`, each applied once.

A migration is `NNNN_what_it_does.sql` (one script) or `NNNN_what_it_does.py`, which defines
`async def migrate(conn)`: it gets a psycopg `AsyncConnection` inside the migration's own
transaction, and may return a short note (say, the accounts it changed) that `cloudstore
migrate` prints and the log records.

Applied migrations are recorded in `schema_migrations` (version, name, checksum, applied_at).
The runner holds a session advisory lock on its own connection for the whole run, so instances
that start at once apply each migration exactly once: the others wait, then find nothing
pending. Each migration and its record commit together, so a failing one leaves the database
as it was before it, and it and every later one stay pending.

An applied migration is never edited: when a file no longer matches its record, the runner
refuses to go on (write a new migration instead). Versions this code does not know (a newer
release migrated the database during a rolling upgrade) are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import inspect
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations" / "postgres"
# The same key the inline schema of earlier releases locked, so an old instance setting up
# its schema and a new one migrating never run at once during a rolling upgrade.
LOCK_ID = 0x0C10D5
FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.(?P<kind>sql|py)$")

RECORDS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class MigrationError(Exception):
    """A migration cannot be applied, or an applied one no longer matches its file."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    checksum: str

    @property
    def label(self) -> str:
        return self.path.stem

    async def run(self, conn: psycopg.AsyncConnection) -> str | None:
        """Run it on `conn` (inside the caller's transaction); returns its note, if any."""
        if self.path.suffix == ".sql":
            await conn.execute(await asyncio.to_thread(self.path.read_text, encoding="utf-8"))
            return None
        migrate = getattr(await asyncio.to_thread(_load_module, self), "migrate", None)
        if not inspect.iscoroutinefunction(migrate):
            raise MigrationError(f"{self.path.name} must define `async def migrate(conn)`")
        note = await migrate(conn)
        return str(note) if note else None


@dataclass(frozen=True)
class Applied:
    migration: Migration
    note: str | None = None

    def __str__(self) -> str:
        return self.migration.label + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class _Record:
    name: str
    checksum: str


def checksum(path: Path) -> str:
    """sha256 of the file with line endings normalised (a Windows checkout is not a change)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in `directory`, by version. Blocking file reads: call via to_thread."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".sql", ".py") or path.name == "__init__.py":
            continue
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: a migration is named NNNN_what_it_does.sql or .py "
                "(four digits, then lower-case letters, digits and underscores)"
            )
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(
                f"{migrations[version].path.name} and {path.name} share version {version}: "
                "give the newer one the next free number"
            )
        migrations[version] = Migration(version, match["name"], path, checksum(path))
    return [migrations[v] for v in sorted(migrations)]


async def pending_migrations(
    conn: psycopg.AsyncConnection, migrations: list[Migration]
) -> list[Migration]:
    """What `apply_migrations` would apply; changes nothing. Raises MigrationError when an
    applied migration's file was changed."""
    exists = await (await conn.execute("SELECT to_regclass('schema_migrations')")).fetchone()
    records = await _records(conn) if exists and exists[0] else {}
    return _pending(records, migrations)


async def apply_migrations(
    conn: psycopg.AsyncConnection, migrations: list[Migration]
) -> list[Applied]:
    """Apply the pending migrations in version order, each in its own transaction, under
    the migration lock. `conn` must be in autocommit mode and is used by nothing else."""
    if not conn.autocommit:
        raise ValueError("apply_migrations needs an autocommit connection")
    locked = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ID,))).fetchone()
    if not (locked and locked[0]):
        log.info("another instance is migrating PostgreSQL; waiting for it")
        await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
    try:
        await conn.execute(RECORDS_TABLE)
        applied = []
        for migration in _pending(await _records(conn), migrations):
            applied.append(await _apply_one(conn, migration))
        return applied
    finally:
        # A broken connection has lost the lock with its session already.
        with contextlib.suppress(psycopg.Error):
            await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))


async def _apply_one(conn: psycopg.AsyncConnection, migration: Migration) -> Applied:
    try:
        async with conn.transaction():
            note = await migration.run(conn)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except (MigrationError, psycopg.OperationalError):
        raise
    except Exception as error:
        raise MigrationError(
            f"migration {migration.path.name} failed and was rolled back: "
            f"{type(error).__name__}: {error}"
        ) from error
    log.info("applied migration %s%s", migration.label, f": {note}" if note else "")
    return Applied(migration, note)


async def _records(conn: psycopg.AsyncConnection) -> dict[int, _Record]:
    cursor = await conn.execute("SELECT version, name, checksum FROM schema_migrations")
    return {version: _Record(name, digest) for version, name, digest in await cursor.fetchall()}


def _pending(records: dict[int, _Record], migrations: list[Migration]) -> list[Migration]:
    pending = []
    for migration in migrations:
        record = records.get(migration.version)
        if record is None:
            pending.append(migration)
        elif record.name != migration.name:
            raise MigrationError(
                f"version {migration.version} was applied as "
                f"{migration.version:04d}_{record.name}, but the file now is "
                f"{migration.path.name}: give the new migration the next free number"
            )
        elif record.checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.path.name} was changed after it was applied (checksum "
                f"recorded {record.checksum[:12]}…, file now {migration.checksum[:12]}…): "
                "restore the applied file and put the change in a new migration"
            )
    return pending


def _load_module(migration: Migration) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"cloudstore_migration_{migration.label}", migration.path
    )
    if spec is None or spec.loader is None:
        raise MigrationError(f"cannot load {migration.path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
