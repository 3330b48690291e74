"""Text a person typed: one rule for every channel (API, pages, admin, seed files).

Control characters are refused, never silently dropped (PostgreSQL text cannot even hold
NUL, and a stray BEL in a product name is a bug upstream); tab and line breaks are
whitespace: a single line collapses them to one space, a multi-line text keeps them.
"""

from __future__ import annotations

import re

from cloudstore.domain.errors import ErrorCode, InvalidInput

# The JSON API's NO_CONTROL pattern: C0 controls and DEL, except tab, LF and CR.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(value: str, field: str) -> None:
    if CONTROL.search(value):
        raise InvalidInput(
            f"{field} must not contain control characters",
            code=ErrorCode.CONTROL_CHARACTERS,
            field=field,
        )


def check_length(value: str, field: str, max_length: int) -> str:
    if len(value) > max_length:
        raise InvalidInput(
            f"{field} must be at most {max_length} characters",
            code=ErrorCode.TOO_LONG,
            field=field,
        )
    return value


def single_line(value: object, field: str, *, max_length: int, required: bool = True) -> str:
    """One line: whitespace runs collapsed to one space, then required and length checked."""
    text = "" if value is None else str(value)
    refuse_control_characters(text, field)
    text = " ".join(text.split())
    if required and not text:
        raise InvalidInput(f"{field} is required", code=ErrorCode.REQUIRED, field=field)
    return check_length(text, field, max_length)


def multi_line(value: object, field: str, *, max_length: int) -> str:
    """Free text (a description): line breaks kept as \\n, ends stripped, length checked."""
    text = "" if value is None else str(value)
    refuse_control_characters(text, field)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return check_length(text, field, max_length)
