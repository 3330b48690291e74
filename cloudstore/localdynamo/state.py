"""The snapshot file: its format, validation, atomic writing, and folding journal records in.

Pure file work (no moto): the compactor and the backup run it in their own process.

Snapshot format 2 (JSON, ASCII)::

    {
      "format": 2,
      "generation": 7,              # journals numbered >= 7 are replayed on top of it
      "saved_at": "2024-05-01T12:00:00+00:00",
      "regions": {
        "ap-southeast-1": [
          {"TableName": "...", "KeySchema": [...], "AttributeDefinitions": [...],
           "BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": {...},
           "GlobalSecondaryIndexes": [{"IndexName", "KeySchema", "Projection",
                                       "ProvisionedThroughput"}],
           "CreationDateTime": "...",
           "Items": [{"pk": {"S": "a"}, "price": {"N": "12.50"}, ...}]}
        ]
      }
    }

Items are DynamoDB-typed JSON (the wire format): numbers stay exact decimal strings, binary
stays base64. Format 1 (written by earlier versions: one state file rewritten every few
seconds) is still read, when it uses nothing this version refuses. Anything this version
does not know (a field, a feature such as local secondary indexes or streams, another
account) stops the start with a message instead of being dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FORMAT_VERSION = 2
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's; format 1 files name it

TABLE_FIELDS = frozenset(
    {
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "CreationDateTime",
    }
)
INDEX_FIELDS = frozenset({"IndexName", "KeySchema", "Projection", "ProvisionedThroughput"})


class StateFileError(RuntimeError):
    """The state (snapshot or journal) cannot be used as it is; nothing was changed."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while ~10^6 small objects are built (a restore, a compaction):
    it would otherwise walk the whole growing heap again every few hundred allocations.
    Those objects form no cycles, so nothing is leaked meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ----------------------------------------------------------------------------- validation


def check_table_meta(meta: Any, where: str) -> None:
    """Refuse a table definition with anything this version would not restore faithfully."""
    if not isinstance(meta, dict) or not isinstance(meta.get("TableName"), str):
        raise StateFileError(f"{where}: a table without a TableName")
    name = meta["TableName"]
    unknown = sorted(set(meta) - TABLE_FIELDS - {"Items"})
    if unknown:
        raise StateFileError(
            f"{where}: table {name} uses {', '.join(unknown)}, which this version does not "
            "support; refusing to start rather than drop it"
        )
    for field in ("KeySchema", "AttributeDefinitions"):
        if not isinstance(meta.get(field), list) or not meta[field]:
            raise StateFileError(f"{where}: table {name} has no {field}")
    for index in meta.get("GlobalSecondaryIndexes") or []:
        extra = sorted(set(index) - INDEX_FIELDS) if isinstance(index, dict) else ["?"]
        if extra or not isinstance(index.get("KeySchema"), list):
            raise StateFileError(
                f"{where}: index {index.get('IndexName') if isinstance(index, dict) else '?'}"
                f" of table {name} uses {', '.join(extra) or 'no KeySchema'}; refusing to start"
            )


def key_names(meta: dict[str, Any]) -> tuple[str, str | None]:
    hash_name = range_name = None
    for key in meta["KeySchema"]:
        if key["KeyType"] == "HASH":
            hash_name = key["AttributeName"]
        elif key["KeyType"] == "RANGE":
            range_name = key["AttributeName"]
    if hash_name is None:
        raise StateFileError(f"table {meta['TableName']} has no HASH key")
    return hash_name, range_name


def _canonical(value: Any) -> Any:
    """One key value in a form equal for equal DynamoDB keys ("1.50" and "1.5" are one N)."""
    if isinstance(value, dict) and "N" in value:
        with contextlib.suppress(InvalidOperation, TypeError):
            return {"N": str(Decimal(value["N"]).normalize())}
    return value


def slot_id(key_or_item: dict[str, Any], names: tuple[str, str | None]) -> str:
    """A string naming one item slot of a table, from a key or from a whole item."""
    hash_name, range_name = names
    parts = [_canonical(key_or_item[hash_name])]
    if range_name is not None:
        parts.append(_canonical(key_or_item[range_name]))
    return json.dumps(parts, sort_keys=True, separators=(",", ":"))


# ----------------------------------------------------------------------------- reading


class Snapshot:
    """A validated snapshot: ``generation`` and region -> list of table specs (with Items)."""

    def __init__(self, generation: int, regions: dict[str, list[dict[str, Any]]]) -> None:
        self.generation = generation
        self.regions = regions

    def tables(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for region, specs in self.regions.items():
            for spec in specs:
                yield region, spec


def snapshot_events(path: Path) -> Iterator[tuple[str, Any, Any]]:
    """Read a snapshot line by line, validating as it goes: ``("header", generation, None)``
    first (nothing at all if there is no snapshot), then ``("table", region, definition)``
    and ``("item", None, item)`` for the items of the table before them. Line by line, a
    restore never holds the whole parsed file next to the tables it builds."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, the generator may stop early
    except FileNotFoundError:
        return
    with fh:
        first = fh.readline()
        try:
            header = json.loads(first)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
            fh.seek(0)
            yield from _events_of_format_1(fh.read(), path)
            return
        unknown = sorted(set(header) - {"format", "generation", "saved_at"})
        generation = header.get("generation")
        if unknown or not isinstance(generation, int) or generation < 0:
            raise StateFileError(f"state file {path}: a bad header {first[:200]!r}")
        yield "header", generation, None
        in_table = False
        for number, line in enumerate(fh, start=2):
            if line.startswith(b'{"i":'):
                if not in_table:
                    raise StateFileError(f"state file {path}: line {number} is an item of no table")
                yield "item", None, _line(line, path, number)["i"]
                continue
            record = _line(line, path, number)
            if set(record) != {"region", "table"} or not isinstance(record["region"], str):
                raise StateFileError(f"state file {path}: line {number} is not a table or item")
            check_table_meta(record["table"], f"state file {path}")
            in_table = True
            yield "table", record["region"], record["table"]


def _line(line: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise StateFileError(f"state file {path}: line {number} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise StateFileError(f"state file {path}: line {number} is not an object")
    return value


def _events_of_format_1(raw: bytes, path: Path) -> Iterator[tuple[str, Any, Any]]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StateFileError(f"state file {path} is not valid JSON: {exc}") from exc
    found = data.get("format") if isinstance(data, dict) else type(data).__name__
    if found != 1:
        raise StateFileError(
            f"state file {path} has format {found!r}; this version reads formats 1 and "
            f"{FORMAT_VERSION}. Move it away to start with an empty database."
        )
    yield "header", 0, None
    for region, specs in _regions_of_format_1(data, path).items():
        for spec in specs:
            check_table_meta(spec, f"state file {path}")
            items = spec.get("Items") or []
            if not isinstance(items, list):
                raise StateFileError(f"state file {path}: Items of {spec['TableName']}")
            yield "table", region, {k: v for k, v in spec.items() if k != "Items"}
            for item in items:
                yield "item", None, item


def load_snapshot(path: Path) -> Snapshot | None:
    """Read and validate a whole snapshot; None if there is none."""
    snapshot = None
    current: list[dict[str, Any]] = []
    for kind, where, value in snapshot_events(path):
        if kind == "header":
            snapshot = Snapshot(where, {})
        elif kind == "table":
            current = []
            snapshot.regions.setdefault(where, []).append({**value, "Items": current})
        else:
            current.append(value)
    return snapshot


def _regions_of_format_1(data: dict[str, Any], path: Path) -> dict[str, list[dict[str, Any]]]:
    accounts = data.get("accounts")
    if not isinstance(accounts, dict):
        raise StateFileError(f"state file {path} has no 'accounts' object")
    others = sorted(a for a in accounts if a != DEFAULT_ACCOUNT_ID and accounts[a])
    if others:
        raise StateFileError(
            f"state file {path} holds tables of accounts {', '.join(others)}; this version "
            f"serves only account {DEFAULT_ACCOUNT_ID}; refusing to start rather than drop them"
        )
    regions = {}
    for region, region_state in (accounts.get(DEFAULT_ACCOUNT_ID) or {}).items():
        extra = sorted(set(region_state) - {"tables"})
        if extra:
            raise StateFileError(f"state file {path}: unknown fields {extra} in {region}")
        regions[region] = list(region_state.get("tables") or [])
    return regions


# ----------------------------------------------------------------------------- folding


class FoldedState:
    """A snapshot as dicts (region -> table -> meta and slot id -> item) that journal
    records are applied to; the compactor's and the backup's working copy."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self.generation = snapshot.generation if snapshot else 0
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        for region, spec in snapshot.tables() if snapshot else ():
            meta = {k: v for k, v in spec.items() if k != "Items"}
            names = key_names(meta)
            items = {slot_id(item, names): item for item in spec.get("Items") or ()}
            self.tables.setdefault(region, {})[meta["TableName"]] = {
                "meta": meta,
                "names": names,
                "items": items,
            }

    def apply(self, record: dict[str, Any]) -> None:
        """Apply one journal record (see ``journal.py`` for its shape)."""
        region = record["r"]
        tables = self.tables.setdefault(region, {})
        for change in record["c"]:
            kind, name = change[0], change[1]
            if kind == "item":
                table = tables.get(name)
                if table is None:
                    raise StateFileError(f"journal writes an item of unknown table {name}")
                slot = slot_id(change[2], table["names"])
                if change[3] is None:
                    table["items"].pop(slot, None)
                else:
                    table["items"][slot] = change[3]
            elif kind == "table":
                if change[2] is None:
                    tables.pop(name, None)
                    continue
                check_table_meta(change[2], "journal")
                old = tables.get(name)
                names = key_names(change[2])
                items = old["items"] if old is not None else {}
                tables[name] = {"meta": change[2], "names": names, "items": items}
            else:
                raise StateFileError(f"journal record with unknown change {kind!r}")

    def counts(self) -> tuple[int, int]:
        n_tables = sum(len(t) for t in self.tables.values())
        n_items = sum(len(t["items"]) for ts in self.tables.values() for t in ts.values())
        return n_tables, n_items

    def document(self, generation: int) -> dict[str, Any]:
        regions = {
            region: [{**t["meta"], "Items": list(t["items"].values())} for t in tables.values()]
            for region, tables in self.tables.items()
            if tables
        }
        return {
            "format": FORMAT_VERSION,
            "generation": generation,
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "regions": regions,
        }


# ----------------------------------------------------------------------------- writing


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (POSIX)."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` atomically and durably (temp file in the same directory,
    fsync, rename, fsync of the directory); returns the byte count. A crash leaves the old
    file or the new one, never a torn one; an error (a full disk) leaves the old one."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(path.parent)
    return size


def encode_document(document: dict[str, Any]) -> Iterator[bytes]:
    """The snapshot as JSON Lines, ASCII (lone surrogates, legal in DynamoDB strings, are
    escaped), in chunks of about a megabyte: a header line, then per table a line with its
    definition followed by one ``{"i": item}`` line per item."""

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True)

    head = {k: v for k, v in document.items() if k != "regions"}
    batch: list[str] = [dumps(head) + "\n"]
    size = 0
    for region, specs in document["regions"].items():
        for spec in specs:
            meta = {k: v for k, v in spec.items() if k != "Items"}
            batch.append(dumps({"region": region, "table": meta}) + "\n")
            for item in spec["Items"]:
                text = '{"i":' + dumps(item) + "}\n"
                batch.append(text)
                size += len(text)
                if size >= 1 << 20:
                    yield "".join(batch).encode("ascii")
                    batch, size = [], 0
    yield "".join(batch).encode("ascii")


def write_snapshot(path: Path, document: dict[str, Any]) -> int:
    return write_atomic(path, encode_document(document))
