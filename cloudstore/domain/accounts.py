"""What an account's own fields may hold (the email and password rules are in `auth`), and
the one canonical form of an email address that identifies an account."""

from __future__ import annotations

import unicodedata

from cloudstore.domain.text import single_line

MAX_NAME_LENGTH = 255
ROLES = ("customer", "admin")


def clean_name(name: object) -> str:
    """A person's name: one line, no control characters, 1 to 255 characters."""
    return single_line(name, "name", max_length=MAX_NAME_LENGTH)


def email_key(email: str) -> str:
    """The account's identity for uniqueness, lookup and throttling: Unicode NFKC with full
    case folding (NFKC, casefold, NFKC again, since folding may leave a non-normal form).
    `Ä@x.com` and `ä@x.com`, `ﬀ@x.com` and `ff@x.com`, `STRASSE@x.com` and `straße@x.com`
    are one key. The email itself is kept as typed, for display and mail."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)
