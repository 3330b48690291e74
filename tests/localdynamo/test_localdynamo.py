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


# --------------------------------------------------------------------------- TransactWriteItems


def _txn_state(n_stock: int = 20) -> dict[str, Any]:
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


def _contents(c: Any) -> dict[str, list[tuple]]:
    """Every item of both tables, through the (fast or moto's) paged Scan and GetItem."""
    out: dict[str, list[tuple]] = {}
    for name in ("stock", "orders"):
        pages = _scan_pages(c, TableName=name, Limit=4)
        items = [item for page in pages for item in page[0]]
        keys = ("pk", "sk") if name == "orders" else ("pk",)
        for item in items:  # GetItem agrees with Scan
            got = c.get_item(TableName=name, Key={k: item[k] for k in keys}, ConsistentRead=True)
            assert got["Item"] == item
        out[name] = [json.dumps(item, sort_keys=True) for item in items]
    return out


def _transact(c: Any, actions: list[dict[str, Any]]) -> dict[str, Any]:
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


def _put(table: str, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, **extra}}


def _update(table: str, key: dict[str, Any], expr: str, **extra: Any) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": expr, **extra}}


def _delete(table: str, key: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": key, **extra}}


def _check(table: str, key: dict[str, Any], cond: str, **extra: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": cond, **extra}
    }


def _s(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _o(pk: str, sk: int) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


_DECREMENT = {
    "ConditionExpression": "n >= :one",
    "ExpressionAttributeValues": {":one": {"N": "1"}},
}

#: (label, actions, what the fast server must show: "unchanged" or "changed")
_TRANSACTIONS: list[tuple[str, list[dict[str, Any]], str]] = [
    (
        "condition fails in the middle; a Put would create, Updates would change and create",
        [
            _put("orders", {**_o("U9", 1), "amount": {"N": "3"}}),
            _update("stock", _s("S05"), "SET n = n - :one", **_DECREMENT),
            _update("stock", _s("S00"), "SET n = n - :one", **_DECREMENT),  # n = 0: fails
            _delete("stock", _s("S07")),
            _update(
                "orders",
                _o("U0", 0),
                "SET paid = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            ),
            _update(
                "orders",
                _o("U7", 7),
                "SET amount = :t",
                ExpressionAttributeValues={":t": {"N": "1"}},
            ),
            _put("stock", {**_s("S06"), "n": {"N": "60"}}),
        ],
        "unchanged",
    ),
    (
        "two failed conditions, ALL_OLD on one, a failing ConditionCheck on a missing item",
        [
            _update(
                "stock", _s("S03"), "ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
            ),
            _check(
                "stock",
                _s("S04"),
                "n > :big",
                ExpressionAttributeValues={":big": {"N": "100"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            _delete("orders", _o("U1", 1), ConditionExpression="attribute_exists(nope)"),
            _check("orders", _o("U5", 5), "attribute_exists(pk)"),
            _put("orders", {**_o("U2", 50), "amount": {"N": "9"}}),
        ],
        "unchanged",
    ),
    (
        "the last action fails: everything before it is undone",
        [
            _update("stock", _s("S10"), "REMOVE tags"),
            _put("stock", _s("S99")),
            _delete("orders", _o("U2", 2)),
            _check("stock", _s("S01"), "attribute_not_exists(pk)"),
        ],
        "unchanged",
    ),
    (
        "a Put, an Update, a Delete and a ConditionCheck that all succeed",
        [
            _put(
                "orders",
                {**_o("U4", 4), "amount": {"N": "12.5"}},
                ConditionExpression="attribute_not_exists(pk)",
            ),
            _update("stock", _s("S09"), "SET n = n - :one", **_DECREMENT),
            _delete("orders", _o("U0", 3), ConditionExpression="attribute_exists(pk)"),
            _check(
                "stock", _s("S08"), "n = :eight", ExpressionAttributeValues={":eight": {"N": "8"}}
            ),
            _update(
                "orders",
                _o("U8", 8),
                "SET amount = :t",
                ExpressionAttributeValues={":t": {"N": "2"}},
            ),
        ],
        "changed",
    ),
    (
        "two actions on the same item",
        [
            _put("orders", {**_o("U6", 60)}),
            _update("stock", _s("S11"), "SET n = :z", ExpressionAttributeValues={":z": {"N": "0"}}),
            _check("stock", _s("S11"), "attribute_exists(pk)"),
        ],
        "unchanged",
    ),
    (
        "the same item twice after a failed condition",
        [
            _delete("stock", _s("S12"), ConditionExpression="attribute_not_exists(pk)"),
            _put("stock", _s("S13")),
            _delete("stock", _s("S13")),
        ],
        "unchanged",
    ),
    (
        "a key without its range attribute after two writes",
        [
            _put("stock", {**_s("S14"), "n": {"N": "140"}}),
            _update(
                "orders", _o("U1", 4), "SET x = :x", ExpressionAttributeValues={":x": {"S": "x"}}
            ),
            _delete("orders", {"pk": {"S": "U1"}}),
        ],
        "unchanged",
    ),
    (
        "an update that fails while being applied",
        [
            _put("stock", {**_s("S15"), "n": {"N": "150"}}),
            _update(
                "stock", _s("S16"), "SET n = n + :s", ExpressionAttributeValues={":s": {"S": "x"}}
            ),
            _update(
                "orders",
                _o("U0", 6),
                "SET amount = amount + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            ),
        ],
        "unchanged",
    ),
    (
        "a table that does not exist",
        [
            _put("stock", {**_s("S17"), "n": {"N": "170"}}),
            _check("no-such-table", _s("S17"), "attribute_exists(pk)"),
        ],
        "unchanged",
    ),
]


def test_transactions_roll_back_exactly_like_moto(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    """The same transactions on a server with the per-item undo and one with moto's
    table-copying transact_write_items give the same answers and the same tables; a
    failed transaction leaves every item as it was (checked through GetItem and the fast
    paged Scan, whose caches must follow the rollback)."""
    state = json.dumps(_txn_state())
    (tmp_path / "fast.json").write_text(state)
    (tmp_path / "moto.json").write_text(state)
    fast_server = start(tmp_path / "fast.json", save_interval=3600)
    fast = client(fast_server)
    moto = client(start(tmp_path / "moto.json", save_interval=3600, fast_transactions=False))

    assert _contents(fast) == _contents(moto)
    for label, actions, effect in _TRANSACTIONS:
        before = _contents(fast)
        got, want = _transact(fast, actions), _transact(moto, actions)
        assert got == want, label
        after = _contents(fast)
        if effect == "unchanged":
            assert got["code"] is not None, label
            assert after == before, label
        else:
            assert got["code"] is None, (label, got)
            assert after != before, label
        assert after == _contents(moto), label

    # spot checks of what moto answered (and we must too)
    outcomes = [_transact(fast, actions) for _, actions, _ in _TRANSACTIONS[:2]]
    assert outcomes[0]["code"] == "TransactionCanceledException"
    assert [r["Code"] for r in outcomes[0]["reasons"]] == [
        "None",
        "None",
        "ConditionalCheckFailed",
        "None",
        "None",
        "None",
        "None",
    ]
    assert [r["Code"] for r in outcomes[1]["reasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "None",
    ]
    assert outcomes[1]["reasons"][1]["Item"]["n"] == {"N": "4"}
    assert _transact(fast, _TRANSACTIONS[4][1])["code"] == "ValidationException"

    assert "keeping moto's own" not in fast_server.stderr_tail()  # the undo log was in use

    # the successful mix really applied every action
    assert "Item" not in fast.get_item(TableName="orders", Key=_o("U0", 3))
    assert fast.get_item(TableName="stock", Key=_s("S09"))["Item"]["n"] == {"N": "8"}
    assert fast.get_item(TableName="orders", Key=_o("U4", 4))["Item"]["amount"] == {"N": "12.5"}
    assert fast.get_item(TableName="orders", Key=_o("U8", 8))["Item"]["amount"] == {"N": "2"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
def test_a_burst_of_stop_signals_still_saves_and_exits(tmp_path: Path) -> None:
    """A parent's death delivers SIGTERM while other stop signals may follow (a terminal's
    SIGHUP, a second SIGTERM); handlers re-entered inside each other must not deadlock."""
    for attempt in range(3):
        server = start_local_dynamodb(tmp_path / f"burst-{attempt}.json", save_interval=3600)
        try:
            for _ in range(50):
                for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                    server.process.send_signal(signum)
            assert server.process.wait(timeout=15) == 0
        finally:
            server.stop(timeout=5)
