"""The per-snapshot cache behind shared catalog fragments and API lists."""

from __future__ import annotations

from cloudstore.web.html.snapshot_cache import SnapshotCache


def test_cache_forgets_everything_when_the_snapshot_changes():
    cache, old, new = SnapshotCache(), object(), object()
    cache.get(old, "key")
    cache.put(old, "key", "<p>old</p>")
    assert cache.get(old, "key") == "<p>old</p>"
    assert cache.get(new, "key") is None
    assert len(cache) == 0


def test_cache_ignores_a_fragment_rendered_from_a_replaced_snapshot():
    cache, old, new = SnapshotCache(), object(), object()
    cache.get(new, "key")
    cache.put(old, "key", "<p>old</p>")
    assert cache.get(new, "key") is None


def test_cache_keeps_the_most_recently_used_entries():
    cache, snapshot = SnapshotCache(max_entries=2), object()
    cache.get(snapshot, "a")
    cache.put(snapshot, "a", "A")
    cache.put(snapshot, "b", "B")
    cache.get(snapshot, "a")
    cache.put(snapshot, "c", "C")
    assert cache.get(snapshot, "b") is None
    assert cache.get(snapshot, "a") == "A" and cache.get(snapshot, "c") == "C"
