"""A canonical `email_key` per account, and `disabled_at` to switch an account off.

The email stays as the customer typed it (for display and mail). `email_key` is the email
in Unicode NFKC with full case folding: uniqueness, lookup and login throttling all use it,
so `Ä@x.com` and `ä@x.com` (or `ﬀ@x.com` and `ff@x.com`) are one account. PostgreSQL's
`lower()` cannot compute it, so this migration does, in Python.

Accounts that already collide under the new key: the oldest (by created_at, then user_id)
keeps the key; the others are disabled and left without a key (they cannot log in), and the
returned note lists them for the operator to sort out.

The function below is a frozen copy of `cloudstore.domain.accounts.email_key` as of this
migration: an applied migration must never change its meaning when the app's code does.
"""

from __future__ import annotations

import unicodedata


def _key(email: str) -> str:
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


async def migrate(conn) -> str | None:
    await conn.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS email_key TEXT")
    await conn.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS disabled_at TIMESTAMPTZ")
    cursor = await conn.execute(
        "SELECT user_id, email FROM users WHERE email_key IS NULL ORDER BY created_at, user_id"
    )
    rows = await cursor.fetchall()
    taken: dict[str, str] = {}
    keys: list[tuple[str, str]] = []
    collided: list[tuple[str, str, str]] = []
    for user_id, email in rows:
        key = _key(email)
        if key in taken:
            collided.append((user_id, email, taken[key]))
        else:
            taken[key] = user_id
            keys.append((key, user_id))
    async with conn.cursor() as cur:
        await cur.executemany("UPDATE users SET email_key = %s WHERE user_id = %s", keys)
        await cur.executemany(
            "UPDATE users SET disabled_at = now(), updated_at = now() WHERE user_id = %s",
            [(user_id,) for user_id, _, _ in collided],
        )
    await conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email_key)")
    if not collided:
        return None
    listed = "; ".join(
        f"{user_id} <{email}> (same key as {keeper})" for user_id, email, keeper in collided
    )
    return f"disabled {len(collided)} account(s) whose email collides with an older one: {listed}"
