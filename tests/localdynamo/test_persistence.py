"""The local DynamoDB keeps tables, indexes and items across restarts, reads older state
files, refuses what it cannot restore faithfully, and runs one server per state file.

Every test runs real child processes on free ports with state files in tmp_path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from cloudstore.localdynamo import FORMAT_VERSION, LocalDynamo, start_local_dynamodb
from cloudstore.localdynamo.state import load_snapshot
from tests.helpers.localdynamo import (
    CONFIG,
    DEFAULT_ACCOUNT,
    PRODUCTS,
    REGION,
    client,
    create_products,
    file_stamp,
    scan_all,
    table,
    wait_for,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


def _state_1(tables: list[dict], account: str = DEFAULT_ACCOUNT) -> str:
    return json.dumps({"format": 1, "accounts": {account: {REGION: {"tables": tables}}}})


_FLAT = {
    "TableName": "flat",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
    "Items": [{"id": {"S": "a"}, "n": {"N": "1.50"}}],
}


def test_tables_items_and_gsi_survive_a_restart(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "state" / "dynamo.json"  # the directory does not exist yet
    server = start(state)
    c = client(server)
    create_products(c)
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
    client(server, region="us-east-1").create_table(
        TableName="virginia",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )
    before_items = scan_all(server, "products")
    before_desc = c.describe_table(TableName="products")["Table"]
    before_gsi = products.query(
        IndexName="by_category", KeyConditionExpression=Key("category").eq("books")
    )["Items"]
    assert [i["name"] for i in before_gsi] == ["Emma", "Dune"]  # sorted by price

    assert server.stop() == 0
    assert json.loads(state.read_text().splitlines()[0])["format"] == FORMAT_VERSION
    saved = load_snapshot(state)
    assert set(saved.regions) == {REGION, "us-east-1"}
    dune = next(
        i
        for t in saved.regions[REGION]
        if t["TableName"] == "products"
        for i in t["Items"]
        if i["pk"] == {"S": "PRODUCT#1"}
    )
    assert dune["huge"] == {"N": "12345678901234567890.123456789"}  # exact, as a string

    server = start(state)
    c = client(server)
    assert c.list_tables()["TableNames"] == ["products"]
    after_desc = c.describe_table(TableName="products")["Table"]
    for field in ("KeySchema", "TableName", "ItemCount", "CreationDateTime"):
        assert after_desc[field] == before_desc[field], field
    (gsi,) = after_desc["GlobalSecondaryIndexes"]
    assert gsi["KeySchema"] == before_desc["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}
    after_items = scan_all(server, "products")
    assert after_items == before_items
    assert after_items[0] == PRODUCTS[0]  # the rich item round-trips exactly
    assert (
        table(server, "products").query(
            IndexName="by_category", KeyConditionExpression=Key("category").eq("books")
        )["Items"]
        == before_gsi
    )
    products = table(server, "products")  # restored items are ordinary moto items
    products.update_item(
        Key={"pk": "PRODUCT#1", "sk": "META"},
        UpdateExpression="SET dims.nested.added = :v",
        ExpressionAttributeValues={":v": [Decimal("0.5")]},
    )
    updated = products.get_item(Key={"pk": "PRODUCT#1", "sk": "META"})["Item"]
    assert updated["dims"]["nested"]["added"] == [Decimal("0.5")]
    virginia = client(server, region="us-east-1").describe_table(TableName="virginia")["Table"]
    assert virginia["ProvisionedThroughput"]["WriteCapacityUnits"] == 4


def test_an_idle_server_never_rewrites_the_state(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    server = start(state)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[1])
    assert server.stop() == 0
    stamp = file_stamp(state)

    server = start(state)  # restoring is not a write, reads are not writes
    products = table(server, "products")
    products.get_item(Key={"pk": "PRODUCT#2", "sk": "META"})
    products.query(KeyConditionExpression=Key("pk").eq("PRODUCT#2"))
    products.scan()
    assert server.stop() == 0
    assert file_stamp(state) == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dynamo.json",
        "dynamo.json.compact.lock",
        "dynamo.json.lock",
    ]


def test_a_state_file_of_the_previous_format_is_read(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    state.write_text(_state_1([_FLAT]))
    server = start(state)
    assert client(server).get_item(TableName="flat", Key={"id": {"S": "a"}})["Item"] == {
        "id": {"S": "a"},
        "n": {"N": "1.50"},
    }


def test_a_state_file_with_local_indexes_is_refused_not_dropped(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    lsi = [{"IndexName": "l", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}}]
    state.write_text(_state_1([{**_FLAT, "LocalSecondaryIndexes": lsi}]))
    with pytest.raises(RuntimeError, match="uses LocalSecondaryIndexes"):
        start(state)


def test_a_state_file_with_other_accounts_is_refused(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    state.write_text(_state_1([_FLAT], account="111122223333"))
    with pytest.raises(RuntimeError, match="accounts 111122223333"):
        start(state)


def test_a_corrupt_state_file_is_reported_and_left_alone(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    state.write_text('{"format": 2, "regions": {')
    with pytest.raises(RuntimeError, match="not valid JSON"):
        start(state)
    assert state.read_text() == '{"format": 2, "regions": {'


def test_a_state_file_of_an_unknown_format_is_refused(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    state.write_text('{"format": 99, "regions": {}}')
    with pytest.raises(RuntimeError, match="format 99"):
        start(state)


def test_one_server_per_state_file(tmp_path: Path, start: Callable[..., LocalDynamo]) -> None:
    state = tmp_path / "dynamo.json"
    first = start(state)
    with pytest.raises(RuntimeError, match=f"in use by another local DynamoDB \\(pid {first.pid}"):
        start(state, lock_timeout=0.5)


def test_a_successor_waits_for_its_predecessor_to_stop(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    first = start(state)
    create_products(client(first))
    table(first, "products").put_item(Item=PRODUCTS[2])
    first.process.send_signal(signal.SIGTERM)  # do not wait for it
    second = start(state)
    assert first.process.wait(timeout=10) == 0
    assert scan_all(second, "products") == [PRODUCTS[2]]


def test_a_restart_on_the_same_port_serves_the_same_data(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    first = start(state)
    port = int(first.endpoint.rsplit(":", 1)[1])
    create_products(client(first))
    table(first, "products").put_item(Item=PRODUCTS[2])
    first.process.kill()
    first.stop()
    second = start(state, port=port)
    assert second.endpoint == first.endpoint
    assert scan_all(second, "products") == [PRODUCTS[2]]


def test_refuses_to_bind_to_all_interfaces(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    with pytest.raises(RuntimeError, match="refusing to bind"):
        start(tmp_path / "dynamo.json", host="0.0.0.0")  # noqa: S104


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_child_exits_and_compacts_when_its_parent_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "dynamo.json"
    parent_code = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from cloudstore.localdynamo import start_local_dynamodb
        server = start_local_dynamodb(Path(sys.argv[1]))
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
        c = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, config=CONFIG)
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
    (orphan,) = load_snapshot(state).regions[REGION]
    assert orphan["Items"] == [{"pk": {"S": "kept"}}]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
def test_a_burst_of_stop_signals_still_stops_cleanly(tmp_path: Path) -> None:
    """A parent's death delivers SIGTERM while other stop signals may follow (a terminal's
    SIGHUP, a second SIGTERM); handlers re-entered inside each other must not deadlock."""
    for attempt in range(3):
        server = start_local_dynamodb(tmp_path / f"burst-{attempt}.json")
        try:
            for _ in range(50):
                for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                    server.process.send_signal(signum)
            assert server.process.wait(timeout=15) == 0
        finally:
            server.stop(timeout=5)


def test_a_backup_taken_while_running_restores_every_confirmed_write(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "live" / "dynamo.json"
    server = start(state)
    create_products(client(server))
    for item in PRODUCTS[:3]:
        table(server, "products").put_item(Item=item)
    backup = tmp_path / "backup.json"
    subprocess.run(
        [sys.executable, "-m", "cloudstore.localdynamo.compact", "--state", str(state)]
        + ["--to", str(backup)],
        check=True,
    )
    before = scan_all(server, "products")

    restored = start(backup)
    assert scan_all(restored, "products") == before
