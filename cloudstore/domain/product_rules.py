"""What a product's fields may hold: one rule for the API, the admin form and seed files.

Where the channels disagreed the stricter rule won: names are one line without control
characters (the admin form used to store them), descriptions at most 4000 characters and
image URLs at most 500 (the API allowed 5000 and 2048), a stock change at most 100 000 units
either way (the API allowed ten million).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.text import check_length, multi_line, single_line
from cloudstore.money import parse_price

NAME_MAX = 200
DESCRIPTION_MAX = 4000
IMAGE_URL_MAX = 500
CATEGORY_MAX = 64
MAX_STOCK = 10_000_000
MAX_STOCK_DELTA = 100_000
PRODUCT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# http(s) anywhere, a path under /static/, or an uploaded image's file under /media/ (what an
# upload sets); never "..", quotes or angle brackets.
SAFE_IMAGE_URL = re.compile(
    r"^(?!.*\.\.)(https?://[^\s\"'<>\x00-\x1f\x7f]+|/static/[A-Za-z0-9_./-]+"
    r"|/media/[0-9a-f]{40}\.webp)$"
)
# The fields an admin may set, in the order a form shows them.
PRODUCT_FIELDS = ("name", "category", "price", "stock", "image_url", "description")


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.INVALID, field=field)


def check_name(value: object) -> str:
    return single_line(value, "name", max_length=NAME_MAX)


def check_description(value: object) -> str:
    return multi_line(value, "description", max_length=DESCRIPTION_MAX)


def check_image_url(value: object) -> str:
    url = check_length(str(value or "").strip(), "image_url", IMAGE_URL_MAX)
    if url and not SAFE_IMAGE_URL.match(url):
        raise _invalid("image_url must be an http(s) URL or a path under /static/", "image_url")
    return url


def check_category(value: object, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    category = str(value or "").strip().lower()
    if category not in allowed:
        raise _invalid(f"category must be one of: {', '.join(allowed)}", "category")
    return category


def check_price(value: object) -> Decimal:
    try:
        return parse_price(value)
    except ValueError as error:
        raise _invalid(str(error), "price") from None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_stock(value: object) -> int:
    if not _whole(value) or not 0 <= value <= MAX_STOCK:  # type: ignore[operator]
        raise _invalid(f"stock must be a whole number from 0 to {MAX_STOCK}", "stock")
    return value  # type: ignore[return-value]


def check_stock_delta(value: object) -> int:
    if not _whole(value) or value == 0 or abs(value) > MAX_STOCK_DELTA:  # type: ignore[arg-type]
        raise _invalid(
            f"delta must be a whole number other than zero, at most {MAX_STOCK_DELTA} either way",
            "delta",
        )
    return value  # type: ignore[return-value]


def check_product_id(value: str) -> str:
    if not PRODUCT_ID_PATTERN.match(value):
        raise _invalid(
            "product_id may hold letters, digits, '-' and '_' (at most 64)", "product_id"
        )
    return value


def check_fields(fields: Mapping[str, object], categories: Iterable[str]) -> dict[str, Any]:
    """The product fields present in `fields` (None = absent), each through its rule: a
    str, a Decimal (price) or an int (stock)."""
    checks = {
        "name": check_name,
        "description": check_description,
        "price": check_price,
        "category": lambda value: check_category(value, categories),
        "image_url": check_image_url,
        "stock": check_stock,
    }
    return {
        name: check(fields[name]) for name, check in checks.items() if fields.get(name) is not None
    }
