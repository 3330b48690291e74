"""The PostgreSQL migration runner on real, empty databases (one per test)."""

from __future__ import annotations

import asyncio
import shutil

import psycopg
import pytest

from cloudstore import create_app
from cloudstore.stores.migrations import (
    LOCK_ID,
    MIGRATIONS_DIR,
    MigrationError,
    apply_migrations,
    discover,
    pending_migrations,
)
from tests.helpers import unique_email
from tests.helpers.databases import database_name, fresh_database

# The schema that Cloud Store ran inline at every start before versioned migrations (main at
# 5bdaf08, cloudstore/stores/postgres.py): databases made by it must upgrade cleanly.
INLINE_SCHEMA = """
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

# The next free version: tests that add a migration to a copy of the shipped ones use it.
NEXT = max(m.version for m in discover()) + 1
N = f"{NEXT:04d}"
# The columns the inline schema made (later migrations add more).
INLINE_COLUMNS = (
    "user_id, email, password_hash, name, created_at, updated_at, role, phone, address, "
    "city, state, postal_code, password_changed_at"
)

EMAIL_KEY_MIGRATION = """
import unicodedata


async def migrate(conn):
    await conn.execute("ALTER TABLE users ADD COLUMN email_fold TEXT")
    rows = await (await conn.execute("SELECT user_id, email FROM users")).fetchall()
    for user_id, email in rows:
        key = unicodedata.normalize("NFKC", email).casefold()
        await conn.execute(
            "UPDATE users SET email_fold = %s WHERE user_id = %s", (key, user_id)
        )
    return f"{len(rows)} accounts keyed"
"""


@pytest.fixture
def database(postgres_url):
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture
async def connect(database):
    """Opens autocommit connections to the test's database; closes them afterwards."""
    opened: list[psycopg.AsyncConnection] = []

    async def open_one() -> psycopg.AsyncConnection:
        conn = await psycopg.AsyncConnection.connect(database, autocommit=True)
        opened.append(conn)
        return conn

    yield open_one
    for conn in opened:
        await conn.close()


@pytest.fixture
def folder(tmp_path):
    """A copy of the shipped migrations that a test may add to or edit."""
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


async def scalar(conn: psycopg.AsyncConnection, query: str, params: tuple = ()):
    return (await (await conn.execute(query, params)).fetchone())[0]


async def schema_of(conn: psycopg.AsyncConnection) -> dict:
    """The users table's columns, constraints and indexes, comparable across databases."""
    columns = await conn.execute(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_name = 'users' ORDER BY column_name"
    )
    constraints = await conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'users'::regclass ORDER BY conname"
    )
    indexes = await conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' ORDER BY indexname"
    )
    return {
        "columns": await columns.fetchall(),
        "constraints": await constraints.fetchall(),
        "indexes": await indexes.fetchall(),
    }


async def test_every_migration_applies_to_an_empty_database(connect):
    conn = await connect()
    applied = await apply_migrations(conn, discover())
    assert [a.migration.label for a in applied] == [m.label for m in discover()]


async def test_applied_migrations_are_recorded_with_name_checksum_and_time(connect):
    conn = await connect()
    await apply_migrations(conn, discover())
    rows = await (
        await conn.execute(
            "SELECT version, name, checksum, applied_at IS NOT NULL FROM schema_migrations"
            " ORDER BY version"
        )
    ).fetchall()
    assert rows == [(m.version, m.name, m.checksum, True) for m in discover()]


async def test_a_second_run_applies_nothing(connect):
    conn = await connect()
    await apply_migrations(conn, discover())
    assert await apply_migrations(conn, discover()) == []


async def test_check_lists_every_migration_of_an_empty_database_and_creates_nothing(connect):
    conn = await connect()
    assert await pending_migrations(conn, discover()) == discover()
    assert await scalar(conn, "SELECT to_regclass('schema_migrations')") is None


async def test_two_runners_starting_at_once_apply_each_migration_once(connect, folder):
    # Not idempotent: a second run of it would fail on the existing table.
    (folder / f"{N}_counter.sql").write_text(
        "CREATE TABLE applied_once (n INTEGER); INSERT INTO applied_once VALUES (1);"
    )
    migrations = discover(folder)
    holder, first, second = await connect(), await connect(), await connect()
    await holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
    runs = [asyncio.create_task(apply_migrations(c, migrations)) for c in (first, second)]
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    for _ in range(200):  # both runners queue behind the held lock
        if await scalar(holder, waiting) == 2:
            break
        await asyncio.sleep(0.05)
    assert await scalar(holder, waiting) == 2
    await holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    results = await asyncio.gather(*runs)
    labels = sorted(a.migration.label for result in results for a in result)
    assert labels == [m.label for m in migrations]
    assert await scalar(holder, "SELECT count(*) FROM applied_once") == 1


async def test_a_database_made_by_the_inline_schema_upgrades_and_keeps_its_rows(connect):
    conn = await connect()
    await conn.execute(INLINE_SCHEMA)
    await conn.execute(
        "INSERT INTO users (user_id, email, password_hash, name, role) VALUES"
        " ('u1', 'sari@example.com', 'x', 'Sari', 'admin'),"
        " ('u2', 'budi@example.com', 'y', 'Budi', 'customer')"
    )
    rows = f"SELECT {INLINE_COLUMNS} FROM users ORDER BY user_id"  # noqa: S608 - constant
    before = await (await conn.execute(rows)).fetchall()
    applied = await apply_migrations(conn, discover())
    after = await (await conn.execute(rows)).fetchall()
    assert [a.migration.label for a in applied] == [m.label for m in discover()]
    assert after == before


async def test_the_first_migration_reproduces_the_inline_schema(connect, postgres_url, folder):
    for later in folder.iterdir():
        if not later.name.startswith("0001_"):
            later.unlink()
    migrated = await connect()
    await apply_migrations(migrated, discover(folder))
    with fresh_database(postgres_url) as other:
        async with await psycopg.AsyncConnection.connect(other, autocommit=True) as inline:
            await inline.execute(INLINE_SCHEMA)
            expected = await schema_of(inline)
    assert await schema_of(migrated) == expected


async def test_a_changed_applied_migration_is_refused_naming_it(connect, folder):
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    first = folder / "0001_initial.sql"
    first.write_text(first.read_text() + "\nALTER TABLE users ADD COLUMN nickname TEXT;\n")
    with pytest.raises(MigrationError, match=r"0001_initial\.sql was changed after it was applied"):
        await apply_migrations(conn, discover(folder))


async def test_check_refuses_a_changed_applied_migration_too(connect, folder):
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    first = folder / "0001_initial.sql"
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"0001_initial\.sql was changed"):
        await pending_migrations(conn, discover(folder))


async def test_windows_line_endings_are_not_a_change(connect, folder):
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    first = folder / "0001_initial.sql"
    first.write_bytes(first.read_bytes().replace(b"\n", b"\r\n"))
    assert await pending_migrations(conn, discover(folder)) == []


async def test_python_migrations_run_and_report_their_note(connect, folder):
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    await conn.execute(
        "INSERT INTO users (user_id, email, password_hash, name)"
        " VALUES ('u1', 'Straße@Example.com', 'x', 'Sari')"
    )
    (folder / f"{N}_email_fold.py").write_text(EMAIL_KEY_MIGRATION)
    applied = await apply_migrations(conn, discover(folder))
    assert [str(a) for a in applied] == [f"{N}_email_fold (1 accounts keyed)"]
    assert await scalar(conn, "SELECT email_fold FROM users") == "strasse@example.com"


async def test_a_failing_migration_is_rolled_back_and_stays_pending(connect, folder):
    (folder / f"{N}_broken.sql").write_text(
        "CREATE TABLE half_done (n INTEGER); SELECT no_such_column FROM half_done;"
    )
    conn = await connect()
    with pytest.raises(MigrationError, match=rf"{N}_broken\.sql failed and was rolled back"):
        await apply_migrations(conn, discover(folder))
    assert await scalar(conn, "SELECT to_regclass('half_done')") is None
    assert [m.label for m in await pending_migrations(conn, discover(folder))] == [f"{N}_broken"]


async def test_a_python_migration_without_migrate_is_refused(connect, folder):
    (folder / f"{N}_empty.py").write_text("VALUE = 1\n")
    conn = await connect()
    with pytest.raises(MigrationError, match=rf"{N}_empty\.py must define `async def migrate"):
        await apply_migrations(conn, discover(folder))


async def test_versions_applied_by_a_newer_release_are_left_alone(connect, folder):
    (folder / f"{N}_newer.sql").write_text("CREATE TABLE newer (n INTEGER);")
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    assert await apply_migrations(conn, discover()) == []


async def test_another_migration_under_an_applied_version_is_refused(connect, folder):
    (folder / f"{N}_carts.sql").write_text("CREATE TABLE carts_v2 (id TEXT);")
    conn = await connect()
    await apply_migrations(conn, discover(folder))
    (folder / f"{N}_carts.sql").rename(folder / f"{N}_throttle.sql")
    with pytest.raises(MigrationError, match=f"version {NEXT} was applied as {N}_carts"):
        await apply_migrations(conn, discover(folder))


def test_two_files_with_one_version_are_refused(folder):
    (folder / "0002_a.sql").write_text("SELECT 1;")
    (folder / "0002_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0002_a.sql and 0002_b.sql share version 2"):
        discover(folder)


def test_a_misnamed_migration_file_is_refused(folder):
    (folder / "2-sessions.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="2-sessions.sql: a migration is named"):
        discover(folder)


async def test_the_shop_starts_without_postgresql_and_migrates_when_it_arrives(
    settings, postgres_url, seeded
):
    # A database that does not exist yet refuses connections as a stopped server does.
    with fresh_database(postgres_url) as url:
        dbname = database_name(url)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{dbname}"')
        app = create_app(settings.with_overrides(database_url=url))
        async with app.test_app():
            client = app.test_client()
            assert (await client.get("/api/products")).status_code == 200
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{dbname}"')
            body = {"name": "Tono", "email": unique_email(), "password": "rahasia1"}
            for _ in range(40):  # the pool reconnects in the background
                registered = await client.post("/api/auth/register", json=body)
                if registered.status_code != 503:
                    break
                await asyncio.sleep(0.5)
            assert registered.status_code == 201
        async with await psycopg.AsyncConnection.connect(url) as conn:
            recorded = await scalar(conn, "SELECT count(*) FROM schema_migrations")
    assert recorded == len(discover())
