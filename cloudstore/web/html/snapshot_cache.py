"""Answers computed from one catalog snapshot, kept while that snapshot is current.

A cache belongs to one snapshot (`CatalogStore.index()`): any change to the catalog, stock
included, makes a new snapshot, and the first lookup against a new snapshot empties the
cache. So a cached answer is never older than the snapshot the rest of the request sees.
Entries are bounded (least recently used out first), because search terms are open-ended.
What is kept, and under which keys, is `catalog_answers.py`'s business.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 512


class SnapshotCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._snapshot: object | None = None
        self._entries: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, snapshot: object, key: Hashable) -> str | None:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._entries.clear()
            return None
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, snapshot: object, key: Hashable, value: str) -> None:
        if snapshot is not self._snapshot:
            return  # computed from a snapshot that has since been replaced
        self._entries[key] = value
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
