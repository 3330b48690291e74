"""A write the local DynamoDB confirms is on disk: it survives kill -9 at once, a damaged
journal tail is reported with what it held, compaction runs under writes without losing
any, and a full disk turns writes into 503s instead of silent losses."""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cloudstore.localdynamo import LocalDynamo
from tests.helpers.localdynamo import (
    PRODUCTS,
    client,
    create_products,
    fill,
    scan_all,
    table,
    wait_for,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


def _kill(server: LocalDynamo) -> None:
    server.process.send_signal(signal.SIGKILL)
    assert server.process.wait(timeout=10) == -signal.SIGKILL
    server.stop()


def _journals(state: Path) -> list[Path]:
    return sorted(state.parent.glob(state.name + ".journal.*[0-9]"))


def test_a_confirmed_write_survives_kill_9_at_once(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    server = start(state)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[0])
    _kill(server)  # no stop, no compaction: only the journal has it

    server = start(state)
    assert scan_all(server, "products") == [PRODUCTS[0]]
    assert client(server).describe_table(TableName="products")["Table"]["GlobalSecondaryIndexes"]


def test_a_damaged_journal_tail_is_reported_with_what_it_dropped(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    server = start(state)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[1])
    _kill(server)
    (journal,) = _journals(state)
    torn = b'00000000 {"op":"PutItem","r":"ap-southeast-1","c":[["item","products",{}'
    with open(journal, "ab") as fh:
        fh.write(torn)

    server = start(state)
    log_text = server.stderr_tail()
    assert f"journal {journal.name} is damaged" in log_text
    assert "dropped writes: PutItem on products (incomplete)" in log_text
    assert f"dropped {len(torn)} bytes in 1 line(s)" in log_text
    assert scan_all(server, "products") == [PRODUCTS[1]]
    assert journal.with_name(journal.name + ".damaged").read_bytes().endswith(torn)
    _kill(server)

    server = start(state)  # reported once: the journal was cut back to its good records
    assert "is damaged" not in server.stderr_tail()
    assert scan_all(server, "products") == [PRODUCTS[1]]


def test_a_checksum_mismatch_names_the_dropped_write(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = tmp_path / "dynamo.json"
    server = start(state)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[1])
    table(server, "products").put_item(Item=PRODUCTS[2])
    _kill(server)
    (journal,) = _journals(state)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + b"f" + lines[-1][1:])  # corrupt the last line

    server = start(state)
    assert "dropped writes: PutItem on products" in server.stderr_tail()
    assert scan_all(server, "products") == [PRODUCTS[1]]


def test_compaction_under_concurrent_writes_loses_nothing(
    tmp_path: Path, start: Callable[..., LocalDynamo]
) -> None:
    """Writers race compactions (tiny --compact-bytes); then kill -9 and compare."""
    state = tmp_path / "dynamo.json"
    server = start(state, compact_bytes=20_000, compact_interval=0.1, verbose=True)
    create_products(client(server))
    deadline = time.monotonic() + 4
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        products = table(server, "products")
        try:
            while time.monotonic() < deadline:
                i = rng.randrange(300)
                key = {"pk": f"P{i % 20}", "sk": f"S{i}"}
                roll = rng.random()
                if roll < 0.5:
                    products.put_item(Item=key | {"m": {"l": [Decimal(i), Decimal(seed)]}})
                elif roll < 0.8:
                    products.update_item(
                        Key=key,
                        UpdateExpression="ADD hits :one",
                        ExpressionAttributeValues={":one": 1},
                    )
                else:
                    products.delete_item(Key=key)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    before = scan_all(server, "products")
    wait_for(lambda: "compacted" in server.stderr_tail(), what="a compaction")
    _kill(server)

    server = start(state)
    assert scan_all(server, "products") == before
    assert "ERROR" not in server.stderr_tail()


# --------------------------------------------------------------------------- a full disk


def _error_code(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def _write_until_refused(server: LocalDynamo) -> tuple[list[dict], dict, str]:
    """Put items until one is refused: (the confirmed ones, the refused one, its error)."""
    products = table(server, "products")
    confirmed = []
    for number in range(1000):
        item = {"pk": f"FULL#{number:04d}", "sk": "META", "pad": "x" * 300}
        try:
            products.put_item(Item=item)
        except ClientError as exc:
            return confirmed, item, exc.response["Error"]["Code"]
        confirmed.append(item)
    raise AssertionError("a full disk took 1000 writes")


def test_a_full_disk_refuses_writes_with_503_and_loses_no_confirmed_one(
    small_disk: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = small_disk / "dynamo.json"
    server = start(state)
    c = client(server)
    create_products(c)
    filler = fill(small_disk)

    confirmed, refused, code = _write_until_refused(server)
    assert code == "ServiceUnavailable"
    assert "No space left on device: refusing writes (503)" in server.stderr_tail()
    assert _error_code(lambda: c.describe_table(TableName="products")) == "ServiceUnavailable"
    assert scan_all(server, "products") == confirmed  # the refused write is undone

    filler.unlink()  # room again: writes come back without a restart
    wait_for(lambda: "writable again" in server.stderr_tail(), timeout=15, what="recovery")
    table(server, "products").put_item(Item=PRODUCTS[4])
    _kill(server)

    server = start(state)
    assert scan_all(server, "products") == sorted(
        [*confirmed, PRODUCTS[4]], key=lambda i: (i["pk"], i["sk"])
    )
    assert refused not in scan_all(server, "products")


def test_a_stop_while_the_disk_is_full_exits_non_zero_and_says_why(
    small_disk: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = small_disk / "dynamo.json"
    server = start(state)
    create_products(client(server))
    fill(small_disk)
    _write_until_refused(server)

    assert server.stop() == 1
    assert "stopping while the data dir is not writable" in server.stderr_tail()
    assert re.search(r"\d+ writes were refused", server.stderr_tail())


def test_a_start_on_a_full_disk_serves_reads_and_refuses_writes(
    small_disk: Path, start: Callable[..., LocalDynamo]
) -> None:
    state = small_disk / "dynamo.json"
    server = start(state)
    create_products(client(server))
    table(server, "products").put_item(Item=PRODUCTS[1])
    assert server.stop() == 0
    filler = fill(small_disk)

    server = start(state)
    assert scan_all(server, "products") == [PRODUCTS[1]]
    refused = _error_code(lambda: table(server, "products").put_item(Item=PRODUCTS[2]))
    assert refused == "ServiceUnavailable"
    filler.unlink()
