"""An index-aware ``Table.query``.

moto answers every Query, on the table or on a global secondary index, by sorting every
item of the table and testing each one: a customer's order list or the admin's newest
orders cost O(table). This one reads only the matching partition: for the table, the
items under the hash key (``table.items[hash]``); for a GSI, a sorted list per index
partition, kept up to date with every write (the server names the slots each write request
touched). The key condition and the ExclusiveStartKey become a window found by bisection;
paging, Limit, the 1 MB page limit, LastEvaluatedKey, ScannedCount, projections and
FilterExpression are exactly moto's. Each returned item is re-checked against the key
condition; anything unusual (legacy QueryFilter, multi-attribute keys, binary keys, mixed
types, a start key outside the partition) goes to moto's own query.

Thread safety: the server runs one request at a time.
"""

from __future__ import annotations

import bisect
import weakref
from typing import Any

from cloudstore.localdynamo import moto_internals as mi
from cloudstore.localdynamo.patches.replacement import Replacement

_MAX_ITEM = 409_600  # DynamoDB's item size limit: a page this far below 1 MB has room left


class _Delegate(Exception):  # noqa: N818 - a signal, not an error
    """This query is not one the fast path covers: moto's own answers it."""


class _Partition:
    __slots__ = ("keys", "ranges", "slots")

    def __init__(self) -> None:
        self.keys: list[tuple] = []  # (index range, table hash[, table range]) sort values
        self.ranges: list[Any] = []  # the index range sort value, parallel to keys
        self.slots: list[tuple[Any, Any]] = []  # the table key (DynamoTypes) of each entry


class _Gsi:
    """One GSI's partitions, and where each table slot currently sits in them."""

    def __init__(self, table: Any, hash_attr: str, range_attr: str) -> None:
        types = mi.attribute_types(table)
        self.hash_attr, self.range_attr = hash_attr, range_attr
        self.hash_type, self.range_type = types.get(hash_attr), types.get(range_attr)
        if self.hash_type not in ("S", "N") or self.range_type not in ("S", "N"):
            raise _Delegate
        self.partitions: dict[Any, _Partition] = {}
        self.where: dict[tuple, tuple[Any, tuple]] = {}
        entries = []
        for item in mi.items_of(table):
            found = self.entry(item)
            if found is not None:
                entries.append((found[0], found[1], mi.item_keys(item)))
        entries.sort(key=lambda entry: (entry[0], entry[1]))  # one sort, not n inserts
        for hash_value, key, slot in entries:
            partition = self.partitions.get(hash_value)
            if partition is None:
                partition = self.partitions[hash_value] = _Partition()
            partition.keys.append(key)
            partition.ranges.append(key[0])
            partition.slots.append(slot)
            self.where[_slot_id(*slot)] = (hash_value, key)

    def entry(self, item: Any) -> tuple[Any, tuple] | None:
        attrs = mi.item_attrs(item)
        hash_value, range_value = attrs.get(self.hash_attr), attrs.get(self.range_attr)
        if hash_value is None or range_value is None:
            return None  # sparse: not in the index
        if mi.value_type(hash_value) != self.hash_type:
            raise _Delegate
        if mi.value_type(range_value) != self.range_type:
            raise _Delegate
        key = (mi.sort_value(range_value), *(_slot_id(*mi.item_keys(item))))
        return mi.sort_value(hash_value), key

    def add(self, item: Any) -> None:
        found = self.entry(item)
        if found is None:
            return
        partition = self.partitions.setdefault(found[0], _Partition())
        position = bisect.bisect_left(partition.keys, found[1])
        partition.keys.insert(position, found[1])
        partition.ranges.insert(position, found[1][0])
        partition.slots.insert(position, mi.item_keys(item))
        self.where[_slot_id(*mi.item_keys(item))] = found

    def remove(self, slot: tuple) -> None:
        found = self.where.pop(slot, None)
        if found is None:
            return
        partition = self.partitions[found[0]]
        position = bisect.bisect_left(partition.keys, found[1])
        del partition.keys[position], partition.ranges[position], partition.slots[position]
        if not partition.keys:
            del self.partitions[found[0]]


def _slot_id(hash_value: Any, range_value: Any) -> tuple:
    if range_value is None:
        return (mi.sort_value(hash_value),)
    return (mi.sort_value(hash_value), mi.sort_value(range_value))


class _TableIndexes:
    def __init__(self, table: Any) -> None:
        self.table_ref = weakref.ref(table)
        self.gsis: dict[str, _Gsi | None] = {}  # None: moto's query serves it
        for name, hashes, ranges, _projection in mi.gsi_keys(table):
            try:
                if len(hashes) != 1 or len(ranges) != 1:
                    raise _Delegate
                self.gsis[name] = _Gsi(table, hashes[0], ranges[0])
            except _Delegate:
                self.gsis[name] = None


class FastQuery(Replacement):
    """Installed with :meth:`install`; told about writes through :meth:`written`."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[int, _TableIndexes] = {}
        self.fast_calls = 0
        self.delegated_calls = 0

    def install(self) -> FastQuery:
        return self.replace(mi.table_class(), "query")

    # ---- index upkeep

    def reset(self) -> None:
        self.tables.clear()

    def prepare(self, tables: list[Any]) -> None:
        """Build the indexes of these tables now (at start), not on the first query."""
        for table in tables:
            self.indexes(table)

    def written(self, table: Any, slots: list[Any]) -> None:
        indexes = self.tables.get(id(table))
        if indexes is None or indexes.table_ref() is not table:
            return  # built on the next query
        try:
            for slot in slots:
                where = _slot_id(slot.hash_value, slot.range_value)
                item = slot.current()
                for gsi in indexes.gsis.values():
                    if gsi is not None:
                        gsi.remove(where)
                        if item is not None:
                            gsi.add(item)
        except _Delegate:
            del self.tables[id(table)]  # rebuilt (and that index left to moto) next time

    def indexes(self, table: Any) -> _TableIndexes:
        cached = self.tables.get(id(table))
        if cached is not None and cached.table_ref() is table:
            return cached
        fresh = _TableIndexes(table)
        self.tables = {k: v for k, v in self.tables.items() if v.table_ref() is not None}
        self.tables[id(table)] = fresh
        return fresh

    # ---- the query

    def query(self, table: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            answer = self._fast(table, *args, **kwargs)
        except _Delegate:
            answer = None
        if answer is None:
            self.delegated_calls += 1
            return self.patch.original(table, *args, **kwargs)  # type: ignore[union-attr]
        self.fast_calls += 1
        return answer

    def _fast(
        self,
        table: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: Any = None,
        range_key_conditions: Any = None,
        **filter_kwargs: Any,
    ) -> Any:
        if filter_kwargs or not hash_key_conditions or len(hash_key_conditions) != 1:
            raise _Delegate
        if range_key_conditions and len(range_key_conditions) != 1:
            raise _Delegate
        table_hash, table_range = mi.key_attrs(table)
        if index_name is None:
            hash_attr, range_attr = table_hash, table_range
            hash_type, range_type = mi.key_types(table)
        else:
            gsi = self.indexes(table).gsis.get(index_name)
            if gsi is None or consistent_read:
                raise _Delegate  # moto's query answers (or raises what moto raises)
            hash_attr, range_attr = gsi.hash_attr, gsi.range_attr
            hash_type, range_type = gsi.hash_type, gsi.range_type
        hash_name, hash_value = hash_key_conditions[0]
        if hash_name != hash_attr or mi.value_type(hash_value) != hash_type:
            raise _Delegate
        if range_key_conditions and (range_key_conditions[0][0] != range_attr or not range_attr):
            raise _Delegate
        if any(mi.value_type(v) != range_type for v in range_objs):
            raise _Delegate

        # the partition, in moto's order
        if index_name is None:
            found = mi.bucket(table, hash_value)
            if range_attr is None:
                if exclusive_start_key is not None or range_comparison:
                    raise _Delegate
                items = [found] if found is not None else []
                keys: list[tuple] = [()] * len(items)
                ranges: list[Any] = []
            else:
                items = sorted(
                    (found or {}).values(), key=lambda i: mi.sort_value(mi.item_keys(i)[1])
                )
                ranges = [mi.sort_value(mi.item_keys(i)[1]) for i in items]
                keys = [(r,) for r in ranges]

            def fetch(position: int) -> Any:
                return items[position]

        else:
            partition = gsi.partitions.get(mi.sort_value(hash_value)) or _Partition()
            keys, ranges = partition.keys, partition.ranges

            def fetch(position: int) -> Any:
                item = mi.get_slot(table, *partition.slots[position])
                if item is None:
                    raise _Delegate  # the index is behind: never guess
                return item

        lo, hi = _window(ranges, len(keys), range_comparison, range_objs)
        start = self._start(
            exclusive_start_key,
            index_name,
            hash_attr,
            hash_value,
            range_attr,
            table_hash,
            table_range,
        )
        if scan_index_forward:
            begin = lo if start is None else max(lo, bisect.bisect_right(keys, start))
            order = range(begin, hi)
            after = range(max(hi, begin), len(keys))
        else:
            end = hi if start is None else min(hi, bisect.bisect_left(keys, start))
            order = range(end - 1, lo - 1, -1)
            after = range(min(lo, end) - 1, -1, -1)

        results: list[Any] = []
        result_size = 0
        last_evaluated_key = None
        for position in order:
            item = fetch(position)
            size = mi.item_size(item)
            if len(results) == limit or result_size + size > mi.RESULT_SIZE_LIMIT:
                last_evaluated_key = mi.last_evaluated_key(table, results[-1], index_name)
                break
            attrs = mi.item_attrs(item)
            if attrs.get(hash_attr) != hash_value or (
                range_comparison and not mi.matches(attrs[range_attr], range_comparison, range_objs)
            ):
                raise _Delegate  # never answer from an index that disagrees with the item
            results.append(item)
            result_size += size
        else:
            # moto walks on over the partition after the last match and stops (with a
            # LastEvaluatedKey) at the first item that would not fit the page
            if results and (
                len(results) == limit or result_size > mi.RESULT_SIZE_LIMIT - _MAX_ITEM
            ):
                for position in after:
                    size = mi.item_size(fetch(position))
                    if len(results) == limit or result_size + size > mi.RESULT_SIZE_LIMIT:
                        last_evaluated_key = mi.last_evaluated_key(table, results[-1], index_name)
                        break

        scanned_count = len(results)
        results = [mi.light_copy(item) for item in results]
        if index_name is not None:
            results = [mi.project_for_index(table, index_name, item) for item in results]
        if filter_expression is not None:
            results = [item for item in results if mi.passes(filter_expression, item)]
        if projection_expressions:
            results = [mi.project(item, projection_expressions) for item in results]
        return results, scanned_count, last_evaluated_key

    @staticmethod
    def _start(
        start: dict[str, Any] | None,
        index_name: str | None,
        hash_attr: str,
        hash_value: Any,
        range_attr: str | None,
        table_hash: str,
        table_range: str | None,
    ) -> tuple | None:
        """The sort key of an ExclusiveStartKey inside the queried partition."""
        if start is None:
            return None
        try:
            values = {name: mi.DynamoType(value) for name, value in start.items()}
            if values[hash_attr] != hash_value:
                raise _Delegate
            names = [range_attr] if index_name is None else [range_attr, table_hash, table_range]
            return tuple(mi.sort_value(values[n]) for n in names if n is not None)
        except _Delegate:
            raise
        except Exception:  # noqa: BLE001 - a start key we do not follow: moto's query
            raise _Delegate from None


def _window(ranges: list[Any], n: int, op: str | None, operands: list[Any]) -> tuple[int, int]:
    """The positions [lo, hi) whose range value satisfies the key condition."""
    if not op:
        return 0, n
    values = [mi.sort_value(v) for v in operands]
    left = bisect.bisect_left
    right = bisect.bisect_right
    if op in ("=", "EQ"):
        return left(ranges, values[0]), right(ranges, values[0])
    if op in ("<", "LT"):
        return 0, left(ranges, values[0])
    if op in ("<=", "LE"):
        return 0, right(ranges, values[0])
    if op in (">", "GT"):
        return right(ranges, values[0]), n
    if op in (">=", "GE"):
        return left(ranges, values[0]), n
    if op == "BETWEEN" and len(values) == 2:
        lo = left(ranges, values[0])
        return lo, max(lo, right(ranges, values[1]))
    if op == "BEGINS_WITH" and isinstance(values[0], str):
        prefix = values[0]
        if not prefix:
            return 0, n
        if ord(prefix[-1]) >= 0x10FFFF:
            raise _Delegate
        following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return left(ranges, prefix), left(ranges, following)
    raise _Delegate
