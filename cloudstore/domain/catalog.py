"""Products and the in-memory catalog index: lookup by id, filter, search, sort, page.

The index is pure data built from a list of products; the store keeps one per worker and
swaps in a new one when the catalog changes, so reads never touch DynamoDB.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cloudstore.domain.client_text import MAX_CURSOR_CHARS, bounded_json, unpadded_base64
from cloudstore.domain.errors import ErrorCode, InvalidInput
from cloudstore.domain.images import ProductImage
from cloudstore.domain.numbers import decimal_number

SORTS = ("newest", "price_asc", "price_desc", "name")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A product's place in one sort order: (the sorted value, product_id).
SortKey = tuple[str | Decimal, str]
# A memoised filtered list: (category, search terms, sort).
MemoKey = tuple[str | None, tuple[str, ...], str]


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
    # An uploaded image (its files at every size); None: `image_url` (a /static/ path, the
    # seed's artwork) or the placeholder.
    image: ProductImage | None = None
    search_text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.search_text:
            text = f"{self.name}\n{self.description}".casefold()
            object.__setattr__(self, "search_text", text)

    def with_changes(self, **changes: Any) -> Product:
        if "name" in changes or "description" in changes:
            changes.setdefault("search_text", "")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        values = self._fields()
        if self.image is not None:
            values["image"] = self.image.as_map()
        return values

    def _fields(self) -> dict[str, object]:
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


def _sort_key(sort: str, product: Product) -> SortKey:
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


def _key_from_cursor(sort: str, value: str, product_id: str) -> SortKey:
    if sort == "newest":
        return (_invert(value), product_id)
    if sort == "price_asc":
        return (decimal_number(value, name="cursor"), product_id)
    if sort == "price_desc":
        return (-decimal_number(value, name="cursor"), product_id)
    return (value.casefold(), product_id)


def encode_cursor(sort: str, product: Product) -> str:
    """An opaque cursor holding the last item's sort key, so paging survives deletions."""
    raw = json.dumps([sort, product.product_id, _cursor_field(sort, product)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> SortKey:
    """The sort key of the item the previous page ended with."""
    try:
        raw = unpadded_base64(cursor, max_chars=MAX_CURSOR_CHARS)
        cursor_sort, product_id, value = bounded_json(raw, max_chars=MAX_CURSOR_CHARS, max_depth=1)
        if cursor_sort != sort:
            raise InvalidInput(
                "cursor does not belong to this sort order", code=ErrorCode.INVALID_CURSOR
            )
        return _key_from_cursor(sort, str(value), str(product_id))
    except (ValueError, TypeError, ArithmeticError, InvalidInput):
        raise InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR) from None


class CatalogIndex:
    """An immutable snapshot of the catalog with one sorted list per sort order.

    Filtered lists (a category, search terms or both, in one sort order) are computed once
    per snapshot and memoised, so a repeated query is a bisect and a slice. Search is a
    substring match of every term in the name or description; the first search of a
    snapshot finds the matches with `str.find` over one text of the whole catalog instead
    of testing every product. `with_stock` and `apply` make a new snapshot from an old one
    in O(n) copies of flat lists, not a re-sort; a stock-only change keeps the memo."""

    _MEMO_SIZE = 256
    _SEPARATOR = "\x00"

    def __init__(self, products: Iterable[Product], version: int = 0) -> None:
        self.version = version
        self.by_id: dict[str, Product] = {p.product_id: p for p in products}
        self._ids: dict[str, list[str]] = {}
        self._keys: dict[str, list[SortKey]] = {}
        for sort in SORTS:
            pairs = sorted((_sort_key(sort, p), p.product_id) for p in self.by_id.values())
            self._keys[sort] = [key for key, _ in pairs]
            self._ids[sort] = [product_id for _, product_id in pairs]
        self._memo: dict[MemoKey, tuple[list[str], list[SortKey]]] = {}
        self._corpus: tuple[str, list[int], list[str]] | None = None

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
            raise InvalidInput(
                f"sort must be one of: {', '.join(SORTS)}", code=ErrorCode.INVALID, field="sort"
            )
        terms = tuple(sorted(set(q.casefold().split()))) if q else ()
        if category or terms:
            ids, keys = self._filtered(category or None, terms, sort)
        else:
            ids, keys = self._ids[sort], self._keys[sort]
        start = bisect.bisect_right(keys, decode_cursor(cursor, sort)) if cursor else 0
        by_id = self.by_id
        items = [by_id[product_id] for product_id in ids[start : start + limit]]
        total = len(ids)
        remaining = total - start - len(items)
        next_cursor = encode_cursor(sort, items[-1]) if remaining > 0 and items else None
        return Page(items=items, total=total, next_cursor=next_cursor)

    def _filtered(
        self, category: str | None, terms: tuple[str, ...], sort: str
    ) -> tuple[list[str], list[SortKey]]:
        memo_key = (category, terms, sort)
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        wanted: set[str] | None = self._matching(terms) if terms else None
        by_id = self.by_id
        ids: list[str] = []
        keys: list[SortKey] = []
        all_ids, all_keys = self._ids[sort], self._keys[sort]
        if wanted is not None and len(wanted) * 8 < len(all_ids):
            # few matches: sort them rather than walk the whole catalog
            chosen = sorted(
                (_sort_key(sort, by_id[pid]), pid)
                for pid in wanted
                if not category or by_id[pid].category == category
            )
            keys = [key for key, _ in chosen]
            ids = [pid for _, pid in chosen]
        else:
            for position, product_id in enumerate(all_ids):
                if wanted is not None and product_id not in wanted:
                    continue
                if category and by_id[product_id].category != category:
                    continue
                ids.append(product_id)
                keys.append(all_keys[position])
        if len(self._memo) >= self._MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[memo_key] = (ids, keys)
        return ids, keys

    def _matching(self, terms: tuple[str, ...]) -> set[str]:
        """Ids of the products whose search text contains every term (as a substring)."""
        if any(self._SEPARATOR in term for term in terms):
            return {
                p.product_id
                for p in self.by_id.values()
                if all(term in p.search_text for term in terms)
            }
        if self._corpus is None:
            texts, starts, owners = [], [], []
            offset = 0
            for product in self.by_id.values():
                texts.append(product.search_text)
                starts.append(offset)
                owners.append(product.product_id)
                offset += len(product.search_text) + 1
            self._corpus = (self._SEPARATOR.join(texts), starts, owners)
        corpus, starts, owners = self._corpus
        found: set[str] | None = None
        for term in terms:
            hits: set[str] = set()
            at = corpus.find(term)
            while at != -1:
                owner = bisect.bisect_right(starts, at) - 1
                hits.add(owners[owner])
                # continue after this product's text: one hit per product is enough
                next_start = starts[owner + 1] if owner + 1 < len(starts) else len(corpus)
                at = corpus.find(term, next_start)
            found = hits if found is None else found & hits
            if not found:
                return set()
        return found or set()

    def _derive(self, by_id: dict[str, Product]) -> CatalogIndex:
        clone = object.__new__(CatalogIndex)
        clone.version = self.version
        clone.by_id = by_id
        clone._ids = self._ids
        clone._keys = self._keys
        clone._memo = self._memo
        clone._corpus = self._corpus
        return clone

    def with_stock(self, stock_by_id: dict[str, int]) -> CatalogIndex:
        """A copy with new stock levels; stock is no sort or search key, so the sorted lists
        and the memo stay valid and are shared."""
        by_id = dict(self.by_id)
        for product_id, stock in stock_by_id.items():
            if product_id in by_id:
                by_id[product_id] = by_id[product_id].with_changes(stock=stock)
        return self._derive(by_id)

    def apply(
        self,
        changed: Iterable[Product] = (),
        removed: Iterable[str] = (),
        version: int | None = None,
    ) -> CatalogIndex:
        """A copy with products added, replaced or removed: each sorted list is copied and
        patched with bisect (no re-sort). The memo survives only stock-only changes."""
        by_id = dict(self.by_id)
        updates: list[tuple[Product | None, Product | None]] = []
        for product_id in removed:
            old = by_id.pop(product_id, None)
            if old is not None:
                updates.append((old, None))
        for product in changed:
            old = by_id.get(product.product_id)
            by_id[product.product_id] = product
            updates.append((old, product))
        clone = self._derive(by_id)
        if version is not None:
            clone.version = version
        if all(_same_but_stock(old, new) for old, new in updates):
            return clone
        clone._ids = {sort: list(ids) for sort, ids in self._ids.items()}
        clone._keys = {sort: list(keys) for sort, keys in self._keys.items()}
        clone._memo = {}
        clone._corpus = None
        for old, new in updates:
            for sort in SORTS:
                ids, keys = clone._ids[sort], clone._keys[sort]
                if old is not None:
                    key = _sort_key(sort, old)
                    at = bisect.bisect_left(keys, key)
                    if at < len(keys) and keys[at] == key and ids[at] == old.product_id:
                        del keys[at], ids[at]
                if new is not None:
                    key = _sort_key(sort, new)
                    at = bisect.bisect_left(keys, key)
                    keys.insert(at, key)
                    ids.insert(at, new.product_id)
        return clone


def _same_but_stock(old: Product | None, new: Product | None) -> bool:
    if old is None or new is None:
        return False
    return (
        old.category == new.category
        and old.price == new.price
        and old.name == new.name
        and old.created_at == new.created_at
        and old.search_text == new.search_text
    )
