"""The account (`User`, as the users table holds it), what its own fields may hold (the
email and password rules are in `auth`), and the one canonical form of an email address
that identifies an account."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from cloudstore.domain.address import spec_view
from cloudstore.domain.text import single_line

MAX_NAME_LENGTH = 255
ROLES = ("customer", "admin")


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    email: str
    password_hash: str
    name: str
    role: str
    phone: str | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    password_changed_at: datetime
    created_at: datetime
    updated_at: datetime
    # The canonical form of the email (domain.accounts.email_key): None only for accounts
    # the email_key migration disabled because an older one had the same key.
    email_key: str | None = None
    disabled_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    def public(self) -> dict[str, object]:
        """What the API shows of a user: never the password hash. The saved address twice:
        nested (`address`) and in the spec client's flat names (`address_street`, ...)."""
        address = self.saved_address()
        return {
            "user_id": self.user_id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "phone": self.phone,
            "address": address,
            **spec_view(address),
            "created_at": self.created_at.isoformat(),
        }

    def saved_address(self) -> dict[str, str] | None:
        if not self.address:
            return None
        return {
            "name": self.name,
            "phone": self.phone or "",
            "address": self.address,
            "city": self.city or "",
            "state": self.state or "",
            "postal_code": self.postal_code or "",
        }


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
