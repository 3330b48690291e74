"""One account per email however it is spelt (issue 11, item 2): the email is kept as typed,
and its canonical `email_key` (NFKC + case folding) is what uniqueness and lookup use."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from cloudstore.domain.accounts import email_key
from cloudstore.stores.migrations import apply_migrations, discover
from tests.helpers.databases import fresh_database

SPELLINGS = [
    ("Ä{}@x.com", "ä{}@x.com"),
    ("ﬀ{}@x.com", "ff{}@x.com"),
    ("STRASSE{}@x.com", "straße{}@x.com"),
    ("\u212a{}@x.com", "k{}@x.com"),  # KELVIN SIGN
    ("ｂｕｄｉ{}@x.com", "budi{}@x.com"),  # fullwidth
]
IDS = ["umlaut", "ligature", "sharp-s", "kelvin", "fullwidth"]


async def sign_up(client, email: str):
    return await client.post(
        "/api/auth/register", json={"name": "Budi", "email": email, "password": "rahasia1"}
    )


@pytest.mark.parametrize(("first", "second"), SPELLINGS, ids=IDS)
def test_both_spellings_have_one_key(first, second):
    assert email_key(first.format("")) == email_key(second.format(""))


@pytest.mark.parametrize(("first", "second"), SPELLINGS, ids=IDS)
async def test_registering_another_spelling_of_a_taken_email_is_a_409(client, first, second):
    tag = uuid.uuid4().hex[:8]
    assert (await sign_up(client, first.format(tag))).status_code == 201
    assert (await sign_up(client, second.format(tag))).status_code == 409


@pytest.mark.parametrize(("first", "second"), SPELLINGS, ids=IDS)
async def test_any_spelling_logs_in_to_the_one_account(client, first, second):
    tag = uuid.uuid4().hex[:8]
    created = await (await sign_up(client, first.format(tag))).get_json()
    response = await client.post(
        "/api/auth/login", json={"email": second.format(tag), "password": "rahasia1"}
    )
    assert (await response.get_json())["user"]["user_id"] == created["user"]["user_id"]


async def test_the_email_is_kept_as_typed(client):
    email = f"Sari.Ä{uuid.uuid4().hex[:6]}@Example.COM"
    body = await (await sign_up(client, email)).get_json()
    assert body["user"]["email"] == email


async def _users_before_email_key(url: str, rows: list[tuple[str, str, str]]):
    """A database migrated up to 0001 (before email_key), holding `rows`."""
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await apply_migrations(conn, [m for m in discover() if m.version == 1])
    for user_id, email, created in rows:
        await conn.execute(
            "INSERT INTO users (user_id, email, password_hash, name, created_at) "
            "VALUES (%s, %s, 'x', 'N', %s)",
            (user_id, email, created),
        )
    return conn


async def test_the_email_key_migration_keeps_the_oldest_and_disables_and_lists_the_others(
    postgres_url,
):
    rows = [
        ("u-new", "ff@x.com", "2024-03-01"),
        ("u-old", "ﬀ@x.com", "2024-01-01"),
        ("u-alone", "Budi@x.com", "2024-02-01"),
    ]
    with fresh_database(postgres_url) as url:
        conn = await _users_before_email_key(url, rows)
        try:
            applied = await apply_migrations(conn, discover())
            cursor = await conn.execute(
                "SELECT user_id, email_key, disabled_at IS NOT NULL FROM users ORDER BY user_id"
            )
            users = await cursor.fetchall()
        finally:
            await conn.close()
    note = next(a.note for a in applied if a.migration.name == "email_key")
    assert users == [
        ("u-alone", "budi@x.com", False),
        ("u-new", None, True),
        ("u-old", "ff@x.com", False),
    ]
    assert "u-new <ff@x.com>" in note and "u-old" in note and "u-alone" not in note


async def test_the_email_key_migration_says_nothing_without_collisions(postgres_url):
    with fresh_database(postgres_url) as url:
        conn = await _users_before_email_key(url, [("u1", "Ä@x.com", "2024-01-01")])
        try:
            applied = await apply_migrations(conn, discover())
        finally:
            await conn.close()
    assert next(a.note for a in applied if a.migration.name == "email_key") is None
