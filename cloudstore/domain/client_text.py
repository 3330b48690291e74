"""Structured text from clients (JSON in a header or a cookie, base64 cursors, URLs in
headers), decoded defensively: bounded in size and nesting BEFORE it is decoded, and every
decoding error turned into one refusal.

`json.loads` recurses once per level of nesting, so `"[" * 3000` raises `RecursionError`
(not a `ValueError`) and a caller that only catches `ValueError` answers 500. Here the
nesting is counted by a linear scan first, and numbers go through `domain.numbers`.

A refusal is `RefusedText`: an `InvalidInput` (a 400 if nobody catches it) that is also a
`ValueError`, so callers that ignore malformed client text keep catching `ValueError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.numbers import json_float, json_int

# Nothing the shop reads from a client nests deeper than a list of objects.
MAX_DEPTH = 8
# The longest list cursor read (as the API's `cursor` parameter): the shop's own are < 200.
MAX_CURSOR_CHARS = 512
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
NO_URL = SplitResult("", "", "", "", "")


class RefusedText(InvalidInput, ValueError):
    """Client text that is too long, nested too deeply or not decodable."""

    def __init__(self, name: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        super().__init__(f"{name} is not valid", code=code, field=name)


def nesting_depth(text: str, limit: int) -> int:
    """The deepest `[`/`{` nesting of JSON text (brackets inside strings do not count),
    counted only up to `limit + 1`: one pass, no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON numbers")


def bounded_json(
    text: str | bytes,
    *,
    max_chars: int,
    max_depth: int = MAX_DEPTH,
    name: str = "value",
    code: ErrorCode = ErrorCode.INVALID,
) -> Any:
    """JSON from a client, checked for size and nesting before `json.loads`; numbers are
    bounded (`domain.numbers`) and NaN/Infinity refused. Anything wrong is `RefusedText`."""
    if len(text) > max_chars:
        raise RefusedText(name, code)
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if nesting_depth(text, max_depth) > max_depth:
            raise RefusedText(name, code)
        return json.loads(
            text, parse_int=json_int, parse_float=json_float, parse_constant=_refuse_constant
        )
    except RefusedText:
        raise
    except (ValueError, RecursionError):  # UnicodeDecodeError and NumberTooLarge included
        raise RefusedText(name, code) from None


def unpadded_base64(text: str, *, max_chars: int, name: str = "cursor") -> bytes:
    """URL-safe base64 without `=` padding (how the shop writes cursors), refused unless
    it is at most `max_chars` characters of that alphabet."""
    code = ErrorCode.INVALID_CURSOR if name == "cursor" else ErrorCode.INVALID
    if len(text) > max_chars or not BASE64URL.fullmatch(text):
        raise RefusedText(name, code)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise RefusedText(name, code) from None


def split_url(text: str | None) -> SplitResult:
    """`urlsplit` of a URL a client sent (`HX-Current-URL`, `Origin`); an empty result when
    it is not a URL (`urlsplit` raises on `http://[`)."""
    try:
        return urlsplit(text or "")
    except ValueError:
        return NO_URL
