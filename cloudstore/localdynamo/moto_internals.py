"""Every private moto name the local DynamoDB uses, in one place, and :func:`check`.

moto has no API for what we need (persisting tables, fast paths, knowing which region a
request addressed), so we reach into its internals. Each access below says why it is needed.
:func:`check` runs at start-up, before the state is restored, and refuses to start (with a
message naming what changed) when the installed moto does not have what this module
expects: a renamed attribute must stop the server, not bring tables back without their
indexes. The tested series is pinned in ``pyproject.toml`` (moto 5.2.x). One exception to
"one module": ``patches/transactions.py`` is a copy of moto's own transaction loop and calls
the backend's methods as moto's loop does; :func:`check` compares that loop's source hash.

Only the server process imports this module (it imports moto).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import moto
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.model_instances import model_data
from moto.core.responses import ActionResult
from moto.dynamodb import comparisons, exceptions
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.responses import DynamoHandler, DynamoResult

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "ActionResult",
    "DynamoHandler",
    "DynamoResult",
    "DynamoType",
    "MotoMismatch",
    "RESULT_SIZE_LIMIT",
    "check",
]

MOTO_VERSION = str(moto.__version__)

#: Items larger than this never fit a page (moto's 1 MB page limit).
RESULT_SIZE_LIMIT: int = table_module.RESULT_SIZE_LIMIT

#: sha256 of moto 5.2.5's ``DynamoDBBackend.transact_write_items``, which
#: ``patches/transactions.py`` re-implements line by line. A different method means the
#: re-implementation is no longer faithful, so :func:`check` refuses to start.
TRANSACT_SOURCE_SHA256 = "0b5c3b73cdccf3268b7266a17c96e2f7e675bd20fe3f28326a1e95ffa38cf8fe"


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SCAN_PARAMETERS = _names(
    "self filters limit exclusive_start_key filter_expression index_name consistent_read "
    "projection_expression segments"
)
_QUERY_PARAMETERS = _names(
    "self hash_key range_comparison range_objs limit exclusive_start_key scan_index_forward "
    "projection_expressions index_name consistent_read filter_expression hash_key_conditions "
    "range_key_conditions filter_kwargs"
)
_CREATE_TABLE_PARAMETERS = _names(
    "self name schema throughput attr global_indexes indexes streams billing_mode "
    "sse_specification tags deletion_protection_enabled warm_throughput"
)


class MotoMismatch(RuntimeError):
    """The installed moto lacks something this package relies on."""


# ----------------------------------------------------------------------------- backends


def backend(region: str) -> Any:
    """moto's DynamoDB backend for ``region`` of the one account we serve.

    ``dynamodb_backends`` is moto's per-account, per-region registry; restore and replay
    write tables into it directly (no HTTP round trip per item)."""
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def regions_with_tables() -> Iterator[tuple[str, Any]]:
    """Every (region, backend) of our account that holds tables (for the state file)."""
    for region, per_region in list(dynamodb_backends[DEFAULT_ACCOUNT_ID].items()):
        if per_region.tables:
            yield region, per_region


def tables(backend_: Any) -> dict[str, Any]:
    """``DynamoDBBackend.tables``: the name -> Table dict; replay adds and drops tables."""
    return backend_.tables


def create_table(backend_: Any, spec: dict[str, Any]) -> Any:
    """``DynamoDBBackend.create_table`` with every keyword named (no silent dropping):
    the public CreateTable path would re-validate and cost a request per table."""
    billing_mode = spec.get("BillingMode") or "PAY_PER_REQUEST"
    return backend_.create_table(
        spec["TableName"],
        schema=[dict(k) for k in spec["KeySchema"]],
        throughput=dict(spec["ProvisionedThroughput"]) if billing_mode == "PROVISIONED" else None,
        attr=[dict(a) for a in spec["AttributeDefinitions"]],
        global_indexes=[_copy(i) for i in spec.get("GlobalSecondaryIndexes") or []],
        indexes=[],
        streams=None,
        billing_mode=billing_mode,
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


# ----------------------------------------------------------------------------- tables


def table_meta(table: Any) -> dict[str, Any]:
    """A table's definition from moto's ``Table`` attributes (``schema``, ``attr``,
    ``billing_mode``, ``throughput``, ``global_indexes``, ``created_at``), for the state
    file and the journal. Features we refuse at the door (LSIs, streams, SSE, TTL, tags,
    deletion protection) are never set, so they are not read."""
    billing_mode = table.billing_mode or "PROVISIONED"
    meta: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": _copy(table.schema),
        "AttributeDefinitions": _copy(table.attr),
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        meta["ProvisionedThroughput"] = _throughput(table.throughput)
    gsis = []
    for index in list(table.global_indexes or []):
        gsi = {
            "IndexName": index.name,
            "KeySchema": _copy(index.schema),
            "Projection": _copy(index.projection),
        }
        if billing_mode == "PROVISIONED" and getattr(index, "throughput", None):
            gsi["ProvisionedThroughput"] = _throughput(index.throughput)
        gsis.append(gsi)
    if gsis:
        meta["GlobalSecondaryIndexes"] = gsis
    meta["CreationDateTime"] = table.created_at.isoformat()
    return meta


def _throughput(value: dict[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 0)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 0)),
    }


def set_created_at(table: Any, iso: str) -> None:
    """``Table.created_at``: restored so DescribeTable shows the original creation time."""
    import datetime as dt

    table.created_at = dt.datetime.fromisoformat(iso)


def key_attrs(table: Any) -> tuple[str, str | None]:
    """``Table.hash_key_attr`` / ``range_key_attr``: the names of the key attributes."""
    return table.hash_key_attr, table.range_key_attr


def key_types(table: Any) -> tuple[str, str | None]:
    """``Table.hash_key_type`` / ``range_key_type``: the declared key types (S, N, B)."""
    return table.hash_key_type, table.range_key_type


def gsi_keys(table: Any) -> list[tuple[str, list[str], list[str], dict[str, Any]]]:
    """``Table.global_indexes``: (name, hash attrs, range attrs, projection) of every GSI."""
    out = []
    for index in list(table.global_indexes or []):
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        out.append((index.name, hashes, ranges, index.projection))
    return out


def attribute_types(table: Any) -> dict[str, str]:
    """``Table.attr`` (AttributeDefinitions) as name -> type."""
    return {a["AttributeName"]: a["AttributeType"] for a in table.attr}


def items_of(table: Any) -> Iterator[Any]:
    """Every Item of ``table.items`` (a dict hash -> Item, or hash -> {range -> Item}).
    ``list(...)`` copies each level in C, so a concurrent insert cannot break the walk."""
    if table.range_key_attr:
        for bucket in list(table.items.values()):
            yield from list(bucket.values())
    else:
        yield from list(table.items.values())


def bucket(table: Any, hash_value: Any) -> Any:
    """``table.items[hash]`` without creating it (``items`` is a defaultdict): the Item
    (hash-only table), the range -> Item dict, or None."""
    return table.items.get(hash_value)


def get_slot(table: Any, hash_value: Any, range_value: Any) -> Any:
    """The Item stored under a key, or None."""
    found = table.items.get(hash_value)
    if range_value is None or found is None:
        return found
    return found.get(range_value)


def set_slot(table: Any, item: Any) -> None:
    """Store ``item`` under its key (what moto's ``Table.put_item`` does last)."""
    if item.range_key is not None:
        table.items[item.hash_key][item.range_key] = item
    else:
        table.items[item.hash_key] = item


def clear_slot(table: Any, hash_value: Any, range_value: Any) -> None:
    """Remove the Item under a key (and an emptied range bucket)."""
    if range_value is None:
        table.items.pop(hash_value, None)
        return
    found = table.items.get(hash_value)
    if found is not None:
        found.pop(range_value, None)
        if not found:
            del table.items[hash_value]


def replace_items(new_table: Any, old_table: Any) -> None:
    """Move the item dict to a re-created table (replay of UpdateTable keeps the items)."""
    new_table.items = old_table.items


# ----------------------------------------------------------------------------- items


def make_item(table: Any, attrs: dict[str, Any]) -> Any:
    """An ``Item`` built without ``Item.__init__``, the way moto's ``Item.__deepcopy__``
    does: ``__init__`` stores attributes into a ``LimitedSizeDict`` that re-sizes the whole
    item per attribute (O(n^2), ~10 s for 50,000 items). Items in the state file and journal
    were validated when first written. Raises KeyError when a key attribute is missing."""
    attrs = _interned(attrs)
    hash_key = DynamoType(attrs[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_key = DynamoType(attrs[range_attr]) if range_attr else None
    item = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    item_attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(item_attrs, {k: DynamoType(v) for k, v in attrs.items()})
    item.attrs = item_attrs
    return item


def _interned(value: Any) -> Any:
    """Typed JSON with its attribute names and short strings interned: a restore parses
    items one by one, so every item would otherwise keep its own copy of "status",
    "shipping_address", "pending"... (a third of an order's memory)."""
    if isinstance(value, dict):
        return {sys.intern(k): _interned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interned(v) for v in value]
    if isinstance(value, str) and len(value) <= 40:
        return sys.intern(value)
    return value


def light_copy(item: Any) -> Any:
    """A new Item sharing the attribute values: what moto's deepcopy of a result protects
    against is a caller mutating it, and the response path only reads ``item.attrs``."""
    clone = Item.__new__(Item)
    clone.hash_key = item.hash_key
    clone.range_key = item.range_key
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, item.attrs)
    clone.attrs = attrs
    return clone


def item_attrs(item: Any) -> dict[str, Any]:
    """``Item.attrs``: attribute name -> DynamoType."""
    return item.attrs


def item_keys(item: Any) -> tuple[Any, Any]:
    """``Item.hash_key`` / ``Item.range_key`` (DynamoTypes; range None for hash-only)."""
    return item.hash_key, item.range_key


def item_size(item: Any) -> int:
    """``Item.size()``: the byte size moto uses for the 1 MB page limit."""
    return item.size()


def in_segment(item: Any, segment: int, total: int) -> bool:
    """``Item.is_within_segment``: moto's parallel-scan membership (a hash of the key)."""
    return item.is_within_segment((segment, total))


def value_type(value: Any) -> str:
    """``DynamoType.type``: S, N, B, M, L, ..."""
    return value.type


def value_data(value: Any) -> Any:
    """``DynamoType.value``: the wire value (nested DynamoTypes for M and L)."""
    return value.value


def sort_value(value: Any) -> Any:
    """``DynamoType.cast_value``: what moto's DynamoType ordering compares (Decimal for N,
    str for S), so tuples of these sort exactly like moto's sorts."""
    return value.cast_value


def matches(value: Any, comparison: str, operands: list[Any]) -> bool:
    """``DynamoType.compare``: moto's key-condition test."""
    return value.compare(comparison, operands)


def project_for_index(table: Any, index_name: str, item: Any) -> Any:
    """``Table.get_index(name).project(item)``: the GSI's projection of an item."""
    return table.get_index(index_name).project(item)


def passes(filter_expression: Any, item: Any) -> bool:
    """A FilterExpression (moto's parsed condition) evaluated on an item."""
    return filter_expression.expr(item)


def project(item: Any, projection_expressions: Any) -> Any:
    """``Item.project``: a ProjectionExpression applied to an item (a new Item)."""
    return item.project(projection_expressions)


def last_evaluated_key(table: Any, item: Any, index_name: str | None) -> dict[str, Any]:
    """``Table._get_last_evaluated_key``: the LastEvaluatedKey moto builds for a page."""
    return table._get_last_evaluated_key(item, index_name)


def is_default_filter(filter_expression: Any) -> bool:
    """``comparisons.OpDefault`` is what moto passes when there is no FilterExpression."""
    return filter_expression is None or type(filter_expression) is comparisons.OpDefault


# ----------------------------------------------------------------------------- patching


class Patch:
    """Replace ``owner.name`` with ``replacement``; :meth:`undo` puts the original back."""

    def __init__(self, owner: type, name: str, replacement: Callable[..., Any]) -> None:
        self.owner, self.name = owner, name
        self.original = getattr(owner, name)
        replacement.__name__ = name
        replacement.__doc__ = self.original.__doc__
        replacement.__wrapped__ = self.original  # type: ignore[attr-defined]
        setattr(owner, name, replacement)

    def undo(self) -> None:
        setattr(self.owner, self.name, self.original)


def table_class() -> type:
    """moto's ``Table``: ``scan`` and ``query`` are replaced by the fast paths."""
    return table_module.Table


def backend_class() -> type:
    """moto's ``DynamoDBBackend``: ``transact_write_items`` is replaced."""
    return DynamoDBBackend


def on_each_request(callback: Callable[[str, str], None]) -> Patch:
    """Wrap ``DynamoHandler.call_action`` to learn the account and region moto resolved for
    a request (``handler.current_account`` / ``handler.region``): moto derives the region
    from the Host, the User-Agent or the signature, and the journal must name the same
    backend. The callback runs before the action."""

    def call_action(handler: Any) -> Any:
        callback(handler.current_account, handler.region)
        return patch.original(handler)

    patch = Patch(DynamoHandler, "call_action", call_action)
    return patch


def stop_tracking_instances() -> None:
    """moto appends every model instance (every ``Item`` ever built, results included) to
    a class-level ``instances_tracked`` list for its dashboard: a leak in a long-running
    server. Our DynamoDB classes get a list that keeps nothing."""
    for model in list(model_data.get("dynamodb", {}).values()):
        with contextlib.suppress(AttributeError, TypeError):
            model.instances_tracked = _KeepNothing()  # type: ignore[attr-defined]


class _KeepNothing(list):
    def append(self, _value: Any) -> None:  # noqa: D102 - the point is to drop it
        return None


def transact_exceptions() -> Any:
    """moto's DynamoDB exception classes (the transaction loop raises moto's own)."""
    return exceptions


def filter_expression(expression: Any, names: Any, values: Any) -> Any:
    """``comparisons.get_filter_expression``: moto's condition parser."""
    return comparisons.get_filter_expression(expression, names, values)


def make_server_app() -> Any:
    """moto's WSGI app that dispatches to its DynamoDB handler (moto.server's own)."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def warm_up(app: Any, region: str) -> None:
    """``DomainDispatcherApplication.get_application``: build moto's DynamoDB Flask app now
    rather than on the first request (which would otherwise take a second)."""
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
        app.get_application(environ)


def request_handler_class() -> Any:
    """moto's werkzeug request handler (keeps moto's HTTP quirks, e.g. 100-continue)."""
    from moto.server import MotoRequestHandler

    return MotoRequestHandler


# ----------------------------------------------------------------------------- check


def check() -> None:
    """Fail loudly (MotoMismatch naming every problem) unless this moto has everything the
    functions above use; then run a tiny round trip through a scratch backend."""
    problems: list[str] = []

    def params(fn: Any) -> tuple[str, ...]:
        return tuple(inspect.signature(fn).parameters)

    table_cls = table_module.Table
    if params(DynamoDBBackend.create_table) != _CREATE_TABLE_PARAMETERS:
        problems.append(f"DynamoDBBackend.create_table{params(DynamoDBBackend.create_table)}")
    if params(table_cls.scan) != _SCAN_PARAMETERS:
        problems.append(f"Table.scan{params(table_cls.scan)}")
    if params(table_cls.query) != _QUERY_PARAMETERS:
        problems.append(f"Table.query{params(table_cls.query)}")
    for owner, names in (
        (table_cls, ("_get_last_evaluated_key", "get_index", "put_item", "delete_item")),
        (Item, ("size", "is_within_segment", "project")),
        (DynamoHandler, ("call_action", "scan", "query")),
        (DynamoDBBackend, ("get_table", "get_keys_value", "get_item", "update_item")),
    ):
        problems += [f"{owner.__name__}.{n} is missing" for n in names if not hasattr(owner, n)]
    if not isinstance(DynamoType.cast_value, property):
        problems.append("DynamoType.cast_value is no longer a property")
    if not issubclass(DynamoResult, ActionResult):
        problems.append("DynamoResult is no longer an ActionResult")
    if not hasattr(comparisons, "OpDefault"):
        problems.append("comparisons.OpDefault is missing")
    for name in _names(
        "ConditionalCheckFailed MockValidationException MultipleTransactionsException "
        "TransactionCanceledException TransactWriteSingleOpException TooManyTransactionsException"
    ):
        if not hasattr(exceptions, name):
            problems.append(f"moto.dynamodb.exceptions.{name} is missing")
    try:
        source = textwrap.dedent(inspect.getsource(DynamoDBBackend.transact_write_items))
        digest = hashlib.sha256(source.encode()).hexdigest()
    except (OSError, TypeError):
        digest = "unreadable"
    if digest != TRANSACT_SOURCE_SHA256:
        problems.append("DynamoDBBackend.transact_write_items changed (patches/transactions.py)")
    if not problems:
        problems += _round_trip()
    if problems:
        raise MotoMismatch(
            f"moto {MOTO_VERSION} does not match what cloudstore.localdynamo was written for "
            "(moto 5.2.x, pinned in pyproject.toml): " + "; ".join(problems)
        )


def _round_trip() -> list[str]:
    """Create a table with a GSI in a scratch backend, store an item the fast way and read
    everything back through the accessors above."""
    scratch = DynamoDBBackend("us-east-1", "000000000000")

    def keys(hash_name: str, range_name: str) -> list[dict[str, str]]:
        return [
            {"AttributeName": hash_name, "KeyType": "HASH"},
            {"AttributeName": range_name, "KeyType": "RANGE"},
        ]

    spec = {
        "TableName": "check",
        "KeySchema": keys("pk", "sk"),
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t}
            for n, t in (("pk", "S"), ("sk", "N"), ("g", "S"))
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": keys("g", "sk"),
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    try:
        table = create_table(scratch, spec)
        item = make_item(table, {"pk": {"S": "a"}, "sk": {"N": "1.5"}, "g": {"S": "x"}})
        set_slot(table, item)
        meta = table_meta(table)
        found = get_slot(table, DynamoType({"S": "a"}), DynamoType({"N": "1.5"}))
        problems = []
        if found is not item or list(items_of(table)) != [item]:
            problems.append("Table.items no longer maps hash -> range -> Item")
        if key_attrs(table) != ("pk", "sk") or key_types(table) != ("S", "N"):
            problems.append("Table key attributes changed")
        if gsi_keys(table) != [("by_g", ["g"], ["sk"], {"ProjectionType": "ALL"})]:
            problems.append("Table.global_indexes changed")
        if {k: v for k, v in meta.items() if k != "CreationDateTime"} != spec:
            problems.append("a table's definition no longer round-trips")
        if sort_value(item.range_key) != sort_value(DynamoType({"N": "1.50"})):
            problems.append("DynamoType.cast_value changed")
        if item_size(item) <= 0 or not isinstance(last_evaluated_key(table, item, "by_g"), dict):
            problems.append("Item.size or Table._get_last_evaluated_key changed")
        return problems
    except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
        return [f"a scratch table round trip failed: {exc!r}"]
