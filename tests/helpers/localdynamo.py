"""Helpers of the local DynamoDB tests: boto3 clients on a server, sample tables and items,
raw requests, and the transactions compared with moto's own."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from cloudstore.localdynamo import LocalDynamo

REGION = "ap-southeast-1"
DEFAULT_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"

CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def client(server: LocalDynamo, account: str | None = None, region: str = REGION) -> Any:
    c = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=region, config=CONFIG)
    if account:  # moto's way to address another account
        c.meta.events.register(
            "before-sign.dynamodb.*",
            lambda request, **_: request.headers.__setitem__("x-moto-account-id", account),
        )
    return c


def table(server: LocalDynamo, name: str) -> Any:
    resource = boto3.resource(
        "dynamodb", endpoint_url=server.endpoint, region_name=REGION, config=CONFIG
    )
    return resource.Table(name)


def scan_all(server: LocalDynamo, name: str) -> list[dict[str, Any]]:
    t = table(server, name)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = t.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (str(i["pk"]), str(i.get("sk", ""))))


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def file_stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def create_products(c: Any) -> None:
    c.create_table(
        TableName="products",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "category", "AttributeType": "S"},
            {"AttributeName": "price", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_category",
                "KeySchema": [
                    {"AttributeName": "category", "KeyType": "HASH"},
                    {"AttributeName": "price", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )


PRODUCTS: list[dict[str, Any]] = [
    {
        "pk": "PRODUCT#1",
        "sk": "META",
        "category": "books",
        "price": Decimal("19.99"),
        "name": "Dune",
        "tiny": Decimal("-0.000001"),
        "huge": Decimal("12345678901234567890.123456789"),
        "in_stock": True,
        "discontinued": False,
        "notes": None,
        "empty_string": "",
        "tags": {"scifi", "classic"},
        "sizes": {Decimal("1"), Decimal("2.5")},
        "blob": b"\x00\xffbinary",
        "dims": {
            "w": Decimal("10.5"),
            "h": Decimal("3"),
            "nested": {"deeper": [Decimal("1.10"), "x", {"flag": True, "none": None}]},
        },
        "history": [Decimal("1"), "two", [Decimal("3")], {"four": Decimal("4.0")}, False],
        "empty_list": [],
        "empty_map": {},
    },
    {"pk": "PRODUCT#2", "sk": "META", "category": "books", "price": Decimal("5"), "name": "Emma"},
    {"pk": "PRODUCT#3", "sk": "META", "category": "toys", "price": Decimal("42.5"), "name": "Yo"},
    {"pk": "PRODUCT#3", "sk": "REVIEW#1", "rating": Decimal("4"), "text": "ünïcødé ✓"},
    {"pk": "PRODUCT#9", "sk": "META", "category": "gone", "price": Decimal("1"), "name": "Del"},
]


def raw_scan(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """One Scan over plain HTTP: moto checks no signature, and skipping botocore's parser
    keeps the client from dominating the timings below."""

    request = urllib.request.Request(  # noqa: S310 - our loopback endpoint
        endpoint,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.Scan",
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
    )
    with urllib.request.urlopen(request, timeout=600) as reply:  # noqa: S310 - loopback
        return json.loads(reply.read())


def scan_pages(c: Any, **kwargs: Any) -> list[tuple]:
    pages = []
    while True:
        page = c.scan(**kwargs)
        pages.append(
            (page.get("Items"), page["Count"], page["ScannedCount"], page.get("LastEvaluatedKey"))
        )
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def mixed_state(n: int) -> dict[str, Any]:
    rng = random.Random(7)
    ranged = []
    for i in range(n):
        item: dict[str, Any] = {
            "pk": {"S": f"P{rng.randrange(n // 3):05d}"},
            "sk": {"N": str(rng.choice([1, 2, 9, 10, 11, 100, 1.5, -3]) + i * 1000)},
            "name": {"S": f"item {i}"},
        }
        roll = rng.random()
        if roll < 0.12:
            item["filler"] = {"S": "x" * rng.randrange(50_000, 150_000)}  # pushes the 1 MB limit
        elif roll < 0.5:
            item["tags"] = {"SS": [f"t{i % 5}", "a"]}
            item["m"] = {"M": {"l": {"L": [{"N": str(i)}, {"NULL": True}]}}}
        else:
            item["b"] = {"B": base64.b64encode(bytes([i % 256, 0, 1])).decode()}
        ranged.append(item)
    flat = [{"id": {"S": f"K{i:04d}"}, "v": {"N": str(i)}} for i in range(n // 2)]

    def spec(name: str, keys: list[tuple[str, str, str]], items: list[dict]) -> dict:
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in keys],
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t, _ in keys],
            "BillingMode": "PAY_PER_REQUEST",
            "Items": items,
        }

    tables = [
        spec("mixed", [("pk", "S", "HASH"), ("sk", "N", "RANGE")], ranged),
        spec("flat", [("id", "S", "HASH")], flat),
    ]
    return {"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": tables}}}}


def txn_state(n_stock: int = 20) -> dict[str, Any]:
    stock = [
        {"pk": {"S": f"S{i:02d}"}, "n": {"N": str(i)}, "tags": {"SS": ["a", f"t{i}"]}}
        for i in range(n_stock)
    ]
    orders = [
        {"pk": {"S": f"U{i % 3}"}, "sk": {"N": str(i)}, "amount": {"N": f"{i}.25"}}
        for i in range(9)
    ]

    def spec(name: str, keys: list[tuple[str, str, str]], items: list[dict]) -> dict:
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in keys],
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t, _ in keys],
            "BillingMode": "PAY_PER_REQUEST",
            "Items": items,
        }

    tables = [
        spec("stock", [("pk", "S", "HASH")], stock),
        spec("orders", [("pk", "S", "HASH"), ("sk", "N", "RANGE")], orders),
    ]
    return {"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": tables}}}}


def contents(c: Any) -> dict[str, list[tuple]]:
    """Every item of both tables, through the (fast or moto's) paged Scan and GetItem."""
    out: dict[str, list[tuple]] = {}
    for name in ("stock", "orders"):
        pages = scan_pages(c, TableName=name, Limit=4)
        items = [item for page in pages for item in page[0]]
        keys = ("pk", "sk") if name == "orders" else ("pk",)
        for item in items:  # GetItem agrees with Scan
            got = c.get_item(TableName=name, Key={k: item[k] for k in keys}, ConsistentRead=True)
            assert got["Item"] == item
        out[name] = [json.dumps(item, sort_keys=True) for item in items]
    return out


def transact(c: Any, actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The outcome of one TransactWriteItems: ok, or the error code, message and reasons."""
    try:
        c.transact_write_items(TransactItems=actions)
    except c.exceptions.ClientError as exc:
        error = exc.response["Error"]
        return {
            "code": error["Code"],
            "message": error.get("Message"),
            "reasons": exc.response.get("CancellationReasons"),
        }
    return {"code": None}


def put(table: str, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, **extra}}


def update(table: str, key: dict[str, Any], expr: str, **extra: Any) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": expr, **extra}}


def delete(table: str, key: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": key, **extra}}


def check(table: str, key: dict[str, Any], cond: str, **extra: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": cond, **extra}
    }


def skey(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def okey(pk: str, sk: int) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


DECREMENT = {
    "ConditionExpression": "n >= :one",
    "ExpressionAttributeValues": {":one": {"N": "1"}},
}

#: (label, actions, what the fast server must show: "unchanged" or "changed")
TRANSACTIONS: list[tuple[str, list[dict[str, Any]], str]] = [
    (
        "condition fails in the middle; a Put would create, Updates would change and create",
        [
            put("orders", {**okey("U9", 1), "amount": {"N": "3"}}),
            update("stock", skey("S05"), "SET n = n - :one", **DECREMENT),
            update("stock", skey("S00"), "SET n = n - :one", **DECREMENT),  # n = 0: fails
            delete("stock", skey("S07")),
            update(
                "orders",
                okey("U0", 0),
                "SET paid = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            ),
            update(
                "orders",
                okey("U7", 7),
                "SET amount = :t",
                ExpressionAttributeValues={":t": {"N": "1"}},
            ),
            put("stock", {**skey("S06"), "n": {"N": "60"}}),
        ],
        "unchanged",
    ),
    (
        "two failed conditions, ALL_OLD on one, a failing ConditionCheck on a missing item",
        [
            update(
                "stock", skey("S03"), "ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
            ),
            check(
                "stock",
                skey("S04"),
                "n > :big",
                ExpressionAttributeValues={":big": {"N": "100"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            delete("orders", okey("U1", 1), ConditionExpression="attribute_exists(nope)"),
            check("orders", okey("U5", 5), "attribute_exists(pk)"),
            put("orders", {**okey("U2", 50), "amount": {"N": "9"}}),
        ],
        "unchanged",
    ),
    (
        "the last action fails: everything before it is undone",
        [
            update("stock", skey("S10"), "REMOVE tags"),
            put("stock", skey("S99")),
            delete("orders", okey("U2", 2)),
            check("stock", skey("S01"), "attribute_not_exists(pk)"),
        ],
        "unchanged",
    ),
    (
        "a Put, an Update, a Delete and a ConditionCheck that all succeed",
        [
            put(
                "orders",
                {**okey("U4", 4), "amount": {"N": "12.5"}},
                ConditionExpression="attribute_not_exists(pk)",
            ),
            update("stock", skey("S09"), "SET n = n - :one", **DECREMENT),
            delete("orders", okey("U0", 3), ConditionExpression="attribute_exists(pk)"),
            check(
                "stock", skey("S08"), "n = :eight", ExpressionAttributeValues={":eight": {"N": "8"}}
            ),
            update(
                "orders",
                okey("U8", 8),
                "SET amount = :t",
                ExpressionAttributeValues={":t": {"N": "2"}},
            ),
        ],
        "changed",
    ),
    (
        "two actions on the same item",
        [
            put("orders", {**okey("U6", 60)}),
            update(
                "stock", skey("S11"), "SET n = :z", ExpressionAttributeValues={":z": {"N": "0"}}
            ),
            check("stock", skey("S11"), "attribute_exists(pk)"),
        ],
        "unchanged",
    ),
    (
        "the same item twice after a failed condition",
        [
            delete("stock", skey("S12"), ConditionExpression="attribute_not_exists(pk)"),
            put("stock", skey("S13")),
            delete("stock", skey("S13")),
        ],
        "unchanged",
    ),
    (
        "a key without its range attribute after two writes",
        [
            put("stock", {**skey("S14"), "n": {"N": "140"}}),
            update(
                "orders", okey("U1", 4), "SET x = :x", ExpressionAttributeValues={":x": {"S": "x"}}
            ),
            delete("orders", {"pk": {"S": "U1"}}),
        ],
        "unchanged",
    ),
    (
        "an update that fails while being applied",
        [
            put("stock", {**skey("S15"), "n": {"N": "150"}}),
            update(
                "stock", skey("S16"), "SET n = n + :s", ExpressionAttributeValues={":s": {"S": "x"}}
            ),
            update(
                "orders",
                okey("U0", 6),
                "SET amount = amount + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            ),
        ],
        "unchanged",
    ),
    (
        "a table that does not exist",
        [
            put("stock", {**skey("S17"), "n": {"N": "170"}}),
            check("no-such-table", skey("S17"), "attribute_exists(pk)"),
        ],
        "unchanged",
    ),
]


def query_pages(c: Any, **kwargs: Any) -> list[tuple]:
    """Every page of a Query: (items, Count, ScannedCount, LastEvaluatedKey)."""
    pages = []
    while True:
        page = c.query(**kwargs)
        pages.append(
            (page.get("Items"), page["Count"], page["ScannedCount"], page.get("LastEvaluatedKey"))
        )
        if "LastEvaluatedKey" not in page or len(pages) > 500:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def orders_state(n: int) -> dict[str, Any]:
    """An Orders-like table (user_id, order_id) with sparse GSIs on a constant, on a status
    and on a number; a few big items push pages to the 1 MB limit."""
    rng = random.Random(11)
    items = []
    for i in range(n):
        item: dict[str, Any] = {
            "user_id": {"S": f"U{rng.randrange(4):02d}"},
            "order_id": {"S": f"ORD-{i:04d}"},
            "amount": {"N": str(rng.choice([5, 20, 20, 33.5, 70.5, 99]))},
        }
        if rng.random() < 0.9:  # idempotency records lack these and stay out of the GSIs
            item["order_list"] = {"S": "ALL"}
            item["status"] = {"S": rng.choice(["pending", "paid", "shipped"])}
        if rng.random() < 0.03:
            item["filler"] = {"S": "x" * 200_000}
        items.append(item)
    attributes = [
        ("user_id", "S"),
        ("order_id", "S"),
        ("order_list", "S"),
        ("status", "S"),
        ("amount", "N"),
    ]

    def gsi(name: str, hash_name: str, range_name: str) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": hash_name, "KeyType": "HASH"},
                {"AttributeName": range_name, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    spec = {
        "TableName": "orders",
        "KeySchema": [
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in attributes],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            gsi("by_time", "order_list", "order_id"),
            gsi("by_status", "status", "order_id"),
            gsi("by_amount", "status", "amount"),
        ],
        "Items": items,
    }
    return {"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": [spec]}}}}


def fill(directory: Path) -> Path:
    """Fill the disk of ``directory`` to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler
