"""Numbers from clients, bounded before they are converted.

Turning text into a number can cost time that grows with the text: `int("9" * 4000)` is
quadratic, and `int(Decimal("1e999999999"))` builds a billion-digit integer (minutes of CPU
on the event loop). No number the shop takes (quantities, stock, limits, prices, totals)
needs more than a few digits, so every number from a client is checked by the length and
exponent of its text first, and only then converted:

- JSON bodies: `json_int` and `json_float` are the decoder's `parse_int`/`parse_float`;
- form fields, query strings, cursors and headers: `whole_number` and `decimal_number`.

Refusals are `InvalidInput` (a 400) saying what to send.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from cloudstore.domain.errors import ErrorCode, InvalidInput

# The longest JSON number literal read: far beyond any value the shop takes (1e15 rupiah at
# most) and any integer a client library writes (2**128 has 39 digits), yet converting it
# costs microseconds. Its cost grows with the square of the digits: 5,000 are refused.
MAX_NUMBER_CHARS = 100
# |exponent| of a JSON number read: every IEEE double (1.8e308, 5e-324) fits, so unknown
# fields a JSON client sends are still ignored; int() of 1e400 costs microseconds, of
# 1e999999999 minutes.
MAX_EXPONENT = 400
# Client text (forms, query strings, cursors, headers) is held to less.
MAX_TEXT_CHARS = 40
MAX_TEXT_EXPONENT = 30
WHOLE = re.compile(r"[+-]?[0-9]{1,20}")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


class NumberTooLarge(ValueError):
    """A JSON number literal too long or too large to be any value the shop takes."""

    def __init__(self) -> None:
        super().__init__(
            f"a number in the JSON body is too long or too large: send numbers of at most "
            f"{MAX_NUMBER_CHARS} characters with an exponent of at most {MAX_EXPONENT}"
        )


def json_int(literal: str) -> int:
    """`parse_int` for the JSON decoder: bounded before `int()`."""
    if len(literal) > MAX_NUMBER_CHARS:
        raise NumberTooLarge
    return int(literal)


def json_float(literal: str) -> Decimal:
    """`parse_float` for the JSON decoder: a Decimal, bounded in length and exponent."""
    if len(literal) > MAX_NUMBER_CHARS:
        raise NumberTooLarge
    value = Decimal(literal)
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise NumberTooLarge
    return value


def whole_number(value: object, *, name: str, minimum: int, maximum: int) -> int:
    """A whole number in [minimum, maximum] from client text (a form field, a query
    parameter, a header). Only ASCII digits with an optional sign; at most 20 of them."""
    text = str(value).strip() if value is not None else ""
    if not WHOLE.fullmatch(text):
        raise InvalidInput(
            whole_number_rule(name, minimum, maximum), code=ErrorCode.INVALID, field=name
        )
    number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidInput(
            whole_number_rule(name, minimum, maximum), code=ErrorCode.INVALID, field=name
        )
    return number


def whole_number_rule(name: str, minimum: int, maximum: int) -> str:
    return f"{name} must be a whole number from {minimum} to {maximum}"


def decimal_number(value: object, *, name: str) -> Decimal:
    """A finite Decimal from client text, bounded before conversion (no NaN, no Infinity)."""
    text = str(value).strip() if value is not None else ""
    if len(text) > MAX_TEXT_CHARS or not DECIMAL.fullmatch(text):
        raise InvalidInput(f"{name} must be a number", code=ErrorCode.INVALID, field=name)
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise InvalidInput(f"{name} must be a number", code=ErrorCode.INVALID, field=name) from None
    if abs(number.adjusted()) > MAX_TEXT_EXPONENT:
        raise InvalidInput(f"{name} must be a number", code=ErrorCode.INVALID, field=name)
    return number
