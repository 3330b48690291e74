"""Products and the in-memory catalog index: lookup by id, filter, search, sort, page.

The index is pure data built from a list of products; the store keeps one per worker and
swaps in a new one when the catalog changes, so reads never touch DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from cloudstore.domain.errors import InvalidInput

SORTS = ("newest", "price_asc", "price_desc", "name")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    category: str
    name: str
    description: str
    price: Decimal
    image_url: str
    stock: int
    created_at: str
    updated_at: str = ""
    search_text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.search_text:
            text = f"{self.name}\n{self.description}".casefold()
            object.__setattr__(self, "search_text", text)

    def with_changes(self, **changes) -> Product:
        if "name" in changes or "description" in changes:
            changes.setdefault("search_text", "")
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return {
            "product_id": self.product_id,
            "category": self.category,
            "name": self.name,
            "description": self.description,
            "price": self.price,
            "image_url": self.image_url,
            "stock": self.stock,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
        }


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sort_key(sort: str, product: Product) -> tuple:
    # Every key ends with product_id so the order is total and cursors are exact.
    if sort == "newest":
        return (_invert(product.created_at), product.product_id)
    if sort == "price_asc":
        return (product.price, product.product_id)
    if sort == "price_desc":
        return (-product.price, product.product_id)
    return (product.name.casefold(), product.product_id)


def _invert(text: str) -> str:
    """A string that sorts in the reverse order of `text` (for newest-first)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Product]
    total: int
    next_cursor: str | None


def _cursor_field(sort: str, product: Product) -> str:
    if sort == "newest":
        return product.created_at
    if sort in ("price_asc", "price_desc"):
        return str(product.price)
    return product.name


def _key_from_cursor(sort: str, value: str, product_id: str) -> tuple:
    if sort == "newest":
        return (_invert(value), product_id)
    if sort == "price_asc":
        return (Decimal(value), product_id)
    if sort == "price_desc":
        return (-Decimal(value), product_id)
    return (value.casefold(), product_id)


def encode_cursor(sort: str, product: Product) -> str:
    """An opaque cursor holding the last item's sort key, so paging survives deletions."""
    raw = json.dumps([sort, product.product_id, _cursor_field(sort, product)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple:
    """The sort key of the item the previous page ended with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_sort, product_id, value = json.loads(base64.urlsafe_b64decode(padded))
        if cursor_sort != sort:
            raise InvalidInput("cursor does not belong to this sort order")
        return _key_from_cursor(sort, str(value), str(product_id))
    except (ValueError, TypeError, ArithmeticError, binascii.Error):
        raise InvalidInput("cursor is not valid") from None


class CatalogIndex:
    """An immutable snapshot of the catalog with one sorted list per sort order."""

    def __init__(self, products: Iterable[Product], version: int = 0) -> None:
        self.version = version
        self.by_id: dict[str, Product] = {p.product_id: p for p in products}
        self._sorted: dict[str, list[Product]] = {}
        self._keys: dict[str, list[tuple]] = {}
        for sort in SORTS:
            ordered = sorted(self.by_id.values(), key=lambda p, s=sort: _sort_key(s, p))
            self._sorted[sort] = ordered
            self._keys[sort] = [_sort_key(sort, p) for p in ordered]

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, product_id: str) -> Product | None:
        return self.by_id.get(product_id)

    def query(
        self,
        *,
        category: str | None = None,
        q: str | None = None,
        sort: str = "newest",
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page:
        if sort not in SORTS:
            raise InvalidInput(f"sort must be one of: {', '.join(SORTS)}")
        ordered = self._sorted[sort]
        start = 0
        if cursor:
            start = bisect.bisect_right(self._keys[sort], decode_cursor(cursor, sort))
        terms = q.casefold().split() if q else []

        def matches(p: Product) -> bool:
            if category and p.category != category:
                return False
            return all(term in p.search_text for term in terms)

        if not category and not terms:
            total = len(ordered)
            items = ordered[start : start + limit]
            remaining = total - start - len(items)
        else:
            total = skipped = 0
            items = []
            for position, product in enumerate(ordered):
                if not matches(product):
                    continue
                total += 1
                if position < start:
                    skipped += 1
                elif len(items) < limit:
                    items.append(product)
            remaining = total - skipped - len(items)
        next_cursor = encode_cursor(sort, items[-1]) if remaining > 0 and items else None
        return Page(items=items, total=total, next_cursor=next_cursor)

    def with_stock(self, stock_by_id: dict[str, int]) -> CatalogIndex:
        """A copy with new stock levels; stock is no sort key, so the orders stay valid."""
        clone = object.__new__(CatalogIndex)
        clone.version = self.version
        clone.by_id = dict(self.by_id)
        for product_id, stock in stock_by_id.items():
            if product_id in clone.by_id:
                clone.by_id[product_id] = clone.by_id[product_id].with_changes(stock=stock)
        clone._keys = self._keys
        clone._sorted = {
            sort: [clone.by_id[p.product_id] for p in ordered]
            for sort, ordered in self._sorted.items()
        }
        return clone
