"""The one aioboto3 DynamoDB client of a process, item (de)serialisation and table setup
(tables and their indexes created idempotently, then waited for until ACTIVE).

Every call goes through `Dynamo.call`, which bounds it in time and turns connection
failures, timeouts and throttling into `BackendUnavailable` (→ 503) — or, for a write whose
answer never came (`write=True`), into `UnclearOutcome`: it may have been applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aioboto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cloudstore.domain.errors import BackendUnavailable, UnclearOutcome
from cloudstore.settings import Settings

log = logging.getLogger(__name__)

BULK_DEADLINE_SECONDS = 120.0
# Creating a GSI on a large table backfills it, which can take AWS many minutes.
TABLE_WAIT_SECONDS = 1800.0
TABLE_UPDATE_ATTEMPTS = 10
TABLE_BUSY_CODES = frozenset({"ResourceInUseException", "LimitExceededException"})
ORDERS_BY_TIME = "orders_by_time"
ORDERS_BY_STATUS = "orders_by_status"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Errors that mean "the backend is struggling", as opposed to "your request was wrong".
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    }
)


def to_item(values: dict[str, Any]) -> dict[str, dict]:
    return {k: _serializer.serialize(_plain(v)) for k, v in values.items() if v is not None}


def from_item(item: dict[str, dict]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def to_value(value: Any) -> dict:
    return _serializer.serialize(_plain(value))


def _plain(value: Any) -> Any:
    if hasattr(value, "as_map"):  # a stored value object (domain.images.ProductImage)
        return _plain(value.as_map())
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def session_arguments(settings: Settings) -> dict[str, Any]:
    """How the DynamoDB client finds its credentials. On AWS (`DYNAMODB_MODE=aws`, or `auto`
    with AWS_ACCESS_KEY_ID) keys given in the settings win; without them boto's default
    chain answers (environment, shared profile/SSO, ECS task role, EC2 instance role). A
    local endpoint is given keys of its own when none are set: it wants some, and it must
    never pick up the operator's real AWS credentials from that chain."""
    s = settings
    key_id, secret, token = s.aws_access_key_id, s.aws_secret_access_key, s.aws_session_token
    if not s.dynamodb_on_aws and not key_id:
        key_id, secret, token = "local", "local", None
    arguments: dict[str, Any] = {"region_name": s.aws_region}
    if key_id:
        arguments.update(
            aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token
        )
    return arguments


class Dynamo:
    """Holds the process's DynamoDB client; open at startup, close at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Any = None
        # The process's one aioboto3 session; the media store (S3) makes its client from it.
        self.session: Any = None
        self._stack: AsyncExitStack | None = None
        self._counter: asyncio.Task[None] | None = None

    async def open(self) -> None:
        s = self.settings
        session = self.session = aioboto3.Session(**session_arguments(s))
        config = Config(
            connect_timeout=min(2.0, s.backend_timeout),
            # Reads are bounded per call in `call` (short for requests, long for bulk scans).
            read_timeout=BULK_DEADLINE_SECONDS,
            retries={"total_max_attempts": 2, "mode": "standard"},
            max_pool_connections=64,
            tcp_keepalive=True,
        )
        self._stack = AsyncExitStack()
        self.client = await self._stack.enter_async_context(
            session.client("dynamodb", endpoint_url=s.dynamodb_endpoint, config=config)
        )
        count_dir = os.environ.get("CLOUDSTORE_COUNT_DYNAMODB_DIR")
        if count_dir:  # bench/: count requests per operation; nothing at all when unset
            self._counter = asyncio.create_task(_count_requests(self.client, Path(count_dir)))

    async def close(self) -> None:
        if self._counter is not None:
            self._counter.cancel()
            self._counter = None
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self.client = None

    async def call(
        self,
        operation: str,
        *,
        bulk: bool = False,
        budget: float | None = None,
        write: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Call one DynamoDB operation within a deadline, botocore's retries included:
        `bulk` calls (catalog scans, seeding) get a long one; a request-path call gets
        BACKEND_TIMEOUT in all (a hung DynamoDB answers 503 after that, not later); a caller
        may give its own `budget` (seconds). A `write` that fails without a definite answer
        from DynamoDB raises `UnclearOutcome` (botocore may have sent it, even twice): its
        caller settles it within at most BACKEND_TIMEOUT more (`shop/checkout.py`)."""
        if self.client is None:
            raise BackendUnavailable("DynamoDB")
        method = getattr(self.client, operation)
        if budget is None:
            budget = BULK_DEADLINE_SECONDS if bulk else self.settings.backend_timeout
        failure = UnclearOutcome if write else BackendUnavailable
        try:
            return await asyncio.wait_for(method(**kwargs), timeout=max(budget, 0.001))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in UNAVAILABLE_CODES:
                log.warning("dynamodb %s failed: %s", operation, error.response["Error"]["Code"])
                raise failure("DynamoDB") from error
            raise
        except (BotoCoreError, OSError, TimeoutError) as error:
            log.warning("dynamodb %s failed: %s", operation, type(error).__name__)
            raise failure("DynamoDB") from error

    async def ping(self) -> None:
        await self.call("describe_table", TableName=self.settings.products_table)

    def table_specs(self) -> dict[str, dict]:
        """The three tables with the spec's keys; Orders also has two sparse GSIs that give
        admins a newest-first list of all orders (and one per status) without a Scan."""
        s = self.settings
        return {
            s.products_table: {"keys": [("product_id", "HASH"), ("category", "RANGE")]},
            s.orders_table: {
                "keys": [("user_id", "HASH"), ("order_id", "RANGE")],
                "indexes": {
                    ORDERS_BY_TIME: [("order_list", "HASH"), ("order_id", "RANGE")],
                    ORDERS_BY_STATUS: [("status", "HASH"), ("order_id", "RANGE")],
                },
            },
            s.cart_table: {"keys": [("user_id", "HASH")]},
        }

    async def pending_tables(self) -> list[str]:
        """What `ensure_tables` would do (or wait for), in words; changes nothing."""
        existing = await self._table_names()
        pending = []
        for name, spec in self.table_specs().items():
            indexes = spec.get("indexes", {})
            if name not in existing:
                with_indexes = f" with indexes {', '.join(indexes)}" if indexes else ""
                pending.append(f"create table {name}{with_indexes}")
                continue
            table = (await self.call("describe_table", TableName=name))["Table"]
            if table["TableStatus"] != "ACTIVE":
                pending.append(f"wait for table {name} ({table['TableStatus']})")
            statuses = {i["IndexName"]: i["IndexStatus"] for i in _indexes(table)}
            for index_name in indexes:
                status = statuses.get(index_name)
                if status is None:
                    pending.append(f"add index {index_name} to {name}")
                elif status != "ACTIVE":
                    pending.append(f"wait for index {index_name} on {name} ({status})")
        return pending

    async def ensure_tables(self) -> TableChanges:
        """Create missing tables (PAY_PER_REQUEST) and add missing GSIs, then wait until
        every table and index is ACTIVE. Safe to run from several processes at once."""
        existing = await self._table_names()
        changes = TableChanges()
        for name, spec in self.table_specs().items():
            indexes = spec.get("indexes", {})
            if name not in existing and await self._create_table(name, spec["keys"], indexes):
                changes.created.append(name)
            table = await self._wait_until_active(name)
            for index_name, keys in indexes.items():
                if index_name not in {i["IndexName"] for i in _indexes(table)}:
                    if await self._add_index(name, spec["keys"], index_name, keys):
                        changes.indexes.append(f"{index_name} on {name}")
                    table = await self._wait_until_active(name)
        return changes

    async def _table_names(self) -> set[str]:
        names: set[str] = set()
        kwargs: dict[str, Any] = {}
        while True:
            page = await self.call("list_tables", **kwargs)
            names.update(page.get("TableNames", []))
            if "LastEvaluatedTableName" not in page:
                return names
            kwargs = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}

    async def _create_table(self, name: str, keys: list, indexes: dict) -> bool:
        """Create one table with its GSIs; False when another process created it first."""
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": _key_schema(keys),
            "AttributeDefinitions": _definitions(keys, *indexes.values()),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = [_gsi(n, k) for n, k in indexes.items()]
        try:
            await self.call("create_table", **request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
            return False
        return True

    async def _add_index(self, name: str, keys: list, index_name: str, index_keys: list) -> bool:
        """Add one GSI to a table made by an older version (AWS takes one per UpdateTable,
        and none while the table is busy); False when another process added it."""
        for _ in range(TABLE_UPDATE_ATTEMPTS):
            table = await self._wait_until_active(name)
            present = _indexes(table)
            if index_name in {i["IndexName"] for i in present}:
                return False
            others = [_index_keys(i) for i in present]
            try:
                await self.call(
                    "update_table",
                    TableName=name,
                    AttributeDefinitions=_definitions(keys, index_keys, *others),
                    GlobalSecondaryIndexUpdates=[{"Create": _gsi(index_name, index_keys)}],
                )
                return True
            except ClientError as error:
                # Another process may have just added it, or be adding another index.
                table = (await self.call("describe_table", TableName=name))["Table"]
                if index_name in {i["IndexName"] for i in _indexes(table)}:
                    return False
                if error.response["Error"]["Code"] not in TABLE_BUSY_CODES:
                    raise
        raise BackendUnavailable("DynamoDB")

    async def _wait_until_active(self, name: str) -> dict:
        """Describe the table until it and all its indexes are ACTIVE; returns it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TABLE_WAIT_SECONDS
        delay = 0.1
        while True:
            table = (await self.call("describe_table", TableName=name))["Table"]
            statuses = [table["TableStatus"], *(i["IndexStatus"] for i in _indexes(table))]
            if all(status == "ACTIVE" for status in statuses):
                return table
            if loop.time() > deadline:
                log.warning("dynamodb table %s still not ACTIVE: %s", name, statuses)
                raise BackendUnavailable("DynamoDB")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


@dataclass
class TableChanges:
    """What `ensure_tables` did: tables created and indexes added ("index on table")."""

    created: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.indexes)


async def _count_requests(client: Any, directory: Path) -> None:
    """Count this process's DynamoDB requests by operation into `<directory>/<pid>.json`,
    rewritten once a second (used by bench/run.py via CLOUDSTORE_COUNT_DYNAMODB_DIR).
    Requests made while serving an HTTP request count as `request:<Op>`, the rest (the
    catalog refresher) as `background:<Op>`."""
    from quart import has_request_context

    counts: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        key = ("request:" if has_request_context() else "background:") + model.name
        counts[key] = counts.get(key, 0) + 1

    def write(text: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{os.getpid()}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(target)

    client.meta.events.register("before-call.dynamodb", count)
    while True:
        await asyncio.to_thread(write, json.dumps(counts))
        await asyncio.sleep(1.0)


def _gsi(name: str, keys: list[tuple[str, str]]) -> dict:
    return {
        "IndexName": name,
        "KeySchema": _key_schema(keys),
        "Projection": {"ProjectionType": "ALL"},
    }


def _key_schema(keys: list[tuple[str, str]]) -> list[dict]:
    return [{"AttributeName": a, "KeyType": t} for a, t in keys]


def _definitions(*key_lists: list[tuple[str, str]]) -> list[dict]:
    """Attribute definitions for exactly the key attributes in use (all strings)."""
    attributes = {a for keys in key_lists for a, _ in keys}
    return [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)]


def _indexes(table: dict) -> list[dict]:
    return table.get("GlobalSecondaryIndexes", [])


def _index_keys(index: dict) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
