"""What an account's own fields may hold (the email and password rules are in `auth`)."""

from __future__ import annotations

from cloudstore.domain.text import single_line

MAX_NAME_LENGTH = 255


def clean_name(name: object) -> str:
    """A person's name: one line, no control characters, 1 to 255 characters."""
    return single_line(name, "name", max_length=MAX_NAME_LENGTH)
