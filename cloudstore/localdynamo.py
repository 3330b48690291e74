"""A persistent local DynamoDB endpoint for the zero-config mode.

Why this exists
---------------
In zero-config mode Cloud Store must run without AWS credentials or a real
DynamoDB table, so we run moto's DynamoDB implementation as a local HTTP
endpoint. One such endpoint runs in its own process and every app worker talks
to it, the same way they would talk to real DynamoDB.

moto keeps everything in memory and has no persistence at all: restart the
process and every table is gone. That is fine for unit tests but not for a dev
store whose catalogue, carts and orders should survive a restart. This module
closes that gap by taking snapshots of moto's in-memory DynamoDB tables:

* **Restore**: at start-up, before the listening socket exists, the state file
  (if any) is loaded and every table (key schema, attribute definitions,
  billing mode, GSIs/LSIs with their projections, TTL, tags, ...) and every
  item is written straight into moto's in-memory backend. No HTTP round trips,
  and no per-attribute size re-validation, so tens of thousands of items load in
  about a second.
* **Save**: the WSGI app is wrapped; a request whose ``X-Amz-Target`` names a
  write (PutItem, UpdateItem, BatchWriteItem, CreateTable, ...) marks the state
  dirty once it has been handled. A background thread writes a snapshot every
  ``--save-interval`` seconds, but only if something was written since the last
  snapshot, so an idle server never touches the file. Snapshots are written
  atomically (temp file in the same directory, fsync, ``os.replace``), so a
  crash leaves either the old or the new state, never a torn file.
* **Shutdown**: on SIGTERM/SIGINT (or when the parent process dies) the server
  stops accepting requests, lets in-flight requests finish, saves if dirty and
  exits 0.

* **Scan**: moto's own ``Table.scan`` sorts the whole table, walks it from
  the start to skip earlier pages and deep-copies every item on every call,
  so a paged Scan of n items costs O(n^2): minutes for 50,000 products. The
  server process replaces it (moto itself is never patched in the app or in
  tests) with one that keeps each table's items in scan order until the next
  put or delete, bisects to the ExclusiveStartKey and caches item sizes; the
  pages are exactly moto's. Scans with an index, a filter or a projection
  still use moto's code. ``--original-scan`` turns the replacement off.

* **Transactions**: moto's ``transact_write_items`` deep-copies every table a
  transaction touches so that it can roll back, which makes one checkout on a
  50,000-product catalogue slower than the app's request deadline. The server
  process replaces it with moto's own loop (same checks, order, errors and
  CancellationReasons) whose rollback puts back only the items the transaction
  touched. ``--original-transactions`` turns the replacement off.

A hard kill (SIGKILL, power loss) loses at most the writes of the last
``--save-interval`` seconds. This is a developer convenience, not a database.

Only one server may use a state file at a time: it holds an exclusive
``flock`` on ``<state>.lock``; a second server waits (``--lock-timeout``) for
the first to finish its final save and exit, and otherwise refuses to start.

State file format (JSON, version 1)::

    {
      "format": 1,
      "saved_at": "2024-05-01T12:00:00+00:00",
      "moto_version": "5.2.5",
      "accounts": {
        "123456789012": {                       # moto account id
          "ap-southeast-1": {                   # region
            "tables": [
              {
                "TableName": "...", "KeySchema": [...],
                "AttributeDefinitions": [...], "BillingMode": "PAY_PER_REQUEST",
                "GlobalSecondaryIndexes": [{"IndexName", "KeySchema", "Projection"}],
                "LocalSecondaryIndexes": [...], "TimeToLive": {...}, "Tags": [...],
                "DeletionProtectionEnabled": false, "CreationDateTime": "...",
                "Items": [{"pk": {"S": "a"}, "price": {"N": "12.50"}, ...}]
              }
            ]
          }
        }
      }
    }

Items are stored as DynamoDB-typed JSON (exactly the wire format), so numbers
stay exact decimal strings and binary values stay base64.

Every account and region present in moto's backend is persisted. moto derives
the account id from the request: the ``MOTO_ACCOUNT_ID`` environment variable
of this process, then an ``x-moto-account-id`` header, then access keys created
through moto's own IAM/STS; any other access key (``testing``, or a real
looking ``AKIA...`` key) maps to moto's default account ``123456789012``.

Usage::

    python -m cloudstore.localdynamo --host 127.0.0.1 --port 0 --state PATH \\
        [--save-interval 2.0] [--region ap-southeast-1]

prints exactly one line ``READY http://HOST:PORT`` on stdout when it accepts
requests. From Python use :func:`start_local_dynamodb`.

Only stdlib is imported at module level: the parent process that merely spawns
the server never imports moto.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import contextlib
import copy
import datetime as _dt
import gc
import inspect
import ipaddress
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT_VERSION",
    "WRITE_OPERATIONS",
    "LocalDynamo",
    "StateFileError",
    "load_state",
    "main",
    "restore_state",
    "snapshot_state",
    "start_local_dynamodb",
    "write_state_atomic",
]

log = logging.getLogger("cloudstore.localdynamo")

FORMAT_VERSION = 1
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REGION = "ap-southeast-1"
DEFAULT_SAVE_INTERVAL = 2.0
DEFAULT_LOCK_TIMEOUT = 15.0
READY_PREFIX = "READY "

#: DynamoDB operations (last part of ``X-Amz-Target``) that may change state.
#: PartiQL statements are included because they may be writes; a read-only one
#: only costs one superfluous snapshot.
WRITE_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateTable",
        "DeleteTable",
        "UpdateTable",
        "UpdateTimeToLive",
        "TagResource",
        "UntagResource",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
        "RestoreTableFromBackup",
        "RestoreTableToPointInTime",
        "ImportTable",
    }
)

_SNAPSHOT_ATTEMPTS = 25
_SHUTDOWN_DRAIN_SECONDS = 5.0


class StateFileError(RuntimeError):
    """The state file exists but cannot be used (corrupt or unknown format)."""


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while we build or walk ~10^6 small objects.

    Every few hundred allocations the collector would otherwise walk the
    whole (growing) heap again; pausing it makes restore and snapshot 2-3x
    faster. Our objects form no cycles, so nothing is leaked meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------
# Snapshot: moto in-memory tables -> JSON-able dict
# --------------------------------------------------------------------------


def _b64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value  # moto keeps binary as the base64 string it received


def _dump_value(value: Any) -> dict[str, Any]:
    """One moto ``DynamoType`` (or an already typed dict) -> typed JSON."""
    if type(value) is dict:
        ((kind, inner),) = value.items()
    else:
        kind, inner = value.type, value.value
    if kind == "S" or kind == "BOOL":
        return {kind: inner}
    if kind == "N":
        return {"N": inner if isinstance(inner, str) else str(inner)}
    if kind == "M":
        # list(...) copies in C (atomic under the GIL) before we walk it.
        return {"M": {k: _dump_value(v) for k, v in list(inner.items())}}
    if kind == "L":
        return {"L": [_dump_value(v) for v in list(inner)]}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": list(inner)}
    if kind == "NS":
        return {"NS": [v if isinstance(v, str) else str(v) for v in list(inner)]}
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in list(inner)]}
    return {kind: copy.deepcopy(inner)}  # unknown future type: best effort


def _dump_item(item: Any) -> dict[str, Any]:
    return {name: _dump_value(v) for name, v in list(item.attrs.items())}


def _iter_items(table: Any) -> Iterable[Any]:
    buckets = list(table.items.values())
    if table.range_key_attr:
        for bucket in buckets:
            yield from list(bucket.values())
    else:
        yield from buckets


def _index_state(index: Any, with_throughput: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": copy.deepcopy(index.schema),
        "Projection": copy.deepcopy(index.projection),
    }
    throughput = getattr(index, "throughput", None)
    if with_throughput and throughput:
        out["ProvisionedThroughput"] = {
            "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0),
        }
    return out


def _table_state(table: Any) -> dict[str, Any]:
    billing_mode = table.billing_mode or "PROVISIONED"
    provisioned = billing_mode == "PROVISIONED"
    out: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": copy.deepcopy(table.schema),
        "AttributeDefinitions": copy.deepcopy(table.attr),
        "BillingMode": billing_mode,
    }
    if provisioned:
        out["ProvisionedThroughput"] = {
            "ReadCapacityUnits": table.throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": table.throughput.get("WriteCapacityUnits", 0),
        }
    gsis = [_index_state(i, provisioned) for i in list(table.global_indexes or [])]
    if gsis:
        out["GlobalSecondaryIndexes"] = gsis
    lsis = [_index_state(i, False) for i in list(table.indexes or [])]
    if lsis:
        out["LocalSecondaryIndexes"] = lsis
    stream = getattr(table, "stream_specification", None)
    if stream and stream.get("StreamEnabled"):
        out["StreamSpecification"] = copy.deepcopy(stream)
    sse = getattr(table, "sse_specification", None)
    if sse:
        out["SSESpecification"] = copy.deepcopy(sse)
    ttl = getattr(table, "ttl", None)
    if ttl and ttl.get("TimeToLiveStatus", "DISABLED") != "DISABLED":
        out["TimeToLive"] = copy.deepcopy(ttl)
    if table.tags:
        out["Tags"] = copy.deepcopy(table.tags)
    if getattr(table, "deletion_protection_enabled", False):
        out["DeletionProtectionEnabled"] = True
    created = getattr(table, "created_at", None)
    if isinstance(created, _dt.datetime):
        out["CreationDateTime"] = created.isoformat()
    out["Items"] = [_dump_item(item) for item in _iter_items(table) if hasattr(item, "attrs")]
    return out


def _moto_version() -> str:
    try:
        import moto

        return str(moto.__version__)
    except Exception:  # pragma: no cover - moto missing is caught elsewhere
        return "unknown"


def _snapshot_once(backends: Any) -> dict[str, Any]:
    accounts: dict[str, dict[str, Any]] = {}
    for account_id, per_region in list(backends.items()):
        for region, backend in list(per_region.items()):
            tables = [_table_state(t) for t in list(backend.tables.values())]
            if tables:
                accounts.setdefault(account_id, {})[region] = {"tables": tables}
    return {
        "format": FORMAT_VERSION,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "moto_version": _moto_version(),
        "accounts": accounts,
    }


def snapshot_state(backends: Any = None) -> dict[str, Any]:
    """Read moto's DynamoDB tables (every account and region) into a state dict.

    Requests keep being served while we read, so a dict may change size under
    us; that raises ``RuntimeError`` and we simply try again.
    """
    if backends is None:
        from moto.dynamodb.models import dynamodb_backends as backends
    for attempt in range(_SNAPSHOT_ATTEMPTS):
        try:
            return _snapshot_once(backends)
        except RuntimeError as exc:  # "dictionary changed size during iteration"
            if "during iteration" not in str(exc) or attempt == _SNAPSHOT_ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def write_state_atomic(path: Path, state: Mapping[str, Any]) -> int:
    """Write ``state`` as JSON to ``path`` atomically; return the byte count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # ASCII-only JSON: lone surrogates (legal in DynamoDB strings) cannot break it.
    data = json.dumps(state, separators=(",", ":")).encode("ascii")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    return len(data)


def _lock_state_file(
    state_path: Path, timeout: float, cancelled: Callable[[], bool] = lambda: False
) -> int | None:
    """Hold an exclusive lock on ``<state>.lock`` for the life of the process.

    Two servers on one state file would silently overwrite each other's
    writes, and a server that restores while its predecessor is still saving
    would miss that save. So we wait (up to ``timeout``) for a predecessor to
    exit and refuse to start next to a live one. The kernel drops the lock
    when the process dies, however it dies. Returns the fd (POSIX only).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no protection
        return None
    lock_path = state_path.with_name(state_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if cancelled():
                os.close(fd)
                return None
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise StateFileError(
                    f"state file {state_path} is in use by another local DynamoDB "
                    f"(pid {holder}); waited {timeout:.0f}s for it to exit"
                ) from None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


# --------------------------------------------------------------------------
# Restore: JSON state -> moto in-memory tables
# --------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any] | None:
    """Read and validate a state file; ``None`` if it does not exist."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        with _gc_paused():
            state = json.loads(raw)
    except ValueError as exc:
        raise StateFileError(f"state file {path} is not valid JSON: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise StateFileError(
            f"state file {path} has format {found!r}; this version reads format "
            f"{FORMAT_VERSION}. Move it away to start with an empty database."
        )
    if not isinstance(state.get("accounts"), dict):
        raise StateFileError(f"state file {path} has no 'accounts' object")
    return state


def _call_with_supported_kwargs(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` dropping keyword arguments this moto version does not know."""
    params = inspect.signature(fn).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return fn(*args, **kwargs)


class _ItemLoader:
    """Insert items into a moto ``Table`` quickly.

    ``Table.put_item`` costs ~200 µs per item, mostly because moto's
    ``LimitedSizeDict`` re-sizes the whole item for every attribute it stores
    (O(n^2)), so 50,000 items would take ~10 s. The items in a state file were
    validated when they were first written, so the fast path builds the
    ``Item`` directly, the way moto's own ``Item.__deepcopy__`` does: its
    ``attrs`` dict is filled without the size check. If that ever fails (a
    future moto), we fall back to ``Table.put_item``.
    """

    def __init__(self) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        self._dynamo_type = DynamoType
        self._item_cls = Item
        self._limited_dict = LimitedSizeDict
        self.fast = True

    def _fast(self, table: Any, attrs: dict[str, Any]) -> None:
        dynamo_type = self._dynamo_type
        hash_key = dynamo_type(attrs[table.hash_key_attr])
        range_attr = table.range_key_attr
        range_key = dynamo_type(attrs[range_attr]) if range_attr else None
        item = self._item_cls.__new__(self._item_cls)
        item.hash_key = hash_key
        item.range_key = range_key
        item_attrs = self._limited_dict.__new__(self._limited_dict)
        dict.update(item_attrs, {k: dynamo_type(v) for k, v in attrs.items()})
        item.attrs = item_attrs
        if range_attr:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item

    def put(self, table: Any, attrs: dict[str, Any]) -> None:
        if self.fast:
            try:
                self._fast(table, attrs)
                return
            except KeyError:
                raise
            except Exception as exc:
                log.warning("fast item restore failed (%r); falling back to put_item", exc)
                self.fast = False
        table.put_item(attrs)


def _restore_table(backend: Any, spec: Mapping[str, Any], loader: _ItemLoader) -> int:
    billing_mode = spec.get("BillingMode") or "PAY_PER_REQUEST"
    throughput = spec.get("ProvisionedThroughput") if billing_mode == "PROVISIONED" else None
    table = _call_with_supported_kwargs(
        backend.create_table,
        spec["TableName"],
        schema=copy.deepcopy(spec["KeySchema"]),
        throughput=copy.deepcopy(throughput),
        attr=copy.deepcopy(spec["AttributeDefinitions"]),
        global_indexes=copy.deepcopy(spec.get("GlobalSecondaryIndexes") or []),
        indexes=copy.deepcopy(spec.get("LocalSecondaryIndexes") or []),
        streams=copy.deepcopy(spec.get("StreamSpecification")),
        billing_mode=billing_mode,
        sse_specification=copy.deepcopy(spec.get("SSESpecification")),
        tags=copy.deepcopy(spec.get("Tags") or []),
        deletion_protection_enabled=bool(spec.get("DeletionProtectionEnabled", False)),
        warm_throughput=None,
    )
    if spec.get("TimeToLive"):
        table.ttl = copy.deepcopy(spec["TimeToLive"])
    if spec.get("CreationDateTime"):
        with contextlib.suppress(ValueError, TypeError):
            table.created_at = _dt.datetime.fromisoformat(spec["CreationDateTime"])
    count = 0
    skipped = 0
    for attrs in spec.get("Items") or ():
        try:
            loader.put(table, attrs)
            count += 1
        except KeyError:
            skipped += 1
    if skipped:
        log.warning("table %s: skipped %d items without key attributes", table.name, skipped)
    return count


def restore_state(state: Mapping[str, Any], backends: Any = None) -> tuple[int, int]:
    """Recreate every table and item of ``state`` in moto's in-memory backend.

    Returns ``(tables, items)`` restored.
    """
    if backends is None:
        from moto.dynamodb.models import dynamodb_backends as backends
    loader = _ItemLoader()
    n_tables = n_items = 0
    with _gc_paused():
        for account_id, regions in state.get("accounts", {}).items():
            for region, region_state in regions.items():
                try:
                    backend = backends[account_id][region]
                except KeyError:
                    log.error(
                        "cannot restore region %r of account %s (unknown to this moto; "
                        "set MOTO_ALLOW_NONEXISTENT_REGION=true?) - its tables are skipped",
                        region,
                        account_id,
                    )
                    continue
                for spec in region_state.get("tables", []):
                    n_items += _restore_table(backend, spec, loader)
                    n_tables += 1
    return n_tables, n_items


# --------------------------------------------------------------------------
# A fast Scan (installed in the server process only)
# --------------------------------------------------------------------------

#: Item writes whose effect on the scan caches the patched moto methods track
#: themselves; any other write request drops every cache (see _WriteTracker).
_TRACKED_ITEM_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
_SCAN_PARAMETERS = (
    "self",
    "filters",
    "limit",
    "exclusive_start_key",
    "filter_expression",
    "index_name",
    "consistent_read",
    "projection_expression",
    "segments",
)
_SIZE_ATTR = "_localdynamo_size"  # (token, size) cached on a moto Item
_CHANGES_ATTR = "_localdynamo_changes"  # bumped when an Item is updated in place
_WRITES_ATTR = "_localdynamo_writes"  # bumped on every put/delete of a Table


class _TableView:
    """One table's items in moto's scan order, with their sort keys, and the same per
    segment (computed once per TotalSegments with moto's own ``is_within_segment``)."""

    __slots__ = ("epoch", "items", "keys", "segments", "table_ref", "writes")

    def __init__(self, table: Any, writes: Any, epoch: int, items: list[Any]) -> None:
        import weakref

        self.table_ref = weakref.ref(table)
        self.writes = writes
        self.epoch = epoch
        key = _scan_sort_key
        items.sort(key=key)
        self.items = items
        self.keys = [key(item) for item in items]
        self.segments: dict[int, list[tuple[list[Any], list[tuple]]]] = {}

    def segment(self, segment: int, total: int) -> tuple[list[Any], list[tuple]]:
        parts = self.segments.get(total)
        if parts is None:
            buckets: list[tuple[list[Any], list[tuple]]] = [([], []) for _ in range(total)]
            for item, key in zip(self.items, self.keys, strict=True):
                for number in range(total):
                    if item.is_within_segment((number, total)):
                        buckets[number][0].append(item)
                        buckets[number][1].append(key)
                        break
            self.segments[total] = parts = buckets
        return parts[segment]


def _scan_sort_key(item: Any) -> tuple:
    """moto sorts by ``(hash_key, range_key)`` DynamoTypes, which compare by cast value."""
    if item.range_key is not None:
        return (item.hash_key.cast_value, item.range_key.cast_value)
    return (item.hash_key.cast_value,)


class _FastScan:
    """A replacement for moto's ``Table.scan`` in the plain case.

    moto 5's ``Table.scan`` sorts the whole table on every call, walks it from the
    start to skip the pages already returned, computes every item's size and deep-copies
    every returned item: a paged Scan of n items costs O(n^2), minutes for 50,000 items.
    This one keeps, per table, the items in moto's order (rebuilt only after a put or a
    delete on that table), bisects to the ExclusiveStartKey, caches each item's size until
    the item is updated, and returns shallow copies (moto's response path only reads the
    items it serialises). Pages, their order, LastEvaluatedKey, ScannedCount and segment
    membership are exactly moto's. Anything else (an index, ScanFilter, FilterExpression,
    ProjectionExpression, an odd ExclusiveStartKey) goes to moto's own scan.

    Thread safety: the server runs one request at a time (``_WriteTracker.serial``).
    """

    def __init__(self) -> None:
        import itertools

        from moto.dynamodb.comparisons import OpDefault
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models import table as table_module
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        self.table_cls = table_module.Table
        self.backend_cls = DynamoDBBackend
        self.op_default = OpDefault
        self.dynamo_type = DynamoType
        self.item_cls = Item
        self.limited_dict = LimitedSizeDict
        self.size_limit = table_module.RESULT_SIZE_LIMIT
        self.original_scan = self.table_cls.scan
        self.original_put = self.table_cls.put_item
        self.original_delete = self.table_cls.delete_item
        self.original_update = DynamoDBBackend.update_item
        from moto.core.responses import ActionResult
        from moto.dynamodb.responses import DynamoHandler, DynamoResult

        self.handler_cls = DynamoHandler
        self.dynamo_result = DynamoResult
        self.action_result = ActionResult
        self.original_handler_scan = DynamoHandler.scan
        self.views: dict[int, _TableView] = {}
        self.epoch = 0  # bumped by writes we cannot follow: drops every cache
        self._counter = itertools.count(1)
        self.installed = False
        self.fast_calls = 0
        self.delegated_calls = 0

    # ---- installation -----------------------------------------------------------

    def compatible(self) -> bool:
        params = tuple(inspect.signature(self.original_scan).parameters)
        return params == _SCAN_PARAMETERS and hasattr(self.item_cls, "is_within_segment")

    def install(self) -> bool:
        if not self.compatible():
            log.warning("moto's Table.scan changed; keeping moto's own (slow) scan")
            return False
        fast = self

        def scan(table: Any, *args: Any, **kwargs: Any) -> Any:
            return fast.scan(table, *args, **kwargs)

        def put_item(table: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fast.original_put(table, *args, **kwargs)
            finally:
                table.__dict__[_WRITES_ATTR] = next(fast._counter)

        def delete_item(table: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fast.original_delete(table, *args, **kwargs)
            finally:
                table.__dict__[_WRITES_ATTR] = next(fast._counter)

        def update_item(backend: Any, table_name: str, key: Any, *args: Any, **kwargs: Any):
            try:
                return fast.original_update(backend, table_name, key, *args, **kwargs)
            finally:
                fast.item_changed(backend, table_name, key)

        for fn, original in (
            (scan, self.original_scan),
            (put_item, self.original_put),
            (delete_item, self.original_delete),
            (update_item, self.original_update),
        ):
            fn.__name__ = original.__name__
            fn.__doc__ = original.__doc__
            fn.__wrapped__ = original  # type: ignore[attr-defined]

        def handler_scan(handler: Any) -> Any:
            return fast.as_json(fast.original_handler_scan(handler))

        handler_scan.__name__ = "scan"
        handler_scan.__wrapped__ = self.original_handler_scan  # type: ignore[attr-defined]
        self.table_cls.scan = scan
        self.handler_cls.scan = handler_scan
        self.table_cls.put_item = put_item
        self.table_cls.delete_item = delete_item
        self.backend_cls.update_item = update_item
        self.installed = True
        return True

    def uninstall(self) -> None:
        if self.installed:
            self.table_cls.scan = self.original_scan
            self.handler_cls.scan = self.original_handler_scan
            self.table_cls.put_item = self.original_put
            self.table_cls.delete_item = self.original_delete
            self.backend_cls.update_item = self.original_update
            self.installed = False

    # ---- cache upkeep -----------------------------------------------------------

    def invalidate_all(self) -> None:
        self.epoch += 1
        self.views.clear()

    def item_changed(self, backend: Any, table_name: str, key: Any) -> None:
        """An UpdateItem changed an item in place: forget its cached size."""
        try:
            table = backend.tables[table_name]
            hash_value = self.dynamo_type(key[table.hash_key_attr])
            if table.range_key_attr:
                range_value = self.dynamo_type(key[table.range_key_attr])
                item = table.items[hash_value].get(range_value)
            else:
                item = table.items.get(hash_value)
        except Exception:
            self.invalidate_all()  # a key shape we do not follow: forget everything
            return
        if item is not None:
            item.__dict__[_CHANGES_ATTR] = next(self._counter)

    def view(self, table: Any) -> _TableView:
        writes = table.__dict__.get(_WRITES_ATTR)
        cached = self.views.get(id(table))
        if (
            cached is not None
            and cached.table_ref() is table
            and cached.writes == writes
            and cached.epoch == self.epoch
        ):
            return cached
        items: list[Any] = []
        if table.range_key_attr:
            for bucket in list(table.items.values()):
                items.extend(list(bucket.values()))
        else:
            items.extend(list(table.items.values()))
        fresh = _TableView(table, writes, self.epoch, items)
        self.views = {k: v for k, v in self.views.items() if v.table_ref() is not None}
        self.views[id(table)] = fresh
        return fresh

    def item_size(self, item: Any) -> int:
        attrs = item.__dict__
        token = (self.epoch, attrs.get(_CHANGES_ATTR))
        cached = attrs.get(_SIZE_ATTR)
        if cached is not None and cached[0] == token:
            return cached[1]
        size = item.size()
        attrs[_SIZE_ATTR] = (token, size)
        return size

    def light_copy(self, item: Any) -> Any:
        """What moto's deepcopy protects against is a caller mutating the result; moto's
        Scan response only reads ``item.attrs`` (``dynamo_to_dict`` builds new dicts), so
        a new Item with a copy of the attribute dict is enough."""
        clone = self.item_cls.__new__(self.item_cls)
        clone.hash_key = item.hash_key
        clone.range_key = item.range_key
        attrs = self.limited_dict.__new__(self.limited_dict)
        dict.update(attrs, item.attrs)
        clone.attrs = attrs
        return clone

    def as_json(self, result: Any) -> Any:
        """A Scan result serialised straight to JSON. moto's generic, model-driven response
        serialiser walks the botocore shape of every attribute of every item (about 2 ms
        per product here: 100 s for a 50,000-item catalog); the Scan output is plain typed
        JSON, so ``json.dumps`` writes the same document."""
        if type(result) is not self.dynamo_result:
            return result
        return _JsonResult(self.action_result, result.result)

    def start_key(self, table: Any, start: Mapping[str, Any]) -> tuple | None:
        """The sort key of an ExclusiveStartKey, or None if moto should handle it."""
        try:
            names = [table.hash_key_attr]
            types = [table.hash_key_type]
            if table.range_key_attr:
                names.append(table.range_key_attr)
                types.append(table.range_key_type)
            values = [self.dynamo_type(start[name]) for name in names]
        except Exception:
            return None
        if any(v.type != t for v, t in zip(values, types, strict=True)):
            return None
        return tuple(v.cast_value for v in values)

    # ---- the scan ---------------------------------------------------------------

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
            and (filter_expression is None or type(filter_expression) is self.op_default)
            and (segments == (None, None) or None not in segments)
        )
        start_key = None
        if plain and exclusive_start_key is not None:
            start_key = self.start_key(table, exclusive_start_key)
            plain = start_key is not None
        if not plain:
            self.delegated_calls += 1
            return self.original_scan(
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
        size_limit = self.size_limit
        for index in range(position, len(items)):
            item = items[index]
            size = self.item_size(item)
            if len(results) == limit or result_size + size > size_limit:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], None)
                break
            results.append(self.light_copy(item))
            result_size += size
        return results, len(results), last_evaluated_key


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _JsonResult:
    """Duck-types moto's ``ActionResult``: ``call_action`` checks ``isinstance``, so the
    class is made a subclass of it at runtime (see ``_FastScan.as_json``)."""

    def __new__(cls, base: type, result: Any) -> Any:
        klass = _JSON_RESULT_CLASSES.get(base)
        if klass is None:

            def execute_result(self: Any, context: Any) -> tuple[int, dict[str, str], str]:
                body = json.dumps(self.result, separators=(",", ":"), default=_json_default)
                headers = {
                    "Content-Type": "application/x-amz-json-1.0",
                    "x-amzn-RequestId": os.urandom(26).hex()[:52],
                }
                return 200, headers, body

            klass = type("_JsonResult", (base,), {"execute_result": execute_result})
            _JSON_RESULT_CLASSES[base] = klass
        return klass(result)


_JSON_RESULT_CLASSES: dict[type, type] = {}
_fast_scan: _FastScan | None = None


def install_fast_scan() -> _FastScan | None:
    """Replace moto's ``Table.scan`` in this process (the server process only)."""
    global _fast_scan
    if _fast_scan is None:
        candidate = _FastScan()
        if candidate.install():
            _fast_scan = candidate
    return _fast_scan


def _forget_scan_caches() -> None:
    if _fast_scan is not None:
        _fast_scan.invalidate_all()


# --------------------------------------------------------------------------
# TransactWriteItems without copying whole tables (installed in the server process only)
# --------------------------------------------------------------------------

#: sha256 of the source of moto's ``DynamoDBBackend.transact_write_items`` that
#: ``_FastTransactions.transact_write_items`` reimplements (moto 5.2.5). Another moto keeps
#: its own method: a reimplementation of different code would not be faithful.
_MOTO_TRANSACT_SOURCE_SHA256 = "0b5c3b73cdccf3268b7266a17c96e2f7e675bd20fe3f28326a1e95ffa38cf8fe"


class _UndoLog:
    """The previous version of every item slot a transaction touches, to put back on failure.

    A slot is ``table.items[hash]`` (or ``table.items[hash][range]``); it is remembered once,
    before the first action on it, as the Item then stored there (a deep copy when the
    action may update it in place) or ``None`` if there was none."""

    __slots__ = ("slots", "streams", "tables")

    def __init__(self) -> None:
        self.slots: dict[tuple[int, Any, Any], tuple[Any, Any, Any, bool, Any]] = {}
        self.tables: dict[int, Any] = {}
        self.streams: dict[int, tuple[Any, int]] = {}

    def remember(self, table: Any, hash_value: Any, range_value: Any, in_place: bool) -> None:
        slot = (id(table), hash_value, range_value)
        if slot in self.slots:
            return
        if id(table) not in self.tables:
            self.tables[id(table)] = table
            shard = table.stream_shard
            if shard is not None:
                self.streams[id(table)] = (shard.items, len(shard.items))
        # .get(): table.items is a defaultdict; looking must not create a bucket
        bucket = table.items.get(hash_value)
        had_bucket = bucket is not None
        if range_value is not None:
            old = bucket.get(range_value) if bucket is not None else None
        else:
            old = bucket
        if old is not None and in_place:
            old = copy.deepcopy(old)
        self.slots[slot] = (table, hash_value, range_value, had_bucket, old)

    def rollback(self) -> None:
        for table, hash_value, range_value, had_bucket, old in reversed(self.slots.values()):
            items = table.items
            if range_value is None:
                if old is None:
                    items.pop(hash_value, None)
                else:
                    items[hash_value] = old
                continue
            if old is not None:
                items[hash_value][range_value] = old
                continue
            bucket = items.get(hash_value)
            if bucket is not None:
                bucket.pop(range_value, None)
                if not had_bucket and not bucket:
                    del items[hash_value]
        for table in self.tables.values():
            shard = table.stream_shard
            saved = self.streams.get(id(table))
            if shard is not None and saved is not None and shard.items is saved[0]:
                del shard.items[saved[1] :]
            _table_rewritten(table)


def _table_rewritten(table: Any) -> None:
    """Item objects of ``table`` were replaced behind the patched put/delete: rebuild its
    scan view (and do not trust cached sizes of the objects put back)."""
    if _fast_scan is not None:
        table.__dict__[_WRITES_ATTR] = next(_fast_scan._counter)


class _FastTransactions:
    """A replacement for moto's ``DynamoDBBackend.transact_write_items``.

    moto deep-copies every table a transaction touches before it starts, so that it can
    put the copy back if the transaction fails: with 50,000 products one checkout takes
    seconds. This is moto's method line by line (conditions checked and actions applied
    item by item in request order, a failed condition recorded and the remaining actions
    still run, so the CancellationReasons are exactly moto's, duplicate items and
    validation errors raised as they are), except that the rollback restores only the
    item slots the transaction touched (:class:`_UndoLog`). One deliberate difference:
    moto raises ``TransactWriteSingleOpException`` (an item with two operations) outside
    its rollback, leaving the earlier actions applied; here every failure rolls back.

    Thread safety: the server runs one request at a time (``_WriteTracker.serial``).
    """

    def __init__(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend

        self.backend_cls = DynamoDBBackend
        self.original = DynamoDBBackend.transact_write_items
        self.installed = False
        self.calls = 0
        self.rollbacks = 0

    def compatible(self) -> bool:
        import hashlib

        try:
            source = inspect.getsource(self.original)
        except (OSError, TypeError):
            return False
        digest = hashlib.sha256(textwrap.dedent(source).encode()).hexdigest()
        return digest == _MOTO_TRANSACT_SOURCE_SHA256

    def install(self) -> bool:
        if not self.compatible():
            log.warning(
                "moto's transact_write_items changed; keeping moto's own (table-copying) one"
            )
            return False
        fast = self

        def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
            return fast.transact_write_items(backend, transact_items)

        transact_write_items.__name__ = self.original.__name__
        transact_write_items.__doc__ = self.original.__doc__
        transact_write_items.__wrapped__ = self.original  # type: ignore[attr-defined]
        self.backend_cls.transact_write_items = transact_write_items
        self.installed = True
        return True

    def uninstall(self) -> None:
        if self.installed:
            self.backend_cls.transact_write_items = self.original
            self.installed = False

    def transact_write_items(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.exceptions import TooManyTransactionsException

        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        self.calls += 1
        undo = _UndoLog()
        try:
            self._apply(backend, transact_items, undo)
        except BaseException:
            self.rollbacks += 1
            undo.rollback()
            raise

    @staticmethod
    def _apply(backend: Any, transact_items: list[dict[str, Any]], undo: _UndoLog) -> None:
        """moto 5.2.5's loop; the comments marked "undo" are the only additions."""
        from moto.dynamodb.comparisons import get_filter_expression
        from moto.dynamodb.exceptions import (
            ConditionalCheckFailed,
            MockValidationException,
            MultipleTransactionsException,
            TransactionCanceledException,
            TransactWriteSingleOpException,
        )

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException

            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get(
                    "ReturnValuesOnConditionCheckFailure"
                )

                if op_type == "Put":
                    attrs = op["Item"]
                    table = backend.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                # undo: backend.get_item below does exactly these two calls (so they raise
                # what it would raise) and every action writes only this slot
                table = backend.get_table(table_name)
                hash_value, range_value = backend.get_keys_value(table, key)
                undo.remember(table, hash_value, range_value, in_place=op_type == "Update")

                current = backend.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression,
                        expression_attribute_names,
                        expression_attribute_values,
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type == "Put":
                    attrs = op["Item"]
                    backend.put_item(
                        table_name,
                        attrs,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    backend.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    update_expression = op["UpdateExpression"]
                    backend.update_item(
                        table_name,
                        key,
                        update_expression=update_expression,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise  # undo: the caller rolls back
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # moto: "For other exceptions, capture their details"
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)  # undo: the caller rolls back


_fast_transactions: _FastTransactions | None = None


def install_fast_transactions() -> _FastTransactions | None:
    """Replace moto's ``transact_write_items`` in this process (the server process only)."""
    global _fast_transactions
    if _fast_transactions is None:
        candidate = _FastTransactions()
        if candidate.install():
            _fast_transactions = candidate
    return _fast_transactions


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------


class _WriteTracker:
    """WSGI middleware: counts finished writes and in-flight requests, and runs one request
    at a time.

    moto's handlers are not thread-safe: two concurrent conditional updates of one item can
    both pass their condition (stock went to -1 and transactions oversold under 10
    concurrent decrements). Real DynamoDB makes each item write and each transaction
    atomic; `serial` gives the local endpoint the same guarantee (moto is pure Python under
    the GIL, so this costs little throughput)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.serial = threading.Lock()
        self._cond = threading.Condition()
        self._inflight = 0
        self._stopping = False
        self.generation = 0  # bumped after every handled write request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        is_write = target.rpartition(".")[2] in WRITE_OPERATIONS or (
            # /moto-api/reset and friends replace the whole state
            environ.get("PATH_INFO", "").startswith("/moto-api/")
            and environ.get("REQUEST_METHOD") == "POST"
        )
        with self._cond:
            if self._stopping:
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain"), ("Connection", "close")],
                )
                return [b"local DynamoDB is shutting down\n"]
            self._inflight += 1
        operation = target.rpartition(".")[2]
        try:
            with self.serial:
                try:
                    return self.app(environ, start_response)
                finally:
                    if is_write and operation not in _TRACKED_ITEM_WRITES:
                        _forget_scan_caches()  # a write the fast scan does not follow
        finally:
            with self._cond:
                self._inflight -= 1
                if is_write:
                    # After the handler ran: a snapshot that starts later sees it.
                    self.generation += 1
                self._cond.notify_all()

    def begin_shutdown(self, drain_seconds: float) -> bool:
        """Reject new requests, wait for running ones; True if all finished."""
        with self._cond:
            self._stopping = True
            return self._cond.wait_for(lambda: self._inflight == 0, timeout=drain_seconds)


class _Persister:
    def __init__(self, path: Path, tracker: _WriteTracker) -> None:
        self.path = path
        self.tracker = tracker
        self._lock = threading.Lock()
        self.saved_generation = 0
        self.last_duration = 0.0  # seconds the last successful save took

    @property
    def dirty(self) -> bool:
        return self.tracker.generation != self.saved_generation

    def save_if_dirty(self, level: int = logging.DEBUG) -> bool:
        with self._lock:
            generation = self.tracker.generation
            if generation == self.saved_generation:
                return False
            started = time.perf_counter()
            try:
                with _gc_paused():
                    state = snapshot_state()
                    snapshotted = time.perf_counter()
                    size = write_state_atomic(self.path, state)
            except Exception:
                log.exception("saving %s failed; will retry", self.path)
                return False
            self.saved_generation = generation
            done = time.perf_counter()
            self.last_duration = done - started
            n_tables, n_items = _count(state)
            log.log(
                level,
                "saved %d tables, %d items (%d bytes) to %s in %.3fs (snapshot %.3fs, write %.3fs)",
                n_tables,
                n_items,
                size,
                self.path,
                done - started,
                snapshotted - started,
                done - snapshotted,
            )
            return True


def _count(state: Mapping[str, Any]) -> tuple[int, int]:
    tables = items = 0
    for regions in state.get("accounts", {}).values():
        for region_state in regions.values():
            for spec in region_state.get("tables", []):
                tables += 1
                items += len(spec.get("Items") or ())
    return tables, items


def _forget_tracked_instances() -> None:
    """moto appends every model instance (every ``Item`` ever written!) to a
    class-level list for its ``/moto-api`` dashboard; in a long-running server
    that is a memory leak, so we drop the DynamoDB ones."""
    try:
        from moto.core.model_instances import model_data
    except ImportError:  # pragma: no cover
        return
    for model in list(model_data.get("dynamodb", {}).values()):
        with contextlib.suppress(AttributeError, TypeError):
            model.instances_tracked = []  # type: ignore[attr-defined]


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _check_host(host: str) -> None:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if not host:
            raise SystemExit("localdynamo: --host must not be empty") from None
        return  # a name such as "localhost"
    if addr.is_unspecified:
        raise SystemExit(
            f"localdynamo: refusing to bind to {host}: moto has no authentication; "
            "bind to a loopback address such as 127.0.0.1"
        )
    if not addr.is_loopback:
        log.warning(
            "binding to non-loopback address %s: anyone who can reach it has full access", host
        )


def _warm_up(dispatcher: Any, region: str) -> None:
    """Create moto's DynamoDB Flask app now rather than on the first request."""
    environ = {
        "PATH_INFO": "/",
        "REQUEST_METHOD": "POST",
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables",
        "HTTP_AUTHORIZATION": (
            f"AWS4-HMAC-SHA256 Credential=warmup/20240101/{region}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0"
        ),
    }
    with contextlib.suppress(Exception):
        dispatcher.get_application(environ)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cloudstore.localdynamo",
        description="moto DynamoDB server whose tables survive restarts.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--state", type=Path, required=True, help="JSON state file")
    parser.add_argument(
        "--save-interval",
        type=float,
        default=DEFAULT_SAVE_INTERVAL,
        help="seconds between snapshots when there were writes (default %(default)s)",
    )
    parser.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help="region whose backend is warmed up before READY (default %(default)s); "
        "tables of every region are persisted",
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit (after saving) when this process is no longer our parent",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        help="seconds to wait for another server on the same state file to exit "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--original-scan",
        action="store_true",
        help="serve Scan with moto's own (quadratic) implementation; for comparisons",
    )
    parser.add_argument(
        "--original-transactions",
        action="store_true",
        help="serve TransactWriteItems with moto's own (table-copying) implementation; "
        "for comparisons",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every save")
    args = parser.parse_args(argv)
    if args.save_interval <= 0:
        parser.error("--save-interval must be > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # Only our own messages at INFO (DEBUG with --verbose); moto, werkzeug and
    # friends only when something is wrong. No per-request access log.
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _check_host(args.host)

    stop = threading.Event()
    signalled = False

    def _on_signal(signum: int, _frame: Any) -> None:
        # Only a flag, no `stop.set()`: a handler runs on the main thread between
        # bytecodes, possibly inside `stop.wait()`/`stop.set()` with the Event's
        # (non-reentrant) lock held, and a second signal (the parent-death SIGTERM plus
        # another) then deadlocked the process for good.
        nonlocal signalled
        signalled = True

    def stopping() -> bool:
        return signalled or stop.is_set()

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _on_signal)

    state_path: Path = args.state.expanduser().resolve()
    try:
        # The lock's fd stays open (and the lock held) until we exit.
        _lock_state_file(state_path, args.lock_timeout, cancelled=stopping)
        if stopping():
            return 0
        started = time.perf_counter()
        state = load_state(state_path)
    except (StateFileError, OSError) as exc:
        log.error("%s", exc)
        return 2
    read_seconds = time.perf_counter() - started

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    try:  # instantiate the backend (imports, region data) before READY
        dynamodb_backends[DEFAULT_ACCOUNT_ID][args.region]  # noqa: B018
    except KeyError:
        log.warning("region %r is unknown to moto", args.region)
    if state is not None:
        started = time.perf_counter()
        try:
            n_tables, n_items = restore_state(state, dynamodb_backends)
        except Exception:
            log.exception(
                "cannot restore %s; refusing to start (the file is left as is)", state_path
            )
            return 2
        rebuild_seconds = time.perf_counter() - started
        log.info(
            "restored %d tables, %d items from %s in %.3fs (read %.3fs, rebuild %.3fs)",
            n_tables,
            n_items,
            state_path,
            read_seconds + rebuild_seconds,
            read_seconds,
            rebuild_seconds,
        )
        del state
    if not args.original_scan:
        install_fast_scan()
    if not args.original_transactions:
        install_fast_transactions()
    # The restored tables live as long as the process: keep the GC from
    # re-scanning them on every full collection.
    gc.freeze()
    _forget_tracked_instances()
    if stopping():  # asked to stop while restoring; nothing changed yet
        return 0

    dispatcher = DomainDispatcherApplication(create_backend_app)
    tracker = _WriteTracker(dispatcher)
    persister = _Persister(state_path, tracker)
    try:
        server = make_server(
            args.host, args.port, tracker, threaded=True, request_handler=MotoRequestHandler
        )
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 2
    _warm_up(dispatcher, args.region)

    serve_thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="localdynamo-http"
    )
    serve_thread.start()

    saver_stop = threading.Event()

    def _saver() -> None:
        # A snapshot holds the GIL for most of its duration, so under constant
        # writes to a big database keep saving to at most ~25% of the time.
        while not saver_stop.wait(max(args.save_interval, 3 * persister.last_duration)):
            persister.save_if_dirty()
            _forget_tracked_instances()

    saver_thread = threading.Thread(target=_saver, name="localdynamo-saver", daemon=True)
    saver_thread.start()

    if args.parent_pid is not None:

        def _watch_parent() -> None:
            while not stop.wait(1.0):
                if os.getppid() != args.parent_pid:
                    log.warning("parent process %d is gone; shutting down", args.parent_pid)
                    stop.set()

        threading.Thread(target=_watch_parent, name="localdynamo-parent", daemon=True).start()

    sys.stdout.write(f"{READY_PREFIX}{_url(args.host, server.server_port)}\n")
    sys.stdout.flush()
    # Nothing else may go to stdout (a parent may stop reading it); moto
    # occasionally print()s diagnostics, send those to stderr.
    sys.stdout = sys.stderr

    while not stopping():
        stop.wait(0.5)  # set by the parent watcher; signals only set the flag

    drained = tracker.begin_shutdown(_SHUTDOWN_DRAIN_SECONDS)
    server.shutdown()
    serve_thread.join(timeout=_SHUTDOWN_DRAIN_SECONDS)
    if not drained:
        log.warning("requests still running after %.0fs; saving anyway", _SHUTDOWN_DRAIN_SECONDS)
    saver_stop.set()
    saver_thread.join(timeout=60)
    persister.save_if_dirty(level=logging.INFO)
    with contextlib.suppress(Exception):
        server.server_close()
    if persister.dirty:
        log.error("exiting with unsaved changes (see errors above)")
        return 1
    return 0


# --------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _is_site_dir(path: str) -> bool:
    import site

    dirs = list(getattr(site, "getsitepackages", list)())
    with contextlib.suppress(Exception):
        dirs.append(site.getusersitepackages())
    real = os.path.realpath(path)
    return any(os.path.realpath(d) == real for d in dirs)


def _child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The child's environment, with ``cloudstore`` importable whatever the cwd.

    An installed package is found anyway; for a source checkout we prepend
    its root to ``PYTHONPATH`` (never a site-packages dir: that would put it
    ahead of the standard library).
    """
    out = dict(os.environ if env is None else env)
    root = _package_root()
    if not _is_site_dir(root):
        parts = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in parts:
            out["PYTHONPATH"] = os.pathsep.join([root, *parts])
    out.setdefault("PYTHONUNBUFFERED", "1")
    return out


def _death_signal_preexec() -> Callable[[], None] | None:
    """``prctl(PR_SET_PDEATHSIG, SIGTERM)`` for the child, Linux only.

    The kernel sends the signal when the *thread* that forked the child exits,
    so only use it when spawning from the main thread; otherwise the child
    relies on its ``--parent-pid`` watchdog alone.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolve before fork
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def _preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return _preexec


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class LocalDynamo:
    """A running ``python -m cloudstore.localdynamo`` child process."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        endpoint: str,
        state_path: Path,
        stderr_tail: collections.deque[str],
        readers: list[threading.Thread],
    ) -> None:
        self.process = process
        self.endpoint = endpoint
        self.state_path = state_path
        self._stderr_tail = stderr_tail
        self._readers = readers

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_tail(self) -> str:
        """The last lines the child wrote to stderr (its log)."""
        return "".join(list(self._stderr_tail))

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM the child (it saves if dirty), wait, SIGKILL on timeout.

        Returns the exit code (0 on a clean shutdown).
        """
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if os.name == "posix":
                    proc.send_signal(signal.SIGTERM)
                else:  # pragma: no cover - no graceful signal on Windows
                    proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "local DynamoDB (pid %d) did not stop in %ss; killing", proc.pid, timeout
                )
                proc.kill()
                proc.wait()
        for reader in self._readers:
            reader.join(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return proc.returncode

    def __enter__(self) -> LocalDynamo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.process.returncode}"
        return f"<LocalDynamo {self.endpoint} pid={self.process.pid} {state}>"


def _pump_stderr(stream: Any, tail: collections.deque[str]) -> None:
    for line in iter(stream.readline, ""):
        tail.append(line)
        text = line.rstrip()
        level_name, _, rest = text.partition(" ")
        level = _LEVELS.get(level_name)
        if level is None:  # tracebacks, raw prints: surface them
            log.warning("%s", text)
        else:
            log.log(level, "%s", rest.removeprefix(f"{log.name}: "))


def _pump_stdout(stream: Any, ready: queue.Queue[str | None], tail: collections.deque[str]) -> None:
    announced = False
    for line in iter(stream.readline, ""):
        if not announced and line.startswith(READY_PREFIX):
            announced = True
            ready.put(line[len(READY_PREFIX) :].strip())
        else:
            tail.append(line)
    ready.put(None)


def start_local_dynamodb(
    state_path: Path,
    host: str = DEFAULT_HOST,
    port: int = 0,
    save_interval: float = DEFAULT_SAVE_INTERVAL,
    env: Mapping[str, str] | None = None,
    *,
    region: str = DEFAULT_REGION,
    ready_timeout: float = 30.0,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    verbose: bool = False,
    fast_scan: bool = True,
    fast_transactions: bool = True,
) -> LocalDynamo:
    """Spawn the local DynamoDB server and wait until it accepts requests.

    ``env`` is the child's complete environment (like ``subprocess.Popen``);
    ``None`` inherits ours. The directory containing the ``cloudstore``
    package is always put on ``PYTHONPATH``. The child's stderr is forwarded
    to the ``cloudstore.localdynamo`` logger. Raises ``RuntimeError`` (with
    the tail of the child's stderr) if it exits or is not ready in time.

    Only one server runs per state file: a new one waits up to
    ``lock_timeout`` seconds for a previous one (e.g. still saving after
    ``stop()`` timed out elsewhere) to exit, then fails.
    """
    state_path = Path(state_path).expanduser().resolve()
    cmd = [
        sys.executable,
        "-m",
        "cloudstore.localdynamo",
        "--host",
        host,
        "--port",
        str(port),
        "--state",
        str(state_path),
        "--save-interval",
        str(save_interval),
        "--region",
        region,
        "--parent-pid",
        str(os.getpid()),
        "--lock-timeout",
        str(lock_timeout),
    ]
    if verbose:
        cmd.append("--verbose")
    if not fast_scan:
        cmd.append("--original-scan")
    if not fast_transactions:
        cmd.append("--original-transactions")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(env),
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        close_fds=True,
        start_new_session=True,  # a terminal Ctrl+C goes to the app, which stops us
        preexec_fn=_death_signal_preexec(),
    )
    tail: collections.deque[str] = collections.deque(maxlen=200)
    ready: queue.Queue[str | None] = queue.Queue()
    readers = [
        threading.Thread(
            target=_pump_stdout,
            args=(process.stdout, ready, tail),
            name="localdynamo-stdout",
            daemon=True,
        ),
        threading.Thread(
            target=_pump_stderr, args=(process.stderr, tail), name="localdynamo-stderr", daemon=True
        ),
    ]
    for reader in readers:
        reader.start()
    instance = LocalDynamo(process, "", state_path, tail, readers)

    try:
        endpoint = ready.get(timeout=ready_timeout)
    except queue.Empty:
        instance.stop(timeout=5)
        raise RuntimeError(
            f"local DynamoDB did not print READY within {ready_timeout:.0f}s; "
            f"stderr tail:\n{instance.stderr_tail()}"
        ) from None
    if endpoint is None:
        # stdout closed without READY: the child is exiting
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = instance.stop(timeout=5)
        for reader in readers:
            reader.join(timeout=2)
        raise RuntimeError(
            f"local DynamoDB exited with code {code} before it was ready; "
            f"stderr tail:\n{instance.stderr_tail()}"
        )
    instance.endpoint = endpoint
    return instance


if __name__ == "__main__":
    sys.exit(main())
