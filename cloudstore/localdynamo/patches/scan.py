"""A fast ``Table.scan`` for the plain case.

moto 5's ``Table.scan`` sorts the whole table on every call, walks it from the start to
skip the pages already returned, computes every item's size and deep-copies every returned
item: a paged Scan of n items costs O(n^2), minutes for 50,000 items. This one keeps, per
table, the items in moto's order (rebuilt only when a write adds, removes or replaces an
item object of that table), bisects to the ExclusiveStartKey, caches each item's size
until the item is written, and returns light copies. Pages, their order, LastEvaluatedKey,
ScannedCount and segment membership are exactly moto's. Anything else (an index,
ScanFilter, FilterExpression, ProjectionExpression, an odd ExclusiveStartKey) goes to
moto's own scan.

Thread safety: the server runs one request at a time.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Mapping
from typing import Any

from cloudstore.localdynamo import moto_internals as mi
from cloudstore.localdynamo.patches.replacement import Replacement

_SIZE_ATTR = "_localdynamo_size"  # an Item's cached size, dropped when its slot is written


def sort_key(item: Any) -> tuple:
    """moto sorts by ``(hash_key, range_key)`` DynamoTypes, which compare by cast value."""
    hash_value, range_value = mi.item_keys(item)
    if range_value is not None:
        return (mi.sort_value(hash_value), mi.sort_value(range_value))
    return (mi.sort_value(hash_value),)


class _TableView:
    """One table's items in moto's scan order, with their sort keys, and the same per
    segment (computed once per TotalSegments with moto's own segment test)."""

    __slots__ = ("items", "keys", "segments", "table_ref")

    def __init__(self, table: Any) -> None:
        self.table_ref = weakref.ref(table)
        items = list(mi.items_of(table))
        items.sort(key=sort_key)
        self.items = items
        self.keys = [sort_key(item) for item in items]
        self.segments: dict[int, list[tuple[list[Any], list[tuple]]]] = {}

    def segment(self, segment: int, total: int) -> tuple[list[Any], list[tuple]]:
        parts = self.segments.get(total)
        if parts is None:
            parts = [([], []) for _ in range(total)]
            for item, key in zip(self.items, self.keys, strict=True):
                for number in range(total):
                    if mi.in_segment(item, number, total):
                        parts[number][0].append(item)
                        parts[number][1].append(key)
                        break
            self.segments[total] = parts
        return parts[segment]

    def holds(self, key: tuple, item: Any) -> bool:
        """Whether the view has exactly ``item`` (or, for None, nothing) under ``key``."""
        position = bisect.bisect_left(self.keys, key)
        present = position < len(self.keys) and self.keys[position] == key
        if item is None:
            return not present
        return present and self.items[position] is item


class FastScan(Replacement):
    """Installed with :meth:`install`; told about writes through :meth:`written`."""

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[int, _TableView] = {}
        self.fast_calls = 0
        self.delegated_calls = 0

    def install(self) -> FastScan:
        return self.replace(mi.table_class(), "scan")

    # ---- cache upkeep

    def reset(self) -> None:
        """Forget every view (tables were created, dropped or rebuilt)."""
        self.views.clear()

    def written(self, table: Any, slots: list[Any]) -> None:
        """A write request named these slots of ``table`` (whatever its outcome)."""
        view = self.views.get(id(table))
        if view is not None and view.table_ref() is not table:
            view = None
        for slot in slots:
            item = slot.current()
            if item is not None:
                item.__dict__.pop(_SIZE_ATTR, None)
            if view is None:
                continue
            key = (mi.sort_value(slot.hash_value),)
            if slot.range_value is not None:
                key += (mi.sort_value(slot.range_value),)
            if not view.holds(key, item):
                del self.views[id(table)]
                view = None

    def view(self, table: Any) -> _TableView:
        cached = self.views.get(id(table))
        if cached is not None and cached.table_ref() is table:
            return cached
        fresh = _TableView(table)
        self.views = {k: v for k, v in self.views.items() if v.table_ref() is not None}
        self.views[id(table)] = fresh
        return fresh

    @staticmethod
    def item_size(item: Any) -> int:
        cached = item.__dict__.get(_SIZE_ATTR)
        if cached is None:
            cached = item.__dict__[_SIZE_ATTR] = mi.item_size(item)
        return cached

    @staticmethod
    def start_key(table: Any, start: Mapping[str, Any]) -> tuple | None:
        """The sort key of an ExclusiveStartKey, or None if moto should handle it."""
        try:
            names = [n for n in mi.key_attrs(table) if n is not None]
            types = [t for t in mi.key_types(table) if t is not None]
            values = [mi.DynamoType(start[name]) for name in names]
        except Exception:  # noqa: BLE001 - an odd key: moto's scan answers it
            return None
        if any(mi.value_type(v) != t for v, t in zip(values, types, strict=True)):
            return None
        return tuple(mi.sort_value(v) for v in values)

    # ---- the scan

    def scan(
        self,
        table: Any,
        filters: dict[str, Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        filter_expression: Any = None,
        index_name: str | None = None,
        consistent_read: bool = False,
        projection_expression: Any = None,
        segments: Any = (None, None),
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        plain = (
            not filters
            and not index_name
            and not projection_expression
            and mi.is_default_filter(filter_expression)
            and (segments == (None, None) or None not in segments)
        )
        start_key = None
        if plain and exclusive_start_key is not None:
            start_key = self.start_key(table, exclusive_start_key)
            plain = start_key is not None
        if not plain:
            self.delegated_calls += 1
            return self.patch.original(  # type: ignore[union-attr]
                table,
                filters,
                limit,
                exclusive_start_key,
                filter_expression,
                index_name,
                consistent_read,
                projection_expression,
                segments=segments,
            )
        self.fast_calls += 1
        view = self.view(table)
        if segments == (None, None):
            items, keys = view.items, view.keys
        else:
            items, keys = view.segment(*segments)
        position = 0 if start_key is None else bisect.bisect_right(keys, start_key)
        results: list[Any] = []
        result_size = 0
        last_evaluated_key = None
        for index in range(position, len(items)):
            item = items[index]
            size = self.item_size(item)
            if len(results) == limit or result_size + size > mi.RESULT_SIZE_LIMIT:
                last_evaluated_key = mi.last_evaluated_key(table, results[-1], None)
                break
            results.append(mi.light_copy(item))
            result_size += size
        return results, len(results), last_evaluated_key
