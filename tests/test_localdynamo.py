"""Tests for cloudstore.localdynamo: a moto DynamoDB server whose data survives restarts.

Every test runs real child processes on free ports (port 0) with state files in
tmp_path, and talks to them with plain synchronous boto3.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.config import Config

from cloudstore.localdynamo import FORMAT_VERSION, LocalDynamo, start_local_dynamodb

REGION = "ap-southeast-1"
DEFAULT_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, inherited by the child processes too."""
    for name in (
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "MOTO_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def start() -> Iterator[Callable[..., LocalDynamo]]:
    """Start servers; whatever is still running at teardown is stopped."""
    started: list[LocalDynamo] = []

    def _start(state: Path, **kwargs: Any) -> LocalDynamo:
        server = start_local_dynamodb(state, **kwargs)
        started.append(server)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.endpoint), server.endpoint
        return server

    yield _start
    for server in started:
        server.stop(timeout=10)


_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60
)


def client(server: LocalDynamo, account: str | None = None, region: str = REGION) -> Any:
    c = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=region, config=_CONFIG)
    if account:  # moto's way to address another account
        c.meta.events.register(
            "before-sign.dynamodb.*",
            lambda request, **_: request.headers.__setitem__("x-moto-account-id", account),
        )
    return c


def table(server: LocalDynamo, name: str) -> Any:
    resource = boto3.resource(
        "dynamodb", endpoint_url=server.endpoint, region_name=REGION, config=_CONFIG
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


# --------------------------------------------------------------------------- tests


def test_tables_items_and_gsi_survive_a_restart(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "state" / "dynamo.json"  # parent dir does not exist yet
    server = start(state, save_interval=30)  # only the SIGTERM save can persist this
    c = client(server)
    create_products(c)
    c.create_table(
        TableName="sessions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    c.update_time_to_live(
        TableName="sessions",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    products = table(server, "products")
    with products.batch_writer() as batch:
        for item in PRODUCTS:
            batch.put_item(Item=item)
    products.update_item(
        Key={"pk": "PRODUCT#2", "sk": "META"},
        UpdateExpression="ADD stock :n SET price = :p",
        ExpressionAttributeValues={":n": Decimal("7"), ":p": Decimal("6.25")},
    )
    products.delete_item(Key={"pk": "PRODUCT#9", "sk": "META"})
    table(server, "sessions").put_item(
        Item={"pk": "S1", "user": "u1", "expires_at": Decimal("1893456000")}
    )
    # Other accounts and regions are persisted too.
    client(server, account=OTHER_ACCOUNT).create_table(
        TableName="elsewhere",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client(server, account=OTHER_ACCOUNT).put_item(
        TableName="elsewhere", Item={"id": {"N": "1"}, "v": {"S": "other account"}}
    )
    client(server, region="us-east-1").create_table(
        TableName="virginia",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )

    before_items = scan_all(server, "products")
    before_sessions = scan_all(server, "sessions")
    before_desc = c.describe_table(TableName="products")["Table"]
    before_gsi = table(server, "products").query(
        IndexName="by_category", KeyConditionExpression=Key("category").eq("books")
    )["Items"]
    assert [i["name"] for i in before_gsi] == ["Emma", "Dune"]  # sorted by price
    assert not state.exists()  # nothing saved yet (interval is 30 s)

    assert server.stop() == 0
    saved = json.loads(state.read_text())
    assert saved["format"] == FORMAT_VERSION
    assert set(saved["accounts"]) == {DEFAULT_ACCOUNT, OTHER_ACCOUNT}
    assert set(saved["accounts"][DEFAULT_ACCOUNT]) == {REGION, "us-east-1"}
    dune = next(
        i
        for t in saved["accounts"][DEFAULT_ACCOUNT][REGION]["tables"]
        if t["TableName"] == "products"
        for i in t["Items"]
        if i["pk"] == {"S": "PRODUCT#1"}
    )
    assert dune["huge"] == {"N": "12345678901234567890.123456789"}  # exact, as a string
    assert dune["notes"] == {"NULL": True}

    server = start(state)
    c = client(server)
    assert sorted(c.list_tables()["TableNames"]) == ["products", "sessions"]
    after_desc = c.describe_table(TableName="products")["Table"]
    for field in ("KeySchema", "TableName", "ItemCount", "CreationDateTime"):
        assert after_desc[field] == before_desc[field], field
    assert sorted(after_desc["AttributeDefinitions"], key=str) == sorted(
        before_desc["AttributeDefinitions"], key=str
    )
    assert after_desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (gsi,) = after_desc["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "by_category"
    assert gsi["KeySchema"] == before_desc["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}

    after_items = scan_all(server, "products")
    assert after_items == before_items
    assert after_items[0] == PRODUCTS[0]  # the rich item round-trips exactly
    assert isinstance(after_items[0]["huge"], Decimal)
    assert after_items[1]["stock"] == Decimal("7") and after_items[1]["price"] == Decimal("6.25")
    assert all(i["pk"] != "PRODUCT#9" for i in after_items)  # the delete persisted
    assert scan_all(server, "sessions") == before_sessions

    after_gsi = table(server, "products").query(
        IndexName="by_category", KeyConditionExpression=Key("category").eq("books")
    )["Items"]
    assert after_gsi == before_gsi
    assert set(after_gsi[0]) == {"pk", "sk", "category", "price", "name"}  # INCLUDE projection

    # Restored items are ordinary moto items: they can be updated and sized.
    products = table(server, "products")
    products.update_item(
        Key={"pk": "PRODUCT#1", "sk": "META"},
        UpdateExpression="SET dims.nested.added = :v, price = :p",
        ExpressionAttributeValues={":v": [Decimal("0.5")], ":p": Decimal("21")},
    )
    updated = products.get_item(Key={"pk": "PRODUCT#1", "sk": "META"})["Item"]
    assert updated["dims"]["nested"]["added"] == [Decimal("0.5")]
    assert updated["price"] == Decimal("21") and updated["huge"] == PRODUCTS[0]["huge"]

    ttl = c.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

    other = client(server, account=OTHER_ACCOUNT)
    assert other.list_tables()["TableNames"] == ["elsewhere"]
    assert other.get_item(TableName="elsewhere", Key={"id": {"N": "1"}})["Item"]["v"] == {
        "S": "other account"
    }
    virginia = client(server, region="us-east-1").describe_table(TableName="virginia")["Table"]
    assert virginia["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert virginia["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert virginia["ProvisionedThroughput"]["WriteCapacityUnits"] == 4


def test_writes_survive_sigkill_after_the_save_interval(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    interval = 0.25
    server = start(state, save_interval=interval)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[0])
    time.sleep(interval * 6)

    server.process.kill()  # no chance to save on the way out
    assert server.process.wait(timeout=10) == -signal.SIGKILL
    server.stop()

    server = start(state, save_interval=interval)
    assert scan_all(server, "products") == [PRODUCTS[0]]
    assert client(server).describe_table(TableName="products")["Table"]["GlobalSecondaryIndexes"]


def test_snapshots_taken_during_concurrent_writes_are_consistent(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    """Writers race the saver (which walks moto's dicts while they change)."""
    state = tmp_path / "dynamo.json"
    server = start(state, save_interval=0.05, verbose=True)
    c = client(server)
    create_products(c)
    products = table(server, "products")
    with products.batch_writer() as batch:
        for i in range(2000):
            batch.put_item(Item={"pk": f"P{i % 50}", "sk": f"S{i}", "m": {"l": [Decimal(i)]}})

    deadline = time.monotonic() + 3
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        t = table(server, "products")
        try:
            while time.monotonic() < deadline:
                i = rng.randrange(2500)
                key = {"pk": f"P{i % 50}", "sk": f"S{i}"}
                roll = rng.random()
                if roll < 0.4:
                    t.put_item(Item=key | {"m": {"l": [Decimal(i), {"w": Decimal(seed)}]}})
                elif roll < 0.8:
                    t.update_item(
                        Key=key,
                        UpdateExpression="SET m = :m ADD hits :one",
                        ExpressionAttributeValues={":m": {"x": [Decimal(seed)]}, ":one": 1},
                    )
                else:
                    t.delete_item(Key=key)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    before = scan_all(server, "products")

    assert server.stop() == 0
    log_text = server.stderr_tail()
    assert log_text.count("saved ") >= 3, log_text  # saves really overlapped the writes
    assert "ERROR" not in log_text and "Traceback" not in log_text, log_text

    server = start(state)
    assert scan_all(server, "products") == before


def test_idle_server_does_not_rewrite_the_state_file(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    interval = 0.2
    server = start(state, save_interval=interval)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[1])
    wait_for(state.exists, what="first save")
    time.sleep(interval * 3)  # let a save that raced the check finish
    stamp = file_stamp(state)

    # Reads are not writes.
    products = table(server, "products")
    for _ in range(3):
        products.get_item(Key={"pk": "PRODUCT#2", "sk": "META"})
        products.query(KeyConditionExpression=Key("pk").eq("PRODUCT#2"))
        products.scan()
        client(server).describe_table(TableName="products")
        client(server).list_tables()
    time.sleep(interval * 6)
    assert file_stamp(state) == stamp
    assert server.stop() == 0  # nothing dirty: no save on shutdown either
    assert file_stamp(state) == stamp

    server = start(state, save_interval=interval)  # restoring is not a write
    time.sleep(interval * 6)
    assert server.stop() == 0
    assert file_stamp(state) == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dynamo.json", "dynamo.json.lock"]


def test_corrupt_state_file_is_reported_and_left_alone(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    state.write_text('{"format": 1, "accounts": {')
    with pytest.raises(RuntimeError, match="not valid JSON"):
        start(state)
    assert state.read_text() == '{"format": 1, "accounts": {'

    state.write_text('{"format": 99, "accounts": {}}')
    with pytest.raises(RuntimeError, match="format 99"):
        start(state)


def test_one_server_per_state_file(tmp_path: Path, start: Callable[..., LocalDynamo]) -> None:
    state = tmp_path / "dynamo.json"
    first = start(state, save_interval=3600)
    with pytest.raises(
        RuntimeError, match=f"in use by another local DynamoDB \\(pid {first.pid}\\)"
    ):
        start(state, lock_timeout=0.5)

    # A successor started while its predecessor is still shutting down waits
    # for the predecessor's final save instead of restoring a stale file.
    create_products(client(first))
    table(first, "products").put_item(Item=PRODUCTS[2])
    first.process.send_signal(signal.SIGTERM)  # do not wait for it
    second = start(state)
    assert first.process.wait(timeout=10) == 0
    assert scan_all(second, "products") == [PRODUCTS[2]]


def test_refuses_to_bind_to_all_interfaces(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    with pytest.raises(RuntimeError, match="refusing to bind"):
        start(tmp_path / "dynamo.json", host="0.0.0.0")  # noqa: S104


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_child_saves_and_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "dynamo.json"
    parent_code = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from cloudstore.localdynamo import start_local_dynamodb
        server = start_local_dynamodb(Path(sys.argv[1]), save_interval=3600)
        print(server.endpoint, server.pid, flush=True)
        time.sleep(3600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code, str(state)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        endpoint, pid = parent.stdout.readline().split()
        c = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, config=_CONFIG)
        c.create_table(
            TableName="orphan",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        c.put_item(TableName="orphan", Item={"pk": {"S": "kept"}})
    finally:
        parent.kill()
        parent.wait()

    def child_gone() -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        return "\nState:\tZ" in status  # exited, waiting to be reaped

    wait_for(child_gone, timeout=15, what="orphaned child to exit")
    saved = json.loads(state.read_text())
    (orphan,) = saved["accounts"][DEFAULT_ACCOUNT][REGION]["tables"]
    assert orphan["Items"] == [{"pk": {"S": "kept"}}]


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
    save_log = re.search(r"saved .* in ([\d.]+)s \(snapshot ([\d.]+)s, write ([\d.]+)s\)", log_text)
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
            f"[localdynamo]   save (child log):        {float(save_log[1]):.2f}s = snapshot "
            f"{float(save_log[2]):.2f}s + write {float(save_log[3]):.2f}s "
            f"(SIGTERM to exit {stop_wall:.2f}s wall)\n"
            f"[localdynamo]   restart with {n + 1} items: {restart_wall:.2f}s wall"
        )


# --------------------------------------------------------------------------- the fast Scan


def _raw_scan(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """One Scan over plain HTTP: moto checks no signature, and skipping botocore's parser
    keeps the client from dominating the timings below."""
    import urllib.request

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


def _scan_pages(c: Any, **kwargs: Any) -> list[tuple]:
    pages = []
    while True:
        page = c.scan(**kwargs)
        pages.append(
            (page.get("Items"), page["Count"], page["ScannedCount"], page.get("LastEvaluatedKey"))
        )
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _mixed_state(n: int) -> dict[str, Any]:
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


def test_fast_scan_returns_exactly_what_motos_scan_returns(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = json.dumps(_mixed_state(400))
    (tmp_path / "fast.json").write_text(state)
    (tmp_path / "slow.json").write_text(state)
    fast = client(start(tmp_path / "fast.json", save_interval=3600))
    slow = client(start(tmp_path / "slow.json", save_interval=3600, fast_scan=False))

    requests: list[dict[str, Any]] = [
        {"TableName": "mixed"},
        {"TableName": "mixed", "Limit": 7},
        {"TableName": "flat", "Limit": 33},
        {"TableName": "flat"},
        {"TableName": "mixed", "ConsistentRead": True, "ReturnConsumedCapacity": "TOTAL"},
        # not the plain case: served by moto's own scan in both
        {
            "TableName": "mixed",
            "Limit": 50,
            "FilterExpression": "attribute_exists(tags)",
        },
        {"TableName": "mixed", "ProjectionExpression": "pk, sk"},
        {"TableName": "mixed", "Select": "COUNT"},
    ]
    for segment in range(3):
        requests.append({"TableName": "mixed", "Segment": segment, "TotalSegments": 3})
        requests.append({"TableName": "mixed", "Segment": segment, "TotalSegments": 3, "Limit": 25})
    requests.append({"TableName": "mixed", "Segment": 3, "TotalSegments": 4})
    requests.append({"TableName": "flat", "Segment": 1, "TotalSegments": 2, "Limit": 10})

    def compare(label: str) -> None:
        for request in requests:
            got, want = _scan_pages(fast, **request), _scan_pages(slow, **request)
            assert got == want, (label, request)
        # a start key in the middle of nowhere (not an item) bisects the same way
        odd = {"pk": {"S": "P00100"}, "sk": {"N": "5"}}
        for extra in ({}, {"Segment": 2, "TotalSegments": 3}):
            request = {"TableName": "mixed", "Limit": 30, "ExclusiveStartKey": odd, **extra}
            assert _scan_pages(fast, **request) == _scan_pages(slow, **request), label

    compare("restored")
    pages = [
        len(_scan_pages(fast, TableName="mixed", Segment=k, TotalSegments=3)) for k in range(3)
    ]
    assert min(pages) > 1  # the 1 MB size limit really split the pages

    for c in (fast, slow):  # the same writes on both servers
        first = c.scan(TableName="mixed", Limit=1)["Items"][0]
        key = {"pk": first["pk"], "sk": first["sk"]}
        c.update_item(
            TableName="mixed",
            Key=key,
            UpdateExpression="SET filler = :b",
            ExpressionAttributeValues={":b": {"S": "y" * 300_000}},
        )
        c.put_item(TableName="mixed", Item={"pk": {"S": "P00000"}, "sk": {"N": "-1"}})
        c.put_item(TableName="flat", Item={"id": {"S": "K0000"}, "v": {"S": "replaced"}})
        c.delete_item(TableName="flat", Key={"id": {"S": "K0003"}})
        with pytest.raises(c.exceptions.TransactionCanceledException):
            c.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "mixed",
                            "Key": key,
                            "UpdateExpression": "SET grown = :g",
                            "ExpressionAttributeValues": {":g": {"S": "z" * 1000}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": "flat",
                            "Key": {"id": {"S": "K0001"}},
                            "ConditionExpression": "attribute_not_exists(id)",
                        }
                    },
                ]
            )
        c.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "flat",
                        "Key": {"id": {"S": "K0002"}},
                        "UpdateExpression": "SET big = :g",
                        "ExpressionAttributeValues": {":g": {"S": "z" * 200_000}},
                    }
                },
            ]
        )
    compare("after writes")


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
