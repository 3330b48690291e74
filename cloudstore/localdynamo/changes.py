"""Between requests and durable state, on the moto side: which operations are served, what
a write request changed (its journal record), and rebuilding moto's tables from the
snapshot and the journals (at start, and after a failed journal write).

A record holds the *result* of a write (every item slot it named, as it is afterwards, and
whole table definitions), never the request itself, so replaying it needs no moto logic:
it is deterministic, and a snapshot folded from records (``state.FoldedState``) is always a
state the API could have shown, a transaction being one record.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudstore.localdynamo import moto_internals as mi
from cloudstore.localdynamo.journal import JournalRead, list_journals, read_journal
from cloudstore.localdynamo.state import (
    INDEX_FIELDS,
    TABLE_FIELDS,
    StateFileError,
    check_table_meta,
    gc_paused,
    snapshot_events,
)

log = logging.getLogger("cloudstore.localdynamo")

#: Write operations that are journalled. Every other write operation is refused.
ITEM_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
TABLE_WRITES = frozenset({"CreateTable", "UpdateTable", "DeleteTable"})
WRITE_OPERATIONS = ITEM_WRITES | TABLE_WRITES
READ_OPERATIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "DescribeEndpoints",
        "DescribeLimits",
    }
)
# What a journaled CreateTable may name: what a snapshot keeps of a table, but its creation time.
_CREATE_FIELDS = TABLE_FIELDS - {"CreationDateTime"}
_UPDATE_FIELDS = frozenset(
    {
        "TableName",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexUpdates",
    }
)


def refusal(operation: str, body: dict[str, Any]) -> str | None:
    """Why the local DynamoDB will not serve this request, or None. Only what the journal
    records faithfully is served: no PartiQL, backups, imports, TTL, tags, streams, SSE or
    local secondary indexes (nothing in Cloud Store uses them)."""
    if operation in READ_OPERATIONS or operation in ITEM_WRITES or operation == "DeleteTable":
        return None
    if operation not in TABLE_WRITES:
        return f"the local DynamoDB does not support {operation or 'this request'}"
    allowed = _CREATE_FIELDS if operation == "CreateTable" else _UPDATE_FIELDS
    extra = sorted(set(body) - allowed)
    indexes = body.get("GlobalSecondaryIndexes") or [
        u.get("Create") for u in body.get("GlobalSecondaryIndexUpdates") or [] if "Create" in u
    ]
    for index in indexes:
        extra += sorted(set(index or {}) - INDEX_FIELDS)
    if extra:
        return f"the local DynamoDB does not support {', '.join(extra)} in {operation}"
    return None


# ----------------------------------------------------------------------------- records


def dump_value(value: Any) -> dict[str, Any]:
    """One moto DynamoType as typed JSON (the wire format)."""
    kind, inner = mi.value_type(value), mi.value_data(value)
    if kind == "M":
        return {"M": {k: dump_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [dump_value(v) for v in inner]}
    if kind == "N":
        return {"N": inner if isinstance(inner, str) else str(inner)}
    if kind == "NS":
        return {"NS": [v if isinstance(v, str) else str(v) for v in inner]}
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if kind == "SS":
        return {"SS": list(inner)}
    if kind == "NULL":
        return {"NULL": True}
    return {kind: inner}  # S, BOOL


def _b64(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value  # moto keeps binary as the base64 string it received


def dump_item(item: Any) -> dict[str, Any]:
    return {name: dump_value(v) for name, v in mi.item_attrs(item).items()}


@dataclass
class Slot:
    """One item slot a write request names."""

    table_name: str
    table: Any
    key: dict[str, Any]  # the key attributes as typed JSON
    hash_value: Any  # DynamoType
    range_value: Any  # DynamoType or None

    def current(self) -> Any:
        return mi.get_slot(self.table, self.hash_value, self.range_value)


def _targets(operation: str, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if operation == "PutItem":
        yield body.get("TableName"), body.get("Item")
    elif operation in ("UpdateItem", "DeleteItem"):
        yield body.get("TableName"), body.get("Key")
    elif operation == "BatchWriteItem":
        for name, requests in (body.get("RequestItems") or {}).items():
            for request in requests or ():
                if "PutRequest" in request:
                    yield name, request["PutRequest"].get("Item")
                elif "DeleteRequest" in request:
                    yield name, request["DeleteRequest"].get("Key")
    elif operation == "TransactWriteItems":
        for action in body.get("TransactItems") or ():
            for kind, spec in action.items():
                if kind == "Put":
                    yield spec.get("TableName"), spec.get("Item")
                elif kind in ("Update", "Delete"):
                    yield spec.get("TableName"), spec.get("Key")


def _slot(name: str, table: Any, values: dict[str, Any]) -> Slot | None:
    hash_name, range_name = mi.key_attrs(table)
    try:
        key = {hash_name: values[hash_name]}
        if range_name is not None:
            key[range_name] = values[range_name]
        hash_value = mi.DynamoType(key[hash_name])
        range_value = mi.DynamoType(key[range_name]) if range_name else None
        mi.sort_value(hash_value), range_value and mi.sort_value(range_value)
    except Exception:  # noqa: BLE001 - a malformed key: moto rejects the request
        return None
    return Slot(name, table, key, hash_value, range_value)


def slots_of(operation: str, body: dict[str, Any], backend: Any) -> list[Slot]:
    """Every item slot an item write names (a request moto will reject may name slots that
    do not exist: those are skipped, moto changes nothing for them)."""
    found: dict[tuple[str, str], Slot] = {}
    tables = mi.tables(backend)
    for name, values in _targets(operation, body):
        table = tables.get(name) if isinstance(name, str) else None
        if table is None or not isinstance(values, dict):
            continue
        slot = _slot(name, table, values)
        if slot is not None:
            identity = (name, repr(slot.hash_value), repr(slot.range_value))
            found.setdefault(identity, slot)
    return list(found.values())


def record_for(
    operation: str, region: str, body: dict[str, Any], backend: Any, slots: list[Slot]
) -> dict[str, Any] | None:
    """The journal record of a write that succeeded: its slots as they are now."""
    changes: list[list[Any]] = []
    if operation in ITEM_WRITES:
        for slot in slots:
            item = slot.current()
            changes.append(["item", slot.table_name, slot.key, dump_item(item) if item else None])
    else:
        name = body.get("TableName")
        table = mi.tables(backend).get(name)
        changes.append(["table", name, mi.table_meta(table) if table is not None else None])
    if not changes:
        return None
    return {"op": operation, "r": region, "c": changes}


# ----------------------------------------------------------------------------- rebuilding


def _create(region: str, meta: dict[str, Any]) -> Any:
    try:
        backend = mi.backend(region)
    except KeyError:
        raise StateFileError(
            f"region {region!r} is unknown to this moto; refusing to start rather than "
            "drop its tables"
        ) from None
    table = mi.create_table(backend, meta)
    if meta.get("CreationDateTime"):
        mi.set_created_at(table, meta["CreationDateTime"])
    return table


def apply_record(record: dict[str, Any]) -> None:
    """Apply one journal record to moto's tables."""
    region = record["r"]
    for change in record["c"]:
        kind, name = change[0], change[1]
        if kind == "item":
            table = mi.tables(mi.backend(region)).get(name)
            if table is None:
                raise StateFileError(f"journal writes an item of unknown table {name}")
            if change[3] is None:
                hash_name, range_name = mi.key_attrs(table)
                key = change[2]
                mi.clear_slot(
                    table,
                    mi.DynamoType(key[hash_name]),
                    mi.DynamoType(key[range_name]) if range_name else None,
                )
            else:
                mi.set_slot(table, mi.make_item(table, change[3]))
        elif kind == "table":
            tables = mi.tables(mi.backend(region))
            old = tables.pop(name, None)
            if change[2] is not None:
                check_table_meta(change[2], "journal")
                new = _create(region, change[2])
                if old is not None:
                    mi.replace_items(new, old)
        else:
            raise StateFileError(f"journal record with unknown change {kind!r}")


def clear_all() -> None:
    """Drop every table of every region (before rebuilding from disk)."""
    for _region, backend in list(mi.regions_with_tables()):
        mi.tables(backend).clear()


@dataclass
class Rebuilt:
    """What a rebuild found on disk."""

    generation: int = 0  # the snapshot's
    last_journal: int = -1  # the highest journal number replayed
    tables: int = 0
    items: int = 0
    records: int = 0
    damaged: list[JournalRead] = field(default_factory=list)


def rebuild(state_path: Path, limits: dict[int, int] | None = None) -> Rebuilt:
    """Load the snapshot into moto and replay the journals numbered at or above its
    generation (journal ``g`` only up to ``limits[g]`` bytes when given). A damaged tail is
    reported in ``damaged`` and the replay goes on with the next journal."""
    with gc_paused():
        return _rebuild(state_path, limits)


def _rebuild(state_path: Path, limits: dict[int, int] | None) -> Rebuilt:
    out = Rebuilt()
    table = None
    for kind, where, value in snapshot_events(state_path):
        if kind == "header":
            out.generation = where
        elif kind == "table":
            table = _create(where, value)
            out.tables += 1
        else:
            try:
                mi.set_slot(table, mi.make_item(table, value))
            except KeyError:
                raise StateFileError(
                    f"state file {state_path}: an item of {mi.table_meta(table)['TableName']} "
                    "lacks a key attribute"
                ) from None
            out.items += 1
    for generation, path in list_journals(state_path):
        if generation < out.generation:
            continue  # folded into the snapshot already; the compactor removes it
        read = read_journal(path, (limits or {}).get(generation))
        for record in read.records:
            apply_record(record)
        out.records += len(read.records)
        out.last_journal = generation
        if read.dropped_bytes:
            out.damaged.append(read)
    return out


def remove_stale_journals(state_path: Path, generation: int) -> None:
    for number, path in list_journals(state_path):
        if number < generation:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
