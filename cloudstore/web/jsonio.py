"""JSON in and out: numbers become Decimal on the way in (NaN and Infinity refused, deep
nesting refused, number literals bounded before conversion) and leave as plain JSON numbers,
never strings."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from quart import Request
from quart.json.provider import DefaultJSONProvider

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.numbers import NumberTooLarge, json_float, json_int
from cloudstore.money import json_number


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


class ShopJSONProvider(DefaultJSONProvider):
    sort_keys = False
    ensure_ascii = False

    @staticmethod
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, set | frozenset):
            return sorted(value)
        return DefaultJSONProvider.default(value)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # Bounded before conversion: a 5000-digit or 1e999999999 literal costs no CPU.
        kwargs.setdefault("parse_int", json_int)
        kwargs.setdefault("parse_float", json_float)
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON is nested too deeply") from None


class ShopRequest(Request):
    """A request whose JSON errors say what went wrong when it helps the client."""

    def on_json_loading_failed(self, error: Exception) -> Any:
        if isinstance(error, NumberTooLarge):
            raise InvalidInput(str(error), code=ErrorCode.INVALID)
        return super().on_json_loading_failed(error)
