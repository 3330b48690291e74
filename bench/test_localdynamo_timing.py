"""Timings of the local DynamoDB (not tests: they print, they assert nothing about speed).

Run with: python -m pytest bench/test_localdynamo_timing.py -s -q
"""

import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudstore.localdynamo import LocalDynamo, start_local_dynamodb
from tests.helpers.localdynamo import DEFAULT_ACCOUNT, REGION, client
from tests.helpers.localdynamo import raw_scan as _raw_scan
from tests.helpers.localdynamo import transact as _transact
from tests.helpers.localdynamo import update as _update


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


@pytest.fixture
def start():
    started: list[LocalDynamo] = []

    def _start(state: Path, **kwargs: Any) -> LocalDynamo:
        started.append(start_local_dynamodb(state, **kwargs))
        return started[-1]

    yield _start
    for server in started:
        server.stop(timeout=60)


def test_save_and_restore_20k_items_timing(
    tmp_path: Path, start: Callable[..., LocalDynamo], capsys: pytest.CaptureFixture[str]
) -> None:
    """Performance sanity check: prints timings, asserts only correctness."""
    n = 20_000
    state = tmp_path / "dynamo.json"

    t0 = time.perf_counter()
    server = start(tmp_path / "empty.json")
    empty_start = time.perf_counter() - t0
    server.stop()

    # Build a state file the way the server writes it (format 1).
    items = [
        {
            "pk": {"S": f"PRODUCT#{i // 10:05d}"},
            "sk": {"S": f"VARIANT#{i % 10}"},
            "category": {"S": f"cat-{i % 17}"},
            "price": {"N": f"{i % 1000}.{i % 100:02d}"},
            "name": {"S": f"Product number {i} with a reasonably long name"},
            "in_stock": {"BOOL": i % 3 == 0},
            "tags": {"SS": ["a", f"t{i % 5}"]},
            "dims": {"M": {"w": {"N": "10.5"}, "h": {"N": str(i)}, "none": {"NULL": True}}},
            "history": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"BOOL": False}}}]},
        }
        for i in range(n)
    ]
    spec = {
        "TableName": "products",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "category", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_category",
                "KeySchema": [{"AttributeName": "category", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "Items": items,
    }
    state.write_text(
        json.dumps(
            {"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": [spec]}}}},
        )
    )
    size_mb = state.stat().st_size / 1e6

    t0 = time.perf_counter()
    server = start(state, save_interval=3600)
    restore_wall = time.perf_counter() - t0
    c = client(server)
    assert c.describe_table(TableName="products")["Table"]["ItemCount"] == n
    got = c.get_item(TableName="products", Key={"pk": items[1234]["pk"], "sk": items[1234]["sk"]})
    assert got["Item"] == items[1234]
    c.put_item(TableName="products", Item={"pk": {"S": "NEW"}, "sk": {"S": "ONE"}})

    t0 = time.perf_counter()
    assert server.stop(timeout=60) == 0  # the shutdown save of 20,001 items
    stop_wall = time.perf_counter() - t0
    log_text = server.stderr_tail()
    restore_log = re.search(r"restored .* in ([\d.]+)s", log_text)
    save_log = re.search(r"compacted .* in ([\d.]+)s", log_text)
    assert restore_log and save_log, log_text

    t0 = time.perf_counter()
    server = start(state, save_interval=3600)
    restart_wall = time.perf_counter() - t0
    assert client(server).describe_table(TableName="products")["Table"]["ItemCount"] == n + 1
    server.stop()

    with capsys.disabled():
        print(
            f"\n[localdynamo] {n} items, state file {size_mb:.1f} MB\n"
            f"[localdynamo]   start with empty state:  {empty_start:.2f}s wall\n"
            f"[localdynamo]   restore (child log):     {float(restore_log[1]):.2f}s "
            f"(start to READY {restore_wall:.2f}s wall)\n"
            f"[localdynamo]   compaction at stop:      {float(save_log[1]):.2f}s "
            f"(SIGTERM to exit {stop_wall:.2f}s wall)\n"
            f"[localdynamo]   restart with {n + 1} items: {restart_wall:.2f}s wall"
        )


def test_fast_scan_timing_50k_items_4_segments(
    tmp_path: Path, start: Callable[..., LocalDynamo], capsys: pytest.CaptureFixture[str]
) -> None:
    """Prints the time of a full 4-segment parallel Scan; asserts only the item count.

    moto's own scan is quadratic: it is given a time budget and its total is projected
    from the part it finished."""
    n = int(os.environ.get("CLOUDSTORE_SCAN_TIMING_ITEMS", "50000"))
    budget = float(os.environ.get("CLOUDSTORE_SCAN_TIMING_BUDGET", "20"))
    items = [
        {
            "product_id": {"S": f"P{i:06d}"},
            "category": {"S": ("compute", "storage", "database", "networking")[i % 4]},
            "name": {"S": f"Nimbus Compute Instance {i}"},
            "description": {"S": "A reasonably long product description. " * 18},
            "price": {"N": f"{i % 1000}.50"},
            "image_url": {"S": "/static/img/products/lambda.svg"},
            "stock": {"N": str(i % 50)},
            "created_at": {"S": "2024-01-01T00:00:00.000Z"},
        }
        for i in range(n)
    ]
    spec = {
        "TableName": "Products",
        "KeySchema": [
            {"AttributeName": "product_id", "KeyType": "HASH"},
            {"AttributeName": "category", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "product_id", "AttributeType": "S"},
            {"AttributeName": "category", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "Items": items,
    }
    state = json.dumps({"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": [spec]}}}})

    def full_scan(server: LocalDynamo, deadline: float) -> tuple[int, float, bool]:
        counts = [0] * 4
        done = [False] * 4

        def segment(number: int) -> None:
            body: dict[str, Any] = {"TableName": "Products", "Segment": number, "TotalSegments": 4}
            while time.monotonic() < deadline:
                page = _raw_scan(server.endpoint, body)
                counts[number] += page["Count"]
                if "LastEvaluatedKey" not in page:
                    done[number] = True
                    return
                body["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        started = time.perf_counter()
        threads = [threading.Thread(target=segment, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts), time.perf_counter() - started, all(done)

    lines = []
    for label, fast in (("fast scan", True), ("moto's scan", False)):
        path = tmp_path / f"{label[:4]}.json"
        path.write_text(state)
        server = start(path, save_interval=3600, fast_scan=fast)
        limit = time.monotonic() + (3600 if fast else budget)
        count, seconds, complete = full_scan(server, limit)
        if fast:
            assert complete and count == n
            count2, seconds2, _ = full_scan(server, time.monotonic() + 3600)
            lines.append(f"{label}: {n} items in {seconds:.2f}s (again: {seconds2:.2f}s)")
        elif complete:
            lines.append(f"{label}: {n} items in {seconds:.2f}s")
        else:
            # pages cost ~ the items before them, so time grows with the square of items
            projected = seconds * (n / max(count, 1)) ** 2
            lines.append(
                f"{label}: {count} of {n} items in {seconds:.1f}s (budget); "
                f"projected full scan ~{projected:.0f}s"
            )
        server.stop()
    with capsys.disabled():
        print("\n[localdynamo] 4-segment parallel Scan, ~1 KB items")
        for line in lines:
            print(f"[localdynamo]   {line}")


def test_transaction_timing_50k_items(
    tmp_path: Path, start: Callable[..., LocalDynamo], capsys: pytest.CaptureFixture[str]
) -> None:
    """Prints the time of one 3-line checkout-like transaction on a 50,000-item table with
    moto's table-copying rollback and with the per-item undo; asserts only the outcome."""
    n = int(os.environ.get("CLOUDSTORE_SCAN_TIMING_ITEMS", "50000"))
    items = [
        {
            "product_id": {"S": f"P{i:06d}"},
            "name": {"S": f"Nimbus Compute Instance {i}"},
            "description": {"S": "A reasonably long product description. " * 18},
            "price": {"N": f"{i % 1000}.50"},
            "stock": {"N": str(10 + i % 50)},
        }
        for i in range(n)
    ]
    spec = {
        "TableName": "Products",
        "KeySchema": [{"AttributeName": "product_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "product_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Items": items,
    }
    state = json.dumps({"format": 1, "accounts": {DEFAULT_ACCOUNT: {REGION: {"tables": [spec]}}}})

    def checkout(c: Any, qty: int) -> dict[str, Any]:
        return _transact(
            c,
            [
                _update(
                    "Products",
                    {"product_id": {"S": f"P{i:06d}"}},
                    "SET stock = stock - :q",
                    ConditionExpression="stock >= :q",
                    ExpressionAttributeValues={":q": {"N": str(qty)}},
                )
                for i in (1, n // 2, n - 1)
            ],
        )

    lines = []
    for label, fast in (("moto's rollback", False), ("per-item undo", True)):
        path = tmp_path / f"{label[:4]}.json"
        path.write_text(state)
        c = client(start(path, save_interval=3600, fast_transactions=fast))
        timings = []
        for qty, expected in ((1, None), (1000, "TransactionCanceledException")):
            started = time.perf_counter()
            assert checkout(c, qty)["code"] == expected
            timings.append(time.perf_counter() - started)
        lines.append(f"{label}: ok {timings[0]:.3f}s, cancelled {timings[1]:.3f}s")
    with capsys.disabled():
        print(f"\n[localdynamo] one 3-line TransactWriteItems on a {n}-item table")
        for line in lines:
            print(f"[localdynamo]   {line}")
